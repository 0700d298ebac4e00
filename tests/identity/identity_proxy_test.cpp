// The identity proxy and the token cache against an embedded cloudlet whose Keystone plays the
// identity provider; the proxy is served by its own http::Server, all on 127.0.0.1:0 in one io_context.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "async_test.hpp"
#include "emulator/cloudlet.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "identity/identity_proxy.hpp"
#include "identity/token_cache.hpp"

namespace shoal::identity {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using http::Method;
using namespace std::chrono_literals;

class IdentityProxyTest : public ::testing::Test {
protected:
    void SetUp() override {
        emulator::CloudletConfig c;
        c.name = "idp";
        c.region = "RegionIdP";
        c.hypervisors.count = 1;
        idp_ = std::make_unique<emulator::Cloudlet>(io_.get_executor(), c);
        auto idp_port = idp_->Start();
        ASSERT_TRUE(idp_port.ok()) << idp_port.error().message;
        idp_base_ = idp_->BaseUrl();

        cache_ = std::make_unique<TokenCache>(io_.get_executor(), CacheOptions());

        IdentityProxyOptions po;
        po.idp_auth_url = idp_->AuthUrl();
        po.catalog.id_seed = "agent-t";
        po.catalog.placement = true;
        po.timeout = 3s;
        proxy_ = std::make_unique<IdentityProxy>(io_.get_executor(), po, cache_.get());
        proxy_->AddRoutes(router_);
        server_ = std::make_unique<http::Server>(io_.get_executor(), router_);
        auto port = server_->Listen("127.0.0.1", 0);
        ASSERT_TRUE(port.ok()) << port.error().message;
        agent_ = "http://127.0.0.1:" + std::to_string(*port);
        client_ = std::make_unique<http::Client>(io_.get_executor());
    }

    void TearDown() override {
        if (server_) Run(server_->Shutdown(100ms));
        StopIdp();
    }

    void StopIdp() {
        if (idp_ && !idp_stopped_) Run(idp_->Stop());
        idp_stopped_ = true;
    }

    TokenCacheOptions CacheOptions() {
        TokenCacheOptions o;
        o.idp_auth_url = idp_->AuthUrl();
        o.timeout = 3s;
        o.clock = &skewed_;
        return o;
    }

    template <class T>
    T Run(asio::awaitable<T> aw) {
        return shoal::testing::Run(io_, std::move(aw), 10'000ms);
    }

    template <class T>
    std::vector<T> RunAll(std::vector<asio::awaitable<T>> aws) {
        return shoal::testing::RunAll(io_, std::move(aws));
    }

    // One request to `base` + target; a transport failure fails the test.
    http::Response Send(const std::string& base,
                        Method method,
                        std::string target,
                        std::string body = {},
                        std::string token = {},
                        std::string subject = {}) {
        auto req = shoal::testing::MakeRequest(method, target, std::move(body), std::move(token));
        if (!subject.empty()) req.headers.Set("X-Subject-Token", std::move(subject));
        auto r = Run(client_->Send(base + target, std::move(req)));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? std::move(r).value() : http::Response{};
    }
    http::Response Agent(
        Method m, std::string target, std::string body = {}, std::string token = {}, std::string subject = {}) {
        return Send(agent_, m, std::move(target), std::move(body), std::move(token), std::move(subject));
    }
    http::Response Idp(
        Method m, std::string target, std::string body = {}, std::string token = {}, std::string subject = {}) {
        return Send(idp_base_, m, std::move(target), std::move(body), std::move(token), std::move(subject));
    }

    static std::string PasswordBody(const std::string& user,
                                    const std::string& password,
                                    const std::string& project = "admin") {
        json b = {
            {"auth",
             {{"identity",
               {{"methods", {"password"}},
                {"password", {{"user", {{"name", user}, {"domain", {{"id", "default"}}}, {"password", password}}}}}}},
              {"scope", {{"project", {{"name", project}, {"domain", {{"id", "default"}}}}}}}}}};
        return b.dump();
    }

    // A token issued by the IdP directly (the cache has not seen it).
    std::string IdpLogin(const std::string& user = "admin",
                         const std::string& password = "secret",
                         const std::string& project = "admin") {
        auto r = Idp(Method::kPost, "/identity/v3/auth/tokens?nocatalog", PasswordBody(user, password, project));
        EXPECT_EQ(r.status, 201) << r.body;
        return std::string(r.headers.Get("X-Subject-Token").value_or(""));
    }

    // Every URL in a catalog, with its service type.
    static std::multimap<std::string, std::string> Urls(const json& catalog) {
        std::multimap<std::string, std::string> out;
        for (const auto& s : catalog)
            for (const auto& ep : s["endpoints"])
                out.emplace(s["type"].get<std::string>(), ep["url"].get<std::string>());
        return out;
    }

    void ExpectAgentCatalog(const json& catalog) {
        auto urls = Urls(catalog);
        std::set<std::string> types;
        for (const auto& [type, url] : urls) {
            types.insert(type);
            EXPECT_TRUE(url.starts_with(agent_ + "/")) << url;
        }
        EXPECT_EQ(types, (std::set<std::string>{"identity", "image", "compute", "placement"}));
        EXPECT_EQ(urls.size(), 12u);
        for (const auto& s : catalog)
            for (const auto& ep : s["endpoints"]) EXPECT_EQ(ep["region_id"], "RegionIdP");
        EXPECT_EQ(urls.find("compute")->second, agent_ + "/compute/v2.1");
        EXPECT_EQ(urls.find("identity")->second, agent_ + "/identity");
    }

    asio::io_context io_;
    std::unique_ptr<emulator::Cloudlet> idp_;
    bool idp_stopped_ = false;
    std::string idp_base_;
    std::chrono::seconds skew_{0};
    // The machine's time moved by skew_: tokens issued by the real IdP, judged later.
    struct SkewedClock final : Clock {
        explicit SkewedClock(const std::chrono::seconds& skew) : skew(skew) {}
        SteadyTime Steady() const override { return std::chrono::steady_clock::now() + skew; }
        SystemTime System() const override { return std::chrono::system_clock::now() + skew; }
        const std::chrono::seconds& skew;
    } skewed_{skew_};
    std::unique_ptr<TokenCache> cache_;
    std::unique_ptr<IdentityProxy> proxy_;
    http::Router router_;
    std::unique_ptr<http::Server> server_;
    std::string agent_;
    std::unique_ptr<http::Client> client_;
};

// ------------------------------------------------------------------ the proxy

TEST_F(IdentityProxyTest, PasswordAuthReturnsTheAgentsCatalog) {
    auto r = Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "secret"));
    ASSERT_EQ(r.status, 201) << r.body;
    std::string token(r.headers.Get("X-Subject-Token").value_or(""));
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(r.body.find(idp_base_), std::string::npos) << "an IdP URL leaked: " << r.body;
    auto body = json::parse(r.body);
    ExpectAgentCatalog(body["token"]["catalog"]);

    // Everything else is the IdP's token as it is.
    auto direct = Idp(Method::kGet, "/identity/v3/auth/tokens?nocatalog", "", token, token);
    ASSERT_EQ(direct.status, 200) << direct.body;
    json mine = body["token"];
    mine.erase("catalog");
    EXPECT_EQ(mine, json::parse(direct.body)["token"]);
    for (const char* key : {"methods", "user", "project", "roles", "expires_at", "issued_at", "audit_ids", "is_domain"})
        EXPECT_TRUE(mine.contains(key)) << key;

    // Endpoint ids are the same on every login.
    auto again = json::parse(Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "secret")).body);
    EXPECT_EQ(again["token"]["catalog"], body["token"]["catalog"]);
    EXPECT_GE(proxy_->GetStats().catalogs, 2u);
}

TEST_F(IdentityProxyTest, WrongPasswordIsKeystonesUnauthorized) {
    auto r = Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "wrong"));
    EXPECT_EQ(r.status, 401);
    EXPECT_FALSE(r.headers.Has("X-Subject-Token"));
    auto body = json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], 401);
    EXPECT_EQ(body["error"]["title"], "Unauthorized");
    // The same body the IdP answers.
    auto direct = Idp(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "wrong"));
    EXPECT_EQ(json::parse(direct.body)["error"]["message"], body["error"]["message"]);
}

TEST_F(IdentityProxyTest, ValidationAndCatalogThroughTheProxy) {
    std::string token = IdpLogin();
    auto r = Agent(Method::kGet, "/identity/v3/auth/tokens", "", token, token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("X-Subject-Token").value_or(""), token);
    ExpectAgentCatalog(json::parse(r.body)["token"]["catalog"]);

    auto nocat = Agent(Method::kGet, "/identity/v3/auth/tokens?nocatalog", "", token, token);
    ASSERT_EQ(nocat.status, 200);
    EXPECT_FALSE(json::parse(nocat.body)["token"].contains("catalog"));

    EXPECT_EQ(Agent(Method::kHead, "/identity/v3/auth/tokens", "", token, token).status, 200);

    auto cat = Agent(Method::kGet, "/identity/v3/auth/catalog", "", token);
    ASSERT_EQ(cat.status, 200) << cat.body;
    auto cat_body = json::parse(cat.body);
    ExpectAgentCatalog(cat_body["catalog"]);
    EXPECT_EQ(cat_body["links"]["self"], agent_ + "/identity/v3/auth/catalog");

    auto bad = Agent(Method::kGet, "/identity/v3/auth/tokens", "", token, "no-such-token");
    EXPECT_EQ(bad.status, 404);
    EXPECT_EQ(json::parse(bad.body)["error"]["code"], 404);
}

TEST_F(IdentityProxyTest, AdminOperationsAndVersionDocuments) {
    auto login = Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "secret"));
    std::string token(login.headers.Get("X-Subject-Token").value_or(""));
    const std::string v3 = agent_ + "/identity/v3";

    auto created = Agent(Method::kPost, "/identity/v3/projects", R"({"project": {"name": "via-agent"}})", token);
    ASSERT_EQ(created.status, 201) << created.body;
    auto project = json::parse(created.body)["project"];
    std::string pid = project["id"];
    EXPECT_EQ(project["links"]["self"], v3 + "/projects/" + pid);

    auto list = Agent(Method::kGet, "/identity/v3/projects", "", token);
    ASSERT_EQ(list.status, 200);
    auto lbody = json::parse(list.body);
    EXPECT_EQ(lbody["links"]["self"], v3 + "/projects");
    bool found = false;
    for (const auto& p : lbody["projects"]) {
        found = found || p["id"] == pid;
        EXPECT_TRUE(p["links"]["self"].get<std::string>().starts_with(v3 + "/projects/"));
    }
    EXPECT_TRUE(found);
    auto by_name = json::parse(Agent(Method::kGet, "/identity/v3/projects?name=via-agent", "", token).body);
    ASSERT_EQ(by_name["projects"].size(), 1u);
    EXPECT_EQ(by_name["links"]["self"], v3 + "/projects?name=via-agent");

    // A member user in it, through deep paths, who then logs in through the agent.
    json user_req = {{"user", {{"name", "bob"}, {"password", "bob-pw"}, {"default_project_id", pid}}}};
    auto user = Agent(Method::kPost, "/identity/v3/users", user_req.dump(), token);
    ASSERT_EQ(user.status, 201) << user.body;
    std::string uid = json::parse(user.body)["user"]["id"];
    auto roles = json::parse(Agent(Method::kGet, "/identity/v3/roles?name=member", "", token).body);
    ASSERT_EQ(roles["roles"].size(), 1u);
    std::string rid = roles["roles"][0]["id"];
    std::string grant = "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/" + rid;
    EXPECT_EQ(Agent(Method::kPut, grant, "", token).status, 204);
    EXPECT_EQ(Agent(Method::kHead, grant, "", token).status, 204);
    auto ra = json::parse(Agent(Method::kGet, "/identity/v3/role_assignments?user.id=" + uid, "", token).body);
    ASSERT_FALSE(ra["role_assignments"].empty());
    EXPECT_TRUE(ra["role_assignments"][0]["links"]["assignment"].get<std::string>().starts_with(v3 + "/")) << ra;

    auto bob = Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("bob", "bob-pw", "via-agent"));
    ASSERT_EQ(bob.status, 201) << bob.body;
    auto info = Run(cache_->Validate(std::string(bob.headers.Get("X-Subject-Token").value_or(""))));
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->user_name, "bob");
    EXPECT_EQ(info->project_id, pid);
    EXPECT_EQ(info->project_name, "via-agent");
    EXPECT_TRUE(info->HasRole("member"));
    EXPECT_FALSE(info->is_admin);
    EXPECT_EQ(cache_->GetStats().idp_calls, 0u);  // learnt when the token went through the proxy

    // Version documents.
    auto root = Agent(Method::kGet, "/identity");
    EXPECT_EQ(root.status, 300);
    EXPECT_EQ(root.headers.Get("Location").value_or(""), v3 + "/");
    EXPECT_EQ(json::parse(root.body)["versions"]["values"][0]["links"][0]["href"], v3 + "/");
    auto version = Agent(Method::kGet, "/identity/v3");
    EXPECT_EQ(version.status, 200);
    EXPECT_EQ(json::parse(version.body)["version"]["links"][0]["href"], v3 + "/");

    // What the IdP does not know stays unknown, in Keystone's words.
    auto none = Agent(Method::kGet, "/identity/v3/no/such/thing", "", token);
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(json::parse(none.body)["error"]["code"], 404);
    EXPECT_EQ(Agent(Method::kGet, "/identity/v3/projects", "", "bogus").status, 401);
}

TEST_F(IdentityProxyTest, IdpDownIsServiceUnavailable) {
    StopIdp();
    auto start = std::chrono::steady_clock::now();
    auto r = Agent(Method::kPost, "/identity/v3/auth/tokens", PasswordBody("admin", "secret"));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body)["error"]["code"], 503);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_EQ(proxy_->GetStats().unreachable, 1u);
}

// ------------------------------------------------------------------ the token cache

TEST_F(IdentityProxyTest, CacheAnswersTheSecondValidation) {
    std::string token = IdpLogin();
    auto first = Run(cache_->Validate(token));
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->user_name, "admin");
    EXPECT_EQ(first->project_name, "admin");
    EXPECT_EQ(first->user_domain_id, "default");
    EXPECT_TRUE(first->is_admin);
    EXPECT_GT(first->expires_at, std::chrono::system_clock::now());
    auto second = Run(cache_->Validate(token));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->user_id, first->user_id);
    EXPECT_EQ(cache_->GetStats().idp_calls, 1u);
    EXPECT_EQ(cache_->GetStats().hits, 1u);

    // After cache_ttl the IdP is asked again.
    skew_ = 61s;
    EXPECT_TRUE(Run(cache_->Validate(token)).ok());
    EXPECT_EQ(cache_->GetStats().idp_calls, 2u);
    EXPECT_EQ(Run(cache_->Validate("")).error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(Run(cache_->Validate("a\r\nX-Evil: 1")).error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(cache_->GetStats().idp_calls, 2u);
}

TEST_F(IdentityProxyTest, CacheHonoursTheTokensExpiry) {
    auto options = CacheOptions();
    options.cache_ttl = std::chrono::hours(24);  // expires_at, 1 h away, is the tighter bound
    TokenCache cache(io_.get_executor(), options);
    std::string token = IdpLogin();
    ASSERT_TRUE(Run(cache.Validate(token)).ok());
    skew_ = 3599s;
    EXPECT_TRUE(Run(cache.Validate(token)).ok());
    EXPECT_EQ(cache.GetStats().idp_calls, 1u);
    skew_ = 3601s;  // past expires_at on our clock: asked again, and refused though the IdP still says yes
    auto late = Run(cache.Validate(token));
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(cache.GetStats().idp_calls, 2u);
}

TEST_F(IdentityProxyTest, NegativeAnswersAreCachedBriefly) {
    auto bad = Run(cache_->Validate("not-a-token"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(Run(cache_->Validate("not-a-token")).error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(cache_->GetStats().idp_calls, 1u);
    EXPECT_EQ(cache_->GetStats().negative_hits, 1u);
    skew_ = 6s;
    EXPECT_FALSE(Run(cache_->Validate("not-a-token")).ok());
    EXPECT_EQ(cache_->GetStats().idp_calls, 2u);
}

TEST_F(IdentityProxyTest, RevokedThroughTheAgentIsRefusedAtOnce) {
    std::string token = IdpLogin();
    ASSERT_TRUE(Run(cache_->Validate(token)).ok());
    auto del = Agent(Method::kDelete, "/identity/v3/auth/tokens", "", token, token);
    EXPECT_EQ(del.status, 204) << del.body;
    auto after = Run(cache_->Validate(token));
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(after.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(cache_->GetStats().idp_calls, 1u);  // refused from the cache, not re-asked
    EXPECT_EQ(Idp(Method::kGet, "/identity/v3/auth/tokens", "", IdpLogin(), token).status, 404);
    skew_ = 6s;  // the revocation marker has gone; the IdP says the same
    EXPECT_EQ(Run(cache_->Validate(token)).error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(cache_->GetStats().idp_calls, 2u);
}

TEST_F(IdentityProxyTest, ConcurrentValidationsShareOneIdpCall) {
    std::string token = IdpLogin();
    std::vector<asio::awaitable<Result<TokenInfo>>> calls;
    for (int i = 0; i < 20; ++i) calls.push_back(cache_->Validate(token));
    auto results = RunAll(std::move(calls));
    for (const auto& r : results) EXPECT_TRUE(r.ok());
    EXPECT_EQ(cache_->GetStats().idp_calls, 1u);
    EXPECT_EQ(cache_->GetStats().joined, 19u);
}

TEST_F(IdentityProxyTest, IdpDownIsUnavailableButCachedTokensStillWork) {
    std::string cached = IdpLogin();
    std::string fresh = IdpLogin();
    ASSERT_TRUE(Run(cache_->Validate(cached)).ok());
    StopIdp();
    EXPECT_TRUE(Run(cache_->Validate(cached)).ok());
    auto start = std::chrono::steady_clock::now();
    auto r = Run(cache_->Validate(fresh));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    // Not cached: the next call asks again.
    EXPECT_EQ(Run(cache_->Validate(fresh)).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(cache_->GetStats().idp_calls, 3u);
}

TEST_F(IdentityProxyTest, CacheSizeIsBounded) {
    auto options = CacheOptions();
    options.max_entries = 8;
    TokenCache cache(io_.get_executor(), options);
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(Run(cache.Validate("bogus-" + std::to_string(i))).ok());
    EXPECT_LE(cache.GetStats().entries, 8u);
    EXPECT_EQ(cache.GetStats().idp_calls, 20u);
}

}  // namespace
}  // namespace shoal::identity
