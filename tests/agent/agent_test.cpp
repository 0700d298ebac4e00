// Many agents in one process and one event loop, talking A2A over real sockets on 127.0.0.1.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "a2a/peer_client.hpp"
#include "a2a/request_signer.hpp"
#include "agent/agent.hpp"
#include "agent_test_support.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "http/client.hpp"
#include "overlay/node/peer_sampler.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
using shoal::testing::kClusterSecret;
using shoal::testing::RunUntil;
using shoal::testing::TestAgentConfig;

class AgentClusterTest : public ::testing::Test {
protected:
    void StartAgents(int n) {
        for (int i = 0; i < n; ++i) StartAgent("agent-" + std::to_string(i));
    }
    Agent& StartAgent(const std::string& id) {
        std::vector<std::string> seeds;
        if (!agents_.empty()) seeds.push_back(agents_.begin()->second->Address());
        auto a = std::make_unique<Agent>(io_.get_executor(), TestAgentConfig(id, seeds));
        auto started = a->Start();
        EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message);
        auto& ref = *a;
        agents_[id] = std::move(a);
        return ref;
    }
    void StopAgent(const std::string& id) {
        shoal::testing::Run(io_, agents_.at(id)->Stop());
        agents_.erase(id);
    }
    std::set<std::string> Ids() const {
        std::set<std::string> ids;
        for (const auto& [id, a] : agents_) ids.insert(id);
        return ids;
    }
    std::set<std::string> MembersSeenBy(Agent& a) {
        std::set<std::string> ids;
        for (const auto& m : a.Overlay().Members().Members()) ids.insert(m.id.str());
        return ids;
    }
    bool AllAgreeOnMembers() {
        const auto expected = Ids();
        return std::all_of(agents_.begin(), agents_.end(),
                           [&](const auto& kv) { return MembersSeenBy(*kv.second) == expected; });
    }
    // Every agent is reachable from every other through view entries (the overlay is connected).
    bool ViewsConnected() {
        const auto ids = Ids();
        std::set<std::string> reached{*ids.begin()};
        std::vector<std::string> frontier{*ids.begin()};
        // Follow edges both ways: Cyclon's graph is directed, connectivity is about the undirected one.
        std::map<std::string, std::set<std::string>> edges;
        for (const auto& [id, a] : agents_) {
            for (const auto& p : a->Overlay().View().View()) {
                if (!ids.contains(p.id.str())) continue;
                edges[id].insert(p.id.str());
                edges[p.id.str()].insert(id);
            }
        }
        while (!frontier.empty()) {
            auto next = frontier.back();
            frontier.pop_back();
            for (const auto& n : edges[next]) {
                if (reached.insert(n).second) frontier.push_back(n);
            }
        }
        return reached == ids;
    }
    bool AnyViewOrListHolds(const std::string& dead) {
        for (const auto& [id, a] : agents_) {
            if (a->Overlay().View().Contains(overlay::PeerId(dead))) return true;
            if (MembersSeenBy(*a).contains(dead)) return true;
        }
        return false;
    }
    Result<json> Call(const std::string& address, http::Method method, const std::string& target, json body = {}) {
        a2a::PeerClient peers(http_, kClusterSecret, "test");
        return shoal::testing::Run(io_, peers.Call(address, method, target, std::move(body), std::chrono::seconds(10)));
    }

    boost::asio::io_context io_;
    http::Client http_{io_.get_executor()};
    std::map<std::string, std::unique_ptr<Agent>> agents_;
};

TEST_F(AgentClusterTest, AgentsJoiningThroughOneSeedFormOneOverlayAndAgreeOnMembers) {
    StartAgents(8);
    // A view may be empty for an instant (a one-entry view while its shuffle is pending, as in
    // the paper), so non-empty views are part of what is awaited, not a snapshot assertion.
    auto all_views_filled = [&] {
        return std::all_of(agents_.begin(), agents_.end(),
                           [](const auto& kv) { return !kv.second->Overlay().View().View().empty(); });
    };
    ASSERT_TRUE(RunUntil(io_, [&] { return AllAgreeOnMembers() && ViewsConnected() && all_views_filled(); }));
    for (const auto& [id, a] : agents_) EXPECT_LE(a->Overlay().View().View().size(), 4u) << id;
}

TEST_F(AgentClusterTest, StoppedAgentsLeaveEveryViewAndMemberListAndARestartedOneRejoins) {
    StartAgents(8);
    ASSERT_TRUE(RunUntil(io_, [&] { return AllAgreeOnMembers() && ViewsConnected(); }));
    StopAgent("agent-2");
    StopAgent("agent-5");
    ASSERT_TRUE(RunUntil(
        io_, [&] { return !AnyViewOrListHolds("agent-2") && !AnyViewOrListHolds("agent-5") && ViewsConnected(); }));

    // Same id, new address and incarnation: it rejoins through its seed on its own.
    StartAgent("agent-5");
    ASSERT_TRUE(RunUntil(io_, [&] { return AllAgreeOnMembers() && ViewsConnected(); }));
    const auto address = agents_.at("agent-5")->Address();
    for (const auto& [id, a] : agents_) {
        for (const auto& m : a->Overlay().Members().Members()) {
            if (m.id.str() == "agent-5") {
                EXPECT_EQ(m.address, address) << "as seen by " << id;
            }
        }
    }
}

// The home each agent's ApiGateway routes a tenant to (Agent::HomeOf), and what an operator
// reads at GET /a2a/v1/tenants/{tenant}/home: the same agent, whichever agent is asked.
TEST_F(AgentClusterTest, EveryAgentRoutesATenantToTheSameHomeAndSaysSo) {
    StartAgents(6);
    ASSERT_TRUE(RunUntil(io_, [&] { return AllAgreeOnMembers(); }));
    const std::string tenant = "tenant-7f3a";
    const auto home = agents_.begin()->second->HomeOf(tenant);
    ASSERT_TRUE(agents_.contains(home.id.str()));
    EXPECT_EQ(home.address, agents_.at(home.id.str())->Address());
    for (const auto& [id, a] : agents_) {
        EXPECT_EQ(a->HomeOf(tenant).id, home.id) << id;
        auto said = Call(a->Address(), http::Method::kGet, "/a2a/v1/tenants/" + tenant + "/home");
        ASSERT_TRUE(said.ok()) << said.error().message;
        EXPECT_EQ((*said)["tenant"], tenant);
        EXPECT_EQ((*said)["home"]["id"], home.id.str()) << "asked " << id;
        EXPECT_EQ((*said)["home"]["address"], home.address) << "asked " << id;
    }
    // Tenants spread over the agents.
    std::set<std::string> homes;
    for (int t = 0; t < 200; ++t) homes.insert(agents_.begin()->second->HomeOf("t" + std::to_string(t)).id.str());
    EXPECT_EQ(homes.size(), agents_.size());
}

// Static mode: the configured home decides, member or not; while it is down the tenant has no
// address to be routed to (the gateway answers 503), and nobody else takes its map.
TEST_F(AgentClusterTest, AStaticHomeThatIsDownStaysTheHome) {
    for (const std::string id : {"agent-0", "agent-1", "agent-2"}) {
        std::vector<std::string> seeds;
        if (!agents_.empty()) seeds.push_back(agents_.begin()->second->Address());
        auto c = TestAgentConfig(id, seeds);
        c.mapping.mode = MappingMode::kStatic;
        c.mapping.table = {{"acme", "agent-2"}};
        agents_[id] = std::make_unique<Agent>(io_.get_executor(), c);
        ASSERT_TRUE(agents_[id]->Start().ok());
    }
    ASSERT_TRUE(RunUntil(io_, [&] { return AllAgreeOnMembers(); }));
    EXPECT_EQ(agents_.at("agent-0")->HomeOf("acme").address, agents_.at("agent-2")->Address());
    StopAgent("agent-2");
    ASSERT_TRUE(RunUntil(io_, [&] { return !AnyViewOrListHolds("agent-2"); }));
    for (const std::string id : {"agent-0", "agent-1"}) {
        auto said = Call(agents_.at(id)->Address(), http::Method::kGet, "/a2a/v1/tenants/acme/home");
        ASSERT_TRUE(said.ok()) << said.error().message;
        EXPECT_EQ((*said)["home"]["id"], "agent-2") << id;
        EXPECT_EQ((*said)["home"]["address"], "") << id;
    }
    // A tenant without an entry still has a live home.
    EXPECT_FALSE(agents_.at("agent-0")->HomeOf("other").address.empty());
}

TEST_F(AgentClusterTest, LoadReportsTheCloudletsFreeMemoryAndAnUnreachableCloudletIs503) {
    auto config = TestAgentConfig("with-cloudlet", {});
    config.cloudlet.reset();
    emulator::CloudletConfig cloudlet;
    cloudlet.name = "with-cloudlet";
    cloudlet.hypervisors.count = 2;
    cloudlet.hypervisors.memory_mb = 8192;
    cloudlet.hypervisors.reserved_host_memory_mb = 512;
    cloudlet.flavors = emulator::CloudletConfig::DefaultFlavors();
    config.embedded_cloudlet = cloudlet;
    auto a = std::make_unique<Agent>(io_.get_executor(), config);
    ASSERT_TRUE(a->Start().ok());
    const auto address = a->Address();
    agents_["with-cloudlet"] = std::move(a);

    auto load = Call(address, http::Method::kGet, "/a2a/v1/load");
    ASSERT_TRUE(load.ok()) << load.error().message;
    EXPECT_EQ((*load)["load"]["cloudlet"], "with-cloudlet");
    EXPECT_EQ((*load)["load"]["total_ram_mb"], 2 * 8192);
    EXPECT_EQ((*load)["load"]["free_ram_mb"], 8192 - 512);  // the biggest VM that fits
    EXPECT_EQ((*load)["load"]["total_free_ram_mb"], 2 * (8192 - 512));
    EXPECT_EQ((*load)["load"]["in_flight_builds"], 0);

    // The default test agent's cloudlet URL points at a closed port.
    StartAgents(1);
    auto down = Call(agents_.at("agent-0")->Address(), http::Method::kGet, "/a2a/v1/load");
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(down.error().message.find("cloudlet of agent-0"), std::string::npos) << down.error().message;
}

// ---- A2A authentication over HTTP ----

class A2aAuthTest : public AgentClusterTest {
protected:
    void SetUp() override {
        StartAgents(1);
        address_ = agents_.begin()->second->Address();
    }
    http::Response Send(http::Request request) {
        auto endpoint = a2a::ParseAddress(address_);
        auto r = shoal::testing::Run(io_, http_.Send(*endpoint, std::move(request)));
        EXPECT_TRUE(r.ok());
        return r.ok() ? *r : http::Response{};
    }
    static http::Request StatusRequest() { return shoal::testing::MakeRequest(http::Method::kGet, "/a2a/v1/status"); }
    a2a::RequestVerifier& Verifier() { return agents_.begin()->second->Verifier(); }

    std::string address_;
};

TEST_F(A2aAuthTest, UnsignedRequestsAreRefusedAndCounted) {
    auto r = Send(StatusRequest());
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("not signed"), std::string::npos) << r.body;
    EXPECT_EQ(Verifier().Refused(a2a::Rejection::kUnsigned), 1u);
}

TEST_F(A2aAuthTest, RequestsSignedWithAnotherSecretAreRefusedAsForged) {
    auto request = StatusRequest();
    a2a::SignRequest(request, "some-other-cluster-secret", "intruder", std::chrono::system_clock::now());
    EXPECT_EQ(Send(std::move(request)).status, 401);
    // A tampered body under a valid signature is forged too.
    auto tampered =
        shoal::testing::MakeRequest(http::Method::kPost, "/a2a/v1/overlay", R"({"type":"membership.ping"})");
    a2a::SignRequest(tampered, kClusterSecret, "agent-x", std::chrono::system_clock::now());
    tampered.body = R"({"type":"membership.sync"})";
    EXPECT_EQ(Send(std::move(tampered)).status, 401);
    EXPECT_EQ(Verifier().Refused(a2a::Rejection::kForged), 2u);
}

TEST_F(A2aAuthTest, StaleTimestampsAreRefused) {
    auto request = StatusRequest();
    a2a::SignRequest(request, kClusterSecret, "agent-x", std::chrono::system_clock::now() - std::chrono::minutes(5));
    EXPECT_EQ(Send(std::move(request)).status, 401);
    EXPECT_EQ(Verifier().Refused(a2a::Rejection::kStale), 1u);
}

TEST_F(A2aAuthTest, ReplayedRequestsAreRefusedAndTheCountersShowInStatus) {
    auto request = StatusRequest();
    a2a::SignRequest(request, kClusterSecret, "agent-x", std::chrono::system_clock::now());
    EXPECT_EQ(Send(request).status, 200);
    EXPECT_EQ(Send(request).status, 401);
    EXPECT_EQ(Verifier().Refused(a2a::Rejection::kReplayed), 1u);

    auto status = Call(address_, http::Method::kGet, "/a2a/v1/status");
    ASSERT_TRUE(status.ok());
    EXPECT_EQ((*status)["a2a"]["refused"]["replayed"], 1);
    EXPECT_GE((*status)["a2a"]["accepted"].get<int>(), 1);
}

}  // namespace
}  // namespace shoal::agent
