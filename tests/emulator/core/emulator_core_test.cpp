#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>

#include "async_test.hpp"
#include "emulator/core/api_gate.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "emulator/core/document_store.hpp"

namespace shoal::emulator {
namespace {

using namespace std::chrono_literals;

TEST(CloudletConfig, ReadsKnownKeysAndRefusesTypos) {
    auto c = CloudletConfigFromJson(nlohmann::json::parse(R"({
        "name": "c7", "hypervisors": {"count": 3, "memory_mb": 4096},
        "controller": {"api_workers": 2, "max_concurrent_builds": 5}, "boot_delay_ms": 10})"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->name, "c7");
    EXPECT_EQ(c->hypervisors.count, 3);
    EXPECT_EQ(c->hypervisors.memory_mb, 4096);
    EXPECT_EQ(c->controller.api_workers, 2);
    EXPECT_EQ(c->boot_delay, 10ms);
    EXPECT_FALSE(c->flavors.empty());  // the classic m1.* set by default

    auto typo = CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisor": {"count": 3}})"));
    ASSERT_FALSE(typo.ok());
    EXPECT_NE(typo.error().message.find("hypervisor"), std::string::npos);
    auto nested = CloudletConfigFromJson(nlohmann::json::parse(R"({"controller": {"api_worker": 3}})"));
    ASSERT_FALSE(nested.ok());
    EXPECT_NE(nested.error().message.find("controller.api_worker"), std::string::npos);
    EXPECT_FALSE(CloudletConfigFromJson(nlohmann::json::parse(R"({"port": "eighty"})")).ok());
    EXPECT_FALSE(CloudletConfigFromJson(nlohmann::json::parse(R"({"quota": {"instance": 3}})")).ok());
    EXPECT_FALSE(CloudletConfigFromJson(nlohmann::json::parse(R"({"quota": {"cores": -2}})")).ok());
    auto quota = CloudletConfigFromJson(nlohmann::json::parse(R"({"quota": {"instances": -1, "ram_mb": 1024}})"));
    ASSERT_TRUE(quota.ok());
    EXPECT_EQ(quota->quota.instances, -1);
    EXPECT_EQ(quota->quota.cores, 20);  // Nova's default stays
    EXPECT_EQ(quota->quota.ram_mb, 1024);
    EXPECT_FALSE(CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisors": {"vcpus": 0}})")).ok());
    EXPECT_FALSE(LoadCloudletConfig("/nonexistent/shoal.json").ok());
}

TEST(CloudletConfig, SpawnFailureRateIsAShareBetweenZeroAndOne) {
    EXPECT_EQ(CloudletConfigFromJson(nlohmann::json::object())->hypervisors.spawn_failure_rate, 0.0);
    auto half = CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisors": {"spawn_failure_rate": 0.5}})"));
    ASSERT_TRUE(half.ok()) << half.error().message;
    EXPECT_EQ(half->hypervisors.spawn_failure_rate, 0.5);
    EXPECT_TRUE(CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisors": {"spawn_failure_rate": 1}})")).ok());
    auto high = CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisors": {"spawn_failure_rate": 1.5}})"));
    ASSERT_FALSE(high.ok());
    EXPECT_NE(high.error().message.find("spawn_failure_rate"), std::string::npos) << high.error().message;
    EXPECT_FALSE(
        CloudletConfigFromJson(nlohmann::json::parse(R"({"hypervisors": {"spawn_failure_rate": -0.1}})")).ok());
}

TEST(SqliteStore, WritesSurviveReopening) {
    auto path = (std::filesystem::temp_directory_path() / ("shoal-store-" + std::to_string(getpid()) + ".db")).string();
    std::filesystem::remove(path);
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok()) << store.error().message;
        (*store)->Put("servers", "a", {{"name", "one"}});
        (*store)->Put("servers", "b", {{"name", "two"}});
        (*store)->Put("servers", "a", {{"name", "uno"}});
        (*store)->Put("images", "i", {{"size", 3}});
        (*store)->Erase("servers", "b");
        EXPECT_TRUE((*store)->Durable());
    }
    auto store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
    auto servers = (*store)->LoadAll("servers");
    ASSERT_EQ(servers.size(), 1u);
    EXPECT_EQ(servers[0].first, "a");
    EXPECT_EQ(servers[0].second["name"], "uno");
    EXPECT_EQ((*store)->LoadAll("images").size(), 1u);
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
}

TEST(SqliteStore, UnwritableLocationIsAnError) {
    EXPECT_FALSE(OpenSqliteStore("/nonexistent-dir/x/state.db").ok());
}

TEST(Gate, AdmitsUpToWorkersQueuesTheRestAndRefusesBeyondTheQueue) {
    boost::asio::io_context io;
    Gate gate(io.get_executor(), 2, 1, 10'000ms);
    std::vector<Gate::Permit> held;
    for (int i = 0; i < 2; ++i) {
        auto p = shoal::testing::Run(io, gate.Acquire());
        ASSERT_TRUE(p.ok());
        held.push_back(std::move(p).value());
    }
    EXPECT_EQ(gate.InUse(), 2);
    auto waiting = boost::asio::co_spawn(io, gate.Acquire(), boost::asio::use_future);
    shoal::testing::RunFor(io, 10ms);
    EXPECT_EQ(gate.Waiting(), 1);
    auto refused = shoal::testing::Run(io, gate.Acquire());  // the queue (1) is full
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(gate.Rejected(), 1u);
    held.pop_back();  // frees a slot: handed to the waiter
    shoal::testing::RunFor(io, 10ms);
    ASSERT_EQ(waiting.wait_for(0s), std::future_status::ready);
    auto admitted = waiting.get();
    EXPECT_TRUE(admitted.ok());
    EXPECT_EQ(gate.InUse(), 2);
}

TEST(Gate, WaitersGiveUpAfterTheTimeout) {
    boost::asio::io_context io;
    Gate gate(io.get_executor(), 1, 10, 50ms);
    auto first = shoal::testing::Run(io, gate.Acquire());
    ASSERT_TRUE(first.ok());
    auto second = shoal::testing::Run(io, gate.Acquire());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(gate.TimedOut(), 1u);
    EXPECT_EQ(gate.Waiting(), 0);
}

}  // namespace
}  // namespace shoal::emulator
