// CloudletClient against a whole embedded cloudlet over real sockets on 127.0.0.1:0.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "async_test.hpp"
#include "cloudlet/cloudlet_client.hpp"
#include "emulator/cloudlet.hpp"

namespace shoal::cloudlet {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using http::Method;
using namespace std::chrono_literals;

emulator::CloudletConfig SmallCloudlet() {
    emulator::CloudletConfig c;
    c.name = "cc";
    c.boot_delay = 20ms;
    c.action_delay = 10ms;
    c.delete_delay = 10ms;
    c.hypervisors.count = 2;
    c.hypervisors.memory_mb = 8192;
    c.hypervisors.reserved_host_memory_mb = 512;
    return c;
}

class CloudletClientTest : public ::testing::Test {
protected:
    void StartCloudlet(emulator::CloudletConfig config = SmallCloudlet()) {
        cloudlet_ = std::make_unique<emulator::Cloudlet>(io_.get_executor(), std::move(config));
        auto port = cloudlet_->Start();
        ASSERT_TRUE(port.ok()) << port.error().message;
    }
    void TearDown() override {
        clients_.clear();
        if (cloudlet_) shoal::testing::Run(io_, cloudlet_->Stop());
    }

    Credentials Creds() const {
        const auto& c = cloudlet_->Config();
        Credentials cr;
        cr.auth_url = cloudlet_->AuthUrl();
        cr.username = c.admin_user;
        cr.password = c.admin_password;
        cr.project = c.admin_project;
        cr.region = c.region;
        return cr;
    }

    CloudletClient& NewClient(Credentials creds) {
        clients_.push_back(std::make_unique<CloudletClient>(io_.get_executor(), std::move(creds)));
        return *clients_.back();
    }
    CloudletClient& NewClient() { return NewClient(Creds()); }

    template <class T>
    T Run(asio::awaitable<T> aw) {
        return shoal::testing::Run(io_, std::move(aw), 10'000ms);
    }
    template <class T>
    std::vector<T> RunAll(std::vector<asio::awaitable<T>> aws) {
        return shoal::testing::RunAll(io_, std::move(aws));
    }

    // A public, active image the tenants can boot.
    std::string MakeImage(CloudletClient& c) {
        json body = {{"name", "img"}, {"disk_format", "raw"}, {"container_format", "bare"}, {"visibility", "public"}};
        auto img = Run(c.CallJson(Service::kImage, Method::kPost, "/v2/images", body));
        EXPECT_TRUE(img.ok()) << img.error().message;
        if (!img.ok()) return {};
        std::string id = (*img)["id"];
        auto token = Run(c.AdminToken());
        auto eps = Run(c.GetEndpoints());
        http::Request up;
        up.method = Method::kPut;
        up.body = "0123456789";
        up.headers.Set("Content-Type", "application/octet-stream");
        up.headers.Set("X-Auth-Token", token->id);
        auto put = Run(c.HttpClient().Send(eps->image + "/v2/images/" + id + "/file", std::move(up)));
        EXPECT_TRUE(put.ok() && put->status == 204);
        return id;
    }

    // Boots an m1.tiny (512 MB) as `tenant` and waits until it is ACTIVE.
    std::string Boot(CloudletClient& c, const std::string& tenant, const std::string& image, const std::string& name) {
        json body = {{"server", {{"name", name}, {"imageRef", image}, {"flavorRef", "1"}, {"networks", "none"}}}};
        CallOptions o;
        o.microversion = "2.37";
        auto r = Run(c.CallJson(Service::kCompute, Method::kPost, "/servers", body, As::Tenant(tenant), o));
        EXPECT_TRUE(r.ok()) << r.error().message;
        if (!r.ok()) return {};
        std::string id = (*r)["server"]["id"];
        for (int i = 0; i < 250; ++i) {
            auto s = Run(c.CallJson(Service::kCompute, Method::kGet, "/servers/" + id, nullptr, As::Tenant(tenant)));
            EXPECT_TRUE(s.ok());
            if (s.ok() && (*s)["server"]["status"] == "ACTIVE") return id;
            shoal::testing::RunFor(io_, 20ms);
        }
        ADD_FAILURE() << "server " << id << " never became ACTIVE";
        return id;
    }

    std::vector<std::string> ServerIds(CloudletClient& c, As as, const std::string& query = {}) {
        auto r = Run(c.CallJson(Service::kCompute, Method::kGet, "/servers" + query, nullptr, std::move(as)));
        EXPECT_TRUE(r.ok()) << r.error().message;
        std::vector<std::string> ids;
        if (r.ok())
            for (const auto& s : (*r)["servers"]) ids.push_back(s["id"]);
        return ids;
    }

    asio::io_context io_;
    std::unique_ptr<emulator::Cloudlet> cloudlet_;
    std::vector<std::unique_ptr<CloudletClient>> clients_;
};

TEST_F(CloudletClientTest, AdminLoginDiscoversTheCatalog) {
    StartCloudlet();
    auto& c = NewClient();
    auto token = Run(c.AdminToken());
    ASSERT_TRUE(token.ok()) << token.error().message;
    EXPECT_FALSE(token->id.empty());
    EXPECT_FALSE(token->project_id.empty());
    EXPECT_FALSE(token->user_id.empty());
    EXPECT_GT(token->expires_at, std::chrono::system_clock::now() + 50min);

    auto eps = Run(c.GetEndpoints());
    ASSERT_TRUE(eps.ok());
    std::string base = cloudlet_->BaseUrl();
    EXPECT_EQ(eps->identity, base + "/identity");
    EXPECT_EQ(eps->image, base + "/image");
    EXPECT_EQ(eps->compute, base + "/compute/v2.1");
    EXPECT_EQ(eps->placement, base + "/placement");
    EXPECT_FALSE(eps->compute_has_project_id);

    for (auto [svc, path] :
         {std::pair{Service::kCompute, "/flavors"}, std::pair{Service::kImage, "/v2/images"},
          std::pair{Service::kPlacement, "/resource_providers"}, std::pair{Service::kIdentity, "/v3/projects"}}) {
        auto r = Run(c.Call(svc, Method::kGet, path));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    }
    CallOptions o;
    o.microversion = "2.60";
    auto versioned = Run(c.Call(Service::kCompute, Method::kGet, "/servers", nullptr, As::Admin(), o));
    ASSERT_TRUE(versioned.ok());
    EXPECT_EQ(versioned->headers.Get("OpenStack-API-Version").value_or(""), "compute 2.60");

    // Everything above rode on one login.
    auto again = Run(c.AdminToken());
    EXPECT_EQ(again->id, token->id);
    EXPECT_EQ(c.Stats().admin_logins, 1u);
}

TEST_F(CloudletClientTest, WrongPasswordIsUnauthorizedNotRetried) {
    StartCloudlet();
    auto creds = Creds();
    creds.password = "wrong";
    auto& c = NewClient(creds);
    auto r = Run(c.Call(Service::kCompute, Method::kGet, "/servers"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized) << r.error().message;
    EXPECT_EQ(c.Stats().admin_logins, 1u);
}

TEST_F(CloudletClientTest, TwentyConcurrentCallersShareOneLogin) {
    StartCloudlet();
    auto& c = NewClient();
    std::vector<asio::awaitable<Result<http::Response>>> calls;
    for (int i = 0; i < 20; ++i) calls.push_back(c.Call(Service::kCompute, Method::kGet, "/servers"));
    auto results = RunAll(std::move(calls));
    for (const auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(c.Stats().admin_logins, 1u);
    EXPECT_EQ(c.Stats().joined, 19u);
}

TEST_F(CloudletClientTest, ShortLivedTokenIsRefreshedBeforeItExpiresOnce) {
    auto config = SmallCloudlet();
    config.token_ttl = std::chrono::seconds(2);  // refreshed half-way: after 1 s
    StartCloudlet(config);
    auto& c = NewClient();
    auto first = Run(c.AdminToken());
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(Run(c.AdminToken())->id, first->id);
    shoal::testing::RunFor(io_, 1'100ms);

    std::vector<asio::awaitable<Result<Token>>> gets;
    for (int i = 0; i < 20; ++i) gets.push_back(c.AdminToken());
    auto tokens = RunAll(std::move(gets));
    for (const auto& t : tokens) {
        ASSERT_TRUE(t.ok()) << t.error().message;
        EXPECT_EQ(t->id, tokens.front()->id);
    }
    EXPECT_NE(tokens.front()->id, first->id);
    EXPECT_EQ(c.Stats().admin_logins, 2u);
    // The old one had not expired yet: refreshed early, not after a failure.
    EXPECT_GT(first->expires_at, std::chrono::system_clock::now());
}

TEST_F(CloudletClientTest, RevokedTokenDrawsOneReloginAndRetry) {
    StartCloudlet();
    auto& c = NewClient();
    auto revoke = [&](const std::string& token) {
        http::Request req;
        req.method = Method::kDelete;
        req.headers.Set("X-Auth-Token", token);
        req.headers.Set("X-Subject-Token", token);
        auto r = Run(c.HttpClient().Send(cloudlet_->AuthUrl() + "/auth/tokens", std::move(req)));
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->status, 204) << r->body;
    };
    auto first = Run(c.AdminToken());
    ASSERT_TRUE(first.ok());
    revoke(first->id);

    auto r = Run(c.Call(Service::kCompute, Method::kGet, "/servers"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(c.Stats().admin_logins, 2u);
    auto second = Run(c.AdminToken());
    EXPECT_NE(second->id, first->id);

    // Without the retry the 401 is the answer; anonymous calls never log in.
    revoke(second->id);
    CallOptions no_retry;
    no_retry.retry_unauthorized = false;
    auto refused = Run(c.Call(Service::kCompute, Method::kGet, "/servers", nullptr, As::Admin(), no_retry));
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 401);
    auto json_refused = Run(c.CallJson(Service::kCompute, Method::kGet, "/servers", nullptr, As::Admin(), no_retry));
    ASSERT_FALSE(json_refused.ok());
    EXPECT_EQ(json_refused.error().code, ErrorCode::kUnauthorized);
    auto anon = Run(c.Call(Service::kCompute, Method::kGet, "/servers", nullptr, As::Anonymous()));
    ASSERT_TRUE(anon.ok());
    EXPECT_EQ(anon->status, 401);
    EXPECT_EQ(c.Stats().admin_logins, 2u);
}

TEST_F(CloudletClientTest, EnsureTenantIsIdempotent) {
    StartCloudlet();
    auto& c = NewClient();
    auto a = Run(c.EnsureTenant("t-1", "Tenant One"));
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(a->created);
    EXPECT_EQ(a->project_name, "shoal-t-1");
    EXPECT_EQ(a->user_name, "shoal-t-1");
    EXPECT_EQ(a->domain_id, "default");
    EXPECT_EQ(a->roles, (std::vector<std::string>{"member", "reader"}));

    auto again = Run(c.EnsureTenant("t-1", "Tenant One"));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->project_id, a->project_id);
    EXPECT_EQ(again->user_id, a->user_id);

    // Another agent process (or this one after a restart) finds what exists.
    auto& other = NewClient();
    auto found = Run(other.EnsureTenant("t-1", "Tenant One", "default"));
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_FALSE(found->created);
    EXPECT_EQ(found->project_id, a->project_id);
    EXPECT_EQ(found->user_id, a->user_id);

    auto projects = Run(c.CallJson(Service::kIdentity, Method::kGet, "/v3/projects?name=shoal-t-1"));
    ASSERT_TRUE(projects.ok());
    EXPECT_EQ((*projects)["projects"].size(), 1u);
    auto roles = Run(c.CallJson(Service::kIdentity, Method::kGet,
                                "/v3/projects/" + a->project_id + "/users/" + a->user_id + "/roles"));
    ASSERT_TRUE(roles.ok());
    EXPECT_EQ((*roles)["roles"].size(), 2u) << roles->dump();

    auto bad = Run(c.EnsureTenant("t-2", "x", "NoSuchDomain"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
    auto unknown = Run(c.TenantToken("never-ensured"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(CloudletClientTest, ConcurrentEnsureTenantConvergesOnOneProjectAndUser) {
    StartCloudlet();
    auto& c1 = NewClient();
    auto& c2 = NewClient();
    // Both logged in, so that their Keystone calls interleave.
    ASSERT_TRUE(Run(c1.AdminToken()).ok());
    ASSERT_TRUE(Run(c2.AdminToken()).ok());
    std::vector<asio::awaitable<Result<TenantAccount>>> calls;
    for (int i = 0; i < 5; ++i) {
        calls.push_back(c1.EnsureTenant("t-race", "Race"));
        calls.push_back(c2.EnsureTenant("t-race", "Race"));
    }
    auto results = RunAll(std::move(calls));
    for (const auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->project_id, results.front()->project_id);
        EXPECT_EQ(r->user_id, results.front()->user_id);
    }
    // One run per client, in lock step: the loser's create met a 409 and it took the winner's.
    EXPECT_GE(c1.CreateConflicts() + c2.CreateConflicts(), 1u);
    auto users = Run(c1.CallJson(Service::kIdentity, Method::kGet, "/v3/users?name=shoal-t-race"));
    ASSERT_TRUE(users.ok());
    EXPECT_EQ((*users)["users"].size(), 1u);
    // Both clients can log the shadow user in: the password is derived, not random.
    EXPECT_TRUE(Run(c1.TenantToken("t-race")).ok());
    EXPECT_TRUE(Run(c2.TenantToken("t-race")).ok());
}

TEST_F(CloudletClientTest, TenantTokensAreCachedSingleFlightAndIsolated) {
    StartCloudlet();
    auto& c = NewClient();
    auto a = Run(c.EnsureTenant("alpha", "Alpha"));
    auto b = Run(c.EnsureTenant("beta", "Beta"));
    ASSERT_TRUE(a.ok() && b.ok());

    std::vector<asio::awaitable<Result<Token>>> gets;
    for (int i = 0; i < 20; ++i) gets.push_back(c.TenantToken("alpha"));
    auto tokens = RunAll(std::move(gets));
    for (const auto& t : tokens) {
        ASSERT_TRUE(t.ok()) << t.error().message;
        EXPECT_EQ(t->id, tokens.front()->id);
        EXPECT_EQ(t->project_id, a->project_id);
        EXPECT_EQ(t->user_id, a->user_id);
    }
    EXPECT_EQ(c.Stats().scoped_logins, 1u);

    std::string image = MakeImage(c);
    std::string server = Boot(c, "alpha", image, "vm-alpha");
    EXPECT_EQ(ServerIds(c, As::Tenant("alpha")), std::vector<std::string>{server});
    EXPECT_TRUE(ServerIds(c, As::Tenant("beta")).empty());
    EXPECT_EQ(ServerIds(c, As::Admin(), "?all_tenants=1"), std::vector<std::string>{server});
    // beta cannot even look at alpha's server.
    auto peek = Run(c.Call(Service::kCompute, Method::kGet, "/servers/" + server, nullptr, As::Tenant("beta")));
    ASSERT_TRUE(peek.ok());
    EXPECT_EQ(peek->status, 404);
    EXPECT_EQ(c.Stats().scoped_logins, 2u);  // alpha once, beta once
}

TEST_F(CloudletClientTest, RefusedShadowUserIsRepairedOnce) {
    StartCloudlet();
    auto& c = NewClient();
    auto a = Run(c.EnsureTenant("t-fix", "Fix"));
    ASSERT_TRUE(a.ok());
    // An operator changes the shadow user's password behind our back.
    json patch = {{"user", {{"password", "changed"}}}};
    auto p = Run(c.CallJson(Service::kIdentity, Method::kPatch, "/v3/users/" + a->user_id, patch));
    ASSERT_TRUE(p.ok()) << p.error().message;

    // A restarted agent gets its persisted account back, with no Keystone calls.
    auto& restarted = NewClient();
    restarted.AdoptTenant(*a);
    ASSERT_TRUE(restarted.FindTenant("t-fix").has_value());
    auto t = Run(restarted.TenantToken("t-fix"));
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->project_id, a->project_id);
    EXPECT_EQ(restarted.Stats().scoped_logins, 2u);  // refused, repaired, accepted
    auto servers = Run(restarted.Call(Service::kCompute, Method::kGet, "/servers", nullptr, As::Tenant("t-fix")));
    ASSERT_TRUE(servers.ok());
    EXPECT_EQ(servers->status, 200);
}

TEST_F(CloudletClientTest, MemoryLoadMatchesTheCloudletBeforeAndAfterABoot) {
    StartCloudlet();
    auto& c = NewClient();
    ASSERT_TRUE(Run(c.EnsureTenant("mem", "Mem")).ok());

    // What Nova itself reports, for comparison.
    auto reported = [&] {
        CallOptions o;
        o.microversion = "2.1";
        auto r = Run(c.CallJson(Service::kCompute, Method::kGet, "/os-hypervisors/detail", nullptr, As::Admin(), o));
        EXPECT_TRUE(r.ok());
        std::int64_t max = 0, total = 0;
        for (const auto& h : (*r)["hypervisors"]) {
            max = std::max<std::int64_t>(max, h["free_ram_mb"].get<std::int64_t>());
            total += h["free_ram_mb"].get<std::int64_t>();
        }
        return std::pair{max, total};
    };

    auto before = Run(c.MemoryLoad());
    ASSERT_TRUE(before.ok()) << before.error().message;
    EXPECT_EQ(before->source, MemorySource::kHypervisors);
    EXPECT_EQ(before->hypervisors, 2);
    EXPECT_EQ(before->ram_mb_total, 2 * 8192);
    EXPECT_EQ(before->free_ram_mb_max, 8192 - 512);
    EXPECT_EQ(before->free_ram_mb_total, 2 * (8192 - 512));
    EXPECT_EQ(reported(), (std::pair<std::int64_t, std::int64_t>{before->free_ram_mb_max, before->free_ram_mb_total}));

    Boot(c, "mem", MakeImage(c), "vm1");
    auto after = Run(c.MemoryLoad());
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->free_ram_mb_max, 8192 - 512);  // the other, empty hypervisor
    EXPECT_EQ(after->free_ram_mb_total, 2 * (8192 - 512) - 512);
    EXPECT_EQ(reported(), (std::pair<std::int64_t, std::int64_t>{after->free_ram_mb_max, after->free_ram_mb_total}));

    // Placement's view (the fallback when Nova no longer reports memory) agrees.
    auto placement = Run(c.MemoryLoad(MemorySource::kPlacement));
    ASSERT_TRUE(placement.ok()) << placement.error().message;
    EXPECT_EQ(placement->source, MemorySource::kPlacement);
    EXPECT_EQ(placement->hypervisors, 2);
    EXPECT_EQ(placement->ram_mb_total, after->ram_mb_total);
    EXPECT_EQ(placement->free_ram_mb_max, after->free_ram_mb_max);
    EXPECT_EQ(placement->free_ram_mb_total, after->free_ram_mb_total);
}

TEST_F(CloudletClientTest, CloudletDownIsUnavailableQuickly) {
    StartCloudlet();
    auto& c = NewClient();
    ASSERT_TRUE(Run(c.AdminToken()).ok());
    ASSERT_TRUE(Run(c.EnsureTenant("t-down", "Down")).ok());
    shoal::testing::Run(io_, cloudlet_->Stop());

    auto start = std::chrono::steady_clock::now();
    auto r = Run(c.Call(Service::kCompute, Method::kGet, "/servers"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
    auto m = Run(c.MemoryLoad());
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, ErrorCode::kUnavailable);
    auto t = Run(c.Call(Service::kCompute, Method::kGet, "/servers", nullptr, As::Tenant("t-down")));
    ASSERT_FALSE(t.ok());  // its token is cached; the call itself fails
    EXPECT_EQ(t.error().code, ErrorCode::kUnavailable);

    // A client that never reached it: the login itself fails the same way.
    auto& fresh = NewClient();
    auto login = Run(fresh.AdminToken());
    ASSERT_FALSE(login.ok());
    EXPECT_EQ(login.error().code, ErrorCode::kUnavailable) << login.error().message;
    auto ensure = Run(fresh.EnsureTenant("t-new", "New"));
    ASSERT_FALSE(ensure.ok());
    EXPECT_EQ(ensure.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    cloudlet_.reset();  // already stopped
}

}  // namespace
}  // namespace shoal::cloudlet
