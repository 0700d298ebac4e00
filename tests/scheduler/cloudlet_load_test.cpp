#include "scheduler/cloudlet_load.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shoal::scheduler {
namespace {

using nlohmann::json;

TEST(CloudletLoadTest, SurvivesTheRoundTripThroughText) {
    const CloudletLoad load{"edge-7", 30208, 61440, 65536, 4096, 2};
    auto decoded = CloudletLoadFromJson(json::parse(ToJson(load).dump()));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, load);
}

TEST(CloudletLoadTest, FieldNamesAreTheDocumentedOnes) {
    EXPECT_EQ(ToJson(CloudletLoad{"c1", 1, 2, 3, 4, 5}), json::parse(R"({"cloudlet":"c1","free_ram_mb":1,
        "total_free_ram_mb":2,"total_ram_mb":3,"in_flight_ram_mb":4,"in_flight_builds":5})"));
}

TEST(CloudletLoadTest, UnknownKeysAreIgnored) {
    auto decoded = CloudletLoadFromJson(json::parse(R"({"cloudlet":"c1","free_ram_mb":1,"total_free_ram_mb":2,
        "total_ram_mb":3,"in_flight_ram_mb":0,"in_flight_builds":0,"free_vcpus":12})"));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->total_ram_mb, 3);
}

TEST(CloudletLoadTest, MalformedLoadsAreBadRequests) {
    const char* base =
        R"({"cloudlet":"c1","free_ram_mb":1,"total_free_ram_mb":2,"total_ram_mb":3,"in_flight_ram_mb":0,"in_flight_builds":0})";
    ASSERT_TRUE(CloudletLoadFromJson(json::parse(base)).ok());
    std::vector<json> bad = {json::array(), json("c1")};
    for (const char* key :
         {"cloudlet", "free_ram_mb", "total_free_ram_mb", "total_ram_mb", "in_flight_ram_mb", "in_flight_builds"}) {
        json missing = json::parse(base);
        missing.erase(key);
        bad.push_back(missing);
        json wrong = json::parse(base);
        wrong[key] = std::string(key) == "cloudlet" ? json(7) : json("7");
        bad.push_back(wrong);
    }
    for (const json& value : {json(-1), json(1.5), json(nullptr), json(18446744073709551615ULL)}) {
        json j = json::parse(base);
        j["in_flight_ram_mb"] = value;
        bad.push_back(j);
    }
    json empty_name = json::parse(base);
    empty_name["cloudlet"] = "";
    bad.push_back(empty_name);
    json too_many_builds = json::parse(base);
    too_many_builds["in_flight_builds"] = 1LL << 40;
    bad.push_back(too_many_builds);
    json free_above_total = json::parse(base);
    free_above_total["free_ram_mb"] = 5;
    bad.push_back(free_above_total);
    json total_free_above_total = json::parse(base);
    total_free_above_total["total_free_ram_mb"] = 4;
    bad.push_back(total_free_above_total);

    for (const json& j : bad) {
        auto decoded = CloudletLoadFromJson(j);
        ASSERT_FALSE(decoded.ok()) << j.dump();
        EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << j.dump();
    }
}

}  // namespace
}  // namespace shoal::scheduler
