#include <gtest/gtest.h>

#include "agent/agent_config.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;

json Minimal() {
    return json{{"id", "edge-1"},
                {"listen", "127.0.0.1:7001"},
                {"seeds", {"127.0.0.1:7000"}},
                {"secret", "0123456789abcdef-secret"},
                {"cloudlet", {{"auth_url", "http://127.0.0.1:5000/identity/v3"}, {"password", "pw"}}}};
}

std::string ErrorOf(const json& j) {
    auto c = AgentConfigFromJson(j);
    return c.ok() ? std::string("(accepted)") : c.error().message;
}

TEST(AgentConfigTest, AMinimalConfigGetsTheDocumentedDefaults) {
    auto c = AgentConfigFromJson(Minimal());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->id, "edge-1");
    EXPECT_EQ(c->listen_address, "127.0.0.1");
    EXPECT_EQ(c->a2a_port, 7001);
    EXPECT_EQ(c->seeds, std::vector<std::string>{"127.0.0.1:7000"});
    ASSERT_TRUE(c->cloudlet);
    EXPECT_EQ(c->cloudlet->username, "admin");
    EXPECT_EQ(c->state.backend, "sqlite");
    EXPECT_EQ(c->overlay.cyclon.view_size, 20u);
    EXPECT_EQ(c->overlay.cyclon.shuffle_length, 8u);
    EXPECT_EQ(c->mapping.mode, MappingMode::kDynamic);
    EXPECT_FALSE(ToJson(*c).dump().find("0123456789abcdef-secret") != std::string::npos)
        << "the secret never leaves the config";
}

TEST(AgentConfigTest, AnEmbeddedCloudletTakesTheAgentsName) {
    auto j = Minimal();
    j.erase("cloudlet");
    j["embedded_cloudlet"] = {{"hypervisors", {{"count", 2}}}};
    auto c = AgentConfigFromJson(j);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->embedded_cloudlet);
    EXPECT_EQ(c->embedded_cloudlet->name, "edge-1");
    EXPECT_EQ(c->embedded_cloudlet->hypervisors.count, 2);
    EXPECT_FALSE(c->embedded_cloudlet->flavors.empty());
}

TEST(AgentConfigTest, MistakesAreRefusedWithTheirPlace) {
    auto typo = Minimal();
    typo["overlay"] = {{"veiw_size", 10}};
    EXPECT_NE(ErrorOf(typo).find("overlay.veiw_size"), std::string::npos) << ErrorOf(typo);

    auto no_id = Minimal();
    no_id.erase("id");
    EXPECT_NE(ErrorOf(no_id).find("'id'"), std::string::npos);

    auto short_secret = Minimal();
    short_secret["secret"] = "short";
    EXPECT_NE(ErrorOf(short_secret).find("secret"), std::string::npos);

    auto both = Minimal();
    both["embedded_cloudlet"] = json::object();
    EXPECT_NE(ErrorOf(both).find("exactly one"), std::string::npos);

    auto bad_listen = Minimal();
    bad_listen["listen"] = "nowhere";
    EXPECT_NE(ErrorOf(bad_listen).find("listen"), std::string::npos);

    auto bad_shuffle = Minimal();
    bad_shuffle["overlay"] = {{"view_size", 4}, {"shuffle_length", 8}};
    EXPECT_NE(ErrorOf(bad_shuffle).find("shuffle_length"), std::string::npos);

    auto wrong_type = Minimal();
    wrong_type["seeds"] = "127.0.0.1:7000";
    EXPECT_NE(ErrorOf(wrong_type).find("wrong type"), std::string::npos);

    auto bad_mode = Minimal();
    bad_mode["mapping"] = {{"mode", "sharded"}};
    EXPECT_NE(ErrorOf(bad_mode).find("mapping.mode"), std::string::npos);

    EXPECT_NE(ErrorOf(json::array()).find("object"), std::string::npos);
}

}  // namespace
}  // namespace shoal::agent
