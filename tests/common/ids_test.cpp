#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <array>

namespace shoal {
namespace {

TEST(Ids, UuidTextIsTheLowerCaseDashedForm) {
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(0xf0 + i);
    EXPECT_EQ(UuidText(b), "f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff");
}

TEST(Ids, NewIdsAreVersion4AndDistinct) {
    std::string a = NewUuid();
    EXPECT_TRUE(IsUuid(a)) << a;
    EXPECT_EQ(a[14], '4') << a;
    EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
    EXPECT_NE(a, NewUuid());
    std::string h = NewHexId();
    EXPECT_TRUE(IsUuid(h, true)) << h;
    EXPECT_EQ(h.size(), 32u);
}

}  // namespace
}  // namespace shoal
