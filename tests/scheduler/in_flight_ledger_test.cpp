#include "scheduler/in_flight_ledger.hpp"

#include <gtest/gtest.h>

namespace shoal::scheduler {
namespace {

using Time = InFlightLedger::Time;
constexpr Time kTtl{60'000'000};

TEST(InFlightLedgerTest, ReserveAddsToTheCloudletsTotals) {
    InFlightLedger ledger(kTtl);
    auto a = ledger.Reserve("c1", 2048, Time{0});
    auto b = ledger.Reserve("c1", 4096, Time{1});
    auto c = ledger.Reserve("c2", 512, Time{2});
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_NE(*a, *b);
    EXPECT_NE(*a, ReservationId{0});
    EXPECT_EQ(ledger.Totals("c1"), (InFlight{6144, 2}));
    EXPECT_EQ(ledger.Totals("c2"), (InFlight{512, 1}));
    EXPECT_EQ(ledger.Totals("c3"), (InFlight{}));
    EXPECT_EQ(ledger.Size(), 3u);
}

TEST(InFlightLedgerTest, ReleaseIsIdempotent) {
    InFlightLedger ledger(kTtl);
    auto a = ledger.Reserve("c1", 2048, Time{0});
    auto b = ledger.Reserve("c1", 1024, Time{0});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(ledger.Release(*a));   // ACTIVE
    EXPECT_FALSE(ledger.Release(*a));  // a duplicated notification
    EXPECT_FALSE(ledger.Release(12345));
    EXPECT_EQ(ledger.Totals("c1"), (InFlight{1024, 1}));
    EXPECT_TRUE(ledger.Release(*b));
    EXPECT_EQ(ledger.Totals("c1"), (InFlight{}));
    EXPECT_EQ(ledger.Size(), 0u);
}

TEST(InFlightLedgerTest, ExpireDropsOnlyReservationsOlderThanTheTtl) {
    InFlightLedger ledger(Time{100});
    auto old = ledger.Reserve("c1", 2048, Time{0});
    auto young = ledger.Reserve("c1", 1024, Time{50});
    ASSERT_TRUE(old.ok() && young.ok());
    EXPECT_EQ(ledger.Expire(Time{99}), 0u);
    EXPECT_EQ(ledger.Expire(Time{100}), 1u);
    EXPECT_EQ(ledger.Totals("c1"), (InFlight{1024, 1}));
    EXPECT_FALSE(ledger.Release(*old));  // the late ACTIVE of an expired build changes nothing
    EXPECT_EQ(ledger.Totals("c1"), (InFlight{1024, 1}));
    EXPECT_EQ(ledger.Expire(Time{1000}), 1u);
    EXPECT_EQ(ledger.Size(), 0u);
}

TEST(InFlightLedgerTest, ApplyTurnsARawLoadIntoTheEffectiveOne) {
    InFlightLedger ledger(kTtl);
    ASSERT_TRUE(ledger.Reserve("c1", 2048, Time{0}).ok());
    ASSERT_TRUE(ledger.Reserve("c1", 2048, Time{0}).ok());
    const CloudletLoad raw{"c1", 30000, 60000, 64000, 999, 9};  // stale in-flight fields are replaced
    const CloudletLoad effective = ledger.Apply(raw);
    EXPECT_EQ(effective.in_flight_ram_mb, 4096);
    EXPECT_EQ(effective.in_flight_builds, 2);
    EXPECT_EQ(EffectiveFreeRamMb(effective), 30000 - 4096);
    EXPECT_EQ(EffectiveTotalFreeRamMb(effective), 60000 - 4096);
    EXPECT_EQ(ledger.Apply(CloudletLoad{"c2", 1, 1, 1, 0, 0}).in_flight_builds, 0);
}

TEST(InFlightLedgerTest, RefusesNonsense) {
    InFlightLedger ledger(kTtl);
    EXPECT_EQ(ledger.Reserve("", 2048, Time{0}).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(ledger.Reserve("c1", 0, Time{0}).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(ledger.Reserve("c1", -5, Time{0}).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(ledger.Size(), 0u);
}

}  // namespace
}  // namespace shoal::scheduler
