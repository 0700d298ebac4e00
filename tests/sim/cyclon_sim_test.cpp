#include "sim/cyclon_simulation.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "sim/cyclon_experiment.hpp"

namespace shoal::sim {
namespace {

constexpr std::size_t kNodes = 10'000;
constexpr std::size_t kViewSize = 20;      // c
constexpr std::size_t kShuffleLength = 8;  // l

// After a kill nobody creates a fresh entry for a dead node, so its entries only age, and every
// round each view drops its oldest entry. In steady state entries leave a view at an age of about
// c, and the views of survivors shrink for a while after a kill (shuffles with dead targets bring
// nothing back), so dead entries are gone after about 2c rounds (measured 37-39 for c = 20);
// 3c leaves room for the tail.
constexpr int kDeadEntryRounds = 3 * static_cast<int>(kViewSize);

CyclonSimConfig TenThousandNodes(Bootstrap bootstrap, std::uint64_t seed) {
    CyclonSimConfig config;
    config.nodes = kNodes;
    config.cyclon = {.view_size = kViewSize, .shuffle_length = kShuffleLength, .walk_length = 5};
    config.bootstrap = bootstrap;
    config.seed = seed;
    return config;
}

void Report(const std::string& key, double value) {
    std::cout << "[ measured ] " << key << " = " << value << std::endl;
    ::testing::Test::RecordProperty(key, std::to_string(value));
}

std::vector<std::uint32_t> OneComponent(std::size_t n) {
    return {static_cast<std::uint32_t>(n)};
}

// Each node's in-degree in a random graph with out-degree c: Binomial(n-1, c/(n-1)).
double RandomGraphStdDev(std::size_t n, std::size_t c) {
    const double p = static_cast<double>(c) / static_cast<double>(n - 1);
    return std::sqrt(static_cast<double>(n - 1) * p * (1 - p));
}

TEST(CyclonSimTest, TenThousandNodesBalanceInDegreeAndHealAfterMassiveFailures) {
    CyclonSimulation sim(TenThousandNodes(Bootstrap::kJoin, 42));
    sim.RunRounds(50);

    const auto degree = sim.InDegreeStats();
    Report("in_degree_stddev", degree.stddev);
    Report("random_graph_in_degree_stddev", RandomGraphStdDev(kNodes, kViewSize));
    Report("in_degree_min", degree.min);
    Report("in_degree_max", degree.max);
    EXPECT_LT(degree.stddev, 2.0) << "seed=" << sim.Seed();
    EXPECT_NEAR(degree.mean, static_cast<double>(kViewSize), 0.5);
    EXPECT_GE(degree.min, kViewSize / 2);
    EXPECT_LE(degree.max, 3 * kViewSize / 2);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes));
    EXPECT_EQ(sim.DeadEntries(), 0u);

    // Half the nodes die at once.
    EXPECT_EQ(sim.KillFraction(0.5), kNodes / 2);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes / 2)) << "survivors split right after the kill";
    EXPECT_GT(sim.DeadEntries(), 0u);
    const auto healed = sim.RunUntilNoDeadEntries(kDeadEntryRounds);
    ASSERT_TRUE(healed.has_value()) << sim.DeadEntries() << " dead entries left after " << kDeadEntryRounds
                                    << " rounds, seed=" << sim.Seed();
    Report("rounds_until_no_dead_entries_after_50pct_kill", *healed);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes / 2));

    // Then down to 20% of the original nodes.
    EXPECT_EQ(sim.KillFraction(0.8), 3 * kNodes / 10);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes / 5));
    const auto healed_again = sim.RunUntilNoDeadEntries(kDeadEntryRounds);
    ASSERT_TRUE(healed_again.has_value()) << sim.DeadEntries() << " dead entries left, seed=" << sim.Seed();
    Report("rounds_until_no_dead_entries_after_80pct_kill", *healed_again);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes / 5));

    // The survivors' views refill: in-degree is back around c.
    sim.RunRounds(30);
    const auto after = sim.InDegreeStats();
    Report("in_degree_stddev_30_rounds_after_healing", after.stddev);
    EXPECT_NEAR(after.mean, static_cast<double>(kViewSize), 0.5);
    EXPECT_LT(after.stddev, RandomGraphStdDev(kNodes / 5, kViewSize));
}

TEST(CyclonSimTest, JoiningNodeIsLinkedWithinAFewRounds) {
    CyclonSimulation sim(TenThousandNodes(Bootstrap::kJoin, 7));
    sim.RunRounds(30);
    for (int k = 0; k < 3; ++k) {
        const std::size_t joiner = sim.AddNode();
        EXPECT_EQ(sim.InDegree(joiner), 0u);
        sim.RunRounds(3);
        Report("joiner_in_degree_after_3_rounds", sim.InDegree(joiner));
        // The c walks each hand the joiner one in-link, so it starts near c rather than near 0.
        EXPECT_GE(sim.InDegree(joiner), kViewSize / 2) << "joiner " << joiner;
        // Full view, but for the slot a shuffle in flight keeps for its reply.
        EXPECT_EQ(sim.Node(joiner).View().size() + sim.Node(joiner).PendingShuffles(), kViewSize);
    }
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes + 3));
}

// A joiner whose introducer dies before answering knows only a dead peer and is known by nobody:
// the protocol alone cannot recover that. The agent's shell notices from QuietRounds() and joins
// again through another peer.
TEST(CyclonSimTest, JoinerStrandedByItsIntroducersDeathRejoinsWhenQuietTooLong) {
    for (const std::uint32_t rejoin_after : {0u, 2u * static_cast<std::uint32_t>(kViewSize)}) {
        SCOPED_TRACE("rejoin_after_quiet_rounds=" + std::to_string(rejoin_after));
        CyclonSimConfig config;
        config.nodes = 2000;
        config.cyclon = {.view_size = kViewSize, .shuffle_length = kShuffleLength};
        config.bootstrap = Bootstrap::kRandom;
        config.rejoin_after_quiet_rounds = rejoin_after;
        CyclonSimulation sim(config);
        sim.RunRounds(5);
        const std::size_t joiner = sim.AddNode();
        sim.RunUntil(sim.Now());  // the join request is on its way
        ASSERT_EQ(sim.Node(joiner).View().size(), 1u);
        sim.Kill(sim.Node(joiner).View()[0].id);

        sim.RunRounds(3 * static_cast<int>(kViewSize));
        if (rejoin_after == 0) {
            EXPECT_EQ(sim.InDegree(joiner), 0u);
            EXPECT_EQ(sim.ComponentSizes().size(), 2u);
            EXPECT_GE(sim.Node(joiner).QuietRounds(), 3 * kViewSize - 1);
        } else {
            EXPECT_EQ(sim.Rejoins(), 1u);
            EXPECT_GE(sim.InDegree(joiner), kViewSize / 2);
            EXPECT_EQ(sim.ComponentSizes(), OneComponent(2000));
        }
    }
}

class CyclonSimBootstrapTest : public ::testing::TestWithParam<Bootstrap> {};

// A random graph starts with in-degree stddev ~4.5 and a chain with in-degree 0 or 1; shuffling
// makes both as balanced as the join protocol does.
TEST_P(CyclonSimBootstrapTest, ConvergesToOneBalancedComponent) {
    CyclonSimulation sim(TenThousandNodes(GetParam(), 3));
    sim.RunRounds(50);
    const auto degree = sim.InDegreeStats();
    Report(std::string("in_degree_stddev_") + std::string(BootstrapName(GetParam())), degree.stddev);
    EXPECT_LT(degree.stddev, 2.0);
    EXPECT_NEAR(degree.mean, static_cast<double>(kViewSize), 0.5);
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes));
}

INSTANTIATE_TEST_SUITE_P(Bootstraps,
                         CyclonSimBootstrapTest,
                         ::testing::Values(Bootstrap::kJoin, Bootstrap::kRandom, Bootstrap::kChain),
                         [](const auto& info) { return std::string(BootstrapName(info.param)); });

TEST(CyclonSimTest, RandomBootstrapStartsAsARandomGraph) {
    CyclonSimulation sim(TenThousandNodes(Bootstrap::kRandom, 3));
    const auto degree = sim.InDegreeStats();
    EXPECT_NEAR(degree.stddev, RandomGraphStdDev(kNodes, kViewSize), 0.3);
}

TEST(CyclonSimTest, LossyNetworkStaysConnectedWithFullViews) {
    auto config = TenThousandNodes(Bootstrap::kRandom, 5);
    config.network.loss = 0.05;
    CyclonSimulation sim(config);
    sim.RunRounds(50);
    EXPECT_GT(sim.MessagesLost(), 0u);
    const auto degree = sim.InDegreeStats();
    Report("in_degree_stddev_at_5pct_loss", degree.stddev);
    // Each lost message drops or duplicates a pointer, which widens the distribution, but the
    // views stay full and it stays narrower than a random graph's.
    EXPECT_NEAR(degree.mean, static_cast<double>(kViewSize), 0.5);
    EXPECT_LT(degree.stddev, RandomGraphStdDev(kNodes, kViewSize));
    EXPECT_EQ(sim.ComponentSizes(), OneComponent(kNodes));
}

TEST(CyclonSimTest, SameSeedSameRunDifferentSeedDifferentRun) {
    auto config = TenThousandNodes(Bootstrap::kJoin, 11);
    config.network.loss = 0.02;  // exercise the network's randomness too
    auto run = [](const CyclonSimConfig& c) {
        CyclonSimulation sim(c);
        sim.RunRounds(20);
        sim.KillFraction(0.3);
        sim.RunRounds(5);
        std::vector<std::vector<SimPeer>> views;
        for (std::size_t i = 0; i < sim.Size(); ++i) views.push_back(sim.Node(i).View());
        return std::make_pair(views, sim.MessagesSent());
    };
    const auto first = run(config);
    const auto second = run(config);
    EXPECT_EQ(first.second, second.second);
    EXPECT_TRUE(first.first == second.first) << "same seed, different views";
    config.seed = 12;
    EXPECT_FALSE(run(config).first == first.first);
}

TEST(CyclonSimTest, TimeAdvancesByRoundsAndTiesKeepInsertionOrder) {
    EventQueue<int> queue;
    queue.Push(5, 1);
    queue.Push(3, 2);
    queue.Push(5, 3);
    queue.Push(3, 4);
    std::vector<int> order;
    while (!queue.Empty()) order.push_back(queue.Pop().second);
    EXPECT_EQ(order, (std::vector<int>{2, 4, 1, 3}));

    CyclonSimConfig config;
    config.nodes = 10;
    CyclonSimulation sim(config);
    sim.RunRounds(3);
    EXPECT_EQ(sim.Now(), 3 * config.period);
}

TEST(CyclonSimTest, ExperimentReportIsCompleteAndReproducible) {
    CyclonExperiment e;
    e.sim.nodes = 1000;
    e.sim.seed = 9;
    e.rounds = 40;
    e.kill = 0.5;
    e.after_kill_rounds = 70;
    auto report = RunCyclonSimulation(e);

    EXPECT_EQ(report["parameters"]["nodes"], 1000);
    EXPECT_EQ(report["parameters"]["view_size"], 20);
    EXPECT_EQ(report["parameters"]["shuffle_length"], 8);
    EXPECT_EQ(report["before_kill"]["alive"], 1000);
    EXPECT_EQ(report["before_kill"]["components"]["count"], 1);
    EXPECT_EQ(report["before_kill"]["dead_entries"], 0);
    EXPECT_LT(report["before_kill"]["in_degree"]["stddev"].get<double>(),
              report["random_graph_in_degree_stddev"].get<double>());
    EXPECT_EQ(report["kill"]["killed"], 500);
    EXPECT_EQ(report["kill"]["alive"], 500);
    EXPECT_GT(report["kill"]["dead_entries_right_after"].get<int>(), 0);
    ASSERT_TRUE(report["kill"]["rounds_until_no_dead_entries"].is_number());
    EXPECT_LE(report["kill"]["rounds_until_no_dead_entries"].get<int>(), 70);
    EXPECT_EQ(report["end"]["alive"], 500);
    EXPECT_EQ(report["end"]["dead_entries"], 0);
    EXPECT_EQ(report["end"]["components"]["largest"][0], 500);
    EXPECT_GT(report["messages"]["shuffles"].get<int>(), 0);
    EXPECT_TRUE(report["wall_time_ms"].is_number());

    auto again = RunCyclonSimulation(e);
    report.erase("wall_time_ms");
    again.erase("wall_time_ms");
    EXPECT_EQ(report, again);
}

}  // namespace
}  // namespace shoal::sim
