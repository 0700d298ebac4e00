// The Nova proxy's user flows in process: the proxy a home agent runs, over a fake gateway to
// in-memory cloudlets (tests/support/fake_cloudlet_gateway.hpp) and a memory state store. What a
// tenant sees through the Compute API, and what each cloudlet was asked to do.
#include "compute/nova_proxy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <map>
#include <stdexcept>
#include <string_view>

#include "async_test.hpp"
#include "common/faults.hpp"
#include "fake_clock.hpp"
#include "fake_cloudlet_gateway.hpp"
#include "identity/caller.hpp"
#include "state/memory_kv_store.hpp"

namespace shoal::compute {
namespace {

using nlohmann::json;
using shoal::testing::FakeCloudletGateway;
using M = http::Method;

constexpr const char* kApiBase = "http://agent-a.example:8774";

identity::Caller Tenant(const std::string& project) {
    identity::Caller c;
    c.tenant = project;
    c.project_name = "name-of-" + project;
    c.user_id = "user-of-" + project;
    c.user_name = "user";
    c.roles = {"member"};
    c.api_base = kApiBase;
    return c;
}

class NovaProxyTest : public ::testing::Test {
protected:
    NovaProxyTest() {
        gateway_.AddCloudlet("agent-a");
        gateway_.AddCloudlet("agent-b");
        options_.poll = std::chrono::milliseconds(1);
        options_.build_wait = std::chrono::milliseconds(20);
    }
    // Builds the proxy (after a test has set options_) and the tenants' images in their maps,
    // as the Glance proxy records an uploaded image.
    void Start() {
        MakeProxy();
        for (const auto& [tenant, image] :
             {std::pair{alice_.tenant, "image-of-alice"}, {bob_.tenant, "image-of-bob"}}) {
            state::ResourceRecord r;
            r.id = image;
            r.tenant = tenant;
            r.kind = "image";
            r.status = "active";
            ASSERT_TRUE(Await(state_.CreateResource(r)).ok());
        }
    }
    // The proxy over the fixture's gateway and state store; called again, a restarted home.
    void MakeProxy() {
        auto ensure = [this](std::string tenant, std::string image,
                             std::string cloudlet) -> boost::asio::awaitable<Result<std::string>> {
            copies_.push_back(tenant + " " + image + " " + cloudlet);
            while (hold_copies_) {
                boost::asio::steady_timer t(io_, std::chrono::milliseconds(1));
                co_await t.async_wait(boost::asio::use_awaitable);
            }
            co_return image;  // a copy has its image's shoal id (docs/image.md)
        };
        proxy_.reset();
        router_ = http::Router();
        proxy_ = std::make_unique<NovaProxy>(io_.get_executor(), gateway_, state_, ensure, options_);
        proxy_->AddRoutes(router_);
    }
    // Every server at every cloudlet of the fake, whatever its status.
    std::vector<FakeCloudletGateway::Server> AllServers() const {
        auto out = gateway_.ServersAt("agent-a");
        for (auto& s : gateway_.ServersAt("agent-b")) out.push_back(std::move(s));
        return out;
    }
    template <class T>
    T Await(boost::asio::awaitable<T> aw) {
        return shoal::testing::Run(io_, std::move(aw));
    }
    http::Response Send(const identity::Caller& who,
                        M method,
                        const std::string& path,
                        const json& body = nullptr,
                        const std::string& microversion = {}) {
        auto req = shoal::testing::MakeRequest(method, path, body.is_null() ? std::string() : body.dump());
        req.context.Set(who);
        if (!microversion.empty()) req.headers.Set("OpenStack-API-Version", "compute " + microversion);
        return Await(router_.Dispatch(req));
    }
    // Creates one server for `who` and returns its shoal id.
    std::string Create(const identity::Caller& who, const std::string& flavor = "m1.small") {
        auto r = Send(who, M::kPost, "/compute/v2.1/servers",
                      {{"server", {{"name", "web"}, {"imageRef", "image-of-alice"}, {"flavorRef", flavor}}}});
        EXPECT_EQ(r.status, 202) << r.body;
        return json::parse(r.body)["server"]["id"].get<std::string>();
    }
    json Show(const identity::Caller& who, const std::string& id) {
        auto r = Send(who, M::kGet, "/compute/v2.1/servers/" + id);
        return json::parse(r.body);
    }
    std::string StatusOf(const std::string& id) {
        auto body = Show(alice_, id);
        return body.contains("server") ? body["server"].value("status", "") : "(" + body.dump() + ")";
    }
    // Runs the proxy's background work until `done` holds (false after 10 s).
    bool RunUntil(const std::function<bool()>& done) {
        for (int i = 0; i < 10'000 && !done(); ++i) shoal::testing::RunFor(io_, std::chrono::milliseconds(1));
        return done();
    }

    boost::asio::io_context io_;
    FakeCloudletGateway gateway_{io_.get_executor(), "agent-a"};
    state::MemoryKvStore store_;
    state::TenantState state_{store_};
    NovaProxyOptions options_;
    std::unique_ptr<NovaProxy> proxy_;
    http::Router router_;
    identity::Caller alice_ = Tenant("alice0000000000000000000000000001");
    identity::Caller bob_ = Tenant("bob00000000000000000000000000002");
    std::vector<std::string> copies_;  // "tenant image cloudlet" per image copy asked for
    bool hold_copies_ = false;
};

TEST_F(NovaProxyTest, ACreateIsAnsweredAtOnceThenBuiltAtTheEmptierCloudletAndShownUnderItsShoalId) {
    Start();
    gateway_.At("agent-b").used_ram_mb = 8000;  // agent-a is the better of the two choices
    auto r = Send(alice_, M::kPost, "/compute/v2.1/servers",
                  {{"server", {{"name", "web"}, {"imageRef", "image-of-alice"}, {"flavorRef", "m1.small"}}}});
    ASSERT_EQ(r.status, 202) << r.body;
    const json created = json::parse(r.body)["server"];
    const std::string id = created["id"];
    EXPECT_EQ(r.headers.Get("Location").value_or(""), std::string(kApiBase) + "/compute/v2.1/servers/" + id);
    EXPECT_FALSE(created.value("adminPass", "").empty());
    EXPECT_EQ(r.headers.Get("OpenStack-API-Version").value_or(""), "compute 2.1");

    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; })) << StatusOf(id);
    const json server = Show(alice_, id)["server"];
    EXPECT_EQ(server["id"], id);
    EXPECT_EQ(server["name"], "web");
    EXPECT_EQ(server["tenant_id"], alice_.tenant);  // not the shadow project of the cloudlet
    EXPECT_EQ(server["flavor"]["id"], "m1.small");  // a flavor's shoal id is its name
    EXPECT_EQ(server["image"]["id"], "image-of-alice");
    EXPECT_EQ(server["links"][0]["href"], std::string(kApiBase) + "/compute/v2.1/servers/" + id);

    // What the chosen cloudlet was asked: the image copied there first, the create with its own
    // flavor id, holding the RAM from the decision on; the other cloudlet got no create.
    EXPECT_EQ(copies_, std::vector<std::string>{alice_.tenant + " image-of-alice agent-a"});
    auto creates = gateway_.CallsTo("agent-a", M::kPost, "/servers");
    ASSERT_EQ(creates.size(), 1u);
    const json sent = json::parse(creates[0].call.body)["server"];
    EXPECT_EQ(sent["flavorRef"], "agent-a-flavor-2");
    EXPECT_EQ(sent["imageRef"], "image-of-alice");
    EXPECT_EQ(sent["name"], "web");
    EXPECT_EQ(creates[0].tenant, alice_.tenant);
    EXPECT_NE(creates[0].call.reservation, 0u);
    EXPECT_EQ(gateway_.HoldsMade(), 1u);
    EXPECT_TRUE(gateway_.At("agent-a").holds.empty());  // taken over by the create
    EXPECT_TRUE(gateway_.CallsTo("agent-b", M::kPost, "/servers").empty());
    EXPECT_EQ(proxy_->GetStats().creates, 1u);
    EXPECT_EQ(proxy_->GetStats().builds, 1u);
}

TEST_F(NovaProxyTest, ABuildARefusingCloudletFailedIsDeletedThereAndTheServerPlacedAgainElsewhere) {
    Start();
    gateway_.At("agent-a").refuse_builds = true;  // and it looks the emptier
    gateway_.At("agent-b").used_ram_mb = 8000;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE" && gateway_.ServersAt("agent-a").empty(); }))
        << StatusOf(id);
    EXPECT_EQ(gateway_.ServersAt("agent-b", "ACTIVE").size(), 1u);
    // The failed build, undone: deleted until the cloudlet answers 404.
    EXPECT_EQ(gateway_.CallsTo("agent-a", M::kDelete, "/servers/").size(), 2u);
    EXPECT_EQ(proxy_->GetStats().build_failures, 1u);
    EXPECT_EQ(proxy_->GetStats().undone, 1u);
    EXPECT_EQ(proxy_->GetStats().placement_failures, 0u);
}

TEST_F(NovaProxyTest, WhenEveryCloudletRefusesTheServerGoesErrorWithNovasFaultAndNothingIsLeftAnywhere) {
    options_.max_build_attempts = 3;
    Start();
    gateway_.At("agent-a").refuse_builds = true;
    gateway_.At("agent-b").refuse_builds = true;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] {
        return StatusOf(id) == "ERROR" && gateway_.ServersAt("agent-a").empty() &&
               gateway_.ServersAt("agent-b").empty();
    })) << StatusOf(id);
    const json server = Show(alice_, id)["server"];
    EXPECT_NE(server["fault"]["message"].get<std::string>().find("No valid host was found"), std::string::npos)
        << server.dump();
    EXPECT_EQ(proxy_->GetStats().builds, 2u);  // a cloudlet that failed a build is not tried again
    EXPECT_EQ(proxy_->GetStats().placement_failures, 1u);
    // An ERROR server is the user's to delete, as in Nova.
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    EXPECT_EQ(Send(alice_, M::kGet, "/compute/v2.1/servers/" + id).status, 404);
}

TEST_F(NovaProxyTest, ABuildStillInBuildAtItsTimeoutIsUndoneAndPlacedAgainOnTheOtherCloudlet) {
    shoal::testing::FakeClock clock;
    options_.clock = &clock;
    Start();
    gateway_.At("agent-a").hold_builds = true;  // never goes ACTIVE by itself
    gateway_.At("agent-b").used_ram_mb = 8000;  // agent-a is chosen first
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return gateway_.ServersAt("agent-a", "BUILD").size() == 1; }));
    // However long the real wait, the build has not timed out until the clock says so.
    shoal::testing::RunFor(io_, std::chrono::milliseconds(50));
    EXPECT_EQ(proxy_->GetStats().build_failures, 0u);
    EXPECT_EQ(StatusOf(id), "BUILD");
    clock.Advance(options_.build_timeout + std::chrono::seconds(1));
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE" && gateway_.ServersAt("agent-a").empty(); }))
        << StatusOf(id);
    EXPECT_EQ(gateway_.ServersAt("agent-b", "ACTIVE").size(), 1u);
    EXPECT_EQ(proxy_->GetStats().build_failures, 1u);
    EXPECT_EQ(proxy_->GetStats().undone, 1u);
}

TEST_F(NovaProxyTest, AnUnreachableCloudletIsPassedOver) {
    Start();
    gateway_.At("agent-b").unreachable = true;  // and it would look the emptier
    gateway_.At("agent-a").used_ram_mb = 8000;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; })) << StatusOf(id);
    EXPECT_EQ(gateway_.ServersAt("agent-a", "ACTIVE").size(), 1u);
    EXPECT_EQ(proxy_->GetStats().build_failures, 0u);
}

TEST_F(NovaProxyTest, ADeleteWhileTheCloudletBuildsRemovesTheServerThere) {
    Start();
    gateway_.At("agent-a").hold_builds = true;
    gateway_.At("agent-b").hold_builds = true;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] {
        return gateway_.ServersAt("agent-a", "BUILD").size() + gateway_.ServersAt("agent-b", "BUILD").size() == 1;
    }));
    EXPECT_EQ(StatusOf(id), "BUILD");
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    auto gone = Send(alice_, M::kGet, "/compute/v2.1/servers/" + id);
    EXPECT_EQ(gone.status, 404);
    EXPECT_EQ(json::parse(gone.body)["itemNotFound"]["message"], "Instance " + id + " could not be found.");
    EXPECT_TRUE(
        RunUntil([&] { return gateway_.ServersAt("agent-a").empty() && gateway_.ServersAt("agent-b").empty(); }));
    EXPECT_EQ(json::parse(Send(alice_, M::kGet, "/compute/v2.1/servers").body)["servers"], json::array());
}

TEST_F(NovaProxyTest, ADeleteBeforeTheCreateReachesACloudletLeavesNoServerBehindThere) {
    Start();
    hold_copies_ = true;  // the placement is copying the image when the user deletes
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return !copies_.empty(); }));
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    hold_copies_ = false;
    // The boot's next record (before the create) meets the delete: the create never goes out.
    ASSERT_TRUE(RunUntil([&] { return proxy_->Running() == 0; }));
    EXPECT_EQ(Send(alice_, M::kGet, "/compute/v2.1/servers/" + id).status, 404);
    EXPECT_TRUE(gateway_.CallsTo("agent-a", M::kPost, "/servers").empty());
    EXPECT_TRUE(gateway_.CallsTo("agent-b", M::kPost, "/servers").empty());
    EXPECT_TRUE(AllServers().empty());
    EXPECT_FALSE(Await(state_.GetResource(alice_.tenant, id)).ok());  // forgotten
}

TEST_F(NovaProxyTest, ADeleteIsAnswered204AndTheServerStaysShownDeletingUntilTheCloudletAnswers404) {
    Start();
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; }));
    const std::string at = gateway_.ServersAt("agent-a").empty() ? "agent-b" : "agent-a";
    gateway_.At(at).slow_deletes = true;  // as real Nova, which deletes for a second or more
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    shoal::testing::RunFor(io_, std::chrono::milliseconds(30));
    const json shown = Show(alice_, id);
    ASSERT_TRUE(shown.contains("server")) << shown.dump();
    EXPECT_EQ(shown["server"]["OS-EXT-STS:task_state"], "deleting");
    const json listed = json::parse(Send(alice_, M::kGet, "/compute/v2.1/servers").body)["servers"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["id"], id);
    // Nova refuses actions on a deleting server, and accepts the delete again.
    EXPECT_EQ(
        Send(alice_, M::kPost, "/compute/v2.1/servers/" + id + "/action", {{"reboot", {{"type", "SOFT"}}}}).status,
        409);
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    EXPECT_TRUE(Await(state_.GetResource(alice_.tenant, id)).ok());
    gateway_.FinishDeletes(at);
    ASSERT_TRUE(RunUntil([&] { return proxy_->Running() == 0; }));
    EXPECT_EQ(Send(alice_, M::kGet, "/compute/v2.1/servers/" + id).status, 404);
    EXPECT_FALSE(Await(state_.GetResource(alice_.tenant, id)).ok());
}

TEST_F(NovaProxyTest, ADeleteThatCannotReachItsCloudletIsRetriedAndTheServerStaysVisibleUntilItGoesThrough) {
    options_.backoff = std::chrono::milliseconds(5);
    Start();
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; }));
    const std::string at = gateway_.ServersAt("agent-a").empty() ? "agent-b" : "agent-a";
    gateway_.At(at).unreachable = true;
    EXPECT_EQ(Send(alice_, M::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    shoal::testing::RunFor(io_, std::chrono::milliseconds(100));
    const json shown = Show(alice_, id)["server"];
    EXPECT_EQ(shown["status"], "UNKNOWN");
    EXPECT_EQ(shown["OS-EXT-STS:task_state"], "deleting");
    EXPECT_GE(gateway_.CallsTo(at, M::kDelete, "/servers/").size(), 3u);  // retried
    gateway_.At(at).unreachable = false;
    ASSERT_TRUE(RunUntil([&] { return proxy_->Running() == 0; }));
    EXPECT_TRUE(AllServers().empty());
    EXPECT_EQ(Send(alice_, M::kGet, "/compute/v2.1/servers/" + id).status, 404);
}

TEST_F(NovaProxyTest, ACreateWhoseAnswerIsLostIsFoundByItsTagAtTheCloudletAndNotSentTwice) {
    Start();
    gateway_.At("agent-b").used_ram_mb = 8000;  // agent-a is chosen
    gateway_.At("agent-a").lose_create_answers = true;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; })) << StatusOf(id);
    EXPECT_EQ(gateway_.CallsTo("agent-a", M::kPost, "/servers").size(), 1u);
    ASSERT_EQ(AllServers().size(), 1u);
    EXPECT_EQ(AllServers()[0].request["metadata"][translate::kServerTagKey], id);
    EXPECT_EQ(proxy_->GetStats().build_failures, 0u);
    // The tag is the shoal's, never the user's.
    EXPECT_EQ(Show(alice_, id)["server"]["metadata"], json::object());
}

// A home that dies at any step of a boot (here: its runner stops at a named fault-injection
// point, as a SIGKILL would stop it; the state store keeps what was written) and restarts:
// the restarted home resumes the boot to exactly one ACTIVE server under the same id, with
// nothing left at any cloudlet that the map does not hold.
struct CrashCase {
    const char* point;
    bool first_cloudlet_refuses;  // the build at the chosen cloudlet fails first (undo, re-place)
};
class NovaProxyCrashTest : public NovaProxyTest, public ::testing::WithParamInterface<CrashCase> {
protected:
    ~NovaProxyCrashTest() override {
        faults::Clear();
        faults::SetCrashHandler({});
    }
};

TEST_P(NovaProxyCrashTest, ABootCrashedThereResumesToExactlyOneActiveServerAndLeavesNothingBehind) {
    const CrashCase c = GetParam();
    faults::SetCrashHandler([](std::string_view point) { throw std::runtime_error("crash at " + std::string(point)); });
    ASSERT_TRUE(faults::Configure(std::string(c.point) + "=crash").ok());
    Start();
    gateway_.At("agent-b").used_ram_mb = 8000;  // agent-a is chosen first
    gateway_.At("agent-a").refuse_builds = c.first_cloudlet_refuses;
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return proxy_->Running() == 0; }));
    ASSERT_EQ(faults::Hits(c.point), 1u) << "the crash point was never reached";
    faults::Clear();

    MakeProxy();  // the restarted home, over the same state store
    Await(proxy_->Resume());
    ASSERT_TRUE(RunUntil([&] {
        return StatusOf(id) == "ACTIVE" && AllServers().size() == 1 &&
               Await(state_.ListOperations(alice_.tenant))->empty();
    })) << StatusOf(id)
        << ", " << AllServers().size() << " servers at the cloudlets";
    const auto servers = AllServers();
    EXPECT_EQ(servers[0].status, "ACTIVE");
    EXPECT_EQ(servers[0].request["metadata"][translate::kServerTagKey], id);
    if (c.first_cloudlet_refuses) {
        EXPECT_TRUE(gateway_.ServersAt("agent-a").empty());
    }
    const json listed = json::parse(Send(alice_, M::kGet, "/compute/v2.1/servers").body)["servers"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["id"], id);
}

INSTANTIATE_TEST_SUITE_P(EveryStepOfABoot,
                         NovaProxyCrashTest,
                         ::testing::Values(CrashCase{"boot.ask_loads.before", false},
                                           CrashCase{"boot.ask_loads.after", false},
                                           CrashCase{"boot.hold.after", false},
                                           CrashCase{"boot.ensure_image.after", false},
                                           CrashCase{"boot.record.before", false},
                                           CrashCase{"boot.record.after", false},
                                           CrashCase{"boot.send_create.before", false},
                                           CrashCase{"boot.send_create.after", false},
                                           CrashCase{"boot.watch.before", false},
                                           CrashCase{"boot.watch.after", false},
                                           CrashCase{"boot.undo.before", true},
                                           CrashCase{"boot.undo.after", true}),
                         [](const ::testing::TestParamInfo<CrashCase>& info) {
                             std::string name = info.param.point;
                             for (auto& ch : name)
                                 if (ch == '.') ch = '_';
                             return name;
                         });

TEST_F(NovaProxyTest, AnotherTenantsServerIdIsNotFoundForEveryRouteAndTheServerIsUntouched) {
    Start();
    const std::string id = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(id) == "ACTIVE"; }));
    const std::string path = "/compute/v2.1/servers/" + id;
    for (auto [method, p, body] :
         std::vector<std::tuple<M, std::string, json>>{{M::kGet, path, nullptr},
                                                       {M::kPut, path, {{"server", {{"name", "mine"}}}}},
                                                       {M::kPost, path + "/action", {{"reboot", {{"type", "SOFT"}}}}},
                                                       {M::kDelete, path, nullptr}}) {
        auto r = Send(bob_, method, p, body);
        EXPECT_EQ(r.status, 404) << p << " " << r.body;
        EXPECT_EQ(json::parse(r.body)["itemNotFound"]["message"], "Instance " + id + " could not be found.");
    }
    EXPECT_EQ(json::parse(Send(bob_, M::kGet, "/compute/v2.1/servers/detail").body)["servers"], json::array());
    EXPECT_EQ(StatusOf(id), "ACTIVE");
    EXPECT_EQ(Show(alice_, id)["server"]["name"], "web");
    std::size_t calls_with_bob = 0;
    for (const auto& c : gateway_.Calls()) calls_with_bob += c.tenant == bob_.tenant;
    EXPECT_EQ(calls_with_bob, 0u);  // nothing reached a cloudlet on bob's behalf
}

TEST_F(NovaProxyTest, BadCreatesAreRefusedAtOnceWithNovasErrorsAndNothingIsPlaced) {
    Start();
    struct Case {
        json body;
        int status;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{{"server", {{"name", "x"}, {"imageRef", "image-of-alice"}, {"flavorRef", "m1.huge"}}}},
         400,
         "Flavor m1.huge could not be found."},
        {{{"server", {{"name", "x"}, {"imageRef", "no-such-image"}, {"flavorRef", "m1.small"}}}},
         400,
         "Image no-such-image could not be found."},
        {{{"server", {{"name", "x"}, {"imageRef", "image-of-bob"}, {"flavorRef", "m1.small"}}}},
         400,
         "Image image-of-bob could not be found."},
    };
    for (const auto& c : cases) {
        auto r = Send(alice_, M::kPost, "/compute/v2.1/servers", c.body);
        EXPECT_EQ(r.status, c.status) << c.body.dump() << " " << r.body;
        EXPECT_EQ(json::parse(r.body)["badRequest"]["message"], c.message) << r.body;
    }
    auto no_body = Send(alice_, M::kPost, "/compute/v2.1/servers");
    EXPECT_EQ(no_body.status, 400) << no_body.body;
    auto too_new = Send(alice_, M::kGet, "/compute/v2.1/servers", nullptr, "2.100");
    EXPECT_EQ(too_new.status, 406) << too_new.body;
    shoal::testing::RunFor(io_, std::chrono::milliseconds(50));  // anything wrongly started would run now
    EXPECT_EQ(proxy_->GetStats().creates, 0u);
    EXPECT_TRUE(gateway_.CallsTo("agent-a", M::kPost, "/servers").empty());
    EXPECT_TRUE(gateway_.CallsTo("agent-b", M::kPost, "/servers").empty());
    EXPECT_EQ(json::parse(Send(alice_, M::kGet, "/compute/v2.1/servers").body)["servers"], json::array());
}

TEST_F(NovaProxyTest, AListMergesEveryCloudletAndTreatsADownOneAsNovaTreatsADownCell) {
    Start();
    gateway_.SetCandidates({"agent-a"});
    const std::string at_a = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(at_a) == "ACTIVE"; }));
    gateway_.SetCandidates({"agent-b"});
    const std::string at_b = Create(alice_);
    ASSERT_TRUE(RunUntil([&] { return StatusOf(at_b) == "ACTIVE"; }));
    auto ids = [&](const std::string& microversion = {}) {
        std::map<std::string, std::string> out;  // id -> status
        const json list =
            json::parse(Send(alice_, M::kGet, "/compute/v2.1/servers/detail", nullptr, microversion).body);
        for (const auto& s : list["servers"]) out[s["id"]] = s.value("status", "(none)");
        return out;
    };
    EXPECT_EQ(ids(), (std::map<std::string, std::string>{{at_a, "ACTIVE"}, {at_b, "ACTIVE"}}));
    gateway_.At("agent-b").unreachable = true;
    // Nova leaves a down cell's servers out before 2.69, and lists them as UNKNOWN from 2.69.
    EXPECT_EQ(ids(), (std::map<std::string, std::string>{{at_a, "ACTIVE"}}));
    EXPECT_EQ(ids("2.69"), (std::map<std::string, std::string>{{at_a, "ACTIVE"}, {at_b, "UNKNOWN"}}));
}

}  // namespace
}  // namespace shoal::compute
