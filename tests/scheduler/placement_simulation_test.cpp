#include "scheduler/placement_simulation.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace shoal::scheduler {
namespace {

PlacementReport Simulate(PlacementConfig config) {
    auto report = RunPlacementSimulation(config);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : PlacementReport{};
}

constexpr int kSeeds = 10;

// 8 cloudlets like the embedded one (15 m1.small each), 64 users creating one server each within
// 2 s; load queries take 40 ms round trip, builds 20 s.
PlacementConfig EightCloudlets() {
    PlacementConfig c;
    c.cloudlets = EqualCloudlets(8);
    c.users = 64;
    return c;
}

// The paper's size-32 point (V-B): 32 cloudlets, 32 users each booting 4 servers at once.
PlacementConfig ThirtyTwoCloudlets() {
    PlacementConfig c;
    c.cloudlets = EqualCloudlets(32);
    c.users = 32;
    c.servers_per_user = 4;
    return c;
}

// 4 cloudlets of 32 GB and 4 of 64 GB; 96 servers, a third of the RAM.
PlacementConfig UnequalCloudlets() {
    PlacementConfig c;
    c.cloudlets = EqualCloudlets(4);
    for (int i = 0; i < 4; ++i) c.cloudlets.push_back({64512});
    c.users = 24;
    c.servers_per_user = 4;
    return c;
}

PlacementConfig With(PlacementConfig c, std::uint64_t seed, PlacementPolicy policy = PlacementPolicy::kPowerOfTwo) {
    c.seed = seed;
    c.policy = policy;
    return c;
}

void ExpectAllAccountedFor(const PlacementReport& r) {
    EXPECT_EQ(r.placed + r.failed, r.requested);
    int sum = 0;
    for (int s : r.servers) sum += s;
    EXPECT_EQ(sum, r.placed);
}

TEST(PlacementSimulationTest, SixtyFourConcurrentCreatesPutAtMostTenOnAnyOfEightCloudlets) {
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
        const PlacementReport r = Simulate(With(EightCloudlets(), seed));
        ExpectAllAccountedFor(r);
        EXPECT_EQ(r.placed, 64) << "seed " << seed;
        EXPECT_LE(r.max_servers, 10) << "seed " << seed;
        EXPECT_GT(r.stale_decisions, 0) << "seed " << seed;  // the decisions did race
    }
}

TEST(PlacementSimulationTest, AtSizeThirtyTwoTheStdDevOfServersPerCloudletIsAtMostOneAndAHalf) {
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
        const PlacementReport r = Simulate(With(ThirtyTwoCloudlets(), seed));
        ExpectAllAccountedFor(r);
        EXPECT_EQ(r.placed, 128) << "seed " << seed;
        EXPECT_LE(r.stddev_servers, 1.5) << "seed " << seed;
    }
}

// Mean servers on the 64 GB cloudlets over mean servers on the 32 GB ones, summed over seeds.
double BigOverSmall(Comparison comparison) {
    double big = 0;
    double small = 0;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
        PlacementConfig c = With(UnequalCloudlets(), seed);
        c.comparison = comparison;
        const PlacementReport r = Simulate(c);
        ExpectAllAccountedFor(r);
        EXPECT_EQ(r.failed, 0);
        for (std::size_t i = 0; i < r.servers.size(); ++i) (i < 4 ? small : big) += r.servers[i];
    }
    return big / small;
}

TEST(PlacementSimulationTest, CloudletsWithTwiceTheRamReceiveAboutTwiceAsMany) {
    const double fraction = BigOverSmall(Comparison::kFreeFraction);
    EXPECT_GE(fraction, 1.6);
    EXPECT_LE(fraction, 2.4);
    // The paper's absolute rule hands the big cloudlets everything until their free RAM comes
    // down to the small ones': far more than their share at this load.
    EXPECT_GT(BigOverSmall(Comparison::kAbsoluteFree), fraction + 0.8);
}

TEST(PlacementSimulationTest, PowerOfTwoBeatsUniformRandomInTheSameRun) {
    for (const PlacementConfig& base : {EightCloudlets(), ThirtyTwoCloudlets()}) {
        double p2c_sd = 0;
        double random_sd = 0;
        for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
            const PlacementReport p2c = Simulate(With(base, seed));
            const PlacementReport random = Simulate(With(base, seed, PlacementPolicy::kUniformRandom));
            ExpectAllAccountedFor(random);
            EXPECT_LT(p2c.stddev_servers, random.stddev_servers) << "seed " << seed;
            EXPECT_LE(p2c.max_servers, random.max_servers) << "seed " << seed;
            p2c_sd += p2c.stddev_servers;
            random_sd += random.stddev_servers;
        }
        EXPECT_LT(p2c_sd, 0.6 * random_sd) << base.cloudlets.size() << " cloudlets";
    }
}

TEST(PlacementSimulationTest, WithoutTheInFlightLedgerConcurrentCreatesHerd) {
    double with_ledger = 0;
    double without = 0;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
        PlacementConfig c = With(ThirtyTwoCloudlets(), seed);
        with_ledger += Simulate(c).stddev_servers;
        c.count_in_flight = false;
        without += Simulate(c).stddev_servers;
    }
    EXPECT_LT(with_ledger, 0.6 * without);
}

TEST(PlacementSimulationTest, LeastLoadedOfAllIsThePerfectlyBalancedIdeal) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const PlacementReport r = Simulate(With(EightCloudlets(), seed, PlacementPolicy::kLeastLoadedOfAll));
        EXPECT_EQ(r.max_servers, 8);
        EXPECT_EQ(r.min_servers, 8);
        EXPECT_EQ(r.stddev_servers, 0.0);
    }
}

TEST(PlacementSimulationTest, NearlyFullTheLedgerAvoidsFailedBuildsThatRandomPlacementHits) {
    int p2c_errors = 0;
    int random_errors = 0;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
        PlacementConfig c = With(EightCloudlets(), seed);
        c.users = 112;  // of 120 slots
        const PlacementReport p2c = Simulate(c);
        ExpectAllAccountedFor(p2c);
        EXPECT_EQ(p2c.failed, 0) << "seed " << seed;
        p2c_errors += p2c.build_errors;
        c.policy = PlacementPolicy::kUniformRandom;
        const PlacementReport random = Simulate(c);
        ExpectAllAccountedFor(random);
        random_errors += random.build_errors;
    }
    EXPECT_LT(5 * p2c_errors, random_errors);
}

TEST(PlacementSimulationTest, OverloadFailsExactlyTheCreatesThatCannotFit) {
    PlacementConfig c = With(EightCloudlets(), 3);
    c.users = 130;  // 120 slots
    for (PlacementPolicy policy :
         {PlacementPolicy::kPowerOfTwo, PlacementPolicy::kUniformRandom, PlacementPolicy::kLeastLoadedOfAll}) {
        c.policy = policy;
        const PlacementReport r = Simulate(c);
        ExpectAllAccountedFor(r);
        EXPECT_LE(r.max_servers, 15) << ToString(policy);  // no cloudlet is ever overcommitted
        EXPECT_GE(r.failed, 10) << ToString(policy);
        if (policy == PlacementPolicy::kLeastLoadedOfAll) {
            EXPECT_EQ(r.placed, 120);
        }
    }
}

TEST(PlacementSimulationTest, ASeedReproducesTheRun) {
    const PlacementReport a = Simulate(With(ThirtyTwoCloudlets(), 11));
    const PlacementReport b = Simulate(With(ThirtyTwoCloudlets(), 11));
    const PlacementReport other = Simulate(With(ThirtyTwoCloudlets(), 12));
    EXPECT_EQ(a.servers, b.servers);
    EXPECT_EQ(a.stale_decisions, b.stale_decisions);
    EXPECT_EQ(a.decisions, b.decisions);
    EXPECT_NE(a.servers, other.servers);
}

TEST(PlacementSimulationTest, BadConfigsAreRefused) {
    PlacementConfig c = EightCloudlets();
    c.cloudlets.clear();
    EXPECT_EQ(RunPlacementSimulation(c).error().code, ErrorCode::kBadRequest);
    c = EightCloudlets();
    c.cloudlets[2].clear();
    EXPECT_FALSE(RunPlacementSimulation(c).ok());
    c = EightCloudlets();
    c.cloudlets[2][0] = 0;
    EXPECT_FALSE(RunPlacementSimulation(c).ok());
    c = EightCloudlets();
    c.flavor.ram_mb = 0;
    EXPECT_FALSE(RunPlacementSimulation(c).ok());
    c = EightCloudlets();
    c.query_latency_us = -1;
    EXPECT_FALSE(RunPlacementSimulation(c).ok());
}

struct Row {
    double max = 0, sd = 0, big_over_small = 0;
    int failed = 0, build_errors = 0, stale = 0, decisions = 0;
};

// Averages over `seeds` runs; big_over_small: mean servers on cloudlets with more RAM than the
// first one over mean servers on the others.
Row Average(PlacementConfig c, int seeds) {
    Row row;
    for (int s = 1; s <= seeds; ++s) {
        c.seed = static_cast<std::uint64_t>(s);
        const PlacementReport r = Simulate(c);
        row.max += r.max_servers;
        row.sd += r.stddev_servers;
        row.failed += r.failed;
        row.build_errors += r.build_errors;
        row.stale += r.stale_decisions;
        row.decisions += r.decisions;
        double big = 0, small = 0;
        int nbig = 0, nsmall = 0;
        for (std::size_t i = 0; i < r.servers.size(); ++i) {
            std::int64_t ram = 0, ram0 = 0;
            for (auto h : c.cloudlets[i]) ram += h;
            for (auto h : c.cloudlets[0]) ram0 += h;
            (ram > ram0 ? big : small) += r.servers[i];
            ++(ram > ram0 ? nbig : nsmall);
        }
        if (nbig > 0 && nsmall > 0 && small > 0) row.big_over_small += (big / nbig) / (small / nsmall);
    }
    row.max /= seeds;
    row.sd /= seeds;
    row.big_over_small /= seeds;
    return row;
}

// Prints docs/scheduler.md's table: scheduler_test --gtest_also_run_disabled_tests
// --gtest_filter='*PrintTable*'
TEST(PlacementSimulationTest, DISABLED_PrintTable) {
    constexpr int kTableSeeds = 20;
    struct Scenario {
        const char* name;
        PlacementConfig config;
    };
    std::vector<Scenario> scenarios;
    {
        PlacementConfig c;
        c.cloudlets = EqualCloudlets(8);
        c.users = 64;
        scenarios.push_back({"8 equal, 64 x 1, W 2 s, L 40 ms", c});
        c.query_latency_us = 400'000;
        scenarios.push_back({"8 equal, 64 x 1, W 2 s, L 400 ms", c});
        c.query_latency_us = 40'000;
        c.arrival_window_us = 0;
        scenarios.push_back({"8 equal, 64 x 1, all at once", c});
        c.arrival_window_us = 2'000'000;
        c.users = 112;
        scenarios.push_back({"8 equal, 112 x 1 (93% full)", c});
    }
    {
        PlacementConfig c;
        c.cloudlets = EqualCloudlets(32);
        c.users = 32;
        c.servers_per_user = 4;
        scenarios.push_back({"32 equal, 32 x 4, W 2 s", c});
        c.cloudlets = EqualCloudlets(64);
        c.users = 192;
        scenarios.push_back({"64 equal, 192 x 4, W 2 s", c});
    }
    {
        PlacementConfig c;
        c.cloudlets = EqualCloudlets(4);
        for (int i = 0; i < 4; ++i) c.cloudlets.push_back({32256, 32256});
        c.users = 24;
        c.servers_per_user = 4;
        scenarios.push_back({"4 x 32 GB + 4 x 2x32 GB, 24 x 4", c});
        for (int i = 4; i < 8; ++i) c.cloudlets[static_cast<std::size_t>(i)] = {64512};
        scenarios.push_back({"4 x 32 GB + 4 x 64 GB, 24 x 4", c});
    }
    struct Variant {
        const char* name;
        PlacementPolicy policy;
        Comparison comparison;
        bool in_flight;
    };
    const Variant variants[] = {
        {"P2C fraction", PlacementPolicy::kPowerOfTwo, Comparison::kFreeFraction, true},
        {"P2C absolute", PlacementPolicy::kPowerOfTwo, Comparison::kAbsoluteFree, true},
        {"P2C no ledger", PlacementPolicy::kPowerOfTwo, Comparison::kFreeFraction, false},
        {"uniform random", PlacementPolicy::kUniformRandom, Comparison::kFreeFraction, true},
        {"least-loaded of all", PlacementPolicy::kLeastLoadedOfAll, Comparison::kFreeFraction, true},
    };
    std::printf("| scenario | policy | max | std dev | big/small | failed | build errors | stale decisions |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (const Scenario& s : scenarios) {
        for (const Variant& v : variants) {
            PlacementConfig c = s.config;
            c.policy = v.policy;
            c.comparison = v.comparison;
            c.count_in_flight = v.in_flight;
            const Row r = Average(c, kTableSeeds);
            std::printf("| %s | %s | %.2f | %.2f | %.2f | %d | %d | %d/%d |\n", s.name, v.name, r.max, r.sd,
                        r.big_over_small, r.failed, r.build_errors, r.stale, r.decisions);
        }
    }
}

}  // namespace
}  // namespace shoal::scheduler
