// What a cloudlet receives for one server of a create (NovaProxy::Place): the user's request with
// the shoal's ids turned into the chosen cloudlet's, through the translator.
#include "compute/server_create.hpp"

#include <gtest/gtest.h>

namespace shoal::compute {
namespace {

constexpr char kImage[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kImageThere[] = "bbbbbbbb-0000-4000-8000-00000000c2c2";
constexpr char kServer[] = "11111111-2222-4333-8444-555555555555";
constexpr char kServerThere[] = "9168b536-cd40-4630-b43f-b259807c6e87";

CloudletCreate At(std::string cloudlet) {
    return CloudletCreate{"tenant-t", std::move(cloudlet), kImage, kImageThere, "m1.tiny", "42", {}};
}

// As `openstack --os-compute-api-version 2.37 server create --image img1 --flavor m1.tiny --nic none`
// sends it, after ParseServerCreate.
json CliServer() {
    return json::parse(std::string(R"({"name": "vm-1", "imageRef": ")") + kImage +
                       R"(", "flavorRef": "m1.tiny", "min_count": 2, "max_count": 2, "networks": "none"})");
}

TEST(CloudletCreateBody, TheCliCreateReachesTheCloudletWithItsImageAndFlavorAndNothingElseChanged) {
    auto parsed = ParseServerCreate(json{{"server", CliServer()}}, 37);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_TRUE(parsed->hints.is_null());
    auto body = CloudletCreateBody(parsed->server, parsed->hints, At("c2"));
    ASSERT_TRUE(body.ok()) << body.error().message;
    json expected = {
        {"server", {{"name", "vm-1"}, {"imageRef", kImageThere}, {"flavorRef", "42"}, {"networks", "none"}}}};
    EXPECT_EQ(*body, expected);
}

TEST(CloudletCreateBody, AFlavorGivenByIdOrHrefOrNumberBecomesTheCloudletsId) {
    for (const json& ref : {json("1"), json("http://agent:8080/compute/v2.1/flavors/1"), json(1)}) {
        json server = CliServer();
        server["flavorRef"] = ref;
        auto where = At("c2");
        auto body = CloudletCreateBody(server, json(), where);
        ASSERT_TRUE(body.ok()) << ref.dump();
        EXPECT_EQ((*body)["server"]["flavorRef"], "42") << ref.dump();
    }
}

TEST(CloudletCreateBody, CloudletOwnIdsPassAndHintsAreSentOnTranslated) {
    json server = CliServer();
    server["networks"] = json::array({{{"uuid", "net-1"}}, {{"port", "port-1"}}});
    server["block_device_mapping_v2"] =
        json::array({{{"source_type", "image"}, {"uuid", kImage}, {"boot_index", 0}, {"destination_type", "local"}},
                     {{"source_type", "volume"}, {"uuid", "vol-1"}, {"destination_type", "volume"}}});
    const json hints = {{"group", "group-1"}, {"same_host", json::array({kServer})}};
    auto where = At("c2");
    where.servers.push_back({kServer, translate::CloudletRef{"c2", kServerThere}});
    auto body = CloudletCreateBody(server, hints, where);
    ASSERT_TRUE(body.ok()) << body.error().message;
    const json& s = (*body)["server"];
    EXPECT_EQ(s["networks"], server["networks"]);
    EXPECT_EQ(s["block_device_mapping_v2"][0]["uuid"], kImageThere);
    EXPECT_EQ(s["block_device_mapping_v2"][1]["uuid"], "vol-1");
    EXPECT_EQ((*body)["os:scheduler_hints"]["group"], "group-1");
    EXPECT_EQ((*body)["os:scheduler_hints"]["same_host"], json::array({kServerThere}));

    // On a cloudlet that does not hold the server, same_host cannot hold.
    auto elsewhere = At("c3");
    elsewhere.servers = where.servers;
    auto refused = CloudletCreateBody(server, hints, elsewhere);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(HintsNameServers(hints));
    EXPECT_FALSE(HintsNameServers(json{{"group", "g"}}));
}

TEST(ParseServerCreate, HintsMustBeAnObject) {
    auto bad = ParseServerCreate(json{{"server", CliServer()}, {"os:scheduler_hints", "x"}}, 37);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
    auto old_name = ParseServerCreate(json{{"server", CliServer()}, {"OS-SCH-HNT:scheduler_hints", {{"a", 1}}}}, 37);
    ASSERT_TRUE(old_name.ok());
    EXPECT_EQ(old_name->hints, (json{{"a", 1}}));
}

}  // namespace
}  // namespace shoal::compute
