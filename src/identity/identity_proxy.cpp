#include "identity/identity_proxy.hpp"

#include <array>
#include <cctype>
#include <utility>

#include "http/errors.hpp"
#include "identity/token_cache.hpp"

namespace shoal::identity {

namespace asio = boost::asio;
using json = nlohmann::json;
using http::Method;

namespace {

constexpr std::string_view kPrefix = "/identity";

// Client headers Keystone reads; hop-by-hop and Host stay behind.
constexpr std::array<std::string_view, 7> kRequestHeaders = {
    "X-Auth-Token", "X-Subject-Token",       "Content-Type",          "Accept",
    "User-Agent",   "OpenStack-API-Version", "Openstack-Auth-Receipt"};
constexpr std::array<std::string_view, 5> kResponseHeaders = {"X-Subject-Token", "Content-Type", "Vary",
                                                              "Openstack-Auth-Receipt", "Retry-After"};

bool ValidHost(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
              c == '_'))
            return false;
    return true;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
        s.replace(pos, from.size(), to);
}

}  // namespace

IdentityProxy::IdentityProxy(asio::any_io_executor executor, IdentityProxyOptions options, TokenCache* cache)
    : options_(std::move(options)),
      idp_identity_(IdentityBase(options_.idp_auth_url)),
      cache_(cache),
      client_(std::move(executor)) {
    while (!options_.public_url.empty() && options_.public_url.back() == '/') options_.public_url.pop_back();
}

IdentityProxy::~IdentityProxy() = default;

void IdentityProxy::AddRoutes(http::Router& router) {
    router.SetErrorStyle(std::string(kPrefix), http::ErrorStyle::kKeystone);
    auto route = [this](Kind kind) -> http::Handler {
        return [this, kind](http::Request& req) { return Forward(kind, req); };
    };
    const std::string v3 = std::string(kPrefix) + "/v3";
    router.Add(Method::kGet, kPrefix, route(Kind::kPlain));
    router.Add(Method::kGet, v3, route(Kind::kPlain));
    router.Add(Method::kPost, v3 + "/auth/tokens", route(Kind::kIssue));
    router.Add(Method::kGet, v3 + "/auth/tokens", route(Kind::kValidate));
    router.Add(Method::kHead, v3 + "/auth/tokens", route(Kind::kPlain));
    router.Add(Method::kDelete, v3 + "/auth/tokens", route(Kind::kRevoke));
    router.Add(Method::kGet, v3 + "/auth/catalog", route(Kind::kCatalog));
    // No wildcard routes in http::Router: one parameter pattern per depth. Literal routes above
    // win over these, so everything else under /identity/v3 reaches the IdP as it is.
    std::string pattern = v3;
    for (int depth = 1; depth <= kMaxDepth; ++depth) {
        pattern += "/{p" + std::to_string(depth) + "}";
        for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete})
            router.Add(m, pattern, route(Kind::kPlain));
    }
}

std::string IdentityProxy::AgentBase(const http::Request& req) const {
    if (!options_.public_url.empty()) return options_.public_url;
    auto host = req.headers.Get("Host");
    // A Host we would not put into a URL is not echoed back into links and catalogs.
    return "http://" + std::string(host && ValidHost(*host) ? *host : "localhost");
}

asio::awaitable<Result<http::Response>> IdentityProxy::Forward(Kind kind, http::Request& req) {
    std::string_view target = req.target;
    if (!target.starts_with(kPrefix)) co_return MakeError(ErrorCode::kNotFound, "The resource could not be found.");
    const std::string agent_identity = AgentBase(req) + std::string(kPrefix);

    http::Request up;
    up.method = req.method;
    up.body = req.body;
    for (auto name : kRequestHeaders)
        if (auto v = req.headers.Get(name)) up.headers.Set(std::string(name), std::string(*v));
    std::string url = idp_identity_ + std::string(target.substr(kPrefix.size()));
    ++stats_.forwarded;
    auto sent = co_await client_.Send(url, std::move(up), options_.timeout);
    if (!sent.ok()) {
        ++stats_.unreachable;
        auto code = sent.error().code == ErrorCode::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
        co_return MakeError(code, "The identity provider is unavailable: " + sent.error().message);
    }
    http::Response& in = *sent;

    http::Response out;
    out.status = in.status;
    for (auto name : kResponseHeaders)
        if (auto v = in.headers.Get(name)) out.headers.Set(std::string(name), std::string(*v));
    if (auto loc = in.headers.Get("Location"))
        out.headers.Set("Location", RewriteUrl(*loc, idp_identity_, agent_identity));
    if (auto www = in.headers.Get("WWW-Authenticate")) {
        std::string value(*www);
        ReplaceAll(value, idp_identity_, agent_identity);
        out.headers.Set("WWW-Authenticate", std::move(value));
    }

    const bool ok = in.status >= 200 && in.status < 300;
    json doc = in.body.empty() ? json() : json::parse(in.body, nullptr, false);
    if (in.body.empty() || doc.is_discarded()) {
        out.body = std::move(in.body);  // not JSON: passed on as it came
    } else {
        const json original = doc;
        CatalogAt at = CatalogAt::kNone;
        if (ok && kind == Kind::kCatalog) at = CatalogAt::kCatalog;
        if (ok && (kind == Kind::kIssue || kind == Kind::kValidate)) at = CatalogAt::kToken;
        if (RewriteAnswer(doc, at, options_.catalog, AgentBase(req), idp_identity_, agent_identity)) ++stats_.catalogs;
        // Untouched bodies (errors, most of all) go back byte for byte.
        out.body = doc == original ? std::move(in.body) : http::DumpJson(doc);
    }

    if (cache_ && ok) {
        if (kind == Kind::kIssue || kind == Kind::kValidate) {
            auto subject = out.headers.Get("X-Subject-Token");
            if (subject && doc.is_object()) cache_->Remember(std::string(*subject), doc);
        } else if (kind == Kind::kRevoke) {
            if (auto subject = req.headers.Get("X-Subject-Token")) cache_->Revoke(std::string(*subject));
        }
    }
    co_return out;
}

}  // namespace shoal::identity
