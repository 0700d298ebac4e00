#include "identity/keystone_admin.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "http/errors.hpp"

#include <chrono>
#include <vector>

namespace shoal::identity {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Request bodies are built outside the coroutines: g++ 12 miscompiles nested braced json
// initialisers inside a coroutine (docs/architecture.md, "Coroutine rules").
std::string NewPassword(const std::string& password) {
    return json{{"user", {{"password", password}}}}.dump();
}
std::string UnscopedAuthBody(const std::string& username, const std::string& password) {
    json user = {{"name", username}, {"domain", {{"id", "default"}}}, {"password", password}};
    return json{{"auth", {{"identity", {{"methods", json::array({"password"})}, {"password", {{"user", user}}}}}}}}
        .dump();
}

}  // namespace

std::string PasswordAuthBody(const PasswordCredentials& c) {
    json user = {{"name", c.username}, {"domain", {{"name", c.user_domain}}}, {"password", c.password}};
    json identity = {{"methods", json::array({"password"})}, {"password", {{"user", user}}}};
    json scope = {{"project", {{"name", c.project}, {"domain", {{"name", c.project_domain}}}}}};
    return json{{"auth", {{"identity", identity}, {"scope", scope}}}}.dump();
}

asio::awaitable<Result<http::Response>> KeystoneAdmin::Call(http::Method method, std::string path, std::string body) {
    http::Request request;
    request.method = method;
    request.headers.Set("Accept", "application/json");
    if (!token_.empty()) request.headers.Set("X-Auth-Token", token_);
    if (!body.empty()) {
        request.headers.Set("Content-Type", "application/json");
        request.body = std::move(body);
    }
    auto r = co_await http_.Send(admin_.auth_url + path, std::move(request), std::chrono::seconds(30));
    if (!r.ok()) co_return r.error();
    if (r->status >= 300) {
        co_return MakeError(http::ErrorCodeOfStatus(r->status),
                            "identity provider: " + std::string(http::MethodName(method)) + " " + path + ": HTTP " +
                                std::to_string(r->status) + " " + r->body.substr(0, 200));
    }
    co_return r;
}

asio::awaitable<Result<Ok>> KeystoneAdmin::Login() {
    token_.clear();
    auto issued = co_await Call(http::Method::kPost, "/auth/tokens", PasswordAuthBody(admin_));
    if (!issued.ok()) co_return issued.error();
    token_ = std::string(issued->headers.Get("X-Subject-Token").value_or(""));
    if (token_.empty()) co_return MakeError(ErrorCode::kBadGateway, "identity provider: no X-Subject-Token");
    co_return Ok{};
}

asio::awaitable<Result<json>> KeystoneAdmin::JsonCall(http::Method method, std::string path, json body) {
    std::string text = body.is_null() ? std::string() : body.dump();
    auto r = co_await Call(method, std::move(path), std::move(text));
    if (!r.ok()) co_return r.error();
    if (r->body.empty()) co_return json(nullptr);
    co_return r->JsonBody();
}

// Not a coroutine lambda: g++ 12 mishandles the frame of a capturing coroutine lambda called
// through std::function (a bad free under ASan).
openstack::KeystoneCall KeystoneAdmin::AdminCall() {
    return [this](http::Method method, std::string path, json body) {
        return JsonCall(method, std::move(path), std::move(body));
    };
}

asio::awaitable<Result<std::string>> KeystoneAdmin::EnsureMember(std::string project,
                                                                 std::string username,
                                                                 std::string password) {
    if (token_.empty()) {
        if (auto in = co_await Login(); !in.ok()) co_return in.error();
    }
    const openstack::KeystoneCall admin = AdminCall();  // named: g++ 12 and temporaries in co_await
    json project_fields = {{"enabled", true}};
    auto made_project =
        co_await openstack::FindOrCreate(admin, "projects", "project", project, "default", project_fields);
    if (!made_project.ok()) co_return made_project.error();
    const std::string project_id = made_project->id;
    json user_fields = {{"password", password}, {"default_project_id", project_id}, {"enabled", true}};
    auto made_user = co_await openstack::FindOrCreate(admin, "users", "user", username, "default", user_fields);
    if (!made_user.ok()) co_return made_user.error();
    const std::string user_id = made_user->id;
    if (!made_user->created) {
        auto works = co_await Call(http::Method::kPost, "/auth/tokens", UnscopedAuthBody(username, password));
        if (!works.ok()) {
            // A durable Keystone from an earlier run with another password: this run's wins. Only
            // then: a password change revokes the user's tokens at one-second granularity, so a
            // token issued in the same second is refused too (keystone 22: 401 at Nova after a
            // 201 at Keystone). Let that second pass before anyone logs in.
            auto updated = co_await Call(http::Method::kPatch, "/users/" + user_id, NewPassword(password));
            if (!updated.ok()) co_return updated.error();
            asio::steady_timer settle(co_await asio::this_coro::executor, std::chrono::milliseconds(1'100));
            co_await settle.async_wait(asio::use_awaitable);
        }
    }
    auto roles = co_await openstack::MemberRoles(admin);
    if (!roles.ok()) co_return roles.error();
    auto granted = co_await openstack::GrantRoles(admin, project_id, user_id, std::move(*roles));
    if (!granted.ok()) co_return granted.error();
    co_return project_id;
}

}  // namespace shoal::identity
