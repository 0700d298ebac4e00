#include "bench/cloud_user.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cloudlet/keystone_session.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr auto kTimeout = std::chrono::seconds(60);

Error Unexpected(const std::string& call, const http::Response& r) {
    std::string message;
    if (auto body = r.JsonBody(); body.ok() && body->is_object() && !body->empty()) {
        const auto& first = body->begin().value();
        if (first.is_object() && first.contains("message") && first["message"].is_string())
            message = first["message"].get<std::string>();
    }
    if (message.empty()) message = r.body.substr(0, 120);
    return MakeError(ErrorCode::kBadGateway, call + ": HTTP " + std::to_string(r.status) + " " + message);
}

std::string ServerBody(const std::string& name, const std::string& image, const std::string& flavor) {
    return json{{"server", {{"name", name}, {"imageRef", image}, {"flavorRef", flavor}}}}.dump();
}
std::string ImageBody(const std::string& name) {
    return json{{"name", name}, {"disk_format", "qcow2"}, {"container_format", "bare"}, {"visibility", "private"}}
        .dump();
}

}  // namespace

asio::awaitable<void> RequestLimiter::Acquire() {
    while (limit_ > 0 && in_flight_ >= limit_) {
        auto t = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                      asio::steady_timer::time_point::max());
        waiting_.push_back(t);
        boost::system::error_code ec;
        co_await t->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    ++in_flight_;
}

void RequestLimiter::Release() {
    --in_flight_;
    if (!waiting_.empty()) {
        waiting_.front()->cancel();
        waiting_.pop_front();
    }
}

asio::awaitable<Result<http::Response>> CloudUser::Call(http::Method method,
                                                        std::string url,
                                                        std::string body,
                                                        std::string content_type) {
    http::Request request;
    request.method = method;
    request.headers.Set("Accept", "application/json");
    if (!token_.empty()) request.headers.Set("X-Auth-Token", token_);
    if (!content_type.empty()) {
        request.headers.Set("Content-Type", content_type);
        request.body = std::move(body);
    }
    if (limiter_) co_await limiter_->Acquire();
    auto answer = co_await http_.Send(std::move(url), std::move(request), kTimeout);
    if (limiter_) limiter_->Release();
    co_return answer;
}

asio::awaitable<Result<Ok>> CloudUser::Login() {
    token_.clear();
    auto r = co_await Call(http::Method::kPost, credentials_.auth_url + "/auth/tokens",
                           identity::PasswordAuthBody(credentials_), "application/json");
    if (!r.ok()) co_return r.error();
    if (r->status != 201) co_return Unexpected("POST /v3/auth/tokens", *r);
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    token_ = std::string(r->headers.Get("X-Subject-Token").value_or(""));
    const json catalog = body->value("token", json::object()).value("catalog", json::array());
    auto compute = cloudlet::FindEndpoint(catalog, "compute", "public", "");
    auto image = cloudlet::FindEndpoint(catalog, "image", "public", "");
    if (token_.empty() || !compute.ok() || !image.ok())
        co_return MakeError(ErrorCode::kBadGateway, "login: no token, or no compute/image endpoint in the catalog");
    compute_ = *compute;
    image_ = *image;
    co_return Ok{};
}

asio::awaitable<Result<std::string>> CloudUser::UploadImage(std::string name, std::string bytes) {
    auto created = co_await Call(http::Method::kPost, image_ + "/v2/images", ImageBody(name), "application/json");
    if (!created.ok()) co_return created.error();
    if (created->status != 201) co_return Unexpected("POST /v2/images", *created);
    auto body = created->JsonBody();
    if (!body.ok()) co_return body.error();
    const std::string id = body->value("id", "");
    if (id.empty()) co_return MakeError(ErrorCode::kBadGateway, "POST /v2/images: no id");
    auto put = co_await Call(http::Method::kPut, image_ + "/v2/images/" + id + "/file", std::move(bytes),
                             "application/octet-stream");
    if (!put.ok()) co_return put.error();
    if (put->status != 204) co_return Unexpected("PUT /v2/images/{id}/file", *put);
    co_return id;
}

asio::awaitable<Result<Ok>> CloudUser::DeleteImage(std::string id) {
    auto r = co_await Call(http::Method::kDelete, image_ + "/v2/images/" + id, "", "");
    if (!r.ok()) co_return r.error();
    if (r->status != 204 && r->status != 404) co_return Unexpected("DELETE /v2/images/{id}", *r);
    co_return Ok{};
}

asio::awaitable<Result<std::string>> CloudUser::FlavorId(std::string name) {
    auto r = co_await Call(http::Method::kGet, compute_ + "/flavors", "", "");
    if (!r.ok()) co_return r.error();
    if (r->status != 200) co_return Unexpected("GET /flavors", *r);
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    for (const auto& f : body->value("flavors", json::array())) {
        if (f.value("name", "") == name) co_return f.value("id", "");
    }
    co_return MakeError(ErrorCode::kNotFound, "no flavor named " + name);
}

asio::awaitable<Result<std::string>> CloudUser::CreateServer(std::string name, std::string image, std::string flavor) {
    auto r =
        co_await Call(http::Method::kPost, compute_ + "/servers", ServerBody(name, image, flavor), "application/json");
    if (!r.ok()) co_return MakeError(r.error().code, "POST /servers: " + r.error().message);
    if (r->status != 202) co_return Unexpected("POST /servers", *r);
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    const std::string id = body->value("server", json::object()).value("id", "");
    if (id.empty()) co_return MakeError(ErrorCode::kBadGateway, "POST /servers: no server id");
    co_return id;
}

asio::awaitable<Result<ServerState>> CloudUser::GetServer(std::string id) {
    auto r = co_await Call(http::Method::kGet, compute_ + "/servers/" + id, "", "");
    if (!r.ok()) co_return MakeError(r.error().code, "GET /servers/{id}: " + r.error().message);
    if (r->status == 404) co_return ServerState{};
    if (r->status != 200) co_return Unexpected("GET /servers/{id}", *r);
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    const json server = body->value("server", json::object());
    ServerState s;
    s.status = server.value("status", "");
    if (server.contains("fault") && server["fault"].is_object()) s.fault = server["fault"].value("message", "");
    if (s.status.empty()) co_return MakeError(ErrorCode::kBadGateway, "GET /servers/{id}: no status");
    co_return s;
}

asio::awaitable<Result<Ok>> CloudUser::DeleteServer(std::string id) {
    auto r = co_await Call(http::Method::kDelete, compute_ + "/servers/" + id, "", "");
    if (!r.ok()) co_return MakeError(r.error().code, "DELETE /servers/{id}: " + r.error().message);
    if (r->status != 204 && r->status != 404) co_return Unexpected("DELETE /servers/{id}", *r);
    co_return Ok{};
}

asio::awaitable<Result<http::Response>> CloudUser::ComputeGet(std::string path) {
    co_return co_await Call(http::Method::kGet, compute_ + path, "", "");
}

}  // namespace shoal::bench
