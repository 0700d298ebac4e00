#include "bench/stats.hpp"

#include <gtest/gtest.h>

namespace shoal::bench {
namespace {

TEST(Stats, NearestRankPercentilesAreObservedValues) {
    std::vector<double> v;
    for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
    const auto d = Summarize(v);
    EXPECT_EQ(d.count, 100u);
    EXPECT_DOUBLE_EQ(d.mean, 50.5);
    EXPECT_DOUBLE_EQ(d.p50, 50);
    EXPECT_DOUBLE_EQ(d.p95, 95);
    EXPECT_DOUBLE_EQ(d.p99, 99);
    EXPECT_DOUBLE_EQ(d.min, 1);
    EXPECT_DOUBLE_EQ(d.max, 100);
}

TEST(Stats, SmallAndEmptySamples) {
    EXPECT_EQ(Summarize({}).count, 0u);
    EXPECT_DOUBLE_EQ(Summarize({}).p99, 0);
    const auto one = Summarize({3.5});
    EXPECT_DOUBLE_EQ(one.p50, 3.5);
    EXPECT_DOUBLE_EQ(one.p99, 3.5);
    const auto two = Summarize({1, 9});
    EXPECT_DOUBLE_EQ(two.p50, 1);
    EXPECT_DOUBLE_EQ(two.p95, 9);
}

TEST(Stats, PopulationStandardDeviation) {
    // Servers per cloudlet: 4 everywhere is perfectly balanced; 8,0,8,0 is not.
    EXPECT_DOUBLE_EQ(StdDev({4, 4, 4, 4}), 0);
    EXPECT_DOUBLE_EQ(StdDev({8, 0, 8, 0}), 4);
    EXPECT_DOUBLE_EQ(StdDev({2, 4, 4, 4, 5, 5, 7, 9}), 2);
    EXPECT_DOUBLE_EQ(StdDev({}), 0);
}

}  // namespace
}  // namespace shoal::bench
