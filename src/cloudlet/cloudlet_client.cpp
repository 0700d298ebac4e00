#include "cloudlet/cloudlet_client.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "http/errors.hpp"

namespace shoal::cloudlet {

namespace asio = boost::asio;
using json = nlohmann::json;

CloudletClient::CloudletClient(asio::any_io_executor executor, Credentials credentials, CloudletClientOptions options)
    : http_(std::move(executor), options.http),
      session_(http_, std::move(credentials), options.session),
      options_(std::move(options)) {}

CloudletClient::~CloudletClient() = default;

asio::awaitable<Result<Token>> CloudletClient::AdminToken() {
    co_return co_await session_.AdminToken();
}

asio::awaitable<Result<Endpoints>> CloudletClient::GetEndpoints() {
    co_return co_await session_.GetEndpoints();
}

asio::awaitable<Result<http::Response>> CloudletClient::Call(
    Service service, http::Method method, std::string path, json body, As as, CallOptions options) {
    co_return co_await Exchange(service, method, std::move(path), std::move(body), std::move(as), std::move(options));
}

asio::awaitable<Result<json>> CloudletClient::CallJson(
    Service service, http::Method method, std::string path, json body, As as, CallOptions options) {
    auto r = co_await Exchange(service, method, std::move(path), std::move(body), std::move(as), std::move(options));
    if (!r.ok()) co_return r.error();
    if (r->status < 200 || r->status > 299) {
        auto code = http::ErrorCodeOfStatus(r->status);
        co_return Error{code, std::string(ServiceType(service)) + " answered " + std::to_string(r->status) + ": " +
                                  http::ErrorMessageOf(*r)};
    }
    if (r->body.empty()) co_return json(nullptr);
    auto parsed = r->JsonBody();
    if (!parsed.ok())
        co_return MakeError(ErrorCode::kBadGateway, std::string(ServiceType(service)) + " answered malformed JSON");
    co_return std::move(parsed).value();
}

asio::awaitable<Result<http::Response>> CloudletClient::Exchange(
    std::optional<Service> service, http::Method method, std::string path, json body, As as, CallOptions options) {
    std::string what = service ? std::string(ServiceType(*service)) : std::string("identity");
    for (int attempt = 0;; ++attempt) {
        Token token;
        std::string cache_key;
        if (as.kind() == As::Kind::kAdmin) {
            auto t = co_await session_.AdminToken();
            if (!t.ok()) co_return t.error();
            token = std::move(t).value();
        } else if (as.kind() == As::Kind::kTenant) {
            auto t = co_await TenantToken(as.tenant_id());
            if (!t.ok()) co_return t.error();
            token = std::move(t).value();
            cache_key = "tenant/" + as.tenant_id();
        }
        std::string base;
        if (service) {
            auto eps = co_await session_.GetEndpoints();
            if (!eps.ok()) co_return eps.error();
            // Old-style Nova endpoints carry a project id: the caller's, not the admin's.
            base = eps->Url(*service, token.project_id);
            if (base.empty())
                co_return MakeError(ErrorCode::kNotFound, "the cloudlet's catalog has no " + what + " endpoint");
        } else {
            base = session_.IdentityUrl();
        }

        http::Request req;
        req.method = method;
        req.headers.Set("Accept", "application/json");
        if (!token.id.empty()) req.headers.Set("X-Auth-Token", token.id);
        if (options.raw_body) {
            req.headers.Set("Content-Type", options.content_type);
            req.body = *options.raw_body;
        } else if (!body.is_null()) {
            req.headers.Set("Content-Type", "application/json");
            req.body = body.dump();
        }
        if (!options.microversion.empty()) {
            req.headers.Set("OpenStack-API-Version", what + " " + options.microversion);
            if (service == Service::kCompute) req.headers.Set("X-OpenStack-Nova-API-Version", options.microversion);
        }
        for (const auto& [k, v] : options.headers) req.headers.Set(k, v);

        auto sent =
            co_await http_.Send(base + path, std::move(req), options.timeout.value_or(session_.RequestTimeout()));
        if (!sent.ok()) {
            auto code = sent.error().code == ErrorCode::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
            co_return Error{code, "cloudlet " + what + " unreachable: " + sent.error().message};
        }
        // A 401 means our cached token died early (revoked, Keystone restarted): log in again, once.
        if (sent->status == 401 && attempt == 0 && options.retry_unauthorized && as.kind() != As::Kind::kAnonymous) {
            spdlog::debug("cloudlet {} {} answered 401; logging in again", what, path);
            session_.Invalidate(cache_key, token.id);
            continue;
        }
        co_return sent;
    }
}

asio::awaitable<Result<MemoryLoadReport>> CloudletClient::MemoryLoad(MemorySource source) {
    if (source != MemorySource::kPlacement) {
        // 2.1: every Nova up to Zed still reports memory_mb/memory_mb_used there (2.88 removed them).
        CallOptions o;
        o.microversion = "2.1";
        auto body =
            co_await CallJson(Service::kCompute, http::Method::kGet, "/os-hypervisors/detail", nullptr, As::Admin(), o);
        if (!body.ok()) {
            bool down = body.error().code == ErrorCode::kUnavailable || body.error().code == ErrorCode::kTimeout;
            if (down || source == MemorySource::kHypervisors) co_return body.error();
        } else {
            auto load = MemoryFromHypervisors(*body);
            if (load.ok() || source == MemorySource::kHypervisors) co_return load;
        }
    }
    co_return co_await PlacementMemory();
}

asio::awaitable<Result<MemoryLoadReport>> CloudletClient::PlacementMemory() {
    // 1.22: forbidden traits, so that compute nodes Nova disabled (COMPUTE_STATUS_DISABLED,
    // since Train) are left out; older Placement refuses the query and gets the plain list.
    CallOptions o;
    o.microversion = "1.22";
    auto list = co_await CallJson(Service::kPlacement, http::Method::kGet,
                                  "/resource_providers?required=!COMPUTE_STATUS_DISABLED", nullptr, As::Admin(), o);
    if (!list.ok() && (list.error().code == ErrorCode::kBadRequest || list.error().code == ErrorCode::kNotAcceptable))
        list = co_await CallJson(Service::kPlacement, http::Method::kGet, "/resource_providers");
    if (!list.ok()) co_return list.error();
    auto rps = list->find("resource_providers");
    if (!list->is_object() || rps == list->end() || !rps->is_array())
        co_return MakeError(ErrorCode::kBadGateway, "placement answered without resource_providers");
    std::vector<ProviderMemory> providers;
    for (const auto& rp : *rps) {
        if (!rp.is_object() || !rp.contains("uuid") || !rp["uuid"].is_string()) continue;
        std::string prefix = "/resource_providers/" + http::UrlEncode(rp["uuid"].get<std::string>());
        auto inv = co_await CallJson(Service::kPlacement, http::Method::kGet, prefix + "/inventories");
        if (!inv.ok()) {
            if (inv.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
            co_return inv.error();
        }
        auto use = co_await CallJson(Service::kPlacement, http::Method::kGet, prefix + "/usages");
        if (!use.ok()) {
            if (use.error().code == ErrorCode::kNotFound) continue;
            co_return use.error();
        }
        if (auto p = ParseProviderMemory(*inv, *use)) providers.push_back(*p);
    }
    co_return MemoryFromProviders(providers);
}

}  // namespace shoal::cloudlet
