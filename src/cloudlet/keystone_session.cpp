#include "cloudlet/keystone_session.hpp"

#include <algorithm>
#include <utility>

#include "http/errors.hpp"

namespace shoal::cloudlet {

namespace asio = boost::asio;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string_view StripSlashes(std::string_view s) {
    while (!s.empty() && s.back() == '/') s.remove_suffix(1);
    return s;
}

std::string StringField(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view ServiceType(Service s) {
    switch (s) {
        case Service::kIdentity:
            return "identity";
        case Service::kImage:
            return "image";
        case Service::kCompute:
            return "compute";
        case Service::kPlacement:
            return "placement";
    }
    return "unknown";
}

std::string Endpoints::Url(Service s, std::string_view project_id) const {
    switch (s) {
        case Service::kIdentity:
            return identity;
        case Service::kImage:
            return image;
        case Service::kCompute:
            if (compute.empty() || !compute_has_project_id) return compute;
            return compute + "/" + std::string(project_id);
        case Service::kPlacement:
            return placement;
    }
    return {};
}

Result<std::string> FindEndpoint(const json& catalog,
                                 std::string_view type,
                                 std::string_view interface,
                                 std::string_view region) {
    if (!catalog.is_array()) return MakeError(ErrorCode::kBadGateway, "the token has no catalog");
    for (const auto& service : catalog) {
        if (!service.is_object() || StringField(service, "type") != type) continue;
        auto eps = service.find("endpoints");
        if (eps == service.end() || !eps->is_array()) continue;
        for (const auto& ep : *eps) {
            if (!ep.is_object() || StringField(ep, "interface") != interface) continue;
            if (!region.empty() && StringField(ep, "region_id") != region && StringField(ep, "region") != region)
                continue;
            auto url = StringField(ep, "url");
            if (!url.empty()) return std::string(StripSlashes(url));
        }
    }
    return MakeError(ErrorCode::kNotFound, "no " + std::string(interface) + " " + std::string(type) +
                                               " endpoint in region '" + std::string(region) + "' in the catalog");
}

Result<Endpoints> DiscoverEndpoints(const json& catalog,
                                    std::string_view interface,
                                    std::string_view region,
                                    std::string_view project_id) {
    if (!catalog.is_array()) return MakeError(ErrorCode::kBadGateway, "the token has no catalog");
    Endpoints e;
    // A missing service is an empty URL: calls to it fail, the others still work.
    auto find = [&](std::string_view type) {
        auto r = FindEndpoint(catalog, type, interface, region);
        return r.ok() ? std::move(r).value() : std::string();
    };
    e.identity = find("identity");
    e.image = find("image");
    e.compute = find("compute");
    e.placement = find("placement");
    std::string suffix = "/" + std::string(project_id);
    if (!project_id.empty() && e.compute.size() > suffix.size() && e.compute.ends_with(suffix)) {
        e.compute.resize(e.compute.size() - suffix.size());
        e.compute_has_project_id = true;
    }
    return e;
}

std::string IdentityV3(std::string_view auth_url) {
    std::string url(StripSlashes(auth_url));
    if (!url.ends_with("/v3")) url += "/v3";
    return url;
}

SteadyClock::duration RefreshAfter(SteadyClock::duration lifetime, std::chrono::seconds margin) {
    auto early = std::min<SteadyClock::duration>(margin, lifetime / 2);
    return lifetime - early;
}

KeystoneSession::KeystoneSession(http::Client& client, Credentials credentials, SessionOptions options)
    : client_(client),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      identity_v3_(IdentityV3(credentials_.auth_url)) {}

SessionStats KeystoneSession::Stats() const {
    SessionStats s = stats_;
    s.joined = flights_.Joined();
    return s;
}

void KeystoneSession::Invalidate(const std::string& key, const std::string& token_id) {
    if (auto it = tokens_.find(key); it != tokens_.end() && it->second.id == token_id) tokens_.erase(it);
}

asio::awaitable<Result<Token>> KeystoneSession::AdminToken() {
    // Lambdas are named before co_await: g++ 12 destroys a capturing lambda temporary inside a
    // co_await expression twice.
    SingleFlight<Result<Token>>::Start login = [this] { return AdminLogin(); };
    co_return co_await CachedToken("", std::move(login));
}

asio::awaitable<Result<Endpoints>> KeystoneSession::GetEndpoints() {
    if (!endpoints_) {
        auto t = co_await AdminToken();
        if (!t.ok()) co_return t.error();
    }
    if (!endpoints_) co_return MakeError(ErrorCode::kBadGateway, "the cloudlet's catalog is unusable");
    co_return *endpoints_;
}

asio::awaitable<Result<Token>> KeystoneSession::CachedToken(std::string key, SingleFlight<Result<Token>>::Start login) {
    if (auto it = tokens_.find(key); it != tokens_.end() && it->second.Fresh(options_.clock->Steady()))
        co_return it->second;
    SingleFlight<Result<Token>>::Start start = [this, key, login] { return LoginAndStore(key, login); };
    auto r = co_await flights_.Do(key, std::move(start));
    if (r.ok()) co_return r;
    // The refresh failed but Keystone would still accept the old token: use it meanwhile.
    if (auto it = tokens_.find(key); it != tokens_.end() && it->second.Usable(options_.clock->Steady()))
        co_return it->second;
    co_return r;
}

asio::awaitable<Result<Token>> KeystoneSession::LoginAndStore(std::string key,
                                                              SingleFlight<Result<Token>>::Start login) {
    auto r = co_await login();
    if (r.ok()) tokens_[key] = *r;
    co_return r;
}

asio::awaitable<Result<Token>> KeystoneSession::AdminLogin() {
    const auto& c = credentials_;
    json user = {{"name", c.username}, {"domain", {{"name", c.user_domain}}}, {"password", c.password}};
    json scope = {{"project", {{"name", c.project}, {"domain", {{"name", c.project_domain}}}}}};
    json auth = {{"identity", {{"methods", json::array({"password"})}, {"password", {{"user", user}}}}},
                 {"scope", scope}};
    ++stats_.admin_logins;
    auto login = co_await PasswordLogin(std::move(auth), true);
    if (!login.ok()) co_return login.error();
    auto endpoints = DiscoverEndpoints(login->catalog, options_.interface, c.region, login->token.project_id);
    if (!endpoints.ok()) co_return endpoints.error();
    endpoints_ = std::move(endpoints).value();
    co_return login->token;
}

asio::awaitable<Result<Token>> KeystoneSession::UserLogin(std::string user_id,
                                                          std::string password,
                                                          std::string project_id) {
    json auth = {
        {"identity",
         {{"methods", json::array({"password"})}, {"password", {{"user", {{"id", user_id}, {"password", password}}}}}}},
        {"scope", {{"project", {{"id", project_id}}}}}};
    ++stats_.scoped_logins;
    auto login = co_await PasswordLogin(std::move(auth), false);
    if (!login.ok()) co_return login.error();
    co_return login->token;
}

asio::awaitable<Result<KeystoneSession::Login>> KeystoneSession::PasswordLogin(json auth, bool want_catalog) {
    http::Request req;
    req.method = http::Method::kPost;
    req.headers.Set("Content-Type", "application/json");
    req.headers.Set("Accept", "application/json");
    json body = {{"auth", std::move(auth)}};
    req.body = body.dump();
    // Tenant tokens need no catalog: the endpoints come from the service account's.
    std::string url = identity_v3_ + "/auth/tokens" + (want_catalog ? "" : "?nocatalog");
    auto asked = options_.clock->Steady();
    auto sent = co_await client_.Send(url, std::move(req), options_.request_timeout);
    if (!sent.ok()) co_return Error{sent.error().code, "cloudlet Keystone: " + sent.error().message};
    const http::Response& resp = *sent;
    if (resp.status != 201 && resp.status != 200) {
        auto code = http::ErrorCodeOfStatus(resp.status);
        if (resp.status >= 500 && code == ErrorCode::kInternal) code = ErrorCode::kBadGateway;
        co_return Error{code, "cloudlet Keystone refused the login (" + std::to_string(resp.status) +
                                  "): " + http::ErrorMessageOf(resp)};
    }
    auto subject = resp.headers.Get("X-Subject-Token");
    auto parsed = resp.JsonBody();
    if (!subject || subject->empty() || !parsed.ok() || !parsed->contains("token") || !(*parsed)["token"].is_object())
        co_return MakeError(ErrorCode::kBadGateway, "cloudlet Keystone answered a login without a token");
    const json& t = (*parsed)["token"];
    Login out;
    out.token.id = std::string(*subject);
    if (auto u = t.find("user"); u != t.end() && u->is_object()) out.token.user_id = StringField(*u, "id");
    if (auto p = t.find("project"); p != t.end() && p->is_object()) out.token.project_id = StringField(*p, "id");
    auto expires = ParseIso8601(StringField(t, "expires_at"));
    if (!expires) co_return MakeError(ErrorCode::kBadGateway, "cloudlet Keystone token without a valid expires_at");
    auto issued = ParseIso8601(StringField(t, "issued_at"));
    out.token.expires_at = *expires;
    auto lifetime =
        std::chrono::duration_cast<SteadyClock::duration>(*expires - (issued ? *issued : options_.clock->System()));
    if (lifetime <= SteadyClock::duration::zero())
        co_return MakeError(ErrorCode::kBadGateway, "cloudlet Keystone issued an expired token");
    out.token.expires_local = asked + lifetime;
    out.token.refresh_at = asked + RefreshAfter(lifetime, options_.refresh_margin);
    if (auto cat = t.find("catalog"); cat != t.end()) out.catalog = *cat;
    co_return out;
}

}  // namespace shoal::cloudlet
