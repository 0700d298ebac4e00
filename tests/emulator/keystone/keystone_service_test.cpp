#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "async_test.hpp"
#include "common/ids.hpp"
#include "common/time_format.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/keystone/keystone_service.hpp"
#include "http/client.hpp"
#include "http/router.hpp"

namespace shoal::emulator {
namespace {

using http::Method;
using http::Response;
using nlohmann::json;

constexpr const char* kBase = "http://127.0.0.1:5000";
constexpr const char* kAuthRequired = "The request you have made requires authentication.";

json Body(const Response& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
}

std::string Message(const Response& r) {
    auto j = Body(r);
    return j.is_object() && j.contains("error") ? j["error"].value("message", "") : "";
}

json PasswordAuth(const std::string& user, const std::string& password, json scope = nullptr) {
    json auth = {
        {"identity",
         {{"methods", {"password"}},
          {"password", {{"user", {{"name", user}, {"domain", {{"name", "Default"}}}, {"password", password}}}}}}}};
    if (!scope.is_null()) auth["scope"] = std::move(scope);
    return {{"auth", auth}};
}

json ProjectScope(const std::string& name) {
    return {{"project", {{"name", name}, {"domain", {{"id", "default"}}}}}};
}

// One emulated Keystone on a test io_context, driven through its router without sockets.
class Keystone {
public:
    explicit Keystone(CloudletConfig config, std::unique_ptr<DocumentStore> store = MakeMemoryStore())
        : config_(std::move(config)), store_(std::move(store)), client_(io_.get_executor()) {
        ctx_ = std::make_unique<ServiceContext>(ServiceContext{config_, io_.get_executor(), *store_, client_, nullptr,
                                                               "", [] { return std::string(kBase); }});
        service_ = std::make_unique<KeystoneService>(*ctx_);
        ctx_->tokens = service_.get();
        service_->Bootstrap();
        router_.SetErrorStyle("/identity", http::ErrorStyle::kKeystone);
        service_->AddRoutes(router_);
    }

    Response Call(Method method,
                  std::string target,
                  const json& body = nullptr,
                  const std::string& token = {},
                  const std::string& subject = {}) {
        auto req = shoal::testing::MakeRequest(method, std::move(target), body.is_null() ? "" : body.dump(), token);
        if (!subject.empty()) req.headers.Set("X-Subject-Token", subject);
        return shoal::testing::Run(io_, router_.Dispatch(req));
    }
    Response Raw(Method method, std::string target, std::string body, const std::string& token = {}) {
        auto req = shoal::testing::MakeRequest(method, std::move(target), std::move(body), token);
        return shoal::testing::Run(io_, router_.Dispatch(req));
    }

    // Issues a token; "" when refused.
    std::string Token(const json& auth_body) {
        auto r = Call(Method::kPost, "/identity/v3/auth/tokens", auth_body);
        if (r.status != 201) return {};
        return std::string(r.headers.Get("X-Subject-Token").value_or(""));
    }
    std::string AdminToken() { return Token(PasswordAuth("admin", "secret", ProjectScope("admin"))); }

    // Creates a project and a user with `role` on it; returns {project_id, user_id}.
    std::pair<std::string, std::string> ProjectWithUser(const std::string& project,
                                                        const std::string& user,
                                                        const std::string& role = "member") {
        auto admin = AdminToken();
        auto p = Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", project}}}}, admin);
        auto u =
            Call(Method::kPost, "/identity/v3/users", {{"user", {{"name", user}, {"password", "pw-" + user}}}}, admin);
        auto roles = Body(Call(Method::kGet, "/identity/v3/roles?name=" + role, nullptr, admin));
        std::string pid = Body(p)["project"]["id"], uid = Body(u)["user"]["id"], rid = roles["roles"][0]["id"];
        Call(Method::kPut, "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/" + rid, nullptr, admin);
        return {pid, uid};
    }

    KeystoneService& Service() { return *service_; }
    boost::asio::io_context& Io() { return io_; }

private:
    boost::asio::io_context io_;
    CloudletConfig config_;
    std::unique_ptr<DocumentStore> store_;
    http::Client client_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<KeystoneService> service_;
    http::Router router_;
};

std::string TempDbPath() {
    return (std::filesystem::temp_directory_path() / ("keystone-test-" + NewHexId() + ".db")).string();
}

void RemoveDb(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Every behaviour holds with the in-memory store and with the durable SQLite one.
class KeystoneTest : public ::testing::TestWithParam<bool> {
protected:
    KeystoneTest() : path_(GetParam() ? TempDbPath() : ""), ks_(CloudletConfig{}, MakeStore()) {}
    ~KeystoneTest() override {
        if (!path_.empty()) RemoveDb(path_);
    }
    std::unique_ptr<DocumentStore> MakeStore() {
        return path_.empty() ? MakeMemoryStore() : OpenSqliteStore(path_).value();
    }

    std::string path_;
    Keystone ks_;
};

INSTANTIATE_TEST_SUITE_P(Stores,
                         KeystoneTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Sqlite" : "Memory"; });

// ------------------------------------------------------------------ discovery

TEST_P(KeystoneTest, VersionDiscoveryPointsAtV3) {
    for (const char* path : {"/identity", "/identity/"}) {
        auto r = ks_.Call(Method::kGet, path);
        ASSERT_EQ(r.status, 300) << path;
        auto v = Body(r)["versions"]["values"][0];
        EXPECT_EQ(v["id"], "v3.14");
        EXPECT_EQ(v["status"], "stable");
        EXPECT_EQ(v["links"][0]["href"], std::string(kBase) + "/identity/v3/");
        EXPECT_EQ(v["media-types"][0]["type"], "application/vnd.openstack.identity-v3+json");
    }
    auto r = ks_.Call(Method::kGet, "/identity/v3/");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Body(r)["version"]["id"], "v3.14");
    EXPECT_EQ(Body(r)["version"]["links"][0]["rel"], "self");
}

TEST_P(KeystoneTest, UnknownRoutesAndMethodsGetKeystoneErrors) {
    auto token = ks_.AdminToken();
    auto r = ks_.Call(Method::kGet, "/identity/v3/nonsense", nullptr, token);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r)["error"]["title"], "Not Found");
    EXPECT_EQ(ks_.Call(Method::kPut, "/identity/v3/projects", nullptr, token).status, 405);
}

// ------------------------------------------------------------------ tokens

TEST_P(KeystoneTest, PasswordAuthIssuesProjectScopedTokenWithCatalog) {
    auto r =
        ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", ProjectScope("admin")));
    ASSERT_EQ(r.status, 201) << r.body;
    auto subject = r.headers.Get("X-Subject-Token");
    ASSERT_TRUE(subject.has_value());
    EXPECT_TRUE(subject->starts_with("gAAAAA"));
    EXPECT_GT(subject->size(), 100u);
    auto t = Body(r)["token"];
    EXPECT_EQ(t["methods"], json({"password"}));
    EXPECT_EQ(t["user"]["name"], "admin");
    EXPECT_EQ(t["user"]["domain"], json({{"id", "default"}, {"name", "Default"}}));
    EXPECT_TRUE(t["user"].contains("password_expires_at") && t["user"]["password_expires_at"].is_null());
    EXPECT_EQ(t["project"]["name"], "admin");
    EXPECT_EQ(t["project"]["domain"]["name"], "Default");
    EXPECT_EQ(t["is_domain"], false);
    EXPECT_EQ(t["audit_ids"].size(), 1u);
    EXPECT_EQ(t["audit_ids"][0].get<std::string>().size(), 22u);
    std::set<std::string> roles;
    for (const auto& role : t["roles"]) roles.insert(role["name"]);
    // admin implies member implies reader, as after keystone-manage bootstrap
    EXPECT_EQ(roles, (std::set<std::string>{"admin", "member", "reader"}));
    auto issued = ParseIso8601(t["issued_at"].get<std::string>());
    auto expires = ParseIso8601(t["expires_at"].get<std::string>());
    ASSERT_TRUE(issued && expires);
    EXPECT_EQ(*expires - *issued, std::chrono::seconds(3600));
    EXPECT_EQ(t["expires_at"].get<std::string>().size(), std::string("2026-11-22T18:51:01.000000Z").size());

    std::map<std::string, std::string> urls;
    for (const auto& svc : t["catalog"]) {
        EXPECT_EQ(svc["endpoints"].size(), 3u);
        for (const auto& ep : svc["endpoints"]) {
            EXPECT_EQ(ep["region"], "RegionOne");
            EXPECT_EQ(ep["region_id"], "RegionOne");
            if (ep["interface"] == "public") urls[svc["type"]] = ep["url"];
        }
    }
    EXPECT_EQ(urls["identity"], std::string(kBase) + "/identity");
    EXPECT_EQ(urls["image"], std::string(kBase) + "/image");
    EXPECT_EQ(urls["compute"], std::string(kBase) + "/compute/v2.1");
    EXPECT_EQ(urls["placement"], std::string(kBase) + "/placement");
}

TEST_P(KeystoneTest, AuthByIdsAndNocatalog) {
    auto admin = ks_.AdminToken();
    auto info = ks_.Service().Validate(admin);
    ASSERT_TRUE(info.ok());
    json body = {
        {"auth",
         {{"identity",
           {{"methods", {"password"}}, {"password", {{"user", {{"id", info->user_id}, {"password", "secret"}}}}}}},
          {"scope", {{"project", {{"id", info->project_id}}}}}}}};
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens?nocatalog", body);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_FALSE(Body(r)["token"].contains("catalog"));
    EXPECT_EQ(Body(r)["token"]["project"]["id"], info->project_id);
}

TEST_P(KeystoneTest, UnscopedAndDefaultProjectScoping) {
    // Explicitly unscoped: no project, roles or catalog.
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", "unscoped"));
    ASSERT_EQ(r.status, 201) << r.body;
    auto t = Body(r)["token"];
    EXPECT_FALSE(t.contains("project"));
    EXPECT_FALSE(t.contains("roles"));
    EXPECT_FALSE(t.contains("catalog"));
    // No scope and no default project: unscoped too.
    EXPECT_FALSE(
        Body(ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret")))["token"].contains(
            "project"));
    // A user with a default project they hold a role on gets a token scoped to it.
    auto [pid, uid] = ks_.ProjectWithUser("p1", "u1");
    auto admin = ks_.AdminToken();
    ASSERT_EQ(
        ks_.Call(Method::kPatch, "/identity/v3/users/" + uid, {{"user", {{"default_project_id", pid}}}}, admin).status,
        200);
    auto scoped = Body(ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("u1", "pw-u1")));
    EXPECT_EQ(scoped["token"]["project"]["id"], pid);
    EXPECT_FALSE(
        Body(ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("u1", "pw-u1", "unscoped")))["token"]
            .contains("project"));
}

TEST_P(KeystoneTest, DomainScopedToken) {
    auto admin = ks_.AdminToken();
    auto info = ks_.Service().Validate(admin).value();
    auto role = Body(ks_.Call(Method::kGet, "/identity/v3/roles?name=admin", nullptr, admin))["roles"][0]["id"];
    // Without a role on the domain the user cannot scope to it.
    json scope = {{"domain", {{"name", "Default"}}}};
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", scope)).status, 401);
    ASSERT_EQ(ks_.Call(Method::kPut,
                       "/identity/v3/domains/default/users/" + info.user_id + "/roles/" + role.get<std::string>(),
                       nullptr, admin)
                  .status,
              204);
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", scope));
    ASSERT_EQ(r.status, 201) << r.body;
    auto t = Body(r)["token"];
    EXPECT_EQ(t["domain"], json({{"id", "default"}, {"name", "Default"}}));
    EXPECT_FALSE(t.contains("project"));
    EXPECT_TRUE(t["catalog"].is_array());
    auto dinfo = ks_.Service().Validate(std::string(r.headers.Get("X-Subject-Token").value()));
    ASSERT_TRUE(dinfo.ok());
    EXPECT_EQ(dinfo->domain_id, "default");
    EXPECT_TRUE(dinfo->IsAdmin());
}

TEST_P(KeystoneTest, AuthenticationFailuresAre401WithKeystoneMessage) {
    auto [pid, uid] = ks_.ProjectWithUser("p1", "u1");
    auto admin = ks_.AdminToken();
    ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "lonely"}}}}, admin);
    auto expect401 = [&](const json& body, const char* what) {
        auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", body);
        EXPECT_EQ(r.status, 401) << what << ": " << r.body;
        EXPECT_EQ(Message(r), kAuthRequired) << what;
        EXPECT_TRUE(r.headers.Has("WWW-Authenticate")) << what;
    };
    expect401(PasswordAuth("admin", "wrong", ProjectScope("admin")), "wrong password");
    expect401(PasswordAuth("nobody", "secret", ProjectScope("admin")), "unknown user");
    expect401(PasswordAuth("u1", "pw-u1", ProjectScope("admin")), "no role on the project");
    expect401(PasswordAuth("u1", "pw-u1", ProjectScope("lonely")), "no role on the project");
    expect401(PasswordAuth("u1", "pw-u1", ProjectScope("missing")), "unknown project");
    json bad_domain = PasswordAuth("u1", "pw-u1");
    bad_domain["auth"]["identity"]["password"]["user"]["domain"] = {{"name", "Elsewhere"}};
    expect401(bad_domain, "unknown user domain");
    json bad_method = PasswordAuth("u1", "pw-u1");
    bad_method["auth"]["identity"]["methods"] = {"totp"};
    bad_method["auth"]["identity"]["totp"] = json::object();
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", bad_method);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(Message(r), "Attempted to authenticate with an unsupported method.");

    EXPECT_FALSE(ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1"))).empty());
    // Disabled project, then disabled user.
    ks_.Call(Method::kPatch, "/identity/v3/projects/" + pid, {{"project", {{"enabled", false}}}}, admin);
    expect401(PasswordAuth("u1", "pw-u1", ProjectScope("p1")), "disabled project");
    ks_.Call(Method::kPatch, "/identity/v3/users/" + uid, {{"user", {{"enabled", false}}}}, admin);
    expect401(PasswordAuth("u1", "pw-u1", "unscoped"), "disabled user");
}

TEST_P(KeystoneTest, MalformedAuthRequestsAre400) {
    auto expect400 = [&](const std::string& body, const std::string& message) {
        auto r = ks_.Raw(Method::kPost, "/identity/v3/auth/tokens", body);
        EXPECT_EQ(r.status, 400) << body << ": " << r.body;
        EXPECT_EQ(Message(r), message) << body;
    };
    expect400("{\"auth\": ",
              "Expecting to find valid JSON in request body. The server could not comply with the "
              "request since it is either malformed or otherwise incorrect. The client is assumed to "
              "be in error.");
    expect400("[1]",
              "Expecting to find valid JSON object in request body. The server could not comply with the "
              "request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
    expect400(R"({"auth": {}})", "'identity' is a required property");
    expect400(R"({"auth": {"identity": {"methods": "password"}}})",
              "Invalid input for field 'identity/methods': 'password' is not of type 'array'");
    expect400(R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}})",
              "Invalid input for field identity/password/user: id or name must be present.");
    expect400(R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 7}}}}})",
              "Invalid input for field 'identity/password/user/name': 7 is not of type 'string'");
    expect400(
        R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "secret"}}}}})",
        "Expecting to find domain in user. The server could not comply with the request since it is either "
        "malformed or otherwise incorrect. The client is assumed to be in error.");
    auto no_domain = PasswordAuth("admin", "secret", {{"project", {{"name", "admin"}}}});
    expect400(no_domain.dump(),
              "Expecting to find domain in project. The server could not comply with the request "
              "since it is either malformed or otherwise incorrect. The client is assumed to be in "
              "error.");
    auto two_scopes = PasswordAuth("admin", "secret", {{"project", {{"id", "x"}}}, {"domain", {{"id", "default"}}}});
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", two_scopes);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(Message(r).find("system, project, domain, OS-TRUST:trust or unscoped"), std::string::npos);
}

TEST_P(KeystoneTest, ValidateCheckAndRevokeTokens) {
    auto admin = ks_.AdminToken();
    auto other = ks_.AdminToken();
    auto r = ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, admin, other);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("X-Subject-Token").value(), other);
    EXPECT_EQ(Body(r)["token"]["project"]["name"], "admin");
    EXPECT_TRUE(Body(r)["token"].contains("catalog"));
    EXPECT_FALSE(
        Body(ks_.Call(Method::kGet, "/identity/v3/auth/tokens?nocatalog", nullptr, admin, other))["token"].contains(
            "catalog"));
    EXPECT_EQ(ks_.Call(Method::kHead, "/identity/v3/auth/tokens", nullptr, admin, other).status, 200);

    r = ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, admin, "gAAAAABnope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Message(r), "Could not find token: gAAAAABnope.");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, "", other).status, 401);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, "bogus", other).status, 401);

    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/auth/tokens", nullptr, admin, other).status, 204);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, admin, other).status, 404);
    EXPECT_EQ(ks_.Call(Method::kHead, "/identity/v3/auth/tokens", nullptr, admin, other).status, 404);
    auto gone = ks_.Service().Validate(other);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, ErrorCode::kUnauthorized);
    EXPECT_TRUE(ks_.Service().Validate(admin).ok());
}

TEST_P(KeystoneTest, NonAdminMayOnlyInspectOwnTokens) {
    ks_.ProjectWithUser("p1", "u1");
    auto mine = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    auto mine2 = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    auto admin = ks_.AdminToken();
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, mine, mine2).status, 200);
    auto r = ks_.Call(Method::kGet, "/identity/v3/auth/tokens", nullptr, mine, admin);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(Message(r), "You are not authorized to perform the requested action: identity:validate_token.");
    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/auth/tokens", nullptr, mine, admin).status, 403);
    EXPECT_TRUE(ks_.Service().Validate(admin).ok());
}

TEST_P(KeystoneTest, TokenRescopingKeepsExpiryAndAuditChain) {
    auto r = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", "unscoped"));
    ASSERT_EQ(r.status, 201);
    auto unscoped = std::string(r.headers.Get("X-Subject-Token").value());
    auto parent = Body(r)["token"];
    json body = {
        {"auth",
         {{"identity", {{"methods", {"token"}}, {"token", {{"id", unscoped}}}}}, {"scope", ProjectScope("admin")}}}};
    auto r2 = ks_.Call(Method::kPost, "/identity/v3/auth/tokens", body);
    ASSERT_EQ(r2.status, 201) << r2.body;
    auto t = Body(r2)["token"];
    EXPECT_EQ(t["project"]["name"], "admin");
    EXPECT_EQ(t["expires_at"], parent["expires_at"]);
    ASSERT_EQ(t["audit_ids"].size(), 2u);
    EXPECT_EQ(t["audit_ids"][1], parent["audit_ids"][0]);
    std::set<std::string> methods(t["methods"].begin(), t["methods"].end());
    EXPECT_EQ(methods, (std::set<std::string>{"token", "password"}));
    // A token that does not exist cannot be rescoped.
    body["auth"]["identity"]["token"]["id"] = "gAAAAABmissing";
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/auth/tokens", body).status, 404);
}

TEST(KeystoneExpiry, ExpiredTokensAreRejectedEverywhere) {
    CloudletConfig config;
    config.token_ttl = std::chrono::seconds(0);  // every token is born expired: expiry without waiting
    Keystone ks(config);
    auto r = ks.Call(Method::kPost, "/identity/v3/auth/tokens", PasswordAuth("admin", "secret", ProjectScope("admin")));
    ASSERT_EQ(r.status, 201);
    auto token = std::string(r.headers.Get("X-Subject-Token").value());
    auto v = ks.Service().Validate(token);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(ks.Call(Method::kGet, "/identity/v3/projects", nullptr, token).status, 401);
}

TEST(KeystoneExpiry, TokensExpireAfterTheirTtl) {
    CloudletConfig config;
    config.token_ttl = std::chrono::seconds(1);
    Keystone ks(config);
    auto token = ks.AdminToken();
    ASSERT_FALSE(token.empty());
    auto info = ks.Service().Validate(token);
    ASSERT_TRUE(info.ok());
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(info->expires_at) +
                                  std::chrono::milliseconds(5));
    EXPECT_FALSE(ks.Service().Validate(token).ok());
}

TEST_P(KeystoneTest, ValidateGivesOtherServicesTheCaller) {
    auto [pid, uid] = ks_.ProjectWithUser("p1", "u1");
    auto token = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    auto info = ks_.Service().Validate(token);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->user_id, uid);
    EXPECT_EQ(info->user_name, "u1");
    EXPECT_EQ(info->user_domain_id, "default");
    EXPECT_EQ(info->project_id, pid);
    EXPECT_EQ(info->project_name, "p1");
    EXPECT_EQ(info->project_domain_id, "default");
    EXPECT_TRUE(info->HasRole("member"));
    EXPECT_TRUE(info->HasRole("reader"));
    EXPECT_FALSE(info->IsAdmin());
    EXPECT_FALSE(ks_.Service().Validate("").ok());
    EXPECT_FALSE(ks_.Service().Validate("not-a-token").ok());
}

// ------------------------------------------------------------------ catalog

TEST_P(KeystoneTest, CatalogServicesEndpointsAndRegionsAgree) {
    auto admin = ks_.AdminToken();
    auto cat = ks_.Call(Method::kGet, "/identity/v3/auth/catalog", nullptr, admin);
    ASSERT_EQ(cat.status, 200);
    EXPECT_EQ(Body(cat)["catalog"].size(), 4u);
    EXPECT_EQ(Body(cat)["links"]["self"], std::string(kBase) + "/identity/v3/auth/catalog");

    auto services = Body(ks_.Call(Method::kGet, "/identity/v3/services", nullptr, admin))["services"];
    auto endpoints = Body(ks_.Call(Method::kGet, "/identity/v3/endpoints", nullptr, admin))["endpoints"];
    EXPECT_EQ(services.size(), 4u);
    EXPECT_EQ(endpoints.size(), 12u);
    std::set<std::string> catalog_endpoint_ids, endpoint_ids;
    auto catalog = Body(cat)["catalog"];
    for (const auto& s : catalog)
        for (const auto& e : s["endpoints"]) catalog_endpoint_ids.insert(e["id"]);
    for (const auto& e : endpoints) endpoint_ids.insert(e["id"]);
    EXPECT_EQ(catalog_endpoint_ids, endpoint_ids);
    auto image = Body(ks_.Call(Method::kGet, "/identity/v3/services?type=image", nullptr, admin))["services"];
    ASSERT_EQ(image.size(), 1u);
    EXPECT_EQ(image[0]["name"], "glance");
    auto shown = ks_.Call(Method::kGet, "/identity/v3/services/" + image[0]["id"].get<std::string>(), nullptr, admin);
    EXPECT_EQ(Body(shown)["service"]["type"], "image");
    auto public_eps =
        Body(ks_.Call(Method::kGet, "/identity/v3/endpoints?interface=public", nullptr, admin))["endpoints"];
    EXPECT_EQ(public_eps.size(), 4u);
    auto one =
        ks_.Call(Method::kGet, "/identity/v3/endpoints/" + public_eps[0]["id"].get<std::string>(), nullptr, admin);
    EXPECT_EQ(Body(one)["endpoint"]["interface"], "public");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/endpoints/nope", nullptr, admin).status, 404);
    auto regions = Body(ks_.Call(Method::kGet, "/identity/v3/regions", nullptr, admin))["regions"];
    ASSERT_EQ(regions.size(), 1u);
    EXPECT_EQ(regions[0]["id"], "RegionOne");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/regions/RegionOne", nullptr, admin).status, 200);
    auto missing = ks_.Call(Method::kGet, "/identity/v3/regions/Mars", nullptr, admin);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Message(missing), "Could not find region: Mars.");
}

TEST_P(KeystoneTest, CatalogNeedsAScopedToken) {
    auto unscoped = ks_.Token(PasswordAuth("admin", "secret", "unscoped"));
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/catalog", nullptr, unscoped).status, 403);
    ks_.ProjectWithUser("p1", "u1");
    auto member = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/auth/catalog", nullptr, member).status, 200);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/services", nullptr, member).status, 403);
}

TEST(KeystoneCatalog, IdsAreStableAcrossInstances) {
    Keystone a{CloudletConfig{}}, b{CloudletConfig{}};
    auto ids = [](Keystone& ks) {
        auto token = ks.AdminToken();
        return Body(ks.Call(Method::kGet, "/identity/v3/endpoints", nullptr, token))["endpoints"];
    };
    EXPECT_EQ(ids(a), ids(b));
}

// ------------------------------------------------------------------ projects

TEST_P(KeystoneTest, ProjectLifecycle) {
    auto admin = ks_.AdminToken();
    auto r = ks_.Call(Method::kPost, "/identity/v3/projects",
                      {{"project",
                        {{"name", "P"},
                         {"description", "d"},
                         {"enabled", true},
                         {"tags", json::array()},
                         {"options", json::object()}}}},
                      admin);
    ASSERT_EQ(r.status, 201) << r.body;
    auto p = Body(r)["project"];
    std::string id = p["id"];
    EXPECT_TRUE(IsUuid(id, true));
    EXPECT_EQ(p["domain_id"], "default");
    EXPECT_EQ(p["parent_id"], "default");
    EXPECT_EQ(p["is_domain"], false);
    EXPECT_EQ(p["description"], "d");
    EXPECT_EQ(p["links"]["self"], std::string(kBase) + "/identity/v3/projects/" + id);

    auto dup = ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "P"}}}}, admin);
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(
        Message(dup),
        "Conflict occurred attempting to store project - Duplicate entry found with name P at domain ID default.");

    // find-by-name as the CLI does it: GET by id fails, then list with ?name=
    auto by_name = ks_.Call(Method::kGet, "/identity/v3/projects/P", nullptr, admin);
    EXPECT_EQ(by_name.status, 404);
    EXPECT_EQ(Message(by_name), "Could not find project: P.");
    auto list = Body(ks_.Call(Method::kGet, "/identity/v3/projects?name=P", nullptr, admin));
    ASSERT_EQ(list["projects"].size(), 1u);
    EXPECT_EQ(list["projects"][0]["id"], id);
    EXPECT_EQ(list["links"]["self"], std::string(kBase) + "/identity/v3/projects?name=P");
    EXPECT_TRUE(list["links"]["next"].is_null());
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/projects", nullptr, admin))["projects"].size(), 2u);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/projects?enabled=false", nullptr, admin))["projects"].size(),
              0u);

    auto patched =
        ks_.Call(Method::kPatch, "/identity/v3/projects/" + id, {{"project", {{"description", "new"}}}}, admin);
    ASSERT_EQ(patched.status, 200);
    EXPECT_EQ(Body(patched)["project"]["description"], "new");
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/projects/" + id, nullptr, admin))["project"]["description"],
              "new");
    auto move = ks_.Call(Method::kPatch, "/identity/v3/projects/" + id, {{"project", {{"domain_id", "other"}}}}, admin);
    EXPECT_EQ(move.status, 400);
    EXPECT_EQ(Message(move), "Update of `domain_id` is not allowed.");

    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/projects/" + id, nullptr, admin).status, 204);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/projects/" + id, nullptr, admin).status, 404);
    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/projects/" + id, nullptr, admin).status, 404);
}

TEST_P(KeystoneTest, ProjectSchemaViolations) {
    auto admin = ks_.AdminToken();
    auto expect400 = [&](const json& body, const std::string& message) {
        auto r = ks_.Call(Method::kPost, "/identity/v3/projects", body, admin);
        EXPECT_EQ(r.status, 400) << body;
        EXPECT_EQ(Message(r), message) << body;
    };
    expect400(json::object(), "'name' is a required property");
    expect400({{"project", {{"name", 123}}}}, "Invalid input for field 'name': 123 is not of type 'string'");
    expect400({{"project", {{"name", ""}}}}, "Invalid input for field 'name': '' is too short");
    expect400({{"project", {{"name", std::string(65, 'x')}}}},
              "Invalid input for field 'name': '" + std::string(65, 'x') + "' is too long");
    expect400({{"project", {{"name", "x"}, {"enabled", "yes"}}}},
              "Invalid input for field 'enabled': 'yes' is not of type 'boolean'");
    expect400({{"project", {{"name", "x"}, {"tags", {"a", "a"}}}}},
              "Invalid input for field 'tags': ['a', 'a'] has non-unique elements");
    expect400({{"project", "x"}}, "'x' is not of type 'object'");
    auto r = ks_.Raw(Method::kPost, "/identity/v3/projects", "{not json", admin);
    EXPECT_EQ(r.status, 400);
    auto id = ks_.Service().Validate(admin)->project_id;
    auto empty = ks_.Call(Method::kPatch, "/identity/v3/projects/" + id, {{"project", json::object()}}, admin);
    EXPECT_EQ(empty.status, 400);
    EXPECT_EQ(Message(empty), "{} does not have enough properties");
    EXPECT_EQ(
        ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "x"}, {"domain_id", "nope"}}}}, admin)
            .status,
        404);
}

TEST_P(KeystoneTest, ProjectHierarchy) {
    auto admin = ks_.AdminToken();
    std::string parent = Body(
        ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "parent"}}}}, admin))["project"]["id"];
    auto child = ks_.Call(Method::kPost, "/identity/v3/projects",
                          {{"project", {{"name", "child"}, {"parent_id", parent}}}}, admin);
    ASSERT_EQ(child.status, 201) << child.body;
    EXPECT_EQ(Body(child)["project"]["parent_id"], parent);
    EXPECT_EQ(Body(child)["project"]["domain_id"], "default");
    auto children =
        Body(ks_.Call(Method::kGet, "/identity/v3/projects?parent_id=" + parent, nullptr, admin))["projects"];
    ASSERT_EQ(children.size(), 1u);
    EXPECT_EQ(children[0]["name"], "child");
    auto r = ks_.Call(Method::kDelete, "/identity/v3/projects/" + parent, nullptr, admin);
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(Message(r).find("not a leaf in the hierarchy"), std::string::npos);
    r = ks_.Call(Method::kPatch, "/identity/v3/projects/" + parent, {{"project", {{"enabled", false}}}}, admin);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/projects",
                       {{"project", {{"name", "orphan"}, {"parent_id", "nope"}}}}, admin)
                  .status,
              404);
}

TEST_P(KeystoneTest, DeletingAProjectRevokesTokensScopedToIt) {
    auto [pid, uid] = ks_.ProjectWithUser("p1", "u1");
    auto token = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    ASSERT_TRUE(ks_.Service().Validate(token).ok());
    auto admin = ks_.AdminToken();
    ASSERT_EQ(ks_.Call(Method::kDelete, "/identity/v3/projects/" + pid, nullptr, admin).status, 204);
    EXPECT_FALSE(ks_.Service().Validate(token).ok());
    auto assignments = Body(ks_.Call(Method::kGet, "/identity/v3/role_assignments?user.id=" + uid, nullptr, admin));
    EXPECT_TRUE(assignments["role_assignments"].empty());
}

// ------------------------------------------------------------------ users

TEST_P(KeystoneTest, UserLifecycle) {
    auto admin = ks_.AdminToken();
    std::string pid =
        Body(ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "P"}}}}, admin))["project"]["id"];
    auto r = ks_.Call(Method::kPost, "/identity/v3/users",
                      {{"user",
                        {{"name", "U"},
                         {"password", "X"},
                         {"email", "u@example.com"},
                         {"default_project_id", pid},
                         {"enabled", true},
                         {"options", json::object()}}}},
                      admin);
    ASSERT_EQ(r.status, 201) << r.body;
    auto u = Body(r)["user"];
    std::string uid = u["id"];
    EXPECT_EQ(u["name"], "U");
    EXPECT_EQ(u["domain_id"], "default");
    EXPECT_EQ(u["email"], "u@example.com");
    EXPECT_EQ(u["default_project_id"], pid);
    EXPECT_TRUE(u["password_expires_at"].is_null());
    EXPECT_FALSE(u.contains("password"));
    EXPECT_EQ(u["links"]["self"], std::string(kBase) + "/identity/v3/users/" + uid);
    EXPECT_EQ(r.body.find("\"X\""), std::string::npos);

    auto dup = ks_.Call(Method::kPost, "/identity/v3/users", {{"user", {{"name", "U"}}}}, admin);
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(Message(dup),
              "Conflict occurred attempting to store user - Duplicate entry found with name U at domain ID default.");
    auto bad = ks_.Call(Method::kPost, "/identity/v3/users", {{"user", {{"name", "V"}, {"password", 5}}}}, admin);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Message(bad), "Invalid input for field 'password': 5 is not of type 'string', 'null'");

    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/users/U", nullptr, admin).status, 404);
    auto found = Body(ks_.Call(Method::kGet, "/identity/v3/users?name=U", nullptr, admin))["users"];
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0]["id"], uid);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/users?domain_id=default", nullptr, admin))["users"].size(), 2u);

    // The user can authenticate, unscoped (no role yet on the default project).
    auto t1 = ks_.Token(PasswordAuth("U", "X"));
    ASSERT_FALSE(t1.empty());
    // A new password ends existing sessions and replaces the old one.
    auto patched = ks_.Call(Method::kPatch, "/identity/v3/users/" + uid, {{"user", {{"password", "Y"}}}}, admin);
    ASSERT_EQ(patched.status, 200);
    EXPECT_FALSE(Body(patched)["user"].contains("password"));
    EXPECT_FALSE(ks_.Service().Validate(t1).ok());
    EXPECT_TRUE(ks_.Token(PasswordAuth("U", "X")).empty());
    auto t2 = ks_.Token(PasswordAuth("U", "Y"));
    ASSERT_FALSE(t2.empty());

    ASSERT_EQ(ks_.Call(Method::kDelete, "/identity/v3/users/" + uid, nullptr, admin).status, 204);
    EXPECT_FALSE(ks_.Service().Validate(t2).ok());
    auto gone = ks_.Call(Method::kGet, "/identity/v3/users/" + uid, nullptr, admin);
    EXPECT_EQ(gone.status, 404);
    EXPECT_EQ(Message(gone), "Could not find user: " + uid + ".");
}

TEST_P(KeystoneTest, SelfServicePasswordChange) {
    auto [pid, uid] = ks_.ProjectWithUser("p1", "u1");
    auto token = ks_.Token(PasswordAuth("u1", "pw-u1", ProjectScope("p1")));
    auto wrong = ks_.Call(Method::kPost, "/identity/v3/users/" + uid + "/password",
                          {{"user", {{"password", "new"}, {"original_password", "nope"}}}});
    EXPECT_EQ(wrong.status, 401);
    auto ok = ks_.Call(Method::kPost, "/identity/v3/users/" + uid + "/password",
                       {{"user", {{"password", "new"}, {"original_password", "pw-u1"}}}});
    EXPECT_EQ(ok.status, 204);
    EXPECT_FALSE(ks_.Service().Validate(token).ok());
    EXPECT_FALSE(ks_.Token(PasswordAuth("u1", "new", ProjectScope("p1"))).empty());
    EXPECT_EQ(
        ks_.Call(Method::kPost, "/identity/v3/users/" + uid + "/password", {{"user", {{"password", "x"}}}}).status,
        400);
}

// ------------------------------------------------------------------ roles and grants

TEST_P(KeystoneTest, RolesAndGrants) {
    auto admin = ks_.AdminToken();
    auto roles = Body(ks_.Call(Method::kGet, "/identity/v3/roles", nullptr, admin))["roles"];
    EXPECT_EQ(roles.size(), 3u);
    auto member = Body(ks_.Call(Method::kGet, "/identity/v3/roles?name=member", nullptr, admin))["roles"];
    ASSERT_EQ(member.size(), 1u);
    std::string rid = member[0]["id"];
    EXPECT_TRUE(member[0]["domain_id"].is_null());
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/roles/member", nullptr, admin).status, 404);

    auto created = ks_.Call(Method::kPost, "/identity/v3/roles", {{"role", {{"name", "observer"}}}}, admin);
    ASSERT_EQ(created.status, 201);
    std::string observer = Body(created)["role"]["id"];
    auto dup = ks_.Call(Method::kPost, "/identity/v3/roles", {{"role", {{"name", "observer"}}}}, admin);
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(Message(dup), "Conflict occurred attempting to store role - Duplicate entry found with name observer.");

    std::string pid =
        Body(ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "P"}}}}, admin))["project"]["id"];
    std::string uid = Body(ks_.Call(Method::kPost, "/identity/v3/users", {{"user", {{"name", "U"}, {"password", "X"}}}},
                                    admin))["user"]["id"];
    std::string grant = "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/" + rid;
    auto missing = ks_.Call(Method::kHead, grant, nullptr, admin);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(ks_.Call(Method::kGet, grant, nullptr, admin).status, 404);
    EXPECT_TRUE(ks_.Token(PasswordAuth("U", "X", ProjectScope("P"))).empty());
    EXPECT_EQ(ks_.Call(Method::kPut, grant, nullptr, admin).status, 204);
    EXPECT_EQ(ks_.Call(Method::kPut, grant, nullptr, admin).status, 204);  // idempotent
    EXPECT_EQ(ks_.Call(Method::kHead, grant, nullptr, admin).status, 204);
    EXPECT_EQ(ks_.Call(Method::kGet, grant, nullptr, admin).status, 204);
    auto listed =
        Body(ks_.Call(Method::kGet, "/identity/v3/projects/" + pid + "/users/" + uid + "/roles", nullptr, admin));
    ASSERT_EQ(listed["roles"].size(), 1u);
    EXPECT_EQ(listed["roles"][0]["name"], "member");
    auto token = ks_.Token(PasswordAuth("U", "X", ProjectScope("P")));
    ASSERT_FALSE(token.empty());

    // Unknown parts of a grant are named in the 404.
    auto bad_role =
        ks_.Call(Method::kPut, "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/nope", nullptr, admin);
    EXPECT_EQ(bad_role.status, 404);
    EXPECT_EQ(Message(bad_role), "Could not find role: nope.");
    EXPECT_EQ(
        Message(ks_.Call(Method::kPut, "/identity/v3/projects/" + pid + "/users/nope/roles/" + rid, nullptr, admin)),
        "Could not find user: nope.");
    EXPECT_EQ(
        Message(ks_.Call(Method::kPut, "/identity/v3/projects/nope/users/" + uid + "/roles/" + rid, nullptr, admin)),
        "Could not find project: nope.");

    // Removing the only role ends the user's access to the project.
    EXPECT_EQ(ks_.Call(Method::kDelete, grant, nullptr, admin).status, 204);
    EXPECT_EQ(ks_.Call(Method::kDelete, grant, nullptr, admin).status, 404);
    EXPECT_FALSE(ks_.Service().Validate(token).ok());

    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/roles/" + observer, nullptr, admin).status, 204);
    auto immutable = ks_.Call(Method::kDelete, "/identity/v3/roles/" + rid, nullptr, admin);
    EXPECT_EQ(immutable.status, 403);
    EXPECT_EQ(Message(immutable), "Unable to delete immutable role resource: `" + rid +
                                      ". Set resource option \"immutable\" to false first.");
}

TEST_P(KeystoneTest, RoleAssignmentListing) {
    auto [pid, uid] = ks_.ProjectWithUser("P", "U");
    auto admin = ks_.AdminToken();
    auto r = ks_.Call(Method::kGet, "/identity/v3/role_assignments?scope.project.id=" + pid + "&include_names=True",
                      nullptr, admin);
    ASSERT_EQ(r.status, 200);
    auto list = Body(r)["role_assignments"];
    ASSERT_EQ(list.size(), 1u);
    auto a = list[0];
    EXPECT_EQ(a["role"]["name"], "member");
    EXPECT_EQ(a["user"], json({{"id", uid}, {"name", "U"}, {"domain", {{"id", "default"}, {"name", "Default"}}}}));
    EXPECT_EQ(a["scope"]["project"]["name"], "P");
    EXPECT_EQ(a["scope"]["project"]["domain"]["name"], "Default");
    EXPECT_EQ(a["links"]["assignment"].get<std::string>(), std::string(kBase) + "/identity/v3/projects/" + pid +
                                                               "/users/" + uid + "/roles/" +
                                                               a["role"]["id"].get<std::string>());

    auto plain = Body(
        ks_.Call(Method::kGet, "/identity/v3/role_assignments?user.id=" + uid, nullptr, admin))["role_assignments"];
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_FALSE(plain[0]["user"].contains("name"));
    auto everything = Body(ks_.Call(Method::kGet, "/identity/v3/role_assignments", nullptr, admin))["role_assignments"];
    EXPECT_EQ(everything.size(), 2u);  // admin on admin, U on P
    auto effective = Body(ks_.Call(Method::kGet, "/identity/v3/role_assignments?effective&user.id=" + uid, nullptr,
                                   admin))["role_assignments"];
    ASSERT_EQ(effective.size(), 2u);  // member and the reader it implies
    EXPECT_TRUE(effective[1]["links"].contains("prior_role"));
    auto admin_role = Body(ks_.Call(Method::kGet, "/identity/v3/roles?name=admin", nullptr, admin))["roles"][0]["id"];
    auto by_role = Body(ks_.Call(Method::kGet, "/identity/v3/role_assignments?role.id=" + admin_role.get<std::string>(),
                                 nullptr, admin));
    EXPECT_EQ(by_role["role_assignments"].size(), 1u);
    EXPECT_TRUE(
        Body(ks_.Call(Method::kGet, "/identity/v3/role_assignments?group.id=g", nullptr, admin))["role_assignments"]
            .empty());
}

// ------------------------------------------------------------------ policy

TEST_P(KeystoneTest, NonAdminsSeeOnlyThemselves) {
    auto [pid, uid] = ks_.ProjectWithUser("P", "U");
    auto other = ks_.ProjectWithUser("Q", "V");
    auto token = ks_.Token(PasswordAuth("U", "pw-U", ProjectScope("P")));
    auto r = ks_.Call(Method::kGet, "/identity/v3/projects", nullptr, token);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(Message(r), "You are not authorized to perform the requested action: identity:list_projects.");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/users", nullptr, token).status, 403);
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "mine"}}}}, token).status, 403);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/role_assignments", nullptr, token).status, 403);
    EXPECT_EQ(
        ks_.Call(Method::kPut, "/identity/v3/projects/" + other.first + "/users/" + uid + "/roles/x", nullptr, token)
            .status,
        403);
    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/users/" + other.second, nullptr, token).status, 403);
    // ... but may read itself, its project and its project list (the CLI's fallback).
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/users/" + uid, nullptr, token))["user"]["name"], "U");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/users/" + other.second, nullptr, token).status, 403);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/projects/" + pid, nullptr, token))["project"]["name"], "P");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/projects/" + other.first, nullptr, token).status, 403);
    auto mine = Body(ks_.Call(Method::kGet, "/identity/v3/users/" + uid + "/projects", nullptr, token))["projects"];
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0]["id"], pid);
    auto auth_projects = Body(ks_.Call(Method::kGet, "/identity/v3/auth/projects", nullptr, token))["projects"];
    ASSERT_EQ(auth_projects.size(), 1u);
    EXPECT_EQ(auth_projects[0]["name"], "P");
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/domains/default", nullptr, token).status, 200);
    EXPECT_TRUE(Body(ks_.Call(Method::kGet, "/identity/v3/auth/domains", nullptr, token))["domains"].empty());
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/projects", nullptr, "").status, 401);
}

// ------------------------------------------------------------------ domains

TEST_P(KeystoneTest, DomainLifecycle) {
    auto admin = ks_.AdminToken();
    auto r =
        ks_.Call(Method::kPost, "/identity/v3/domains", {{"domain", {{"name", "acme"}, {"description", "A"}}}}, admin);
    ASSERT_EQ(r.status, 201) << r.body;
    std::string did = Body(r)["domain"]["id"];
    EXPECT_EQ(Body(r)["domain"]["enabled"], true);
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/domains", {{"domain", {{"name", "acme"}}}}, admin).status, 409);
    auto bad = ks_.Call(Method::kPost, "/identity/v3/domains", {{"domain", {{"name", "x"}, {"colour", "red"}}}}, admin);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/domains?name=acme", nullptr, admin))["domains"].size(), 1u);

    auto p =
        ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "P"}, {"domain_id", did}}}}, admin);
    ASSERT_EQ(p.status, 201);
    EXPECT_EQ(Body(p)["project"]["parent_id"], did);
    auto u = ks_.Call(Method::kPost, "/identity/v3/users",
                      {{"user", {{"name", "U"}, {"domain_id", did}, {"password", "X"}}}}, admin);
    ASSERT_EQ(u.status, 201);
    // Same names in another domain do not clash.
    EXPECT_EQ(ks_.Call(Method::kPost, "/identity/v3/projects", {{"project", {{"name", "P"}}}}, admin).status, 201);
    json user_in_acme = PasswordAuth("U", "X", "unscoped");
    user_in_acme["auth"]["identity"]["password"]["user"]["domain"] = {{"name", "acme"}};
    EXPECT_FALSE(ks_.Token(user_in_acme).empty());

    auto enabled = ks_.Call(Method::kDelete, "/identity/v3/domains/" + did, nullptr, admin);
    EXPECT_EQ(enabled.status, 403);
    EXPECT_EQ(Message(enabled), "Cannot delete a domain that is enabled, please disable it first.");
    ASSERT_EQ(ks_.Call(Method::kPatch, "/identity/v3/domains/" + did, {{"domain", {{"enabled", false}}}}, admin).status,
              200);
    EXPECT_TRUE(ks_.Token(user_in_acme).empty());
    EXPECT_EQ(ks_.Call(Method::kDelete, "/identity/v3/domains/" + did, nullptr, admin).status, 204);
    EXPECT_EQ(ks_.Call(Method::kGet, "/identity/v3/domains/" + did, nullptr, admin).status, 404);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/projects?domain_id=" + did, nullptr, admin))["projects"].size(),
              0u);
    EXPECT_EQ(Body(ks_.Call(Method::kGet, "/identity/v3/users?name=U", nullptr, admin))["users"].size(), 0u);
    auto def = Body(ks_.Call(Method::kGet, "/identity/v3/domains/default", nullptr, admin))["domain"];
    EXPECT_EQ(def["name"], "Default");
}

// ------------------------------------------------------------------ persistence

TEST(KeystoneDurable, StateAndTokensSurviveARestart) {
    auto path = TempDbPath();
    std::string token, revoked, pid, uid, admin_id;
    {
        Keystone ks(CloudletConfig{}, OpenSqliteStore(path).value());
        std::tie(pid, uid) = ks.ProjectWithUser("P", "U");
        token = ks.Token(PasswordAuth("U", "pw-U", ProjectScope("P")));
        ASSERT_FALSE(token.empty());
        admin_id = ks.Service().Validate(ks.AdminToken())->user_id;
        revoked = ks.AdminToken();
        auto admin = ks.AdminToken();
        ks.Call(Method::kDelete, "/identity/v3/auth/tokens", nullptr, admin, revoked);
    }
    {
        CloudletConfig config;
        config.admin_password = "changed";  // the config wins over the stored password
        Keystone ks(config, OpenSqliteStore(path).value());
        auto info = ks.Service().Validate(token);
        ASSERT_TRUE(info.ok());
        EXPECT_EQ(info->project_id, pid);
        EXPECT_EQ(info->user_id, uid);
        EXPECT_TRUE(info->HasRole("member"));
        EXPECT_FALSE(ks.Service().Validate(revoked).ok());
        EXPECT_FALSE(ks.Token(PasswordAuth("U", "pw-U", ProjectScope("P"))).empty());
        EXPECT_TRUE(ks.Token(PasswordAuth("admin", "secret", ProjectScope("admin"))).empty());
        auto admin = ks.Token(PasswordAuth("admin", "changed", ProjectScope("admin")));
        ASSERT_FALSE(admin.empty());
        EXPECT_EQ(ks.Service().Validate(admin)->user_id, admin_id);  // bootstrap did not duplicate the admin
        EXPECT_EQ(Body(ks.Call(Method::kGet, "/identity/v3/users", nullptr, admin))["users"].size(), 2u);
        EXPECT_EQ(Body(ks.Call(Method::kGet, "/identity/v3/roles", nullptr, admin))["roles"].size(), 3u);
        EXPECT_EQ(Body(ks.Call(Method::kGet, "/identity/v3/projects", nullptr, admin))["projects"].size(), 2u);
        EXPECT_EQ(
            Body(ks.Call(Method::kGet, "/identity/v3/role_assignments", nullptr, admin))["role_assignments"].size(),
            2u);
        EXPECT_EQ(Body(ks.Call(Method::kGet, "/identity/v3/domains", nullptr, admin))["domains"].size(), 1u);
    }
    RemoveDb(path);
}

}  // namespace
}  // namespace shoal::emulator
