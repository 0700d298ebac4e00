// Nova's compute service API (os-services) in the emulated cloudlet: the list per microversion, the
// legacy and 2.53 ways to disable, enable and force down a nova-compute, the errors Nova answers,
// and the effect: a disabled or forced-down host is skipped by the scheduler while it keeps
// reporting its resources, and its placement provider carries COMPUTE_STATUS_DISABLED.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "common/ids.hpp"
#include "emulator/placement/placement_service.hpp"
#include "nova_test_fixture.hpp"

namespace shoal::emulator {
namespace {

using namespace nova_test;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kNoValidHost = "No valid host was found. There are not enough hosts available.";

class NovaServicesTest : public NovaTest {
protected:
    http::Response Put(const std::string& path,
                       const json& body,
                       const char* token = kAdmin,
                       const std::string& version = {}) {
        return Send(http::Method::kPut, "/compute/v2.1" + path, body, token, version);
    }
    json Services(const std::string& query = {}, const std::string& version = {}) {
        auto r = Get("/os-services" + query, kAdmin, version);
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r)["services"];
    }
    json Service(const std::string& host, const std::string& version = "2.53") {
        auto list = Services("?binary=nova-compute&host=" + host, version);
        EXPECT_EQ(list.size(), 1u) << list;
        return list.empty() ? json() : list[0];
    }
    std::string ServiceId(const std::string& host) { return Service(host)["id"]; }
    json Hypervisor(const std::string& host) {
        auto list = Body(Get("/os-hypervisors/detail", kAdmin))["hypervisors"];
        for (const auto& h : list)
            if (h["hypervisor_hostname"] == host) return h;
        ADD_FAILURE() << "no hypervisor " << host;
        return json();
    }
    http::Response Disable(const std::string& host, const char* token = kAdmin) {
        return Put("/os-services/disable", {{"host", host}, {"binary", "nova-compute"}}, token);
    }
    // Creates a server as alice and waits until it is ACTIVE or in ERROR.
    json Boot(const std::string& name) {
        std::string id = Create(name);
        EXPECT_TRUE(RunUntil([&] {
            auto st = Show(id)["status"];
            return st == "ACTIVE" || st == "ERROR";
        }));
        return Show(id, kAdmin);
    }
};

using NovaServicesList = NovaServicesTest;
using NovaServicesLegacy = NovaServicesTest;
using NovaServicesUpdate = NovaServicesTest;
using NovaServicesScheduling = NovaServicesTest;

// ------------------------------------------------------------------ list

TEST_F(NovaServicesList, ShapesFollowTheMicroversion) {
    auto denied = Get("/os-services");
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(Message(denied), "Policy doesn't allow os_compute_api:os-services:list to be performed.");

    auto v21 = Services();
    ASSERT_EQ(v21.size(), 4u);
    EXPECT_EQ(v21[0]["binary"], "nova-conductor");
    EXPECT_EQ(v21[1]["binary"], "nova-scheduler");
    for (int i : {0, 1}) {
        EXPECT_EQ(v21[i]["host"], "t-controller");
        EXPECT_EQ(v21[i]["zone"], "internal");
    }
    const auto& compute = v21[2];
    std::set<std::string> keys;
    for (const auto& [k, v] : compute.items()) keys.insert(k);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "binary", "host", "zone", "status", "state", "updated_at",
                                           "disabled_reason"}));
    EXPECT_EQ(compute["id"], 3);
    EXPECT_EQ(compute["binary"], "nova-compute");
    EXPECT_EQ(compute["host"], "t-compute-1");  // the hypervisor's service.host
    EXPECT_EQ(compute["zone"], "nova");
    EXPECT_EQ(compute["status"], "enabled");
    EXPECT_EQ(compute["state"], "up");
    EXPECT_TRUE(compute["disabled_reason"].is_null());
    EXPECT_TRUE(Shaped(compute["updated_at"], "dddd-dd-ddTdd:dd:dd.dddddd")) << compute["updated_at"];
    EXPECT_EQ(Hypervisor("t-compute-1")["service"]["id"], 3);

    auto v211 = Services({}, "2.11");
    EXPECT_EQ(v211[2]["id"], 3);
    EXPECT_EQ(v211[2]["forced_down"], false);

    auto v253 = Services({}, "2.53");
    EXPECT_TRUE(IsUuid(v253[2]["id"].get<std::string>()));
    EXPECT_EQ(v253[2]["forced_down"], false);
    EXPECT_EQ(Body(Get("/os-hypervisors/detail", kAdmin, "2.53"))["hypervisors"][0]["service"]["id"], v253[2]["id"]);

    EXPECT_EQ(Services("?binary=nova-compute").size(), 2u);
    EXPECT_EQ(Services("?host=t-controller").size(), 2u);
    EXPECT_EQ(Services("?host=t-compute-2&binary=nova-compute")[0]["id"], 4);
    EXPECT_EQ(Services("?host=nowhere").size(), 0u);
    EXPECT_EQ(Services("?host=").size(), 4u);  // an empty filter filters nothing
    EXPECT_EQ(Services("?other=1").size(), 4u);
    EXPECT_EQ(Message(Get("/os-services?other=1", kAdmin, "2.75")),
              "Additional properties are not allowed ('other' was unexpected)");
}

// ------------------------------------------------------------------ before 2.53: by host and binary

TEST_F(NovaServicesLegacy, DisableWithAndWithoutReasonThenEnable) {
    auto r = Disable("t-compute-1");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r),
              json({{"service", {{"host", "t-compute-1"}, {"binary", "nova-compute"}, {"status", "disabled"}}}}));
    auto s = Service("t-compute-1", "2.1");
    EXPECT_EQ(s["status"], "disabled");
    EXPECT_EQ(s["state"], "up");
    EXPECT_TRUE(s["disabled_reason"].is_null());
    EXPECT_EQ(Service("t-compute-2", "2.1")["status"], "enabled");

    r = Put("/os-services/disable-log-reason",
            {{"host", "t-compute-1"}, {"binary", "nova-compute"}, {"disabled_reason", "maintenance"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r), json({{"service",
                              {{"host", "t-compute-1"},
                               {"binary", "nova-compute"},
                               {"status", "disabled"},
                               {"disabled_reason", "maintenance"}}}}));
    EXPECT_EQ(Service("t-compute-1")["disabled_reason"], "maintenance");
    auto hv = Hypervisor("t-compute-1");
    EXPECT_EQ(hv["status"], "disabled");
    EXPECT_EQ(hv["state"], "up");
    EXPECT_EQ(hv["service"]["disabled_reason"], "maintenance");

    r = Put("/os-services/enable", {{"host", "t-compute-1"}, {"binary", "nova-compute"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r),
              json({{"service", {{"host", "t-compute-1"}, {"binary", "nova-compute"}, {"status", "enabled"}}}}));
    s = Service("t-compute-1");
    EXPECT_EQ(s["status"], "enabled");
    EXPECT_TRUE(s["disabled_reason"].is_null());
    EXPECT_EQ(Hypervisor("t-compute-1")["status"], "enabled");
}

TEST_F(NovaServicesLegacy, ForceDownFrom2_11) {
    json body = {{"host", "t-compute-2"}, {"binary", "nova-compute"}, {"forced_down", true}};
    auto r = Put("/os-services/force-down", body, kAdmin, "2.11");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r),
              json({{"service", {{"host", "t-compute-2"}, {"binary", "nova-compute"}, {"forced_down", true}}}}));
    auto s = Service("t-compute-2", "2.11");
    EXPECT_EQ(s["forced_down"], true);
    EXPECT_EQ(s["state"], "down");
    EXPECT_EQ(s["status"], "enabled");
    EXPECT_EQ(Hypervisor("t-compute-2")["state"], "down");

    body["forced_down"] = "no";
    ASSERT_EQ(Put("/os-services/force-down", body, kAdmin, "2.11").status, 200);
    EXPECT_EQ(Service("t-compute-2")["state"], "up");

    // Before 2.11 there is no such action, and the body may not carry forced_down.
    EXPECT_EQ(Message(Put("/os-services/force-down", {{"host", "t-compute-2"}, {"binary", "nova-compute"}})),
              "Unknown action");
    EXPECT_EQ(Message(Put("/os-services/disable", body)),
              "Additional properties are not allowed ('forced_down' was unexpected)");
    EXPECT_EQ(
        Message(Put("/os-services/force-down", {{"host", "t-compute-2"}, {"binary", "nova-compute"}}, kAdmin, "2.11")),
        "Missing forced_down field");
}

TEST_F(NovaServicesLegacy, ErrorsInNovasWords) {
    auto expect = [&](const json& body, int status, const std::string& message, const std::string& action = "disable",
                      const char* token = kAdmin) {
        auto r = Put("/os-services/" + action, body, token);
        EXPECT_EQ(r.status, status) << body << " " << r.body;
        EXPECT_EQ(Message(r), message) << body;
    };
    json ok = {{"host", "t-compute-1"}, {"binary", "nova-compute"}};
    expect(ok, 403, "Policy doesn't allow os_compute_api:os-services:update to be performed.", "disable", kAlice);
    expect({{"binary", "nova-compute"}}, 400, "'host' is a required property");
    expect({{"host", "t-compute-1"}}, 400, "'binary' is a required property");
    expect(json::array(), 400, "[] is not of type 'object'");
    expect({{"host", "t compute"}, {"binary", "nova-compute"}}, 400,
           "Invalid input for field/attribute host. Value: t compute. 't compute' does not match "
           "'^[a-zA-Z0-9-._]*$'");
    expect({{"host", 1}, {"binary", "nova-compute"}}, 400,
           "Invalid input for field/attribute host. Value: 1. 1 is not of type 'string'");
    expect({{"host", "t-compute-1"}, {"binary", ""}}, 400,
           "Invalid input for field/attribute binary. Value: . '' is too short");
    expect({{"host", "t-compute-1"}, {"binary", "nova-compute"}, {"zone", "nova"}}, 400,
           "Additional properties are not allowed ('zone' was unexpected)");
    expect(ok, 404, "Unknown action", "reboot");
    expect(ok, 400, "Missing disabled reason field", "disable-log-reason");
    expect({{"host", "t-controller"}, {"binary", "nova-scheduler"}}, 400,
           "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.");
    expect({{"host", "elsewhere"}, {"binary", "nova-compute"}}, 404, "Host 'elsewhere' is not mapped to any cell");
    // A UUID is no action before 2.53.
    expect(json::object(), 400, "'host' is a required property", ServiceId("t-compute-1"));
    expect(ok, 404, "Unknown action", ServiceId("t-compute-1"));
    EXPECT_EQ(Service("t-compute-1")["status"], "enabled");
}

// ------------------------------------------------------------------ from 2.53: by id

TEST_F(NovaServicesUpdate, DisableForceDownAndEnableById) {
    std::string id = ServiceId("t-compute-1");
    auto r = Put("/os-services/" + id, {{"status", "disabled"}, {"disabled_reason", "maintenance"}}, kAdmin, "2.53");
    ASSERT_EQ(r.status, 200) << r.body;
    auto s = Body(r)["service"];
    EXPECT_EQ(s["id"], id);
    EXPECT_EQ(s["binary"], "nova-compute");
    EXPECT_EQ(s["host"], "t-compute-1");
    EXPECT_EQ(s["zone"], "nova");
    EXPECT_EQ(s["status"], "disabled");
    EXPECT_EQ(s["state"], "up");
    EXPECT_EQ(s["disabled_reason"], "maintenance");
    EXPECT_EQ(s["forced_down"], false);
    EXPECT_TRUE(s.contains("updated_at"));
    EXPECT_EQ(Service("t-compute-1")["disabled_reason"], "maintenance");

    r = Put("/os-services/" + id, {{"forced_down", true}}, kAdmin, "2.53");
    ASSERT_EQ(r.status, 200) << r.body;
    s = Body(r)["service"];
    EXPECT_EQ(s["forced_down"], true);
    EXPECT_EQ(s["state"], "down");
    EXPECT_EQ(s["status"], "disabled");  // forced_down alone leaves the status

    r = Put("/os-services/" + id, {{"status", "enabled"}, {"forced_down", "false"}}, kAdmin, "2.79");
    ASSERT_EQ(r.status, 200) << r.body;
    s = Body(r)["service"];
    EXPECT_EQ(s["status"], "enabled");
    EXPECT_EQ(s["state"], "up");
    EXPECT_TRUE(s["disabled_reason"].is_null());
    EXPECT_EQ(s["forced_down"], false);

    // Disabling again without a reason clears the old one.
    ASSERT_EQ(Put("/os-services/" + id, {{"status", "disabled"}, {"disabled_reason", "x"}}, kAdmin, "2.53").status,
              200);
    r = Put("/os-services/" + id, {{"status", "disabled"}}, kAdmin, "2.53");
    EXPECT_TRUE(Body(r)["service"]["disabled_reason"].is_null());
}

TEST_F(NovaServicesUpdate, ErrorsInNovasWords) {
    std::string id = ServiceId("t-compute-1");
    auto expect = [&](const std::string& target, const json& body, int status, const std::string& message,
                      const char* token = kAdmin) {
        auto r = Put("/os-services/" + target, body, token, "2.53");
        EXPECT_EQ(r.status, status) << body << " " << r.body;
        EXPECT_EQ(Message(r), message) << body;
    };
    expect(id, {{"status", "disabled"}}, 403, "Policy doesn't allow os_compute_api:os-services:update to be performed.",
           kAlice);
    expect(id, json::object(), 400, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    expect(id, {{"disabled_reason", "why"}}, 400,
           "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    expect(id, {{"status", "enabled"}, {"disabled_reason", "why"}}, 400,
           "Specifying 'disabled_reason' with status 'enabled' is invalid.");
    expect(id, {{"status", "off"}}, 400,
           "Invalid input for field/attribute status. Value: off. 'off' is not one of ['enabled', 'disabled']");
    expect(id, {{"status", true}}, 400,
           "Invalid input for field/attribute status. Value: True. True is not of type 'string'");
    expect(id, {{"status", "disabled"}, {"disabled_reason", ""}}, 400,
           "Invalid input for field/attribute disabled_reason. Value: . '' is too short");
    expect(id, {{"forced_down", "maybe"}}, 400,
           "Invalid input for field/attribute forced_down. Value: maybe. 'maybe' is not one of [True, 'True', "
           "'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', "
           "'OFF', 'Off', 'off', 'NO', 'No', 'no']");
    // The legacy body and actions are gone at 2.53.
    expect("disable", {{"host", "t-compute-1"}}, 400, "Additional properties are not allowed ('host' was unexpected)");
    expect("disable", {{"status", "disabled"}}, 400, "Invalid uuid disable");
    expect("3", {{"status", "disabled"}}, 400, "Invalid uuid 3");
    std::string unknown = NewUuid();
    expect(unknown, {{"status", "disabled"}}, 404, "Service " + unknown + " could not be found.");
    std::string scheduler = Services("?binary=nova-scheduler", "2.53")[0]["id"];
    expect(scheduler, {{"status", "disabled"}}, 400,
           "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.");
    EXPECT_EQ(Services("?binary=nova-scheduler", "2.53")[0]["status"], "enabled");
    EXPECT_EQ(Service("t-compute-1")["status"], "enabled");
}

// ------------------------------------------------------------------ what a disabled compute means

TEST_F(NovaServicesScheduling, EveryComputeDisabledMeansNoValidHost) {
    auto before = Hypervisor("t-compute-1");
    ASSERT_EQ(Disable("t-compute-1").status, 200);
    ASSERT_EQ(Disable("t-compute-2").status, 200);

    auto failed = Boot("refused");
    EXPECT_EQ(failed["status"], "ERROR");
    EXPECT_EQ(failed["fault"]["code"], 500);
    EXPECT_EQ(failed["fault"]["message"], kNoValidHost);
    EXPECT_TRUE(failed["OS-EXT-SRV-ATTR:host"].is_null());
    EXPECT_TRUE(stack_->compute->Allocations().empty());

    // The hypervisors still report their resources, as Nova's compute node records do.
    auto after = Hypervisor("t-compute-1");
    EXPECT_EQ(after["status"], "disabled");
    EXPECT_EQ(after["state"], "up");
    EXPECT_EQ(after["free_ram_mb"], before["free_ram_mb"]);
    EXPECT_EQ(after["free_ram_mb"], 8192 - 512);
    EXPECT_EQ(after["memory_mb"], 8192);
    // The statistics sum enabled computes only (db.compute_node_statistics).
    auto stats = Body(Get("/os-hypervisors/statistics", kAdmin))["hypervisor_statistics"];
    EXPECT_EQ(stats["count"], 0);
    EXPECT_EQ(stats["free_ram_mb"], 0);
    // The zone has no enabled service left.
    auto zones = Body(Get("/os-availability-zone"))["availabilityZoneInfo"];
    ASSERT_EQ(zones.size(), 1u);
    EXPECT_EQ(zones[0]["zoneState"]["available"], false);

    ASSERT_EQ(Put("/os-services/enable", {{"host", "t-compute-2"}, {"binary", "nova-compute"}}).status, 200);
    auto booted = Boot("accepted");
    EXPECT_EQ(booted["status"], "ACTIVE");
    EXPECT_EQ(booted["OS-EXT-SRV-ATTR:host"], "t-compute-2");
    EXPECT_EQ(Body(Get("/os-availability-zone"))["availabilityZoneInfo"][0]["zoneState"]["available"], true);
    EXPECT_EQ(Body(Get("/os-hypervisors/statistics", kAdmin))["hypervisor_statistics"]["count"], 1);
}

TEST_F(NovaServicesScheduling, DisabledAndForcedDownHostsAreSkipped) {
    // Make t-compute-2 the host the RAM weigher prefers, then take it out of scheduling.
    std::string first = Boot("first")["OS-EXT-SRV-ATTR:host"];
    std::string other = first == "t-compute-1" ? "t-compute-2" : "t-compute-1";
    ASSERT_EQ(Disable(other).status, 200);
    EXPECT_EQ(Boot("second")["OS-EXT-SRV-ATTR:host"], first);
    ASSERT_EQ(Put("/os-services/enable", {{"host", other}, {"binary", "nova-compute"}}).status, 200);

    ASSERT_EQ(Put("/os-services/" + ServiceId(other), {{"forced_down", true}}, kAdmin, "2.53").status, 200);
    EXPECT_EQ(Boot("third")["OS-EXT-SRV-ATTR:host"], first);
    EXPECT_EQ(Hypervisor(other)["state"], "down");
    EXPECT_EQ(Hypervisor(other)["status"], "enabled");
    ASSERT_EQ(Put("/os-services/" + ServiceId(other), {{"forced_down", false}}, kAdmin, "2.53").status, 200);
    EXPECT_EQ(Boot("fourth")["OS-EXT-SRV-ATTR:host"], other);

    // A server asked onto a disabled host (2.74) finds no valid host either.
    ASSERT_EQ(Disable(other).status, 200);
    auto r = Post("/servers", ServerBody("pinned", {{"host", other}}), kAdmin, "2.74");
    ASSERT_EQ(r.status, 202) << r.body;
    std::string pinned = Body(r)["server"]["id"];
    ASSERT_TRUE(WaitStatus(pinned, "ERROR", kAdmin));
    EXPECT_EQ(Show(pinned, kAdmin)["fault"]["message"], kNoValidHost);
}

TEST_F(NovaServicesScheduling, PlacementTagsTheDisabledProvider) {
    PlacementService placement(stack_->ctx, *stack_->compute);
    stack_->router.SetErrorStyle(std::string(kPlacementPrefix), http::ErrorStyle::kPlacement);
    placement.AddRoutes(stack_->router);
    auto get = [&](const std::string& path) {
        auto req = MakeRequest(http::Method::kGet, "/placement" + path, "", kAdmin);
        req.headers.Set("OpenStack-API-Version", "placement 1.39");
        auto r = shoal::testing::Run(io_, stack_->router.Dispatch(req));
        EXPECT_EQ(r.status, 200) << path << " " << r.body;
        return Body(r);
    };
    const auto& hv = stack_->compute->Hypervisors()[0];
    auto traits_before = get("/resource_providers/" + hv.uuid + "/traits");
    std::uint64_t generation = traits_before["resource_provider_generation"];
    auto has_disabled = [](const json& traits) {
        return std::find(traits.begin(), traits.end(), "COMPUTE_STATUS_DISABLED") != traits.end();
    };
    EXPECT_FALSE(has_disabled(traits_before["traits"]));

    ASSERT_EQ(Disable("t-compute-1").status, 200);
    auto traits = get("/resource_providers/" + hv.uuid + "/traits");
    EXPECT_TRUE(has_disabled(traits["traits"]));
    EXPECT_TRUE(std::is_sorted(traits["traits"].begin(), traits["traits"].end()));
    EXPECT_EQ(traits["resource_provider_generation"], generation + 1);
    // What shoal's cloudlet client and Nova's scheduler ask for.
    auto enabled = get("/resource_providers?required=!COMPUTE_STATUS_DISABLED")["resource_providers"];
    ASSERT_EQ(enabled.size(), 1u);
    EXPECT_EQ(enabled[0]["name"], "t-compute-2");
    EXPECT_EQ(
        get("/allocation_candidates?resources=VCPU:1&required=!COMPUTE_STATUS_DISABLED")["allocation_requests"].size(),
        1u);
    EXPECT_EQ(get("/traits?associated=true&name=in:COMPUTE_STATUS_DISABLED")["traits"].size(), 1u);

    // Forcing down is no trait change; enabling removes the trait.
    ASSERT_EQ(Put("/os-services/" + ServiceId("t-compute-1"), {{"forced_down", true}}, kAdmin, "2.53").status, 200);
    EXPECT_EQ(get("/resource_providers/" + hv.uuid + "/traits")["resource_provider_generation"], generation + 1);
    ASSERT_EQ(Put("/os-services/enable", {{"host", "t-compute-1"}, {"binary", "nova-compute"}}).status, 200);
    traits = get("/resource_providers/" + hv.uuid + "/traits");
    EXPECT_FALSE(has_disabled(traits["traits"]));
    EXPECT_EQ(traits["resource_provider_generation"], generation + 2);
    EXPECT_EQ(get("/traits?associated=true&name=in:COMPUTE_STATUS_DISABLED")["traits"].size(), 0u);
}

// ------------------------------------------------------------------ durability

TEST(NovaServicesPersistence, ARestartedCloudletKeepsTheServiceRecords) {
    auto dir = fs::temp_directory_path() / ("nova-services-test-" + NewHexId());
    fs::create_directories(dir);
    std::string path = (dir / "state.db").string();
    boost::asio::io_context io;
    auto config = TestConfig();
    NovaTokens tokens;
    http::Client client(io.get_executor());
    auto call = [&](Stack& s, http::Method m, const std::string& p, const json& body = nullptr) {
        auto req = MakeRequest(m, "/compute/v2.1" + p, body.is_null() ? "" : body.dump(), kAdmin);
        req.headers.Set("OpenStack-API-Version", "compute 2.53");
        return shoal::testing::Run(io, s.router.Dispatch(req));
    };
    auto compute = [&](Stack& s, const std::string& host) {
        return call(s, http::Method::kGet, "/os-services?binary=nova-compute&host=" + host)
            .JsonBody()
            ->at("services")
            .at(0);
    };
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok());
        Stack s(io, config, **store, tokens, client);
        std::string one = compute(s, "t-compute-1")["id"], two = compute(s, "t-compute-2")["id"];
        ASSERT_EQ(call(s, http::Method::kPut, "/os-services/" + one,
                       {{"status", "disabled"}, {"disabled_reason", "broken fan"}})
                      .status,
                  200);
        ASSERT_EQ(call(s, http::Method::kPut, "/os-services/" + two, {{"forced_down", true}}).status, 200);
    }
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok());
        Stack s(io, config, **store, tokens, client);
        auto one = compute(s, "t-compute-1"), two = compute(s, "t-compute-2");
        EXPECT_EQ(one["status"], "disabled");
        EXPECT_EQ(one["disabled_reason"], "broken fan");
        EXPECT_EQ(one["forced_down"], false);
        EXPECT_EQ(two["status"], "enabled");
        EXPECT_EQ(two["forced_down"], true);
        EXPECT_EQ(two["state"], "down");
        EXPECT_TRUE(s.compute->Hypervisors()[0].service.disabled);
        EXPECT_GT(s.compute->Hypervisors()[0].generation, 0u);  // the trait change was a provider change

        // Still nowhere to build.
        json server = {{"server", {{"name", "x"}, {"imageRef", kImage}, {"flavorRef", "1"}, {"networks", "none"}}}};
        auto r = call(s, http::Method::kPost, "/servers", server);
        ASSERT_EQ(r.status, 202) << r.body;
        std::string id = r.JsonBody()->at("server").at("id");
        for (int i = 0; i < 1000 && s.compute->Find(id)->vm_state == "building"; ++i) shoal::testing::RunFor(io, 2ms);
        ASSERT_TRUE(s.compute->Find(id)->fault);
        EXPECT_EQ(s.compute->Find(id)->fault->message, kNoValidHost);
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace shoal::emulator
