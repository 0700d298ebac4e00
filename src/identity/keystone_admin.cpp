#include "identity/keystone_admin.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <vector>

namespace shoal::identity {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Request bodies are built outside the coroutines: g++ 12 miscompiles nested braced json
// initialisers inside a coroutine (docs/architecture.md, "Coroutine rules").
std::string NewProject(const std::string& name) {
    return json{{"project", {{"name", name}, {"domain_id", "default"}, {"enabled", true}}}}.dump();
}
std::string NewUser(const std::string& name, const std::string& password, const std::string& project_id) {
    return json{{"user",
                 {{"name", name},
                  {"domain_id", "default"},
                  {"password", password},
                  {"default_project_id", project_id},
                  {"enabled", true}}}}
        .dump();
}
std::string NewPassword(const std::string& password) {
    return json{{"user", {{"password", password}}}}.dump();
}
std::string UnscopedAuthBody(const std::string& username, const std::string& password) {
    json user = {{"name", username}, {"domain", {{"id", "default"}}}, {"password", password}};
    return json{{"auth", {{"identity", {{"methods", json::array({"password"})}, {"password", {{"user", user}}}}}}}}
        .dump();
}
// The id in a Keystone create response: {"project": {"id": ...}}.
std::string IdIn(const http::Response& r, const std::string& kind) {
    auto body = r.JsonBody();
    if (!body.ok() || !body->contains(kind) || !(*body)[kind].is_object()) return "";
    return (*body)[kind].value("id", "");
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
        co_return MakeError(ErrorCode::kBadGateway, "identity provider: " + std::string(http::MethodName(method)) +
                                                        " " + path + ": HTTP " + std::to_string(r->status) + " " +
                                                        r->body.substr(0, 200));
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

// The id of the one entity named `name` in `collection` ("" when there is none).
asio::awaitable<Result<std::string>> KeystoneAdmin::FindId(std::string collection, std::string name) {
    auto r = co_await Call(http::Method::kGet, "/" + collection + "?name=" + http::UrlEncode(name), "");
    if (!r.ok()) co_return r.error();
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    for (const auto& e : body->value(collection, json::array())) {
        if (e.value("name", "") == name) co_return e.value("id", "");
    }
    co_return std::string();
}

asio::awaitable<Result<std::string>> KeystoneAdmin::EnsureMember(std::string project,
                                                                 std::string username,
                                                                 std::string password) {
    if (token_.empty()) {
        if (auto in = co_await Login(); !in.ok()) co_return in.error();
    }
    auto project_id = co_await FindId("projects", project);
    if (!project_id.ok()) co_return project_id.error();
    if (project_id->empty()) {
        auto created = co_await Call(http::Method::kPost, "/projects", NewProject(project));
        if (!created.ok()) co_return created.error();
        *project_id = IdIn(*created, "project");
    }
    auto user_id = co_await FindId("users", username);
    if (!user_id.ok()) co_return user_id.error();
    if (user_id->empty()) {
        auto created = co_await Call(http::Method::kPost, "/users", NewUser(username, password, *project_id));
        if (!created.ok()) co_return created.error();
        *user_id = IdIn(*created, "user");
    } else {
        auto works = co_await Call(http::Method::kPost, "/auth/tokens", UnscopedAuthBody(username, password));
        if (!works.ok()) {
            // A durable Keystone from an earlier run with another password: this run's wins. Only
            // then: a password change revokes the user's tokens at one-second granularity, so a
            // token issued in the same second is refused too (keystone 22: 401 at Nova after a
            // 201 at Keystone). Let that second pass before anyone logs in.
            auto updated = co_await Call(http::Method::kPatch, "/users/" + *user_id, NewPassword(password));
            if (!updated.ok()) co_return updated.error();
            asio::steady_timer settle(co_await asio::this_coro::executor, std::chrono::milliseconds(1'100));
            co_await settle.async_wait(asio::use_awaitable);
        }
    }
    if (project_id->empty() || user_id->empty())
        co_return MakeError(ErrorCode::kBadGateway, "identity provider: created project/user without an id");
    const std::vector<std::string> roles = {"member", "reader"};
    for (const auto& role : roles) {
        auto role_id = co_await FindId("roles", role);
        if (!role_id.ok()) co_return role_id.error();
        if (role_id->empty()) {
            if (role == "member") co_return MakeError(ErrorCode::kBadGateway, "identity provider has no role 'member'");
            continue;
        }
        auto granted = co_await Call(http::Method::kPut,
                                     "/projects/" + *project_id + "/users/" + *user_id + "/roles/" + *role_id, "");
        if (!granted.ok()) co_return granted.error();
    }
    co_return *project_id;
}

}  // namespace shoal::identity
