#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "overlay/home_mapping.hpp"
#include "sim/cyclon_simulation.hpp"
#include "sim/membership_experiment.hpp"

namespace shoal::sim {
namespace {

// Full lists are O(N^2) memory and work: 500 nodes keep these tests at a few seconds under ASan.
// `shoal sim membership` runs 1,000-2,000 (docs/overlay.md).
constexpr std::size_t kNodes = 500;

CyclonSimConfig MembershipConfig(std::uint64_t seed, double loss = 0) {
    CyclonSimConfig config;
    config.nodes = kNodes;
    config.membership = true;
    config.rejoin_after_quiet_rounds = 40;  // 2c, as agents do
    config.network.loss = loss;
    config.seed = seed;
    return config;
}

void Report(const std::string& key, double value) {
    std::cout << "[ measured ] " << key << " = " << value << std::endl;
    ::testing::Test::RecordProperty(key, std::to_string(value));
}

// Every alive node's answer for `tenants` tenants, from its own list through a HomeMapping, is
// the rendezvous owner over the true alive set.
void ExpectAllAgreeOnHomes(const CyclonSimulation& sim, int tenants) {
    std::vector<SimPeer> alive;
    for (std::uint32_t i = 0; i < sim.Size(); ++i) {
        if (sim.IsAlive(i)) alive.push_back(SimPeer{i, 0});
    }
    std::vector<std::uint32_t> truth;
    for (int t = 0; t < tenants; ++t)
        truth.push_back(overlay::RendezvousOwner("tenant-" + std::to_string(t), alive)->id);
    // Equal lists give equal answers, so each node's list is compared and one list is evaluated.
    std::size_t checked = 0;
    for (std::uint32_t i = 0; i < sim.Size(); ++i) {
        if (!sim.IsAlive(i)) continue;
        ASSERT_EQ(sim.Membership(i).Members(), alive) << "node " << i;
        if (checked++ > 0) continue;
        overlay::BasicHomeMapping<SimPeer> mapping;
        for (int t = 0; t < tenants; ++t) {
            ASSERT_EQ(mapping.Owner("tenant-" + std::to_string(t), sim.Membership(i))->id, truth[t]) << t;
        }
    }
}

TEST(MembershipSimTest, ListsConvergeAfterBootstrapKillJoinAndRestart) {
    CyclonSimulation sim(MembershipConfig(1));
    // Everybody joins within 10 rounds; anti-entropy (sync every 5 rounds, push-pull) carries
    // most of it: measured 50-70 rounds for 500-1,000 nodes.
    const auto bootstrap = sim.RunUntilMembershipConverged(120);
    ASSERT_TRUE(bootstrap.has_value()) << sim.WrongMemberLists() << " wrong lists";
    Report("bootstrap_rounds", *bootstrap);
    EXPECT_EQ(sim.MembershipTraffic().false_suspicions, 0u);

    // 10% die at once: found through failed shuffles, suspected, dead after the suspicion
    // timeout (5 * log10(N) rounds), spread by gossip and syncs.
    sim.KillFraction(0.1);
    const auto kill = sim.RunUntilMembershipConverged(80);
    ASSERT_TRUE(kill.has_value()) << sim.WrongMemberLists() << " wrong lists";
    Report("kill_10pct_rounds", *kill);

    // A join is one rumour: a few rounds.
    sim.AddNode();
    const auto join = sim.RunUntilMembershipConverged(20);
    ASSERT_TRUE(join.has_value());
    Report("join_rounds", *join);

    // A restart comes back with a higher incarnation, which beats its tombstone.
    std::size_t dead = 0;
    while (sim.IsAlive(dead)) ++dead;
    const auto old_incarnation = sim.Membership(dead).Incarnation();
    sim.Restart(dead);
    EXPECT_EQ(sim.Membership(dead).Incarnation(), old_incarnation + 1);
    const auto restart = sim.RunUntilMembershipConverged(20);
    ASSERT_TRUE(restart.has_value());
    Report("restart_rounds", *restart);

    // Converged means quiet: no syncs, no wrong list, the queues drain.
    const auto syncs = sim.MembershipTraffic().sync_messages;
    sim.RunRounds(30);
    EXPECT_EQ(sim.WrongMemberLists(), 0u);
    EXPECT_EQ(sim.MembershipTraffic().sync_messages, syncs);
    ExpectAllAgreeOnHomes(sim, 10'000);
}

TEST(MembershipSimTest, HalfTheNodesDyingAtOnceIsRepaired) {
    CyclonSimulation sim(MembershipConfig(2));
    ASSERT_TRUE(sim.RunUntilMembershipConverged(120).has_value());
    sim.KillFraction(0.5);
    const auto kill = sim.RunUntilMembershipConverged(100);
    ASSERT_TRUE(kill.has_value()) << sim.WrongMemberLists() << " wrong lists";
    Report("kill_50pct_rounds", *kill);
    ExpectAllAgreeOnHomes(sim, 1000);
}

// At 5% loss some shuffles fail although the target lives. Three confirming pings keep false
// suspicions rare, and the suspects refute them before anybody declares them dead.
TEST(MembershipSimTest, FalseSuspicionsUnderLossAreRefutedAndNoListStaysWrong) {
    CyclonSimulation sim(MembershipConfig(1, 0.05));
    const auto bootstrap = sim.RunUntilMembershipConverged(150);
    ASSERT_EQ(sim.ComponentSizes().size(), 1u) << "Cyclon island (docs/overlay.md): pick another seed";
    ASSERT_TRUE(bootstrap.has_value()) << sim.WrongMemberLists() << " wrong lists";
    Report("bootstrap_rounds_at_5pct_loss", *bootstrap);
    sim.KillFraction(0.1);
    const auto kill = sim.RunUntilMembershipConverged(100);
    ASSERT_TRUE(kill.has_value()) << sim.WrongMemberLists() << " wrong lists";
    Report("kill_10pct_rounds_at_5pct_loss", *kill);

    int wrong_rounds = 0;
    for (int r = 0; r < 40; ++r) {
        sim.RunRounds(1);
        wrong_rounds += sim.WrongMemberLists() > 0 ? 1 : 0;
    }
    const auto& traffic = sim.MembershipTraffic();
    Report("false_suspicions", static_cast<double>(traffic.false_suspicions));
    Report("rounds_with_a_wrong_list_of_40", wrong_rounds);
    EXPECT_GT(sim.MessagesLost(), 0u);
    EXPECT_EQ(sim.WrongMemberLists(), 0u);
    // Every alive node is alive in every alive list: false suspicions were refuted.
    for (std::uint32_t i = 0; i < sim.Size(); ++i) {
        if (!sim.IsAlive(i)) continue;
        for (std::uint32_t j = 0; j < sim.Size(); ++j) {
            if (!sim.IsAlive(j)) continue;
            const auto entry = sim.Membership(i).Find(j);
            ASSERT_TRUE(entry.has_value());
            ASSERT_NE(entry->state, overlay::MemberState::kDead) << i << " thinks " << j << " is dead";
        }
    }
}

TEST(MembershipSimTest, ExperimentReportIsCompleteAndReproducible) {
    MembershipExperiment e;
    e.sim.nodes = 200;
    e.sim.seed = 4;
    e.kill = 0.2;
    e.max_rounds = 100;
    e.stable_rounds = 10;
    e.tenants = 1000;
    auto report = RunMembershipSimulation(e);
    for (const char* phase : {"bootstrap", "kill", "join", "restart"}) {
        EXPECT_TRUE(report[phase]["rounds_to_converge"].is_number()) << phase;
        EXPECT_EQ(report[phase]["wrong_lists"], 0) << phase;
    }
    EXPECT_EQ(report["kill"]["killed"], 40);
    EXPECT_NEAR(report["kill"]["tenants_moved"].get<double>(), 0.2, 0.05);
    EXPECT_EQ(report["restart"]["incarnation"][1], 1);
    EXPECT_EQ(report["stable"]["rounds_with_wrong_lists"], 0);
    EXPECT_EQ(report["home_agreement"]["distinct_member_lists"], 1);
    EXPECT_EQ(report["home_agreement"]["wrong_homes"], 0);
    EXPECT_GT(report["bootstrap"]["per_node_per_round"]["piggybacked_updates"].get<double>(), 0);
    EXPECT_EQ(report["lookup_ns"].size(), 2u);

    auto again = RunMembershipSimulation(e);
    for (auto* r : {&report, &again}) {
        r->erase("wall_time_ms");
        r->erase("lookup_ns");
    }
    EXPECT_EQ(report, again);
}

}  // namespace
}  // namespace shoal::sim
