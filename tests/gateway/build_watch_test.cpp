// The build watch (gateway::BuildWatch) of the agent beside a cloudlet: homes long-poll
// GET /a2a/v1/builds/{id}, the agent lists its cloudlet once per period for all of them. Through
// a whole agent and its embedded cloudlet, over signed A2A.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "a2a/peer_client.hpp"
#include "a2a/routes.hpp"
#include "agent/agent.hpp"
#include "agent_test_support.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "http/client.hpp"

namespace shoal::gateway {
namespace {

using nlohmann::json;
using shoal::testing::kClusterSecret;
using shoal::testing::TestAgentConfig;

class BuildWatchTest : public ::testing::Test {
protected:
    void StartAgent(double spawn_failure_rate) {
        auto config = TestAgentConfig("watcher", {});
        config.cloudlet.reset();
        emulator::CloudletConfig cloudlet;
        cloudlet.name = "watcher";
        cloudlet.boot_delay = std::chrono::milliseconds(600);
        cloudlet.hypervisors.spawn_failure_rate = spawn_failure_rate;
        cloudlet.quota = {-1, -1, -1};
        config.embedded_cloudlet = cloudlet;
        agent_ = std::make_unique<agent::Agent>(io_.get_executor(), config);
        ASSERT_TRUE(agent_->Start().ok());
    }
    void TearDown() override {
        if (agent_) shoal::testing::Run(io_, agent_->Stop());
    }
    // A raw call to the cloudlet through the agent, as tenant "t1".
    http::Response CloudletCall(const std::string& service,
                                const std::string& method,
                                const std::string& path,
                                const std::string& body,
                                const std::string& extra_query = "",
                                const std::string& content_type = "application/json") {
        http::Request req;
        req.method = http::Method::kPost;
        req.SetTarget(std::string(a2a::kCloudletRelayRoute.path) + "?tenant=t1&service=" + service +
                      "&method=" + method + "&path=" + http::UrlEncode(path) + extra_query);
        req.body = body;
        req.headers.Set("Content-Type", content_type);
        auto r = shoal::testing::Run(io_, peers_.Send(agent_->Address(), std::move(req), std::chrono::seconds(20)));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? *r : http::Response{};
    }
    std::string BootOne(const std::string& image) {
        json server = {{"server", {{"name", "w"}, {"imageRef", image}, {"flavorRef", "1"}}}};
        auto r = CloudletCall("compute", "POST", "/servers", server.dump(), "&reserve=512");
        EXPECT_EQ(r.status, 202) << r.body;
        return r.JsonBody().ok() ? (*r.JsonBody())["server"].value("id", "") : "";
    }
    std::string Image() {
        json image = {{"name", "img"}, {"disk_format", "qcow2"}, {"container_format", "bare"}};
        auto created = CloudletCall("image", "POST", "/v2/images", image.dump());
        EXPECT_EQ(created.status, 201) << created.body;
        std::string id = (*created.JsonBody()).value("id", "");
        auto put = CloudletCall("image", "PUT", "/v2/images/" + id + "/file", std::string(1024, 'x'), "",
                                "application/octet-stream");
        EXPECT_EQ(put.status, 204) << put.body;
        return id;
    }
    json Builds(const std::string& id, int wait_ms) {
        auto r = shoal::testing::Run(io_, peers_.Call(agent_->Address(), http::Method::kGet,
                                                      "/a2a/v1/builds/" + id + "?wait_ms=" + std::to_string(wait_ms),
                                                      nullptr, std::chrono::seconds(20)));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? *r : json::object();
    }
    json Load() {
        auto r = shoal::testing::Run(
            io_, peers_.Call(agent_->Address(), http::Method::kGet, "/a2a/v1/load", nullptr, std::chrono::seconds(10)));
        return r.ok() ? (*r)["load"] : json::object();
    }

    boost::asio::io_context io_;
    http::Client http_{io_.get_executor()};
    a2a::PeerClient peers_{http_, kClusterSecret, "test"};
    std::unique_ptr<agent::Agent> agent_;
};

TEST_F(BuildWatchTest, ManyWaitingHomesShareOneListPerPeriodAndLearnEachBuildsEnd) {
    StartAgent(0.0);
    const auto image = Image();
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(BootOne(image));
    EXPECT_EQ(Load()["in_flight_builds"], 8);

    // All eight wait at once, as eight homes would.
    const auto start = std::chrono::steady_clock::now();
    std::vector<json> answers(ids.size());
    int pending = static_cast<int>(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        boost::asio::co_spawn(
            io_,
            [this, &answers, &pending, i, id = ids[i]]() -> boost::asio::awaitable<void> {
                auto r =
                    co_await peers_.Call(agent_->Address(), http::Method::kGet,
                                         "/a2a/v1/builds/" + id + "?wait_ms=20000", nullptr, std::chrono::seconds(30));
                if (r.ok()) answers[i] = *r;
                --pending;
            },
            [](const std::exception_ptr& e) {
                if (e) std::rethrow_exception(e);
            });
    }
    ASSERT_TRUE(shoal::testing::RunUntil(io_, [&] { return pending == 0; }));
    for (const auto& a : answers) EXPECT_EQ(a.value("status", ""), "ACTIVE") << a.dump();
    // At most one list per watch period (500 ms) for all eight, where one GET per build and
    // period would be eight.
    const auto periods =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count() / 500;
    const int lists = agent_->Status()["cloudlet"].value("build_watch_lists", -1);
    EXPECT_GE(lists, 1);
    EXPECT_LE(lists, periods + 1);
    // The builds' reservations are gone: the next placement sees the real load.
    EXPECT_EQ(Load()["in_flight_builds"], 0);
    // Asked again after the end: the verdict is kept, at once.
    EXPECT_EQ(Builds(ids[0], 20000).value("status", ""), "ACTIVE");
    // A server the agent does not watch: "" at once, the home asks the cloudlet itself.
    EXPECT_EQ(Builds("not-a-build", 20000).value("status", "x"), "");
}

TEST_F(BuildWatchTest, AFailedBuildIsReportedWithNovasFault) {
    StartAgent(1.0);
    const auto id = BootOne(Image());
    const auto answer = Builds(id, 20000);
    EXPECT_EQ(answer.value("status", ""), "ERROR");
    EXPECT_NE(answer.value("fault", "").find("Exceeded maximum number of retries"), std::string::npos) << answer.dump();
    EXPECT_EQ(Load()["in_flight_builds"], 0);
}

TEST_F(BuildWatchTest, AWaitEndsWithBuildWhenTheBuildOutlastsIt) {
    StartAgent(0.0);
    const auto id = BootOne(Image());
    EXPECT_EQ(Builds(id, 50).value("status", ""), "BUILD");
    EXPECT_EQ(Builds(id, 20000).value("status", ""), "ACTIVE");
}

}  // namespace
}  // namespace shoal::gateway
