// The whole embedded cloudlet over real HTTP: bad input of every class, and overload.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>

#include "cloudlet_test_fixture.hpp"
#include "http/errors.hpp"

namespace shoal::emulator {
namespace {

using namespace std::chrono_literals;
using http::Method;

CloudletConfig SmallCloudlet() {
    CloudletConfig c;
    c.name = "t";
    c.boot_delay = 20ms;
    c.action_delay = 10ms;
    c.delete_delay = 10ms;
    c.flavors = CloudletConfig::DefaultFlavors();
    return c;
}

std::string ServerBody(const std::string& name, const std::string& image, int count = 1) {
    return nlohmann::json{{"server",
                           {{"name", name},
                            {"imageRef", image},
                            {"flavorRef", "1"},
                            {"networks", "none"},
                            {"min_count", count},
                            {"max_count", count}}}}
        .dump();
}

http::Headers Microversion(const std::string& v) {
    http::Headers h;
    h.Set("OpenStack-API-Version", "compute " + v);
    return h;
}

class CloudletBadInput : public CloudletFixture {
protected:
    void SetUp() override {
        StartCloudlet(SmallCloudlet());
        token_ = AdminToken();
    }
    std::string token_;
};

TEST_F(CloudletBadInput, MalformedJsonIs400) {
    auto r = Call(Method::kPost, "/compute/v2.1/servers", "{\"server\": {", token_);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.JsonBody().value().contains("badRequest")) << r.body;
    auto k = Call(Method::kPost, "/identity/v3/auth/tokens", "not json");
    EXPECT_EQ(k.status, 400);
    EXPECT_EQ(k.JsonBody().value()["error"]["code"], 400) << k.body;
}

TEST_F(CloudletBadInput, WrongTypesAre400) {
    auto r = Call(Method::kPost, "/compute/v2.1/servers",
                  R"({"server": {"name": 5, "imageRef": [], "flavorRef": {}, "networks": "none"}})", token_,
                  Microversion("2.37"));
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.JsonBody().value().contains("badRequest")) << r.body;
    auto f = Call(Method::kPost, "/compute/v2.1/flavors",
                  R"({"flavor": {"name": "x", "ram": "lots", "vcpus": 1, "disk": 1}})", token_);
    EXPECT_EQ(f.status, 400) << f.body;
}

TEST_F(CloudletBadInput, OversizeBodyIs413) {
    std::string big = R"({"server": {"name": ")" + std::string(2 * 1024 * 1024, 'x') + R"("}})";
    auto r = Call(Method::kPost, "/compute/v2.1/servers", big, token_);
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(r.JsonBody().value().contains("overLimit")) << r.body;
}

TEST_F(CloudletBadInput, UnknownRoutesAre404InEachServiceStyle) {
    auto n = Call(Method::kGet, "/compute/v2.1/no-such-thing", {}, token_);
    EXPECT_EQ(n.status, 404);
    EXPECT_TRUE(n.JsonBody().value().contains("itemNotFound")) << n.body;
    auto k = Call(Method::kGet, "/identity/v3/no-such-thing", {}, token_);
    EXPECT_EQ(k.status, 404);
    EXPECT_EQ(k.JsonBody().value()["error"]["code"], 404);
    auto p = Call(Method::kGet, "/placement/no-such-thing", {}, token_);
    EXPECT_EQ(p.status, 404);
    EXPECT_EQ(p.JsonBody().value()["errors"][0]["status"], 404);
    EXPECT_EQ(Call(Method::kGet, "/no-such-service").status, 404);
}

TEST_F(CloudletBadInput, BadTokensAre401) {
    for (const std::string path :
         {"/compute/v2.1/servers", "/image/v2/images", "/placement/resource_providers", "/identity/v3/projects"}) {
        EXPECT_EQ(Call(Method::kGet, path, {}, "not-a-token").status, 401) << path;
        EXPECT_EQ(Call(Method::kGet, path).status, 401) << path;
    }
}

TEST_F(CloudletBadInput, InvalidUuidsAre404) {
    auto s = Call(Method::kGet, "/compute/v2.1/servers/not-a-uuid", {}, token_);
    EXPECT_EQ(s.status, 404);
    EXPECT_TRUE(s.JsonBody().value().contains("itemNotFound"));
    EXPECT_EQ(Call(Method::kGet, "/image/v2/images/not-a-uuid", {}, token_).status, 404);
    EXPECT_EQ(Call(Method::kDelete, "/compute/v2.1/servers/00000000-0000-0000-0000-000000000000", {}, token_).status,
              404);
}

TEST_F(CloudletBadInput, UnsupportedMicroversionsAreRefused) {
    auto high = Call(Method::kGet, "/compute/v2.1/servers", {}, token_, Microversion("2.999"));
    EXPECT_EQ(high.status, 406) << high.body;
    auto junk = Call(Method::kGet, "/compute/v2.1/servers", {}, token_, Microversion("two"));
    EXPECT_EQ(junk.status, 400) << junk.body;
    http::Headers ph;
    ph.Set("OpenStack-API-Version", "placement 9.99");
    EXPECT_EQ(Call(Method::kGet, "/placement/resource_providers", {}, token_, ph).status, 406);
}

// More concurrent boots than the controller model admits: every request must end visibly,
// either refused by the API with an error body or as a server in ACTIVE or ERROR with a fault.
class CloudletOverload : public CloudletFixture {};

TEST_F(CloudletOverload, EveryBootEndsActiveOrInAVisibleError) {
    auto c = SmallCloudlet();
    c.hypervisors.count = 1;
    c.hypervisors.memory_mb = 512 + 8 * 512;  // room for 8 m1.tiny
    c.controller.api_workers = 2;
    c.controller.api_queue = 6;
    c.controller.api_timeout = 2000ms;
    c.controller.api_service_time = 5ms;
    c.controller.max_concurrent_builds = 2;
    c.controller.build_queue = 4;
    c.controller.build_timeout = 300ms;
    c.controller.schedule_time = 50ms;
    StartCloudlet(c);
    std::string admin = AdminToken();

    // Four tenants (default quota: 10 instances each) so that quota is not what stops them.
    std::vector<std::string> tokens;
    for (int t = 0; t < 4; ++t) tokens.push_back(CreateTenant(admin, "tenant" + std::to_string(t)));
    auto img =
        Call(Method::kPost, "/image/v2/images",
             R"({"name": "img", "disk_format": "raw", "container_format": "bare", "visibility": "public"})", admin);
    ASSERT_EQ(img.status, 201) << img.body;
    std::string image_id = img.JsonBody().value()["id"];
    http::Request up;
    up.method = Method::kPut;
    up.body = "0123456789";
    up.headers.Set("Content-Type", "application/octet-stream");
    up.headers.Set("X-Auth-Token", admin);
    auto put =
        shoal::testing::Run(io_, client_->Send(cloudlet_->BaseUrl() + "/image/v2/images/" + image_id + "/file", up));
    ASSERT_TRUE(put.ok());
    ASSERT_EQ(put->status, 204);

    constexpr int kBoots = 40;
    std::vector<std::future<Result<http::Response>>> posts;
    for (int i = 0; i < kBoots; ++i) {
        http::Request req;
        req.method = Method::kPost;
        req.body = ServerBody("vm" + std::to_string(i), image_id);
        req.headers.Set("Content-Type", "application/json");
        req.headers.Set("X-Auth-Token", tokens[i % tokens.size()]);
        req.headers.Set("OpenStack-API-Version", "compute 2.37");
        posts.push_back(
            boost::asio::co_spawn(io_, client_->Send(cloudlet_->BaseUrl() + "/compute/v2.1/servers", std::move(req)),
                                  boost::asio::use_future));
    }
    int refused = 0;
    std::vector<std::pair<std::string, std::string>> accepted;  // server id, token
    shoal::testing::Run(io_, [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(io_);
        for (auto& f : posts)
            while (f.wait_for(0s) != std::future_status::ready) {
                t.expires_after(1ms);
                co_await t.async_wait(boost::asio::use_awaitable);
            }
    }());
    for (int i = 0; i < kBoots; ++i) {
        auto r = posts[i].get();
        ASSERT_TRUE(r.ok()) << "request " << i << " got no HTTP answer: " << r.error().message;
        if (r->status == 202) {
            accepted.emplace_back(r->JsonBody().value()["server"]["id"], tokens[i % tokens.size()]);
        } else {
            ++refused;
            EXPECT_GE(r->status, 400) << r->body;
            auto body = r->JsonBody();
            ASSERT_TRUE(body.ok()) << r->body;
            EXPECT_FALSE(http::ErrorMessageOf(*r).empty()) << r->body;
        }
    }
    EXPECT_EQ(refused + static_cast<int>(accepted.size()), kBoots);

    // Every accepted server settles in ACTIVE or ERROR (with a fault); none stays in BUILD.
    int active = 0, error = 0;
    for (const auto& [id, token] : accepted) {
        std::string status;
        for (int attempt = 0; attempt < 500; ++attempt) {
            auto s = Call(Method::kGet, "/compute/v2.1/servers/" + id, {}, token);
            ASSERT_EQ(s.status, 200) << "server " << id << " vanished: " << s.body;
            auto j = s.JsonBody().value()["server"];
            status = j["status"];
            if (status == "ERROR") {
                ASSERT_TRUE(j.contains("fault")) << j.dump();
                EXPECT_NE(j["fault"]["message"].get<std::string>().find("No valid host"), std::string::npos)
                    << j.dump();
            }
            if (status == "ACTIVE" || status == "ERROR") break;
            shoal::testing::RunFor(io_, 20ms);
        }
        if (status == "ACTIVE")
            ++active;
        else if (status == "ERROR")
            ++error;
        else
            ADD_FAILURE() << "server " << id << " still " << status;
    }
    EXPECT_LE(active, 8);  // capacity
    EXPECT_GT(refused + error, 0) << "the model admitted everything: the test did not overload it";
    std::cout << "overload: " << kBoots << " boots -> " << active << " ACTIVE, " << error << " ERROR, " << refused
              << " refused by the API\n";
}

}  // namespace
}  // namespace shoal::emulator

namespace shoal::emulator {
namespace {

// With a state file, a restarted cloudlet has the same tenants, images and servers.
class CloudletDurability : public CloudletFixture {};

TEST_F(CloudletDurability, StateSurvivesARestart) {
    auto dir = std::filesystem::temp_directory_path() / ("shoal-durable-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto config = SmallCloudlet();
    config.state_path = (dir / "state.db").string();
    config.data_dir = (dir / "data").string();
    StartCloudlet(config);
    std::string admin = AdminToken();
    std::string tenant = CreateTenant(admin, "durable");
    auto img = Call(Method::kPost, "/image/v2/images",
                    R"({"name": "keep", "disk_format": "raw", "container_format": "bare"})", tenant);
    ASSERT_EQ(img.status, 201) << img.body;
    std::string image_id = img.JsonBody().value()["id"];
    http::Request up;
    up.method = Method::kPut;
    up.body = "durable bytes";
    up.headers.Set("Content-Type", "application/octet-stream");
    up.headers.Set("X-Auth-Token", tenant);
    auto put =
        shoal::testing::Run(io_, client_->Send(cloudlet_->BaseUrl() + "/image/v2/images/" + image_id + "/file", up));
    ASSERT_TRUE(put.ok());
    ASSERT_EQ(put->status, 204);
    auto created =
        Call(Method::kPost, "/compute/v2.1/servers", ServerBody("vm", image_id), tenant, Microversion("2.37"));
    ASSERT_EQ(created.status, 202) << created.body;
    std::string server_id = created.JsonBody().value()["server"]["id"];
    for (int i = 0; i < 200; ++i) {
        auto s = Call(Method::kGet, "/compute/v2.1/servers/" + server_id, {}, tenant);
        if (s.JsonBody().value()["server"]["status"] == "ACTIVE") break;
        shoal::testing::RunFor(io_, 10ms);
    }

    // Restart: a new Cloudlet object on the same state file (a new port too).
    shoal::testing::Run(io_, cloudlet_->Stop());
    cloudlet_.reset();
    StartCloudlet(config);
    std::string again = Token("durable", "pw", "durable");  // the user and its role came back
    ASSERT_FALSE(again.empty());
    auto s = Call(Method::kGet, "/compute/v2.1/servers/" + server_id, {}, again);
    ASSERT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(s.JsonBody().value()["server"]["status"], "ACTIVE");
    auto i = Call(Method::kGet, "/image/v2/images/" + image_id, {}, again);
    ASSERT_EQ(i.status, 200) << i.body;
    EXPECT_EQ(i.JsonBody().value()["status"], "active");
    auto data = Call(Method::kGet, "/image/v2/images/" + image_id + "/file", {}, again);
    EXPECT_EQ(data.body, "durable bytes");
    // The old token is still valid too (tokens are state).
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/servers", {}, tenant).status, 200);
    shoal::testing::Run(io_, cloudlet_->Stop());
    cloudlet_.reset();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shoal::emulator
