// Which microversion a client asked for, as Nova and oslo's microversion_parse read the headers
// the openstack CLI, openstacksdk and novaclient send.
#include "openstack/microversion.hpp"

#include <gtest/gtest.h>

namespace shoal::openstack {
namespace {

http::Headers With(std::initializer_list<std::pair<std::string, std::string>> fields) {
    http::Headers h;
    for (const auto& [k, v] : fields) h.Add(k, v);
    return h;
}

TEST(MicroversionTest, TheServiceEntryIsFoundInListsAndRepeatedFieldsTheLastWinning) {
    EXPECT_EQ(RequestedMicroversion(With({{"OpenStack-API-Version", "compute 2.37"}}), "compute"), "2.37");
    EXPECT_EQ(RequestedMicroversion(With({{"OpenStack-API-Version", "placement 1.29, Compute 2.60"}}), "compute"),
              "2.60");
    EXPECT_EQ(
        RequestedMicroversion(
            With({{"OpenStack-API-Version", "compute 2.1"}, {"openstack-api-version", "compute 2.5"}}), "compute"),
        "2.5");
    EXPECT_EQ(RequestedMicroversion(With({{"OpenStack-API-Version", "placement 1.29"}}), "compute"), std::nullopt);
    EXPECT_EQ(RequestedMicroversion(With({{"X-OpenStack-Nova-API-Version", " 2.19 "}}), "compute",
                                    "X-OpenStack-Nova-API-Version"),
              "2.19");
    // The standard header wins over the legacy one.
    EXPECT_EQ(RequestedMicroversion(
                  With({{"X-OpenStack-Nova-API-Version", "2.19"}, {"OpenStack-API-Version", "compute 2.3"}}), "compute",
                  "X-OpenStack-Nova-API-Version"),
              "2.3");
}

TEST(MicroversionTest, NovasRulesNoneIsTheMinimumLatestTheMaximumBadIs400OutOfRangeIs406) {
    EXPECT_EQ(*NovaMicroversion(With({}), 79), 1);
    EXPECT_EQ(*NovaMicroversion(With({{"OpenStack-API-Version", "compute latest"}}), 79), 79);
    for (const char* bad :
         {"compute 2", "compute two.1", "compute 02.1", "compute 2.01", "compute 2.x", "compute 2.-1", "compute 0.1"}) {
        auto v = NovaMicroversion(With({{"OpenStack-API-Version", bad}}), 79);
        ASSERT_FALSE(v.ok()) << bad;
        EXPECT_EQ(v.error().code, ErrorCode::kBadRequest) << bad;
    }
    auto too_new = NovaMicroversion(With({{"OpenStack-API-Version", "compute 2.80"}}), 79);
    ASSERT_FALSE(too_new.ok());
    EXPECT_EQ(too_new.error().code, ErrorCode::kNotAcceptable);
    EXPECT_EQ(too_new.error().message, "Version 2.80 is not supported by the API. Minimum is 2.1 and maximum is 2.79.");
    EXPECT_EQ(NovaMicroversion(With({{"OpenStack-API-Version", "compute 3.1"}}), 79).error().code,
              ErrorCode::kNotAcceptable);
    EXPECT_EQ(NovaMicroversion(With({{"OpenStack-API-Version", "compute 2.0"}}), 79).error().code,
              ErrorCode::kNotAcceptable);
}

TEST(MicroversionTest, AnswersCarryTheVersionTheyWereServedAt) {
    http::Response r;
    SetNovaVersionHeaders(r, 37);
    EXPECT_EQ(r.headers.Get("OpenStack-API-Version").value_or(""), "compute 2.37");
    EXPECT_EQ(r.headers.Get("X-OpenStack-Nova-API-Version").value_or(""), "2.37");
    EXPECT_EQ(r.headers.Get("Vary").value_or(""), "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
}

}  // namespace
}  // namespace shoal::openstack
