// The boot lifecycle simulated (sim/boot_simulation.hpp): thousands of BootFsms through crashes,
// outages, lost answers, failed builds and user deletes, checked for what the fault tests check.
#include "sim/boot_simulation.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace shoal::sim {
namespace {

std::string Problems(const BootSimReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += "\n  " + p;
    return out;
}

TEST(BootSimulationTest, AcrossSeedsNothingAcknowledgedIsLostStuckOrphanedOrDuplicated) {
    int crashes = 0;
    int outages = 0;
    int lost_answers = 0;
    int failed = 0;
    int undos = 0;
    int resumed = 0;
    int deleted = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        BootSimConfig c;
        c.seed = seed;
        auto r = RunBootSimulation(c);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_TRUE(r->Ok()) << "seed " << seed << ": stuck " << r->stuck << ", lost " << r->lost << ", orphans "
                             << r->orphans << ", duplicates " << r->duplicates << ", wrong map " << r->wrong_map
                             << Problems(*r);
        EXPECT_EQ(r->acknowledged, 2'000);
        EXPECT_EQ(r->active + r->error + r->deleted_by_user, r->acknowledged) << "seed " << seed;
        EXPECT_GT(r->active, 1'500) << "seed " << seed;  // failures are the exception
        crashes += r->home_crashes;
        outages += r->cloudlet_outages;
        lost_answers += r->answers_lost;
        failed += r->builds_failed;
        undos += r->undos;
        resumed += r->resumed;
        deleted += r->deleted_by_user;
    }
    // Every kind of fault happened, many times.
    EXPECT_GT(crashes, 20);
    EXPECT_GT(outages, 20);
    EXPECT_GT(lost_answers, 100);
    EXPECT_GT(failed, 100);
    EXPECT_GT(undos, 100);
    EXPECT_GT(resumed, 100);
    EXPECT_GT(deleted, 500);
}

TEST(BootSimulationTest, ArmedFaultPointsCrashTheSimulatedHomeThereAndItRecovers) {
    BootSimConfig c;
    c.home_crash_every_ms = 0;  // only the armed points
    c.cloudlet_outage_every_ms = 0;
    c.faults = "boot.send_create.before=crash@100,boot.record.before=crash@700,boot.watch.before=crash@1500";
    auto r = RunBootSimulation(c);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->home_crashes, 3);
    EXPECT_GT(r->resumed, 0);
    EXPECT_TRUE(r->Ok()) << Problems(*r);
}

TEST(BootSimulationTest, WithoutFaultsEveryServerIsActive) {
    BootSimConfig c;
    c.home_crash_every_ms = 0;
    c.cloudlet_outage_every_ms = 0;
    c.refuse_build = 0;
    c.lose_answer = 0;
    c.user_delete = 0;
    auto r = RunBootSimulation(c);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->active, 2'000);
    EXPECT_EQ(r->undos, 0);
    EXPECT_TRUE(r->Ok()) << Problems(*r);
}

TEST(BootSimulationTest, TheSameSeedReplaysTheSameRun) {
    BootSimConfig c;
    c.servers = 500;
    c.seed = 7;
    auto a = RunBootSimulation(c);
    auto b = RunBootSimulation(c);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->end_ms, b->end_ms);
    EXPECT_EQ(a->active, b->active);
    EXPECT_EQ(a->undos, b->undos);
    EXPECT_EQ(a->home_crashes, b->home_crashes);
    EXPECT_EQ(a->creates_sent, b->creates_sent);
}

TEST(BootSimulationTest, TheCheckerCatchesAShellThatForgetsToRecordWhereACreateWent) {
    BootSimConfig c;
    c.unsafe_skip_placement_records = true;
    auto r = RunBootSimulation(c);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->Ok());
    EXPECT_GT(r->orphans + r->duplicates + r->wrong_map, 0);
}

// The figures of docs/reliability.md: --gtest_also_run_disabled_tests --gtest_filter='*PrintSeeds*'
// (BOOT_SIM_SEEDS=N for more seeds).
TEST(BootSimulationTest, DISABLED_PrintSeeds) {
    const char* env = std::getenv("BOOT_SIM_SEEDS");  // NOLINT(concurrency-mt-unsafe): one thread
    const int seeds = env ? std::atoi(env) : 8;
    std::printf("seed acked active error deleted crashes outages lost_answers failed_builds undos resumed end_s ok\n");
    for (int seed = 1; seed <= seeds; ++seed) {
        BootSimConfig c;
        c.seed = static_cast<std::uint64_t>(seed);
        auto r = RunBootSimulation(c);
        ASSERT_TRUE(r.ok());
        std::printf("%d %d %d %d %d %d %d %d %d %d %d %.1f %s\n", seed, r->acknowledged, r->active, r->error,
                    r->deleted_by_user, r->home_crashes, r->cloudlet_outages, r->answers_lost, r->builds_failed,
                    r->undos, r->resumed, static_cast<double>(r->end_ms) / 1000.0, r->Ok() ? "yes" : "NO");
        EXPECT_TRUE(r->Ok()) << Problems(*r);
    }
}

TEST(BootSimulationTest, AnImpossibleConfigIsRefused) {
    BootSimConfig c;
    c.cloudlets = 0;
    EXPECT_EQ(RunBootSimulation(c).error().code, ErrorCode::kBadRequest);
    BootSimConfig f;
    f.faults = "boot.x=explode";
    EXPECT_EQ(RunBootSimulation(f).error().code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace shoal::sim
