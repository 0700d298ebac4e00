// Named fault-injection points: what a spec arms, when a crash fires, what a delay returns.
#include "common/faults.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::faults {
namespace {

class FaultsTest : public ::testing::Test {
protected:
    FaultsTest() {
        SetCrashHandler([this](std::string_view point) { crashes_.emplace_back(point); });
    }
    ~FaultsTest() override {
        Clear();
        SetCrashHandler({});
    }
    std::vector<std::string> crashes_;
};

TEST_F(FaultsTest, NothingArmedDoesNothing) {
    EXPECT_EQ(Hit("boot.record.before").count(), 0);
    EXPECT_TRUE(crashes_.empty());
}

TEST_F(FaultsTest, ACrashFiresAtTheHitItNamesOnlyAndADelayAtEveryHit) {
    ASSERT_TRUE(Configure("boot.send_create.after=crash@3,boot.record.before=delay:250").ok());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(Hit("boot.send_create.after").count(), 0);
    EXPECT_EQ(crashes_, std::vector<std::string>{"boot.send_create.after"});
    EXPECT_EQ(Hits("boot.send_create.after"), 5u);
    EXPECT_EQ(Hit("boot.record.before").count(), 250);
    EXPECT_EQ(Hit("boot.record.before").count(), 250);
    EXPECT_EQ(Hit("boot.watch.before").count(), 0);  // not armed
}

TEST_F(FaultsTest, APrefixArmsEveryPointUnderItAndClearDisarms) {
    ASSERT_TRUE(Configure("boot.*=crash").ok());
    (void)Hit("boot.watch.after");
    (void)Hit("image.import.before");
    EXPECT_EQ(crashes_, std::vector<std::string>{"boot.watch.after"});
    Clear();
    (void)Hit("boot.record.before");
    EXPECT_EQ(crashes_.size(), 1u);
}

TEST_F(FaultsTest, ABadSpecIsRefusedNamingItsPartAndArmsNothing) {
    for (const char* bad : {"boot.record.before", "=crash", "boot.x=explode", "boot.x=crash@", "boot.x=crash@0",
                            "boot.x=crash@2x", "boot.x=delay:", "boot.x=delay:fast", "boot.y=crash,boot.x=oops"}) {
        auto s = Configure(bad);
        ASSERT_FALSE(s.ok()) << bad;
        EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
        EXPECT_NE(s.error().message.find("fault '"), std::string::npos) << s.error().message;
    }
    (void)Hit("boot.y");
    EXPECT_TRUE(crashes_.empty());
}

}  // namespace
}  // namespace shoal::faults
