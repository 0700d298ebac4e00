// The cloudlet client's pure parts: catalog discovery, refresh timing, names and passwords,
// and the memory-load arithmetic over Nova's and Placement's answers.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/keystone_session.hpp"
#include "cloudlet/memory_load.hpp"
#include "cloudlet/single_flight.hpp"

namespace shoal::cloudlet {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json Catalog() {
    auto svc = [](const char* type, const char* url, const char* region = "RegionOne") {
        json eps = json::array();
        for (const char* iface : {"admin", "internal", "public"})
            eps.push_back(
                {{"interface", iface},
                 {"region", region},
                 {"region_id", region},
                 {"url", std::string(url) + (std::string(iface) == "public" ? "" : "-" + std::string(iface))}});
        return json{{"type", type}, {"endpoints", eps}};
    };
    json c = json::array();
    c.push_back(svc("identity", "http://h/identity/"));
    c.push_back(svc("image", "http://h:9292//"));
    c.push_back(svc("compute", "http://h:8774/v2.1/abc123"));
    c.push_back(svc("compute", "http://other/v2.1", "RegionTwo"));
    c.push_back(svc("placement", "http://h/placement"));
    return c;
}

TEST(CloudletCatalog, FindsPublicEndpointsOfTheRegionWithoutTrailingSlashes) {
    auto e = DiscoverEndpoints(Catalog(), "public", "RegionOne", "abc123");
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->identity, "http://h/identity");
    EXPECT_EQ(e->image, "http://h:9292");
    EXPECT_EQ(e->placement, "http://h/placement");
    // Nova's old-style endpoint carried the admin's project id: each call puts its own there.
    EXPECT_EQ(e->compute, "http://h:8774/v2.1");
    EXPECT_TRUE(e->compute_has_project_id);
    EXPECT_EQ(e->Url(Service::kCompute, "tenantproj"), "http://h:8774/v2.1/tenantproj");
    EXPECT_EQ(e->Url(Service::kImage, "tenantproj"), "http://h:9292");

    auto two = DiscoverEndpoints(Catalog(), "public", "RegionTwo", "abc123");
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(two->compute, "http://other/v2.1");
    EXPECT_FALSE(two->compute_has_project_id);
    EXPECT_TRUE(two->image.empty());  // no image service in RegionTwo

    auto internal = FindEndpoint(Catalog(), "placement", "internal", "RegionOne");
    ASSERT_TRUE(internal.ok());
    EXPECT_EQ(*internal, "http://h/placement-internal");
    EXPECT_FALSE(FindEndpoint(Catalog(), "volumev3", "public", "RegionOne").ok());
    EXPECT_FALSE(DiscoverEndpoints(json::object(), "public", "RegionOne", "").ok());
}

TEST(CloudletCatalog, IdentityV3Normalises) {
    EXPECT_EQ(IdentityV3("http://h:5000"), "http://h:5000/v3");
    EXPECT_EQ(IdentityV3("http://h:5000/v3/"), "http://h:5000/v3");
    EXPECT_EQ(IdentityV3("http://h/identity/v3"), "http://h/identity/v3");
    EXPECT_EQ(IdentityV3("http://h/identity/"), "http://h/identity/v3");
}

TEST(CloudletTokens, RefreshFiveMinutesEarlyOrHalfWay) {
    EXPECT_EQ(RefreshAfter(3600s, 300s), 3300s);
    EXPECT_EQ(RefreshAfter(600s, 300s), 300s);
    EXPECT_EQ(RefreshAfter(120s, 300s), 60s);
    EXPECT_EQ(RefreshAfter(2s, 300s), 1s);
}

TEST(CloudletTenants, ShadowNamesAreStableAndFitKeystone) {
    EXPECT_EQ(ShadowName("shoal-", "t-42"), "shoal-t-42");
    std::string long_id(80, 'a');
    auto hashed = ShadowName("shoal-", long_id);
    EXPECT_EQ(hashed.size(), 6u + 2u + 40u);
    EXPECT_EQ(hashed.rfind("shoal-h-", 0), 0u);
    EXPECT_EQ(hashed, ShadowName("shoal-", long_id));
    EXPECT_NE(ShadowName("shoal-", "a/b"), "shoal-a/b");  // unsafe characters are hashed
    EXPECT_NE(ShadowName("shoal-", "a b"), ShadowName("shoal-", "a_b"));
    // Existing cloudlets hold users by these names: the derivation must never change.
    EXPECT_EQ(ShadowName("shoal-", "a/b"), "shoal-h-c14cddc033f64b9dea80ea675cf280a015e67251");
}

TEST(CloudletTenants, ShadowPasswordsAreDerivedPerSecretCloudletAndTenant) {
    auto p = ShadowPassword("s3cret", "http://h/identity/v3", "t1");
    EXPECT_EQ(p, ShadowPassword("s3cret", "http://h/identity/v3", "t1"));
    EXPECT_EQ(p.rfind("Sh0al-", 0), 0u);
    EXPECT_EQ(p.size(), 6u + 43u);  // base64url of 32 bytes, unpadded
    // Existing shadow users have this password: the derivation must never change.
    EXPECT_EQ(p, "Sh0al-6gARc-If3e5yH-kDkaIx2jWLg8quAeh0GTGCE0AxzdM");
    EXPECT_NE(p, ShadowPassword("other", "http://h/identity/v3", "t1"));
    EXPECT_NE(p, ShadowPassword("s3cret", "http://g/identity/v3", "t1"));
    EXPECT_NE(p, ShadowPassword("s3cret", "http://h/identity/v3", "t2"));
}

json Hypervisor(const char* state, const char* status, int total, int used) {
    return {{"state", state},
            {"status", status},
            {"memory_mb", total},
            {"memory_mb_used", used},
            {"free_ram_mb", total - used}};
}

TEST(CloudletMemory, HypervisorsCountOnlyUpAndEnabled) {
    json body = {
        {"hypervisors", json::array({Hypervisor("up", "enabled", 8192, 1024), Hypervisor("up", "enabled", 4096, 512),
                                     Hypervisor("down", "enabled", 65536, 0), Hypervisor("up", "disabled", 65536, 0),
                                     Hypervisor("up", "enabled", 2048, 3000)})}};  // overcommitted: counts 0 free
    auto m = MemoryFromHypervisors(body);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->free_ram_mb_max, 7168);
    EXPECT_EQ(m->free_ram_mb_total, 7168 + 3584);
    EXPECT_EQ(m->ram_mb_total, 8192 + 4096 + 2048);
    EXPECT_EQ(m->hypervisors, 3);
    EXPECT_EQ(m->source, MemorySource::kHypervisors);
}

TEST(CloudletMemory, HypervisorsWithoutMemoryFieldsAreNotImplemented) {
    json body = {{"hypervisors", json::array({{{"state", "up"}, {"status", "enabled"}, {"id", "x"}}})}};
    auto m = MemoryFromHypervisors(body);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, ErrorCode::kNotImplemented);
    EXPECT_FALSE(MemoryFromHypervisors(json::object()).ok());
    auto empty = MemoryFromHypervisors(json{{"hypervisors", json::array()}});
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->hypervisors, 0);
}

TEST(CloudletMemory, PlacementAppliesReservedRatioAndMaxUnit) {
    json inv = {
        {"inventories",
         {{"VCPU", {{"total", 16}}},
          {"MEMORY_MB", {{"total", 32768}, {"reserved", 512}, {"allocation_ratio", 1.5}, {"max_unit", 32768}}}}}};
    json use = {{"usages", {{"MEMORY_MB", 4096}, {"VCPU", 2}}}};
    auto p = ParseProviderMemory(inv, use);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->Capacity(), 48384);  // (32768 - 512) * 1.5
    EXPECT_EQ(p->Free(), 44288);
    EXPECT_EQ(p->LargestFit(), 32768);  // one VM cannot exceed max_unit
    EXPECT_FALSE(ParseProviderMemory(json{{"inventories", {{"VCPU", {{"total", 4}}}}}}, use).has_value());

    ProviderMemory small;
    small.total = 4096;
    small.reserved = 512;
    small.used = 1024;
    auto m = MemoryFromProviders({*p, small});
    EXPECT_EQ(m.free_ram_mb_max, 32768);
    EXPECT_EQ(m.free_ram_mb_total, 44288 + 2560);
    EXPECT_EQ(m.ram_mb_total, 32768 + 4096);
    EXPECT_EQ(m.hypervisors, 2);
    EXPECT_EQ(m.source, MemorySource::kPlacement);
}

boost::asio::awaitable<Result<int>> SlowValue(boost::asio::io_context& io, int* runs, int value) {
    ++*runs;
    boost::asio::steady_timer t(io, 20ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return value;
}

TEST(CloudletSingleFlight, ConcurrentCallersShareOneRun) {
    boost::asio::io_context io;
    SingleFlight<Result<int>> flight;
    int runs = 0;
    std::vector<std::future<Result<int>>> results;
    for (int i = 0; i < 20; ++i) {
        // Named: g++ 12 mishandles capturing lambda temporaries passed to coroutines.
        SingleFlight<Result<int>>::Start start = [&io, &runs, i] { return SlowValue(io, &runs, i); };
        results.push_back(boost::asio::co_spawn(io, flight.Do("k", std::move(start)), boost::asio::use_future));
    }
    io.run();
    for (auto& f : results) {
        auto r = f.get();
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, 0);  // the first caller's run
    }
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(flight.Started(), 1u);
    EXPECT_EQ(flight.Joined(), 19u);
    EXPECT_FALSE(flight.InFlight("k"));
    // After it landed, the next caller runs again.
    io.restart();
    SingleFlight<Result<int>>::Start seven = [&io, &runs] { return SlowValue(io, &runs, 7); };
    auto again = boost::asio::co_spawn(io, flight.Do("k", std::move(seven)), boost::asio::use_future);
    io.run();
    EXPECT_EQ(*again.get(), 7);
    EXPECT_EQ(runs, 2);
}

boost::asio::awaitable<Result<int>> Throws(boost::asio::io_context& io) {
    boost::asio::steady_timer t(io, 10ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    throw std::runtime_error("boom");
}

TEST(CloudletSingleFlight, AThrowingRunReleasesItsWaiters) {
    boost::asio::io_context io;
    SingleFlight<Result<int>> flight;
    SingleFlight<Result<int>>::Start first = [&io] { return Throws(io); };
    SingleFlight<Result<int>>::Start second = [&io] { return Throws(io); };
    auto leader = boost::asio::co_spawn(io, flight.Do("k", std::move(first)), boost::asio::use_future);
    auto waiter = boost::asio::co_spawn(io, flight.Do("k", std::move(second)), boost::asio::use_future);
    io.run();
    EXPECT_THROW(leader.get(), std::runtime_error);
    auto w = waiter.get();
    EXPECT_FALSE(w.ok());  // the default Result: an error, never a hang
    EXPECT_FALSE(flight.InFlight("k"));
}

}  // namespace
}  // namespace shoal::cloudlet
