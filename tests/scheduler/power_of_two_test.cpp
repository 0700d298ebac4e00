#include "scheduler/power_of_two.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace shoal::scheduler {
namespace {

using ::testing::HasSubstr;

const FlavorNeed kSmall{"m1.small", 2048};

// One hypervisor: the best hypervisor's free RAM is the cloudlet's.
CloudletLoad Load(std::string name, std::int64_t total, std::int64_t free, std::int64_t in_flight = 0, int builds = 0) {
    return CloudletLoad{std::move(name), free, free, total, in_flight, builds};
}

TEST(ChooseTest, PicksTheOneThatFits) {
    Rng rng(1);
    auto pick = Choose({Load("a", 32768, 1024), Load("b", 32768, 2048)}, kSmall, rng);
    ASSERT_TRUE(pick.ok()) << pick.error().message;
    EXPECT_EQ(*pick, 1u);
}

TEST(ChooseTest, NoneFitsIsNoValidHost) {
    Rng rng(1);
    auto pick = Choose({Load("a", 32768, 1024), Load("b", 32768, 2047)}, kSmall, rng);
    ASSERT_FALSE(pick.ok());
    EXPECT_EQ(pick.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(pick.error().message, HasSubstr("No valid host was found"));
    EXPECT_THAT(pick.error().message, HasSubstr("m1.small (2048 MB RAM)"));
    EXPECT_THAT(pick.error().message, HasSubstr("b has 2047 MB free"));

    EXPECT_EQ(Choose({}, kSmall, rng).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(Choose({Load("a", 1, 1)}, FlavorNeed{"zero", 0}, rng).error().code, ErrorCode::kBadRequest);
    // A cloudlet without hypervisors fits nothing, however small.
    EXPECT_FALSE(Choose({Load("a", 0, 0)}, FlavorNeed{"tiny", 1}, rng).ok());
}

TEST(ChooseTest, FitIsJudgedOnTheBestHypervisorNotTheSum) {
    Rng rng(1);
    // 6 GB free in total, but at most 1.5 GB on any one hypervisor.
    const CloudletLoad fragmented{"a", 1536, 6144, 65536, 0, 0};
    EXPECT_FALSE(Choose({fragmented}, kSmall, rng).ok());
}

TEST(ChooseTest, InFlightBuildsCount) {
    Rng rng(1);
    // Raw, a looks emptier; with its in-flight builds it is fuller than b.
    auto pick = Choose({Load("a", 32768, 30000, 8192, 4), Load("b", 32768, 24000)}, kSmall, rng);
    ASSERT_TRUE(pick.ok());
    EXPECT_EQ(*pick, 1u);
    // In-flight builds can use up the room a raw load shows.
    EXPECT_FALSE(Choose({Load("a", 32768, 4096, 3072, 1)}, kSmall, rng).ok());
    EXPECT_TRUE(Choose({Load("a", 32768, 4096, 2048, 1)}, kSmall, rng).ok());
}

TEST(ChooseTest, FractionComparisonIsCapacityAware) {
    Rng rng(1);
    // big: 64 GB, 40 GB free (62%); small: 32 GB, 24 GB free (75%).
    const std::vector<CloudletLoad> loads = {Load("big", 65536, 40960), Load("small", 32768, 24576)};
    EXPECT_EQ(*Choose(loads, kSmall, rng, Comparison::kFreeFraction), 1u);
    EXPECT_EQ(*Choose(loads, kSmall, rng, Comparison::kAbsoluteFree), 0u);
    EXPECT_GT(CompareLoads(loads[1], loads[0], Comparison::kFreeFraction), 0);
    EXPECT_LT(CompareLoads(loads[0], loads[1], Comparison::kFreeFraction), 0);
}

TEST(ChooseTest, EqualFractionsTieBreakOnAbsoluteFreeRam) {
    Rng rng(1);
    // Both half free; the big one can take a bigger VM.
    const std::vector<CloudletLoad> loads = {Load("small", 32768, 16384), Load("big", 65536, 32768)};
    EXPECT_EQ(*Choose(loads, kSmall, rng), 1u);
    // Equal fractions, and on a cloudlet of several hypervisors the best one decides.
    const CloudletLoad spread{"spread", 8192, 32768, 65536, 0, 0};
    const CloudletLoad packed{"packed", 16384, 32768, 65536, 0, 0};
    EXPECT_EQ(*Choose({spread, packed}, kSmall, rng), 1u);
}

TEST(ChooseTest, ExactTiesAreBrokenUniformlyAtRandom) {
    Rng rng(42);
    const std::vector<CloudletLoad> loads = {Load("a", 32768, 16384), Load("b", 32768, 16384), Load("c", 32768, 16384),
                                             Load("full", 32768, 0)};
    std::map<std::size_t, int> wins;
    for (int i = 0; i < 3000; ++i) ++wins[*Choose(loads, kSmall, rng)];
    EXPECT_EQ(wins.count(3), 0u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_GT(wins[i], 850) << i;  // 1000 expected, sd ~26
        EXPECT_LT(wins[i], 1150) << i;
    }
}

TEST(ChooseTest, SameSeedSameChoice) {
    const std::vector<CloudletLoad> loads = {Load("a", 32768, 16384), Load("b", 32768, 16384)};
    Rng r1(7);
    Rng r2(7);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(*Choose(loads, kSmall, r1), *Choose(loads, kSmall, r2));
}

TEST(ChooseTest, FractionsCompareExactlyOnHugeClouds) {
    // 2^50 MB: the cross products overflow 64 bits.
    const std::int64_t huge = std::int64_t{1} << 50;
    const CloudletLoad a{"a", huge / 2, huge / 2, huge, 0, 0};
    const CloudletLoad b{"b", huge / 2 - 1, huge / 2 - 1, huge, 0, 0};
    EXPECT_GT(CompareLoads(a, b, Comparison::kFreeFraction), 0);
    EXPECT_LT(CompareLoads(b, a, Comparison::kFreeFraction), 0);
}

// ---- Plan / RetryPolicy ----

TEST(PlanTest, NeverPicksAFailedCloudletAgain) {
    Rng rng(1);
    Plan plan(kSmall);
    const std::vector<CloudletLoad> loads = {Load("a", 32768, 30000), Load("b", 32768, 20000)};
    auto first = plan.Next(loads, rng);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(*first, 0u);
    ASSERT_TRUE(plan.OnBuildFailed("a", "ERROR on a").ok());
    EXPECT_TRUE(plan.Excludes("a"));
    EXPECT_EQ(plan.SampleSize(), 3u);  // two fresh ones even if the sampler returns a again
    // The sampler returns a again, first: it is skipped.
    auto second = plan.Next({Load("a", 32768, 32768), Load("b", 32768, 20000), Load("c", 32768, 10000)}, rng);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, 1u);
    EXPECT_EQ(plan.BuildAttempts(), 2);
}

TEST(PlanTest, ComparesOnlyChoicesCandidatesSkippingDuplicates) {
    Rng rng(1);
    Plan plan(kSmall);
    // The third candidate is the best, but d = 2: it is not considered. A duplicate does not count.
    auto pick = plan.Next(
        {Load("a", 32768, 4096), Load("a", 32768, 4096), Load("b", 32768, 8192), Load("c", 32768, 32768)}, rng);
    ASSERT_TRUE(pick.ok());
    EXPECT_EQ(*pick, 2u);
}

TEST(PlanTest, GivesUpAfterMaxBuildAttempts) {
    Rng rng(1);
    Plan plan(kSmall, RetryPolicy{.max_build_attempts = 3});
    const std::vector<CloudletLoad> loads = {Load("a", 32768, 30000), Load("b", 32768, 30000), Load("c", 32768, 30000),
                                             Load("d", 32768, 30000)};
    for (int i = 0; i < 3; ++i) {
        auto pick = plan.Next(loads, rng);
        ASSERT_TRUE(pick.ok()) << pick.error().message;
        auto status = plan.OnBuildFailed(loads[*pick].cloudlet, "boom");
        EXPECT_EQ(status.ok(), i < 2);
        if (!status.ok()) {
            EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
            EXPECT_THAT(status.error().message, HasSubstr("Exceeded maximum number of retries"));
            EXPECT_THAT(status.error().message, HasSubstr("boom"));
        }
    }
    EXPECT_TRUE(plan.Exhausted());
    EXPECT_EQ(plan.FailedCloudlets().size(), 3u);
    auto after = plan.Next(loads, rng);
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(after.error().code, ErrorCode::kUnavailable);
}

TEST(PlanTest, NoFitResamplesWithMoreChoicesWithinTheBudget) {
    Rng rng(1);
    Plan plan(kSmall, RetryPolicy{.max_samplings = 3, .choices = 2, .max_choices = 8});
    const std::vector<CloudletLoad> full = {Load("a", 32768, 0), Load("b", 32768, 1024)};
    EXPECT_EQ(plan.Choices(), 2u);
    auto first = plan.Next(full, rng);
    ASSERT_FALSE(first.ok());
    EXPECT_THAT(first.error().message, HasSubstr("No valid host was found"));
    EXPECT_FALSE(plan.Exhausted());
    EXPECT_EQ(plan.Choices(), 4u);  // power of d choices: widen the sample near full
    EXPECT_FALSE(plan.Next(full, rng).ok());
    EXPECT_EQ(plan.Choices(), 8u);
    auto last = plan.Next(full, rng);
    ASSERT_FALSE(last.ok());
    EXPECT_TRUE(plan.Exhausted());
    EXPECT_THAT(last.error().message, HasSubstr("in 3 samplings"));
    EXPECT_EQ(plan.BuildAttempts(), 0);
}

TEST(PlanTest, ASuccessfulDecisionResetsTheWidenedSample) {
    Rng rng(1);
    Plan plan(kSmall);
    ASSERT_FALSE(plan.Next({Load("a", 32768, 0)}, rng).ok());
    EXPECT_EQ(plan.Choices(), 4u);
    ASSERT_TRUE(plan.Next({Load("b", 32768, 32768)}, rng).ok());
    EXPECT_EQ(plan.Choices(), 2u);
}

TEST(PlanTest, OnlyFailedCloudletsSampledIsNoValidHost) {
    Rng rng(1);
    Plan plan(kSmall);
    ASSERT_TRUE(plan.Next({Load("a", 32768, 32768)}, rng).ok());
    ASSERT_TRUE(plan.OnBuildFailed("a", "").ok());
    auto pick = plan.Next({Load("a", 32768, 32768)}, rng);
    ASSERT_FALSE(pick.ok());
    EXPECT_EQ(pick.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace shoal::scheduler
