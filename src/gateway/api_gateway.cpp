#include "gateway/api_gateway.hpp"

#include <spdlog/spdlog.h>

#include <strings.h>

#include <vector>

#include "a2a/routes.hpp"
#include "http/errors.hpp"
#include "identity/caller.hpp"
#include "image/glance_proxy.hpp"

namespace shoal::gateway {
namespace {

namespace asio = boost::asio;

// Headers in shoal's own namespace mean something only on the signed A2A port; on the API port
// they come from a client, so they are dropped before any handler (or a cloudlet) can see them.
void StripShoalHeaders(http::Headers& headers) {
    std::vector<std::string> names;
    for (const auto& [name, value] : headers)
        if (name.size() >= 8 && strncasecmp(name.c_str(), "X-Shoal-", 8) == 0) names.push_back(name);
    for (const auto& n : names) headers.Remove(n);
}

bool IsPublic(std::string_view path) {
    if (path.rfind("/identity", 0) == 0) return true;
    if (path.rfind(image::GlanceProxy::kDataPrefix, 0) == 0) return true;
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    return path == "/compute" || path == "/compute/v2.1" || path == "/image" || path == "/image/versions" ||
           path == "/";
}

// Headers of the answer that go back to the user.
constexpr const char* kAnswerHeaders[] = {
    "Content-Type", "Location",    "OpenStack-API-Version",         "X-OpenStack-Nova-API-Version",
    "Vary",         "Content-MD5", "OpenStack-image-import-methods"};

}  // namespace

ApiGateway::ApiGateway(
    std::string self_id, identity::TokenValidator& tokens, a2a::Peers& peers, HomeOf home_of, std::string public_url)
    : self_id_(std::move(self_id)),
      tokens_(tokens),
      peers_(peers),
      home_of_(std::move(home_of)),
      public_url_(std::move(public_url)) {
    while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
}

void ApiGateway::Attach(http::Router& api_router, http::Router& a2a_router) {
    api_router_ = &api_router;
    api_router.Use([this](http::Request& req, const http::Handler& next) { return Admit(req, next); });
    // Image uploads come through here. The size is only checked after the body is read, as on the
    // API port; the signature is checked before any handler runs.
    http::RouteOptions big;
    big.max_body_bytes = kMaxForwardedBody;
    a2a_router.Add(
        a2a::kApiForwardRoute.method, a2a::kApiForwardRoute.path,
        [this](http::Request& req) -> asio::awaitable<Result<http::Response>> { return FromPeer(req); }, big);
}

std::string ApiGateway::ApiBase(const http::Request& req) const {
    if (!public_url_.empty()) return public_url_;
    std::string host(req.headers.Get("Host").value_or("localhost"));
    // Only a plausible host[:port] is echoed into links.
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']'))
            return "http://localhost";
    return "http://" + host;
}

asio::awaitable<Result<http::Response>> ApiGateway::Admit(http::Request& req, const http::Handler& next) {
    // Admitted already, in this process: FromPeer below, for a caller a signed peer named. A
    // request from a socket starts with an empty context (http::RequestContext).
    if (req.context.Get<identity::Caller>()) co_return co_await next(req);
    StripShoalHeaders(req.headers);
    if (IsPublic(req.path)) co_return co_await next(req);

    auto token = req.headers.Get("X-Auth-Token");
    if (!token || token->empty()) {
        ++refused_;
        co_return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
    }
    auto info = co_await tokens_.Validate(std::string(*token));
    if (!info.ok()) {
        ++refused_;
        if (info.error().code == ErrorCode::kUnauthorized)
            co_return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
        co_return MakeError(ErrorCode::kUnavailable,
                            "The identity provider cannot be reached: " + info.error().message);
    }
    if (info->project_id.empty()) {
        ++refused_;
        co_return MakeError(ErrorCode::kUnauthorized, "The token is not scoped to a project.");
    }
    const identity::Caller caller = identity::CallerFromToken(*info, ApiBase(req));
    const auto home = home_of_(caller.tenant);
    if (home.id.str() == self_id_) {
        ++served_;
        req.context.Set(caller);
        co_return co_await next(req);
    }
    if (home.address.empty())
        co_return MakeError(ErrorCode::kUnavailable, "The home agent of project " + caller.tenant + " is unavailable.");

    ++forwarded_;
    a2a::ApiForwardCall call;
    call.method = req.method;
    call.target = req.target;
    call.caller = caller;
    call.headers = req.headers;
    call.body = std::move(req.body);
    auto f = a2a::ToRequest(std::move(call));
    auto answer = co_await peers_.Send(home.address, std::move(f), std::chrono::minutes(10));
    if (!answer.ok())
        co_return MakeError(ErrorCode::kUnavailable, "The home agent " + home.id.str() + " of project " +
                                                         caller.tenant +
                                                         " cannot be reached: " + answer.error().message);
    http::Response r;
    r.status = answer->status;
    r.body = std::move(answer->body);
    for (const char* h : kAnswerHeaders)
        if (auto v = answer->headers.Get(h)) r.headers.Set(h, std::string(*v));
    co_return r;
}

asio::awaitable<Result<http::Response>> ApiGateway::FromPeer(http::Request& req) {
    std::string request_id = req.request_id;
    auto call = a2a::FromRequest<a2a::ApiForwardCall>(std::move(req));
    if (!call.ok()) co_return call.error();
    http::Request inner;
    inner.method = call->method;
    if (!inner.SetTarget(std::move(call->target))) co_return MakeError(ErrorCode::kBadRequest, "malformed target");
    inner.headers = std::move(call->headers);
    inner.context.Set(std::move(call->caller));
    inner.body = std::move(call->body);
    inner.request_id = std::move(request_id);
    ++served_;
    co_return co_await api_router_->Dispatch(inner);
}

}  // namespace shoal::gateway
