#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <set>

#include "common/ids.hpp"
#include "common/secure_random.hpp"

namespace shoal {
namespace {

TEST(SecureRandom, StringsHaveTheLengthAndAlphabetAskedAndDoNotRepeat) {
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
        auto s = SecureRandomString(20);
        ASSERT_EQ(s.size(), 20u);
        for (char c : s) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << s;
        seen.insert(s);
    }
    EXPECT_EQ(seen.size(), 500u);
    EXPECT_EQ(SecureRandomString(64, "ab").find_first_not_of("ab"), std::string::npos);
}

TEST(SecureRandom, EveryCharacterOfTheAlphabetIsDrawnAboutEquallyOften) {
    // 62 letters and digits, 62,000 draws: each about 1,000 times. A modulo-biased draw from a
    // byte would give the first 8 characters about 5/4 of the others' share.
    std::map<char, int> count;
    for (char c : SecureRandomString(62'000)) ++count[c];
    ASSERT_EQ(count.size(), 62u);
    for (const auto& [c, n] : count) {
        EXPECT_GT(n, 800) << c;
        EXPECT_LT(n, 1200) << c;
    }
}

TEST(SecureRandom, HexHasTwoDigitsPerByte) {
    auto h = SecureRandomHex(16);
    EXPECT_EQ(h.size(), 32u);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(h, SecureRandomHex(16));
}

TEST(SecureRandom, SeedsDifferAndUseAllBits) {
    std::set<std::uint64_t> seeds;
    std::uint64_t any_high = 0;
    for (int i = 0; i < 64; ++i) {
        const auto s = SecureRandomSeed();
        seeds.insert(s);
        any_high |= s >> 32;
    }
    EXPECT_EQ(seeds.size(), 64u);
    EXPECT_NE(any_high, 0u);  // not a 32-bit value widened
}

TEST(SecureRandom, ConstantTimeEqualsIsEquality) {
    EXPECT_TRUE(ConstantTimeEquals("", ""));
    EXPECT_TRUE(ConstantTimeEquals("signature", "signature"));
    EXPECT_FALSE(ConstantTimeEquals("signature", "signaturE"));
    EXPECT_FALSE(ConstantTimeEquals("signature", "signatur"));
    EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(Ids, UuidsAreVersion4AndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = NewUuid();
        ASSERT_TRUE(IsUuid(id)) << id;
        EXPECT_EQ(id[14], '4') << id;
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_TRUE(IsUuid(NewHexId(), true));
    EXPECT_EQ(NewRequestId().rfind("req-", 0), 0u);
}

}  // namespace
}  // namespace shoal
