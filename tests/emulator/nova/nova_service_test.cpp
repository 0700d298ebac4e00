// The emulated Nova v2.1 and its fake compute, driven in-process through the routes the openstack
// CLI (novaclient / openstacksdk) uses.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "async_test.hpp"
#include "common/ids.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/image_lookup.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "emulator/nova/nova_service.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "nova_test_fixture.hpp"

namespace shoal::emulator {
namespace {

using namespace nova_test;
using nlohmann::json;
using shoal::testing::MakeRequest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using NovaVersions = NovaTest;
using NovaFlavors = NovaTest;
using NovaServers = NovaTest;
using NovaScheduler = NovaTest;
using NovaKeypairs = NovaTest;
using NovaAdmin = NovaTest;

// ------------------------------------------------------------------ versions and microversions

TEST_F(NovaVersions, DiscoveryDocumentsNeedNoToken) {
    auto root = Send(http::Method::kGet, "/compute/", nullptr, nullptr);
    ASSERT_EQ(root.status, 200) << root.body;
    auto versions = Body(root)["versions"];
    ASSERT_EQ(versions.size(), 2u);
    EXPECT_EQ(versions[0]["id"], "v2.0");
    EXPECT_EQ(versions[0]["status"], "SUPPORTED");
    EXPECT_EQ(versions[1]["id"], "v2.1");
    EXPECT_EQ(versions[1]["status"], "CURRENT");
    EXPECT_EQ(versions[1]["min_version"], "2.1");
    EXPECT_EQ(versions[1]["version"], "2.79");
    EXPECT_EQ(versions[1]["links"][0]["href"], kBase + "/compute/v2.1/");

    for (std::string path : {"/compute/v2.1", "/compute/v2.1/"}) {
        auto one = Send(http::Method::kGet, path, nullptr, nullptr);
        ASSERT_EQ(one.status, 200) << one.body;
        auto v = Body(one)["version"];
        EXPECT_EQ(v["id"], "v2.1");
        EXPECT_EQ(v["version"], "2.79");
        EXPECT_EQ(v["links"][0]["rel"], "self");
        EXPECT_EQ(v["media-types"][0]["type"], "application/vnd.openstack.compute+json;version=2.1");
    }
}

TEST_F(NovaVersions, NegotiatesMicroversionsFromBothHeaders) {
    auto plain = Get("/flavors");
    EXPECT_EQ(plain.headers.Get("OpenStack-API-Version"), "compute 2.1");
    EXPECT_EQ(plain.headers.Get("X-OpenStack-Nova-API-Version"), "2.1");
    EXPECT_EQ(plain.headers.Get("Vary"), "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
    EXPECT_EQ(Get("/flavors", kAlice, "2.37").headers.Get("OpenStack-API-Version"), "compute 2.37");
    EXPECT_EQ(Get("/flavors", kAlice, "latest").headers.Get("X-OpenStack-Nova-API-Version"), "2.79");

    auto legacy = MakeRequest(http::Method::kGet, "/compute/v2.1/flavors", {}, kAlice);
    legacy.headers.Set("X-OpenStack-Nova-API-Version", "2.60");
    EXPECT_EQ(shoal::testing::Run(io_, stack_->router.Dispatch(legacy)).headers.Get("OpenStack-API-Version"),
              "compute 2.60");
    auto other = MakeRequest(http::Method::kGet, "/compute/v2.1/flavors", {}, kAlice);
    other.headers.Set("OpenStack-API-Version", "placement 1.20, compute 2.53");
    EXPECT_EQ(shoal::testing::Run(io_, stack_->router.Dispatch(other)).headers.Get("OpenStack-API-Version"),
              "compute 2.53");

    for (std::string bad : {"2.80", "3.0", "2.0"}) {
        auto r = Get("/flavors", kAlice, bad);
        EXPECT_EQ(r.status, 406) << bad;
        EXPECT_EQ(Message(r), "Version " + bad + " is not supported by the API. Minimum is 2.1 and maximum is 2.79.");
    }
    for (std::string bad : {"2.x", "two", "2", "2.01", "2.1.1"}) {
        auto r = Get("/flavors", kAlice, bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(Message(r),
                  "API Version String " + bad + " is of invalid format. Must be of format MajorNum.MinorNum.");
    }
}

TEST_F(NovaVersions, RefusesMissingAndUnknownTokens) {
    EXPECT_EQ(Get("/servers", nullptr).status, 401);
    EXPECT_EQ(Get("/servers", "tok-forged").status, 401);
    EXPECT_EQ(Get("/flavors/detail", "").status, 401);
    auto nope = Get("/no-such-thing");
    EXPECT_EQ(nope.status, 404);
    EXPECT_TRUE(Body(nope).contains("itemNotFound"));
    // Versioned routes do not exist below their microversion.
    EXPECT_EQ(Send(http::Method::kPut, "/compute/v2.1/flavors/1", {{"flavor", {{"description", "x"}}}}, kAdmin, "2.54")
                  .status,
              404);
}

// ------------------------------------------------------------------ flavors

TEST_F(NovaFlavors, ListsTheConfiguredFlavorsLikeNova) {
    auto r = Get("/flavors");
    ASSERT_EQ(r.status, 200);
    auto flavors = Body(r)["flavors"];
    ASSERT_EQ(flavors.size(), 7u);
    // Sorted by flavor id as strings, like Nova's default sort_key=flavorid.
    EXPECT_EQ(flavors[0]["id"], "1");
    EXPECT_EQ(flavors[4]["id"], "42");
    EXPECT_EQ(flavors[0]["name"], "m1.tiny");
    EXPECT_EQ(flavors[0]["links"][0]["href"], kBase + "/compute/v2.1/flavors/1");
    EXPECT_EQ(flavors[0]["links"][1]["href"], kBase + "/compute/flavors/1");
    EXPECT_FALSE(flavors[0].contains("ram"));

    auto d21 = Body(Get("/flavors/detail"))["flavors"][0];
    EXPECT_EQ(d21["ram"], 512);
    EXPECT_EQ(d21["vcpus"], 1);
    EXPECT_EQ(d21["disk"], 1);
    EXPECT_EQ(d21["swap"], "");
    EXPECT_EQ(d21["OS-FLV-EXT-DATA:ephemeral"], 0);
    EXPECT_EQ(d21["OS-FLV-DISABLED:disabled"], false);
    EXPECT_EQ(d21["os-flavor-access:is_public"], true);
    EXPECT_EQ(d21["rxtx_factor"], 1.0);
    EXPECT_FALSE(d21.contains("description"));
    EXPECT_FALSE(d21.contains("extra_specs"));

    auto d255 = Body(Get("/flavors/detail", kAlice, "2.55"))["flavors"][0];
    EXPECT_TRUE(d255["description"].is_null());
    EXPECT_FALSE(d255.contains("extra_specs"));
    auto d275 = Body(Get("/flavors/1", kAlice, "2.75"))["flavor"];
    EXPECT_EQ(d275["swap"], 0);
    EXPECT_EQ(d275["extra_specs"], json::object());

    // What openstacksdk sends for `openstack flavor list`.
    auto sdk = Get("/flavors/detail?is_public=None", kAlice, "2.61");
    ASSERT_EQ(sdk.status, 200) << sdk.body;
    EXPECT_EQ(Body(sdk)["flavors"].size(), 7u);
}

TEST_F(NovaFlavors, FiltersPagesAndRejectsBadQueries) {
    auto big = Body(Get("/flavors/detail?minRam=4096"))["flavors"];
    ASSERT_EQ(big.size(), 3u);
    for (const auto& f : big) EXPECT_GE(f["ram"].get<int>(), 4096);
    EXPECT_EQ(Body(Get("/flavors?minDisk=80"))["flavors"].size(), 2u);
    auto by_ram = Body(Get("/flavors/detail?sort_key=memory_mb&sort_dir=desc"))["flavors"];
    EXPECT_EQ(by_ram[0]["name"], "m1.xlarge");

    auto page = Body(Get("/flavors?limit=2"));
    ASSERT_EQ(page["flavors"].size(), 2u);
    std::string next = page["flavors_links"][0]["href"];
    EXPECT_NE(next.find("marker=2"), std::string::npos) << next;
    auto page2 = Body(Get("/flavors?limit=2&marker=2"))["flavors"];
    EXPECT_EQ(page2[0]["id"], "3");

    auto bad_marker = Get("/flavors?marker=nope");
    EXPECT_EQ(bad_marker.status, 400);
    EXPECT_EQ(Message(bad_marker), "marker [nope] not found");
    EXPECT_EQ(Message(Get("/flavors?minRam=lots")), "Invalid minRam filter [lots]");
    EXPECT_EQ(Get("/flavors?limit=-1").status, 400);
    EXPECT_EQ(Get("/flavors?sort_key=colour").status, 400);
    EXPECT_EQ(Get("/flavors?sort_dir=up").status, 400);
    EXPECT_EQ(Message(Get("/flavors?is_public=maybe", kAdmin)), "Invalid is_public filter [maybe]");
    EXPECT_EQ(Get("/flavors?bogus=1").status, 200);  // ignored before 2.75
    EXPECT_EQ(Get("/flavors?bogus=1", kAlice, "2.75").status, 400);

    auto missing = Get("/flavors/999");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Message(missing), "Flavor 999 could not be found.");
}

TEST_F(NovaFlavors, AdminsManageFlavorsAndExtraSpecs) {
    json body = {{"flavor", {{"name", "c1.custom"}, {"ram", 1024}, {"vcpus", 2}, {"disk", 10}, {"id", "c1"}}}};
    auto denied = Post("/flavors", body);
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(Message(denied), "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");

    auto created = Post("/flavors", body, kAdmin);
    ASSERT_EQ(created.status, 200) << created.body;
    EXPECT_EQ(Body(created)["flavor"]["vcpus"], 2);
    EXPECT_EQ(Get("/flavors/c1").status, 200);

    auto dup_name = Post("/flavors", body, kAdmin);
    EXPECT_EQ(dup_name.status, 409);
    EXPECT_EQ(Message(dup_name), "Flavor with name c1.custom already exists.");
    body["flavor"]["name"] = "c1.other";
    auto dup_id = Post("/flavors", body, kAdmin);
    EXPECT_EQ(dup_id.status, 409);
    EXPECT_EQ(Message(dup_id), "Flavor with ID c1 already exists.");

    // Bad input gets Nova's schema messages.
    auto no_ram = Post("/flavors", {{"flavor", {{"name", "x"}, {"vcpus", 1}, {"disk", 1}}}}, kAdmin);
    EXPECT_EQ(Message(no_ram), "'ram' is a required property");
    auto zero_ram = Post("/flavors", {{"flavor", {{"name", "x"}, {"ram", 0}, {"vcpus", 1}, {"disk", 1}}}}, kAdmin);
    EXPECT_EQ(Message(zero_ram), "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1");
    auto text_ram = Post("/flavors", {{"flavor", {{"name", "x"}, {"ram", "big"}, {"vcpus", 1}, {"disk", 1}}}}, kAdmin);
    EXPECT_EQ(text_ram.status, 400);
    EXPECT_EQ(Post("/flavors", {{"flavor", {{"name", " x"}, {"ram", 1}, {"vcpus", 1}, {"disk", 1}}}}, kAdmin).status,
              400);
    EXPECT_EQ(Raw(http::Method::kPost, "/flavors", "{not json", kAdmin).status, 400);
    auto generated =
        Post("/flavors", {{"flavor", {{"name", "auto-id"}, {"ram", 64}, {"vcpus", 1}, {"disk", 0}}}}, kAdmin, "2.55");
    ASSERT_EQ(generated.status, 200);
    EXPECT_TRUE(IsUuid(Body(generated)["flavor"]["id"].get<std::string>()));

    // Extra specs: written by admins, read by everyone, embedded from 2.61.
    auto specs = Post("/flavors/c1/os-extra_specs", {{"extra_specs", {{"hw:cpu_policy", "dedicated"}}}}, kAdmin);
    ASSERT_EQ(specs.status, 200) << specs.body;
    EXPECT_EQ(Post("/flavors/c1/os-extra_specs", {{"extra_specs", {{"a", "b"}}}}).status, 403);
    EXPECT_EQ(Body(Get("/flavors/c1/os-extra_specs"))["extra_specs"]["hw:cpu_policy"], "dedicated");
    EXPECT_EQ(Body(Get("/flavors/c1/os-extra_specs/hw:cpu_policy"))["hw:cpu_policy"], "dedicated");
    EXPECT_EQ(Body(Get("/flavors/c1", kAlice, "2.61"))["flavor"]["extra_specs"]["hw:cpu_policy"], "dedicated");
    auto no_key = Get("/flavors/c1/os-extra_specs/nope");
    EXPECT_EQ(Message(no_key), "Flavor c1 has no extra specs with key nope.");

    // Description update from 2.55.
    auto upd =
        Send(http::Method::kPut, "/compute/v2.1/flavors/c1", {{"flavor", {{"description", "fast"}}}}, kAdmin, "2.55");
    ASSERT_EQ(upd.status, 200) << upd.body;
    EXPECT_EQ(Body(upd)["flavor"]["description"], "fast");

    auto del = Send(http::Method::kDelete, "/compute/v2.1/flavors/c1", nullptr, kAdmin);
    EXPECT_EQ(del.status, 202);
    EXPECT_EQ(Get("/flavors/c1").status, 404);
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/flavors/c1", nullptr, kAdmin).status, 404);
}

TEST_F(NovaFlavors, PrivateFlavorsNeedAccess) {
    json body = {{"flavor",
                  {{"name", "secret"},
                   {"ram", 256},
                   {"vcpus", 1},
                   {"disk", 1},
                   {"id", "p1"},
                   {"os-flavor-access:is_public", false}}}};
    ASSERT_EQ(Post("/flavors", body, kAdmin).status, 200);
    EXPECT_EQ(Get("/flavors/p1").status, 404);
    EXPECT_EQ(Body(Get("/flavors")).at("flavors").size(), 7u);
    EXPECT_EQ(Body(Get("/flavors?is_public=None", kAdmin))["flavors"].size(), 8u);
    EXPECT_EQ(Body(Get("/flavors?is_public=false", kAdmin))["flavors"].size(), 1u);

    auto add = Post("/flavors/p1/action", {{"addTenantAccess", {{"tenant", "p-alice"}}}}, kAdmin);
    ASSERT_EQ(add.status, 200) << add.body;
    EXPECT_EQ(Body(add)["flavor_access"][0]["tenant_id"], "p-alice");
    EXPECT_EQ(Get("/flavors/p1").status, 200);
    EXPECT_EQ(Get("/flavors/p1", kBob).status, 404);
    EXPECT_EQ(Post("/flavors/p1/action", {{"addTenantAccess", {{"tenant", "p-alice"}}}}, kAdmin).status, 409);
    EXPECT_EQ(Message(Post("/flavors/1/action", {{"addTenantAccess", {{"tenant", "p-alice"}}}}, kAdmin)),
              "Can not add access to a public flavor.");
    EXPECT_EQ(Message(Post("/flavors/p1/action", {{"dance", nullptr}}, kAdmin)), "There is no such action: dance");
}

// ------------------------------------------------------------------ servers: create and build

TEST_F(NovaServers, BootsThroughBuildToActive) {
    auto r = Post("/servers", ServerBody("vm1"), kAlice, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    auto created = Body(r)["server"];
    std::string id = created["id"];
    EXPECT_TRUE(IsUuid(id));
    EXPECT_EQ(created["OS-DCF:diskConfig"], "MANUAL");
    EXPECT_EQ(created["security_groups"], json::array({{{"name", "default"}}}));
    EXPECT_EQ(created["adminPass"].get<std::string>().size(), 12u);
    EXPECT_EQ(created["links"][0]["href"], kBase + "/compute/v2.1/servers/" + id);
    EXPECT_EQ(created["links"][1]["href"], kBase + "/compute/servers/" + id);
    EXPECT_EQ(r.headers.Get("Location"), kBase + "/compute/v2.1/servers/" + id);

    auto building = Show(id);
    EXPECT_EQ(building["status"], "BUILD");
    EXPECT_EQ(building["OS-EXT-STS:vm_state"], "building");
    // The build may already be past the scheduler: the task state tells which step it is at.
    std::string task = building["OS-EXT-STS:task_state"];
    EXPECT_TRUE(task == "scheduling" || task == "spawning") << task;
    EXPECT_EQ(building["hostId"] == "", task == "scheduling");
    EXPECT_EQ(building["OS-EXT-STS:power_state"], 0);
    EXPECT_TRUE(building["OS-SRV-USG:launched_at"].is_null());
    EXPECT_EQ(building["addresses"], json::object());

    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    auto s = Show(id);
    EXPECT_EQ(s["name"], "vm1");
    EXPECT_EQ(s["OS-EXT-STS:power_state"], 1);
    EXPECT_TRUE(s["OS-EXT-STS:task_state"].is_null());
    EXPECT_EQ(s["addresses"], json::object());
    EXPECT_EQ(s["tenant_id"], "p-alice");
    EXPECT_EQ(s["user_id"], "u-p-alice");
    EXPECT_EQ(s["image"]["id"], kImage);
    EXPECT_EQ(s["image"]["links"][0]["href"], kBase + "/compute/images/" + kImage);
    EXPECT_EQ(s["flavor"]["id"], "1");
    EXPECT_EQ(s["OS-EXT-AZ:availability_zone"], "nova");
    EXPECT_EQ(s["progress"], 0);
    EXPECT_EQ(s["config_drive"], "");
    EXPECT_TRUE(s["key_name"].is_null());
    EXPECT_EQ(s["os-extended-volumes:volumes_attached"], json::array());
    EXPECT_TRUE(Shaped(s["OS-SRV-USG:launched_at"], "dddd-dd-ddTdd:dd:dd.dddddd"));
    EXPECT_TRUE(Shaped(s["created"], "dddd-dd-ddTdd:dd:ddZ"));
    // hostId is sha224(project + host) and host attributes are for admins only.
    EXPECT_EQ(s["hostId"].get<std::string>().size(), 56u);
    EXPECT_FALSE(s.contains("OS-EXT-SRV-ATTR:host"));
    auto admin_view = Show(id, kAdmin);
    std::string host = admin_view["OS-EXT-SRV-ATTR:host"];
    EXPECT_TRUE(host == "t-compute-1" || host == "t-compute-2") << host;
    EXPECT_EQ(admin_view["OS-EXT-SRV-ATTR:hypervisor_hostname"], host);
    EXPECT_TRUE(Shaped(admin_view["OS-EXT-SRV-ATTR:instance_name"], "instance-xxxxxxxx"));
    EXPECT_FALSE(admin_view.contains("OS-EXT-SRV-ATTR:reservation_id"));  // from 2.3
    EXPECT_FALSE(s.contains("security_groups"));  // no ports, no groups, as with --nic none on Nova
}

TEST_F(NovaServers, ShowsWhatEachMicroversionAdds) {
    std::string id = Create("mv", kAlice, {{"metadata", {{"role", "web"}}}});
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    auto v21 = Show(id, kAlice, "2.1");
    EXPECT_FALSE(v21.contains("locked"));
    EXPECT_FALSE(v21.contains("description"));
    EXPECT_EQ(v21["metadata"]["role"], "web");

    auto v247 = Show(id, kAlice, "2.47");
    EXPECT_EQ(v247["flavor"], json({{"vcpus", 1},
                                    {"ram", 512},
                                    {"disk", 1},
                                    {"ephemeral", 0},
                                    {"swap", 0},
                                    {"original_name", "m1.tiny"},
                                    {"extra_specs", json::object()}}));
    EXPECT_EQ(v247["locked"], false);
    EXPECT_TRUE(v247["description"].is_null());
    EXPECT_EQ(v247["tags"], json::array());
    EXPECT_FALSE(v247.contains("trusted_image_certificates"));

    auto v279 = Show(id, kAlice, "2.79");
    EXPECT_TRUE(v279["trusted_image_certificates"].is_null());
    EXPECT_EQ(v279["server_groups"], json::array());
    EXPECT_TRUE(v279["locked_reason"].is_null());
    EXPECT_FALSE(v279.contains("host_status"));

    auto admin = Show(id, kAdmin, "2.79");
    EXPECT_EQ(admin["host_status"], "UP");
    EXPECT_TRUE(admin["OS-EXT-SRV-ATTR:reservation_id"].get<std::string>().starts_with("r-"));
    EXPECT_EQ(admin["OS-EXT-SRV-ATTR:launch_index"], 0);
    EXPECT_EQ(admin["OS-EXT-SRV-ATTR:hostname"], "mv");
    EXPECT_EQ(admin["OS-EXT-SRV-ATTR:root_device_name"], "/dev/vda");

    // The detailed list shows the same server but not server_groups (as in Nova).
    auto detail = Body(Get("/servers/detail", kAlice, "2.79"))["servers"];
    ASSERT_EQ(detail.size(), 1u);
    EXPECT_FALSE(detail[0].contains("server_groups"));
    EXPECT_TRUE(detail[0].contains("locked_reason"));
}

TEST_F(NovaServers, CreateTakesDescriptionTagsKeyAndUserData) {
    ASSERT_EQ(Post("/os-keypairs", {{"keypair", {{"name", "k1"}}}}).status, 200);
    auto r = Post("/servers",
                  ServerBody("full", {{"description", "my vm"},
                                      {"tags", {"a", "b"}},
                                      {"key_name", "k1"},
                                      {"user_data", "IyEvYmluL3NoCg=="},
                                      {"availability_zone", "nova"},
                                      {"config_drive", true},
                                      {"trusted_image_certificates", {"cert-1"}}}),
                  kAlice, "2.63");
    ASSERT_EQ(r.status, 202) << r.body;
    std::string id = Body(r)["server"]["id"];
    auto s = Show(id, kAlice, "2.63");
    EXPECT_EQ(s["description"], "my vm");
    EXPECT_EQ(s["tags"], json::array({"a", "b"}));
    EXPECT_EQ(s["key_name"], "k1");
    EXPECT_EQ(s["config_drive"], "True");
    EXPECT_EQ(s["trusted_image_certificates"], json::array({"cert-1"}));
    EXPECT_EQ(Show(id, kAdmin, "2.3")["OS-EXT-SRV-ATTR:user_data"], "IyEvYmluL3NoCg==");
    auto tagged = Body(Get("/servers?tags=a", kAlice, "2.26"))["servers"];
    EXPECT_EQ(tagged.size(), 1u);
    EXPECT_EQ(Body(Get("/servers?not-tags=a", kAlice, "2.26"))["servers"].size(), 0u);
}

TEST_F(NovaServers, RejectsBadCreateRequests) {
    auto err = [&](const json& body, const std::string& version = "2.37") {
        auto r = Post("/servers", body, kAlice, version);
        EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
        return Message(r);
    };
    EXPECT_EQ(Raw(http::Method::kPost, "/servers", "{\"server\": ").status, 400);
    EXPECT_EQ(err(json::array()), "[] is not of type 'object'");
    EXPECT_EQ(err({{"server", {{"imageRef", kImage}, {"flavorRef", "1"}, {"networks", "none"}}}}),
              "'name' is a required property");
    EXPECT_EQ(err(ServerBody("x", {{"colour", "red"}})),
              "Additional properties are not allowed ('colour' was unexpected)");
    EXPECT_EQ(err(ServerBody("x", {{"name", 42}})),
              "Invalid input for field/attribute name. Value: 42. 42 is not of type 'string'");
    EXPECT_EQ(err(ServerBody("x", {{"flavorRef", "999"}})), "Flavor 999 could not be found.");
    EXPECT_EQ(err(ServerBody("x", {{"imageRef", "not-a-uuid"}})),
              "Invalid input for field/attribute imageRef. Value: not-a-uuid. 'not-a-uuid' is not valid under any of "
              "the given schemas");
    EXPECT_EQ(err(ServerBody("x", {{"imageRef", NewUuid()}})), "Can not find requested image");
    EXPECT_EQ(err(ServerBody("x", {{"imageRef", kQueuedImage}})), "Image " + kQueuedImage + " is not active.");
    EXPECT_EQ(err(ServerBody("x", {{"imageRef", kBigImage}})), "Flavor's memory is too small for requested image.");
    EXPECT_EQ(err(ServerBody("x", {{"imageRef", ""}})), "Missing imageRef attribute");
    EXPECT_EQ(err(ServerBody("x", {{"key_name", "nokey"}})), "Invalid key_name provided.");
    EXPECT_EQ(err(ServerBody("x", {{"availability_zone", "mars"}})),
              "The requested availability zone is not available");
    EXPECT_EQ(err(ServerBody("x", {{"user_data", "not base64!"}})),
              "Invalid input for field/attribute user_data. Value: not base64!. 'not base64!' is not a 'base64'");
    EXPECT_EQ(err(ServerBody("x", {{"min_count", 3}, {"max_count", 2}})), "min_count must be <= max_count");
    EXPECT_EQ(err(ServerBody("x", {{"min_count", 0}})),
              "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1");
    EXPECT_EQ(err(ServerBody("x", {{"metadata", {{"k", 1}}}})),
              "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'");
    EXPECT_EQ(err(ServerBody("x", {{"security_groups", {{{"name", "web"}}}}})), "Security group web not found.");
    EXPECT_EQ(err(ServerBody("x", {{"description", "d"}}), "2.18"),
              "Additional properties are not allowed ('description' was unexpected)");

    // networks: required from 2.37, "none"/"auto" only from 2.37, no Neutron networks to attach.
    json no_nets = ServerBody("x");
    no_nets["server"].erase("networks");
    EXPECT_EQ(err(no_nets), "'networks' is a required property");
    EXPECT_EQ(err(ServerBody("x"), "2.36"),
              "Invalid input for field/attribute networks. Value: none. 'none' is not of type 'array'");
    EXPECT_EQ(err(ServerBody("x", {{"networks", "some"}})),
              "Invalid input for field/attribute networks. Value: some. 'some' is not valid under any of the given "
              "schemas");
    std::string net = NewUuid();
    EXPECT_EQ(err(ServerBody("x", {{"networks", {{{"uuid", net}}}}})), "Network " + net + " could not be found.");
    EXPECT_EQ(err(ServerBody("x", {{"networks", {{{"uuid", "bad"}}}}})),
              "Invalid input for field/attribute uuid. Value: bad. 'bad' is not a 'uuid'");
    EXPECT_EQ(err(ServerBody("x", {{"block_device_mapping_v2",
                                    {{{"source_type", "volume"}, {"destination_type", "volume"}, {"uuid", net}}}}})),
              "Block Device Mapping is Invalid: this cloudlet has no block storage service, so volumes cannot be "
              "attached.");
    EXPECT_EQ(stack_->compute->Servers().size(), 0u);

    // Before 2.37, leaving networks out (or an empty list) is fine.
    no_nets["server"]["name"] = "old";
    EXPECT_EQ(Post("/servers", no_nets, kAlice, "2.1").status, 202);
    EXPECT_EQ(Post("/servers", ServerBody("old2", {{"networks", json::array()}}), kAlice, "2.36").status, 202);
    EXPECT_EQ(Post("/servers", ServerBody("auto", {{"networks", "auto"}}), kAlice, "2.37").status, 202);
}

TEST_F(NovaServers, CreatesSeveralAtOnceWithNumberedNames) {
    auto r = Post("/servers", ServerBody("web", {{"min_count", 5}, {"max_count", 5}}), kAlice, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    auto list = Body(Get("/servers/detail?sort_key=display_name&sort_dir=asc", kAlice))["servers"];
    ASSERT_EQ(list.size(), 5u);
    std::set<std::string> reservations;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(list[i]["name"], "web-" + std::to_string(i + 1));
    for (const auto& s : stack_->compute->Servers()) reservations.insert(s->reservation_id);
    EXPECT_EQ(reservations.size(), 1u);

    auto rid = Post("/servers", ServerBody("db", {{"return_reservation_id", true}}), kAlice, "2.37");
    ASSERT_EQ(rid.status, 202);
    EXPECT_TRUE(Body(rid)["reservation_id"].get<std::string>().starts_with("r-"));
    EXPECT_FALSE(Body(rid).contains("server"));
    for (const auto* s : stack_->compute->Servers()) ASSERT_TRUE(WaitStatus(s->id, "ACTIVE"));
}

TEST_F(NovaServers, EnforcesNovaDefaultQuotas) {
    // m1.tiny: 100 would fit the RAM quota, 20 the cores quota, 10 the instances quota.
    auto r = Post("/servers", ServerBody("many", {{"min_count", 2}, {"max_count", 30}}), kAlice, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(stack_->compute->Servers().size(), 10u);  // Nova builds as many as fit, at least min_count

    auto over = Post("/servers", ServerBody("one-more"), kAlice, "2.37");
    EXPECT_EQ(over.status, 403);
    EXPECT_EQ(Message(over), "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances");
    auto cores =
        Post("/servers", ServerBody("wide", {{"flavorRef", "4"}, {"min_count", 6}, {"max_count", 6}}), kBob, "2.37");
    EXPECT_EQ(Message(cores), "Quota exceeded for cores: Requested 24, but already used 0 of 20 cores");
    // Quotas are per project: Bob is not affected.
    EXPECT_EQ(Post("/servers", ServerBody("bobs"), kBob, "2.37").status, 202);

    auto limits = Body(Get("/limits"))["limits"]["absolute"];
    EXPECT_EQ(limits["maxTotalInstances"], 10);
    EXPECT_EQ(limits["maxTotalCores"], 20);
    EXPECT_EQ(limits["maxTotalRAMSize"], 51200);
    EXPECT_EQ(limits["totalInstancesUsed"], 10);
    EXPECT_EQ(limits["totalCoresUsed"], 10);
    EXPECT_EQ(limits["totalRAMUsed"], 5120);
}

TEST_F(NovaServers, QuotaDefaultsComeFromTheConfigAndMinusOneIsUnlimited) {
    config_.quota = {12, -1, -1};  // nova.conf [quota] instances=12 cores=-1 ram=-1
    stack_.reset();
    Start();
    auto r = Post("/servers", ServerBody("many", {{"min_count", 2}, {"max_count", 30}}), kAlice, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(stack_->compute->Servers().size(), 12u);
    EXPECT_EQ(Message(Post("/servers", ServerBody("one-more"), kAlice, "2.37")),
              "Quota exceeded for instances: Requested 1, but already used 12 of 12 instances");
    auto limits = Body(Get("/limits"))["limits"]["absolute"];
    EXPECT_EQ(limits["maxTotalInstances"], 12);
    EXPECT_EQ(limits["maxTotalCores"], -1);
    EXPECT_EQ(limits["maxTotalRAMSize"], -1);
}

// ------------------------------------------------------------------ scheduler and build pipeline

TEST_F(NovaScheduler, SpreadsByFreeRamAndCountsClaimsAtOnce) {
    std::string a = Create("a"), b = Create("b");
    ASSERT_TRUE(WaitStatus(a, "ACTIVE"));
    ASSERT_TRUE(WaitStatus(b, "ACTIVE"));
    // Nova's RAM weigher spreads: two servers land on the two hypervisors.
    EXPECT_NE(stack_->compute->Find(a)->host, stack_->compute->Find(b)->host);
    auto allocations = stack_->compute->Allocations();
    ASSERT_EQ(allocations.size(), 2u);
    for (const auto& h : stack_->compute->Hypervisors()) {
        EXPECT_EQ(h.vcpus_used, 1);
        EXPECT_EQ(h.memory_mb_used, 512);
        EXPECT_EQ(h.disk_gb_used, 1);
        EXPECT_EQ(h.running_vms, 1);
        EXPECT_GT(h.generation, 0u);
    }
}

TEST_F(NovaScheduler, NoValidHostPutsTheServerInError) {
    // m1.xlarge has 8 vCPUs and 16 GB; the hypervisors have 4 vCPUs and 8 GB.
    json body = ServerBody("huge", {{"flavorRef", "5"}});
    auto r = Post("/servers", body, kAdmin, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    std::string id = Body(r)["server"]["id"];
    ASSERT_TRUE(WaitStatus(id, "ERROR", kAdmin));
    auto s = Show(id, kAdmin);
    EXPECT_EQ(s["OS-EXT-STS:vm_state"], "error");
    EXPECT_EQ(s["fault"]["code"], 500);
    EXPECT_EQ(s["fault"]["message"], "No valid host was found. There are not enough hosts available.");
    EXPECT_TRUE(s["OS-EXT-SRV-ATTR:host"].is_null());
    EXPECT_TRUE(stack_->compute->Allocations().empty());
    EXPECT_FALSE(s.contains("progress"));
}

TEST_F(NovaScheduler, HonoursAllocationRatiosAndReservedMemory) {
    // 4 vCPUs at ratio 4.0 give 16 vCPUs per host; RAM has 8192 - 512 reserved at ratio 1.0.
    ASSERT_EQ(
        Post("/flavors", {{"flavor", {{"name", "cpu4"}, {"ram", 64}, {"vcpus", 4}, {"disk", 0}, {"id", "c4"}}}}, kAdmin)
            .status,
        200);
    ASSERT_EQ(
        Post("/flavors", {{"flavor", {{"name", "ram"}, {"ram", 7680}, {"vcpus", 1}, {"disk", 0}, {"id", "r"}}}}, kAdmin)
            .status,
        200);
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        auto r =
            Post("/servers", ServerBody("c" + std::to_string(i), {{"flavorRef", "c4"}}), i % 2 ? kBob : kAlice, "2.37");
        ASSERT_EQ(r.status, 202) << r.body;
        ids.push_back(Body(r)["server"]["id"]);
    }
    for (const auto& id : ids) ASSERT_TRUE(WaitStatus(id, "ACTIVE", kAdmin));
    for (const auto& h : stack_->compute->Hypervisors()) EXPECT_EQ(h.vcpus_used, 8);  // beyond the 4 physical

    // 7680 MB fits a host only while nothing else uses its RAM: both hosts have 128 MB used now.
    auto r = Post("/servers", ServerBody("fat", {{"flavorRef", "r"}}), kAdmin, "2.37");
    ASSERT_EQ(r.status, 202);
    std::string fat = Body(r)["server"]["id"];
    ASSERT_TRUE(WaitStatus(fat, "ERROR", kAdmin));
    EXPECT_EQ(Show(fat, kAdmin)["fault"]["message"], "No valid host was found. There are not enough hosts available.");
}

TEST_F(NovaScheduler, OverflowingTheBuildQueueFailsVisibly) {
    config_.controller.max_concurrent_builds = 1;
    config_.controller.build_queue = 1;
    config_.controller.schedule_time = 50ms;
    stack_.reset();
    Start();
    auto r = Post("/servers", ServerBody("q", {{"min_count", 3}, {"max_count", 3}}), kAlice, "2.37");
    ASSERT_EQ(r.status, 202) << r.body;
    std::vector<std::string> ids;
    for (const auto* s : stack_->compute->Servers()) ids.push_back(s->id);
    ASSERT_EQ(ids.size(), 3u);
    int active = 0, failed = 0;
    for (const auto& id : ids) {
        ASSERT_TRUE(RunUntil([&] {
            auto st = Show(id)["status"];
            return st == "ACTIVE" || st == "ERROR";
        }));
        auto s = Show(id);
        if (s["status"] == "ACTIVE") {
            ++active;
        } else {
            ++failed;
            std::string msg = s["fault"]["message"];
            EXPECT_TRUE(msg.starts_with("No valid host was found. Exceeded max scheduling attempts")) << msg;
        }
    }
    EXPECT_EQ(active, 2);  // one building, one queued
    EXPECT_EQ(failed, 1);
}

TEST_F(NovaScheduler, WaitingPastTheBuildTimeoutFailsVisibly) {
    config_.controller.max_concurrent_builds = 1;
    config_.controller.build_timeout = 5ms;
    config_.controller.schedule_time = 200ms;
    stack_.reset();
    Start();
    std::string first = Create("first"), second = Create("second");
    ASSERT_TRUE(RunUntil([&] { return Show(second)["status"] != "BUILD"; }));
    auto s = Show(second);
    EXPECT_EQ(s["status"], "ERROR");
    std::string msg = s["fault"]["message"];
    EXPECT_TRUE(msg.starts_with("Build of instance " + second + " aborted: Timed out waiting for a reply")) << msg;
    ASSERT_TRUE(WaitStatus(first, "ACTIVE"));
}

TEST_F(NovaScheduler, StopCancelsPendingWork) {
    config_.controller.max_concurrent_builds = 1;
    config_.controller.schedule_time = 30ms;
    stack_.reset();
    Start();
    std::string a = Create("a"), b = Create("b");
    stack_->compute->Stop();
    shoal::testing::RunFor(io_, 60ms);
    EXPECT_EQ(stack_->compute->Find(a)->vm_state, "building");
    EXPECT_EQ(stack_->compute->Find(b)->vm_state, "building");
    stack_.reset();  // destroying with coroutines still parked must be safe
    shoal::testing::RunFor(io_, 10ms);
}

TEST_F(NovaScheduler, SpawnFailuresEndInErrorWhileTheHostsStillLookFree) {
    // Fault injection: a broken nova-compute that accepts every build and fails every spawn.
    config_.hypervisors.spawn_failure_rate = 1.0;
    stack_.reset();
    Start();
    std::string id = Create("unlucky");
    ASSERT_TRUE(WaitStatus(id, "ERROR"));
    auto s = Show(id, kAdmin);
    EXPECT_EQ(s["OS-EXT-STS:vm_state"], "error");
    EXPECT_TRUE(s["OS-EXT-STS:task_state"].is_null());
    EXPECT_EQ(s["fault"]["code"], 500);
    EXPECT_EQ(s["fault"]["message"],
              "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for "
              "instance " +
                  id + ".");
    EXPECT_TRUE(s["OS-EXT-SRV-ATTR:host"].is_null());
    EXPECT_TRUE(s["OS-SRV-USG:launched_at"].is_null());
    EXPECT_TRUE(stack_->compute->Allocations().empty());

    // Like real Nova the resources are released: an outside scheduler still sees free RAM here.
    auto list = Body(Get("/os-hypervisors/detail", kAdmin))["hypervisors"];
    ASSERT_EQ(list.size(), 2u);
    for (const auto& h : list) {
        EXPECT_EQ(h["running_vms"], 0) << h.dump();
        EXPECT_EQ(h["vcpus_used"], 0) << h.dump();
        EXPECT_EQ(h["memory_mb_used"], 512) << h.dump();  // the reserved host memory only
        EXPECT_EQ(h["free_ram_mb"], 8192 - 512) << h.dump();
    }
    auto stats = Body(Get("/os-hypervisors/statistics", kAdmin))["hypervisor_statistics"];
    EXPECT_EQ(stats["running_vms"], 0);

    // Deleting it works as for any ERROR server.
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + id).status, 204);
    ASSERT_TRUE(WaitGone(id));
    EXPECT_EQ(Get("/servers/" + id).status, 404);
    EXPECT_EQ(Body(Get("/limits"))["limits"]["absolute"]["totalInstancesUsed"], 0);
}

// ------------------------------------------------------------------ server actions and delete

TEST_F(NovaServers, StopStartRebootGoThroughTaskStates) {
    std::string id = Create("life");
    auto early = Action(id, {{"os-stop", nullptr}}, 409);
    EXPECT_EQ(early, "Cannot 'stop' instance " + id + " while it is in vm_state building");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));

    Action(id, {{"os-stop", nullptr}}, 202);
    auto stopping = Show(id);
    EXPECT_EQ(stopping["status"], "ACTIVE");
    EXPECT_EQ(stopping["OS-EXT-STS:task_state"], "powering-off");
    EXPECT_EQ(Action(id, {{"os-stop", nullptr}}, 409),
              "Cannot 'stop' instance " + id + " while it is in task_state powering-off");
    ASSERT_TRUE(WaitStatus(id, "SHUTOFF"));
    EXPECT_EQ(Show(id)["OS-EXT-STS:power_state"], 4);
    EXPECT_EQ(Action(id, {{"os-stop", nullptr}}, 409),
              "Cannot 'stop' instance " + id + " while it is in vm_state stopped");
    EXPECT_EQ(Action(id, {{"reboot", {{"type", "SOFT"}}}}, 409),
              "Cannot 'reboot' instance " + id + " while it is in vm_state stopped");

    Action(id, {{"os-start", nullptr}}, 202);
    EXPECT_EQ(Show(id)["OS-EXT-STS:task_state"], "powering-on");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    EXPECT_EQ(Action(id, {{"os-start", nullptr}}, 409),
              "Cannot 'start' instance " + id + " while it is in vm_state active");

    Action(id, {{"reboot", {{"type", "SOFT"}}}}, 202);
    EXPECT_EQ(Show(id)["status"], "REBOOT");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    Action(id, {{"reboot", {{"type", "hard"}}}}, 202);
    EXPECT_EQ(Show(id)["status"], "HARD_REBOOT");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));

    EXPECT_EQ(Action(id, {{"reboot", {{"type", "GENTLE"}}}}, 400),
              "Invalid input for field/attribute type. Value: GENTLE. 'GENTLE' is not one of ['HARD', 'Hard', 'hard', "
              "'SOFT', 'Soft', 'soft']");
    EXPECT_EQ(Action(id, {{"reboot", json::object()}}, 400), "'type' is a required property");
    EXPECT_EQ(Action(id, {{"shelve", nullptr}}, 400), "There is no such action: shelve");
    EXPECT_EQ(Action(id, {{"os-stop", nullptr}, {"os-start", nullptr}}, 400), "Malformed request body");
    EXPECT_TRUE(Action(NewUuid(), {{"os-stop", nullptr}}, 404).ends_with(" could not be found."));
}

TEST_F(NovaServers, PauseSuspendAndResetState) {
    std::string id = Create("ps");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    EXPECT_EQ(Action(id, {{"unpause", nullptr}}, 409),
              "Cannot 'unpause' instance " + id + " while it is in vm_state active");
    Action(id, {{"pause", nullptr}}, 202);
    ASSERT_TRUE(WaitStatus(id, "PAUSED"));
    EXPECT_EQ(Show(id)["OS-EXT-STS:power_state"], 3);
    Action(id, {{"unpause", nullptr}}, 202);
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    Action(id, {{"suspend", nullptr}}, 202);
    ASSERT_TRUE(WaitStatus(id, "SUSPENDED"));
    EXPECT_EQ(Action(id, {{"os-stop", nullptr}}, 409),
              "Cannot 'stop' instance " + id + " while it is in vm_state suspended");
    Action(id, {{"resume", nullptr}}, 202);
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));

    EXPECT_EQ(Action(id, {{"os-resetState", {{"state", "error"}}}}, 403),
              "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.");
    EXPECT_EQ(Action(id, {{"os-resetState", {{"state", "broken"}}}}, 400, kAdmin),
              "Invalid input for field/attribute state. Value: broken. 'broken' is not one of ['active', 'error']");
    Action(id, {{"os-resetState", {{"state", "error"}}}}, 202, kAdmin);
    EXPECT_EQ(Show(id)["status"], "ERROR");
    Action(id, {{"os-resetState", {{"state", "active"}}}}, 202, kAdmin);
    EXPECT_EQ(Show(id)["status"], "ACTIVE");
}

TEST_F(NovaServers, LockedServersRefuseOwnersActions) {
    std::string id = Create("locked");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    Action(id, {{"lock", {{"locked_reason", "maintenance"}}}}, 202, kAdmin, "2.73");
    auto s = Show(id, kAlice, "2.73");
    EXPECT_EQ(s["locked"], true);
    EXPECT_EQ(s["locked_reason"], "maintenance");
    EXPECT_EQ(Action(id, {{"os-stop", nullptr}}, 409), "Instance " + id + " is locked");
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + id).status, 409);
    EXPECT_EQ(Body(Get("/servers/detail?locked=true", kAlice, "2.73"))["servers"].size(), 1u);
    Action(id, {{"unlock", nullptr}}, 403);  // locked by an admin: the owner may not unlock
    Action(id, {{"os-stop", nullptr}}, 202, kAdmin);
    Action(id, {{"unlock", nullptr}}, 202, kAdmin);
    EXPECT_EQ(Show(id, kAlice, "2.9")["locked"], false);
}

TEST_F(NovaServers, DeleteFreesTheHostAndThenTheServerIsGone) {
    std::string id = Create("doomed");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    ASSERT_EQ(stack_->compute->Allocations().size(), 1u);
    auto del = Send(http::Method::kDelete, "/compute/v2.1/servers/" + id);
    EXPECT_EQ(del.status, 204);
    EXPECT_EQ(Show(id)["OS-EXT-STS:task_state"], "deleting");
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + id).status, 204);  // again: still fine
    ASSERT_TRUE(WaitGone(id));
    auto gone = Get("/servers/" + id);
    EXPECT_EQ(gone.status, 404);
    EXPECT_EQ(Message(gone), "Instance " + id + " could not be found.");
    EXPECT_TRUE(stack_->compute->Allocations().empty());
    for (const auto& h : stack_->compute->Hypervisors()) EXPECT_EQ(h.memory_mb_used, 0);
    EXPECT_EQ(Body(Get("/limits"))["limits"]["absolute"]["totalInstancesUsed"], 0);

    // A server deleted while it is still queued never gets a host.
    std::string quick = Create("quick");
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + quick).status, 204);
    ASSERT_TRUE(WaitGone(quick));
    EXPECT_TRUE(stack_->compute->Allocations().empty());
}

TEST_F(NovaServers, ProjectsAreIsolated) {
    std::string mine = Create("alice-vm", kAlice);
    std::string theirs = Create("bob-vm", kBob);
    EXPECT_EQ(Get("/servers/" + theirs, kAlice).status, 404);
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + theirs, nullptr, kAlice).status, 404);
    EXPECT_EQ(Action(theirs, {{"os-stop", nullptr}}, 404, kAlice), "Instance " + theirs + " could not be found.");
    auto list = Body(Get("/servers", kAlice))["servers"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], mine);
    EXPECT_EQ(list[0].size(), 3u);  // id, name, links

    // Invalid UUIDs are simply not found.
    auto bad = Get("/servers/not-a-uuid");
    EXPECT_EQ(bad.status, 404);
    EXPECT_EQ(Message(bad), "Instance not-a-uuid could not be found.");

    auto denied = Get("/servers/detail?all_tenants=1", kAlice);
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(Message(denied), "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.");
    EXPECT_EQ(Body(Get("/servers/detail?all_tenants=1", kAdmin))["servers"].size(), 2u);
    EXPECT_EQ(Body(Get("/servers/detail?all_tenants=1&project_id=p-bob", kAdmin))["servers"].size(), 1u);
    EXPECT_EQ(Body(Get("/servers/detail", kAdmin))["servers"].size(), 0u);  // admin's own project
    EXPECT_EQ(Show(theirs, kAdmin)["tenant_id"], "p-bob");
}

TEST_F(NovaServers, ListsWithFiltersSortingAndPaging) {
    for (std::string n : {"web-a", "web-b", "db-a"}) Create(n);
    std::string stopped = Create("batch");
    ASSERT_TRUE(WaitStatus(stopped, "ACTIVE"));
    Action(stopped, {{"os-stop", nullptr}}, 202);
    ASSERT_TRUE(WaitStatus(stopped, "SHUTOFF"));

    EXPECT_EQ(Body(Get("/servers?name=%5Eweb"))["servers"].size(), 2u);
    EXPECT_EQ(Body(Get("/servers?name=a%24"))["servers"].size(), 2u);
    auto shutoff = Body(Get("/servers/detail?status=SHUTOFF"))["servers"];
    ASSERT_EQ(shutoff.size(), 1u);
    EXPECT_EQ(shutoff[0]["id"], stopped);
    EXPECT_EQ(Body(Get("/servers?status=shutoff"))["servers"].size(), 1u);
    EXPECT_EQ(Message(Get("/servers?status=SLEEPING", kAlice, "2.38")), "Invalid status value");
    EXPECT_EQ(Body(Get("/servers?status=SLEEPING", kAlice, "2.37"))["servers"].size(), 0u);
    EXPECT_EQ(Body(Get("/servers?image=" + kImage))["servers"].size(), 4u);
    EXPECT_EQ(Body(Get("/servers?flavor=2"))["servers"].size(), 0u);
    EXPECT_EQ(Body(Get("/servers?ip=10.0.0.1"))["servers"].size(), 0u);       // no addresses at all
    EXPECT_EQ(Body(Get("/servers?host=t-compute-1"))["servers"].size(), 4u);  // admin-only filter ignored
    EXPECT_EQ(Body(Get("/servers?changes-since=2000-01-01T00:00:00Z"))["servers"].size(), 4u);
    EXPECT_EQ(Body(Get("/servers?changes-since=2200-01-01T00:00:00Z"))["servers"].size(), 0u);
    EXPECT_EQ(Get("/servers?changes-since=yesterday").status, 400);

    auto names = Body(Get("/servers?sort_key=display_name&sort_dir=asc"))["servers"];
    ASSERT_EQ(names.size(), 4u);
    EXPECT_EQ(names[0]["name"], "batch");
    EXPECT_EQ(names[3]["name"], "web-b");
    // Default order: newest first.
    EXPECT_EQ(Body(Get("/servers"))["servers"][0]["name"], "batch");

    auto page = Body(Get("/servers?sort_key=display_name&sort_dir=asc&limit=2"));
    ASSERT_EQ(page["servers"].size(), 2u);
    std::string href = page["servers_links"][0]["href"];
    EXPECT_TRUE(href.starts_with(kBase + "/compute/v2.1/servers?")) << href;
    std::string marker = page["servers"][1]["id"];
    EXPECT_NE(href.find("marker=" + marker), std::string::npos) << href;
    auto rest = Body(Get("/servers?sort_key=display_name&sort_dir=asc&limit=2&marker=" + marker))["servers"];
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0]["name"], "web-a");

    EXPECT_EQ(Message(Get("/servers?marker=" + NewUuid())).find("marker ["), 0u);
    EXPECT_EQ(Get("/servers?limit=x").status, 400);
    EXPECT_EQ(Get("/servers?sort_key=colour").status, 400);
    EXPECT_EQ(Message(Get("/servers?sort_dir=sideways")),
              "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
    EXPECT_EQ(Get("/servers?sort_key=host").status, 403);
    EXPECT_EQ(Get("/servers?colour=red").status, 200);
    EXPECT_EQ(Get("/servers?colour=red", kAlice, "2.75").status, 400);
}

TEST_F(NovaServers, UpdatesNameDescriptionAndMetadata) {
    std::string id = Create("old-name");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));
    auto r = Send(http::Method::kPut, "/compute/v2.1/servers/" + id,
                  {{"server", {{"name", "new-name"}, {"description", "hello"}}}}, kAlice, "2.19");
    ASSERT_EQ(r.status, 200) << r.body;
    auto s = Body(r)["server"];
    EXPECT_EQ(s["name"], "new-name");
    EXPECT_EQ(s["description"], "hello");
    EXPECT_FALSE(s.contains("OS-EXT-STS:vm_state"));  // the reduced view before 2.75
    auto full = Body(Send(http::Method::kPut, "/compute/v2.1/servers/" + id, {{"server", json::object()}}, kAlice,
                          "2.75"))["server"];
    EXPECT_EQ(full["OS-EXT-STS:vm_state"], "active");
    EXPECT_EQ(full["server_groups"], json::array());
    EXPECT_EQ(
        Send(http::Method::kPut, "/compute/v2.1/servers/" + id, {{"server", {{"description", "x"}}}}, kAlice, "2.18")
            .status,
        400);
    EXPECT_EQ(Send(http::Method::kPut, "/compute/v2.1/servers/" + id, {{"server", {{"name", ""}}}}).status, 400);

    auto meta = Post("/servers/" + id + "/metadata", {{"metadata", {{"a", "1"}, {"b", "2"}}}});
    ASSERT_EQ(meta.status, 200) << meta.body;
    EXPECT_EQ(Body(Get("/servers/" + id + "/metadata"))["metadata"].size(), 2u);
    EXPECT_EQ(Body(Get("/servers/" + id + "/metadata/a"))["meta"]["a"], "1");
    EXPECT_EQ(Send(http::Method::kPut, "/compute/v2.1/servers/" + id + "/metadata/c", {{"meta", {{"d", "4"}}}}).status,
              400);
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/servers/" + id + "/metadata/a").status, 204);
    auto gone = Get("/servers/" + id + "/metadata/a");
    EXPECT_EQ(Message(gone), "Metadata item was not found");
    EXPECT_EQ(Body(Get("/servers/" + id + "/ips"))["addresses"], json::object());
}

// ------------------------------------------------------------------ keypairs

TEST_F(NovaKeypairs, GeneratesImportsListsAndDeletes) {
    auto gen21 = Post("/os-keypairs", {{"keypair", {{"name", "gen"}}}});
    ASSERT_EQ(gen21.status, 200) << gen21.body;
    auto k = Body(gen21)["keypair"];
    EXPECT_TRUE(k["public_key"].get<std::string>().starts_with("ssh-rsa AAAAB3NzaC1yc2E"));
    EXPECT_TRUE(k["public_key"].get<std::string>().ends_with(" Generated-by-Nova"));
    EXPECT_TRUE(k["private_key"].get<std::string>().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    EXPECT_TRUE(Shaped(k["fingerprint"], "xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx"));
    EXPECT_EQ(k["user_id"], "u-p-alice");
    EXPECT_FALSE(k.contains("type"));

    // Importing the generated public key again gives the same fingerprint.
    auto imported =
        Post("/os-keypairs", {{"keypair", {{"name", "imp"}, {"public_key", k["public_key"]}}}}, kAlice, "2.10");
    ASSERT_EQ(imported.status, 201) << imported.body;
    EXPECT_EQ(Body(imported)["keypair"]["fingerprint"], k["fingerprint"]);
    EXPECT_EQ(Body(imported)["keypair"]["type"], "ssh");
    EXPECT_FALSE(Body(imported)["keypair"].contains("private_key"));

    auto x509 = Post("/os-keypairs", {{"keypair", {{"name", "cert"}, {"type", "x509"}}}}, kAlice, "2.2");
    ASSERT_EQ(x509.status, 201) << x509.body;
    EXPECT_TRUE(Body(x509)["keypair"]["public_key"].get<std::string>().starts_with("-----BEGIN CERTIFICATE-----"));
    EXPECT_EQ(Body(x509)["keypair"]["fingerprint"].get<std::string>().size(), 59u);  // SHA-1, colon separated

    auto dup = Post("/os-keypairs", {{"keypair", {{"name", "gen"}}}});
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(Message(dup), "Key pair 'gen' already exists.");
    EXPECT_EQ(Message(Post("/os-keypairs", {{"keypair", {{"name", "bad"}, {"public_key", "ssh-rsa !!!"}}}})),
              "Keypair data is invalid: failed to generate fingerprint");
    EXPECT_EQ(Message(Post("/os-keypairs", {{"keypair", {{"name", "a/b"}}}})),
              "Keypair data is invalid: Keypair name contains unsafe characters");
    EXPECT_EQ(Message(Post("/os-keypairs", {{"keypair", {{"name", "t"}, {"type", "gpg"}}}}, kAlice, "2.2")),
              "Invalid input for field/attribute type. Value: gpg. 'gpg' is not one of ['ssh', 'x509']");
    EXPECT_EQ(Post("/os-keypairs", {{"keypair", {{"name", "t"}, {"type", "ssh"}}}}).status, 400);  // type from 2.2
    EXPECT_EQ(Message(Post("/os-keypairs", {{"keypair", json::object()}})), "'name' is a required property");

    auto list = Body(Get("/os-keypairs", kAlice, "2.2"))["keypairs"];
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0]["keypair"]["name"], "cert");
    EXPECT_TRUE(list[0]["keypair"].contains("type"));
    EXPECT_EQ(Body(Get("/os-keypairs", kBob))["keypairs"].size(), 0u);  // keypairs belong to users
    auto paged = Body(Get("/os-keypairs?limit=1", kAlice, "2.35"));
    EXPECT_EQ(paged["keypairs"].size(), 1u);
    EXPECT_TRUE(paged.contains("keypairs_links"));

    auto show = Body(Get("/os-keypairs/gen", kAlice, "2.10"))["keypair"];
    EXPECT_EQ(show["deleted"], false);
    EXPECT_TRUE(show["id"].is_number_integer());
    EXPECT_EQ(show["type"], "ssh");
    auto missing = Get("/os-keypairs/nope");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Message(missing), "Keypair nope not found for user u-p-alice");
    EXPECT_EQ(Get("/os-keypairs/gen?user_id=u-p-bob", kAlice, "2.10").status, 403);
    EXPECT_EQ(Get("/os-keypairs/gen?user_id=u-p-alice", kAdmin, "2.10").status, 200);

    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/os-keypairs/gen", nullptr, kAlice, "2.1").status, 202);
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/os-keypairs/imp", nullptr, kAlice, "2.2").status, 204);
    EXPECT_EQ(Send(http::Method::kDelete, "/compute/v2.1/os-keypairs/imp", nullptr, kAlice, "2.2").status, 404);
}

// ------------------------------------------------------------------ limits, zones, hypervisors, services

TEST_F(NovaAdmin, LimitsChangeShapeWithMicroversions) {
    auto v21 = Body(Get("/limits?reserved=1"))["limits"];
    EXPECT_EQ(v21["rate"], json::array());
    for (const char* k : {"maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroups",
                          "maxTotalFloatingIps", "totalFloatingIpsUsed", "maxServerMeta", "maxTotalKeypairs"})
        EXPECT_TRUE(v21["absolute"].contains(k)) << k;
    auto v257 = Body(Get("/limits", kAlice, "2.57"))["limits"]["absolute"];
    for (const char* k : {"maxImageMeta", "maxPersonality", "maxSecurityGroups", "totalFloatingIpsUsed"})
        EXPECT_FALSE(v257.contains(k)) << k;
    EXPECT_EQ(v257["maxServerGroups"], 10);
    EXPECT_EQ(Get("/limits?tenant_id=p-bob").status, 403);
    EXPECT_EQ(Get("/limits?tenant_id=p-bob", kAdmin).status, 200);
}

TEST_F(NovaAdmin, AvailabilityZones) {
    auto zones = Body(Get("/os-availability-zone"))["availabilityZoneInfo"];
    ASSERT_EQ(zones.size(), 1u);
    EXPECT_EQ(zones[0]["zoneName"], "nova");
    EXPECT_EQ(zones[0]["zoneState"]["available"], true);
    EXPECT_TRUE(zones[0]["hosts"].is_null());
    EXPECT_EQ(Get("/os-availability-zone/detail").status, 403);
    auto detail = Body(Get("/os-availability-zone/detail", kAdmin))["availabilityZoneInfo"];
    ASSERT_EQ(detail.size(), 2u);
    EXPECT_EQ(detail[0]["zoneName"], "internal");
    EXPECT_TRUE(detail[0]["hosts"]["t-controller"].contains("nova-scheduler"));
    EXPECT_EQ(detail[1]["hosts"]["t-compute-2"]["nova-compute"]["available"], true);
}

TEST_F(NovaAdmin, HypervisorsReportCapacityAndUsage) {
    auto denied = Get("/os-hypervisors/detail");
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(Message(denied), "Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be performed.");
    std::string id = Create("on-a-host");
    ASSERT_TRUE(WaitStatus(id, "ACTIVE"));

    auto list = Body(Get("/os-hypervisors/detail", kAdmin))["hypervisors"];
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["id"], 1);
    EXPECT_EQ(list[0]["hypervisor_hostname"], "t-compute-1");
    EXPECT_EQ(list[0]["state"], "up");
    EXPECT_EQ(list[0]["status"], "enabled");
    EXPECT_EQ(list[0]["hypervisor_type"], "fake");
    EXPECT_EQ(list[0]["host_ip"], "127.0.0.1");
    EXPECT_EQ(list[0]["vcpus"], 4);
    EXPECT_EQ(list[0]["memory_mb"], 8192);
    EXPECT_TRUE(list[0]["cpu_info"].is_string());  // a JSON object only from 2.28
    EXPECT_TRUE(json::parse(list[0]["cpu_info"].get<std::string>()).contains("arch"));
    int used = list[0]["vcpus_used"].get<int>() + list[1]["vcpus_used"].get<int>();
    EXPECT_EQ(used, 1);
    // Nova counts the host's reserved memory as used.
    int mem_used = list[0]["memory_mb_used"].get<int>() + list[1]["memory_mb_used"].get<int>();
    EXPECT_EQ(mem_used, 512 + 512 + 512);
    EXPECT_EQ(list[0]["service"]["host"], "t-compute-1");

    auto v253 = Body(Get("/os-hypervisors/detail?with_servers=true", kAdmin, "2.53"))["hypervisors"];
    std::string uuid = v253[0]["id"];
    EXPECT_TRUE(IsUuid(uuid));
    EXPECT_EQ(uuid, stack_->compute->Hypervisors()[0].uuid);
    EXPECT_TRUE(v253[0]["cpu_info"].is_object());
    EXPECT_EQ(v253[0]["servers"].size() + v253[1].value("servers", json::array()).size(), 1u);
    EXPECT_EQ(Body(Get("/os-hypervisors/" + uuid, kAdmin, "2.53"))["hypervisor"]["hypervisor_hostname"], "t-compute-1");
    EXPECT_EQ(Message(Get("/os-hypervisors/1", kAdmin, "2.53")), "Invalid uuid 1");
    EXPECT_EQ(Get("/os-hypervisors/" + NewUuid(), kAdmin, "2.53").status, 404);
    EXPECT_EQ(Body(Get("/os-hypervisors/2", kAdmin))["hypervisor"]["hypervisor_hostname"], "t-compute-2");
    EXPECT_EQ(Message(Get("/os-hypervisors/9", kAdmin)), "Hypervisor with ID '9' could not be found.");
    auto brief = Body(Get("/os-hypervisors", kAdmin))["hypervisors"][0];
    EXPECT_EQ(brief.size(), 4u);  // id, hostname, state, status

    auto stats = Body(Get("/os-hypervisors/statistics", kAdmin))["hypervisor_statistics"];
    EXPECT_EQ(stats["count"], 2);
    EXPECT_EQ(stats["vcpus"], 8);
    EXPECT_EQ(stats["vcpus_used"], 1);
    EXPECT_EQ(stats["memory_mb"], 16384);
    EXPECT_EQ(stats["running_vms"], 1);
    EXPECT_EQ(stats["free_ram_mb"], 16384 - 1536);

    // `openstack hypervisor show` also reads the uptime and the aggregates.
    auto uptime = Body(Get("/os-hypervisors/1/uptime", kAdmin))["hypervisor"]["uptime"].get<std::string>();
    // The shape OSC parses: "<time> up <uptime>, <n> users, load average: <a>, <b>, <c>".
    EXPECT_NE(uptime.find(" up "), std::string::npos) << uptime;
    EXPECT_NE(uptime.find(" users,  load average: "), std::string::npos) << uptime;
    EXPECT_EQ(Body(Get("/os-aggregates", kAdmin))["aggregates"], json::array());
    EXPECT_EQ(Body(Get("/os-hypervisors/compute-2/search", kAdmin))["hypervisors"].size(), 1u);
    EXPECT_EQ(Get("/os-hypervisors/nothing/search", kAdmin).status, 404);
}

TEST_F(NovaAdmin, ServicesListTheControllerAndComputes) {
    EXPECT_EQ(Get("/os-services").status, 403);
    auto services = Body(Get("/os-services", kAdmin))["services"];
    ASSERT_EQ(services.size(), 4u);
    EXPECT_EQ(services[0]["binary"], "nova-conductor");
    EXPECT_EQ(services[0]["zone"], "internal");
    EXPECT_EQ(services[2]["binary"], "nova-compute");
    EXPECT_EQ(services[2]["host"], "t-compute-1");
    EXPECT_EQ(services[2]["state"], "up");
    EXPECT_EQ(services[2]["id"], 3);
    EXPECT_TRUE(
        IsUuid(Body(Get("/os-services?binary=nova-compute", kAdmin, "2.53"))["services"][0]["id"].get<std::string>()));
    EXPECT_EQ(Body(Get("/os-services?binary=nova-compute", kAdmin))["services"].size(), 2u);
}

// ------------------------------------------------------------------ persistence

TEST(NovaPersistence, ARestartedCloudletKeepsServersFlavorsKeypairsAndUsage) {
    auto dir = fs::temp_directory_path() / ("nova-test-" + NewHexId());
    fs::create_directories(dir);
    std::string path = (dir / "state.db").string();
    boost::asio::io_context io;
    auto config = TestConfig();
    config.boot_delay = 30ms;
    NovaTokens tokens;
    http::Client client(io.get_executor());
    auto call = [&](Stack& s, http::Method m, const std::string& p, const json& body = nullptr,
                    const char* token = kAlice) {
        auto req = MakeRequest(m, "/compute/v2.1" + p, body.is_null() ? "" : body.dump(), token);
        req.headers.Set("OpenStack-API-Version", "compute 2.37");
        return shoal::testing::Run(io, s.router.Dispatch(req));
    };
    json server = {{"server", {{"name", "keep"}, {"imageRef", kImage}, {"flavorRef", "2"}, {"networks", "none"}}}};
    std::string active, building;
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok());
        Stack s(io, config, **store, tokens, client);
        active =
            *call(s, http::Method::kPost, "/servers", server).JsonBody()->at("server").at("id").get_ptr<std::string*>();
        for (int i = 0; i < 1000 && s.compute->Find(active)->vm_state != "active"; ++i) shoal::testing::RunFor(io, 2ms);
        ASSERT_EQ(s.compute->Find(active)->vm_state, "active");
        ASSERT_EQ(call(s, http::Method::kPost, "/os-keypairs", {{"keypair", {{"name", "kp"}}}}).status, 201);
        ASSERT_EQ(call(s, http::Method::kPost, "/flavors",
                       {{"flavor", {{"name", "saved"}, {"ram", 128}, {"vcpus", 1}, {"disk", 1}, {"id", "sv"}}}}, kAdmin)
                      .status,
                  200);
        ASSERT_EQ(call(s, http::Method::kDelete, "/flavors/5", nullptr, kAdmin).status, 202);
        server["server"]["name"] = "mid-build";
        building =
            *call(s, http::Method::kPost, "/servers", server).JsonBody()->at("server").at("id").get_ptr<std::string*>();
        // The cloudlet goes away while this one is still building.
    }
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok());
        Stack s(io, config, **store, tokens, client);
        const auto* kept = s.compute->Find(active);
        ASSERT_NE(kept, nullptr);
        EXPECT_EQ(kept->vm_state, "active");
        EXPECT_EQ(kept->name, "keep");
        ASSERT_NE(s.compute->Find(building), nullptr);
        // The interrupted build resumes and completes.
        for (int i = 0; i < 1000 && s.compute->Find(building)->vm_state != "active"; ++i)
            shoal::testing::RunFor(io, 2ms);
        EXPECT_EQ(s.compute->Find(building)->vm_state, "active");
        EXPECT_EQ(s.compute->Allocations().size(), 2u);
        auto limits = call(s, http::Method::kGet, "/limits").JsonBody()->at("limits").at("absolute");
        EXPECT_EQ(limits["totalInstancesUsed"], 2);
        EXPECT_EQ(limits["totalRAMUsed"], 4096);
        EXPECT_EQ(call(s, http::Method::kGet, "/os-keypairs/kp").status, 200);
        EXPECT_EQ(call(s, http::Method::kGet, "/flavors/sv").status, 200);
        EXPECT_EQ(call(s, http::Method::kGet, "/flavors/5").status, 404);  // stays deleted
        // New servers do not reuse instance numbers.
        std::set<std::int64_t> numbers;
        for (const auto* srv : s.compute->Servers()) numbers.insert(srv->number);
        EXPECT_EQ(numbers.size(), 2u);
        ASSERT_EQ(call(s, http::Method::kDelete, "/servers/" + active).status, 204);
        for (int i = 0; i < 1000 && s.compute->Find(active); ++i) shoal::testing::RunFor(io, 2ms);
    }
    {
        auto store = OpenSqliteStore(path);
        ASSERT_TRUE(store.ok());
        Stack s(io, config, **store, tokens, client);
        EXPECT_EQ(s.compute->Find(active), nullptr);
        EXPECT_EQ(s.compute->Allocations().size(), 1u);
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace shoal::emulator
