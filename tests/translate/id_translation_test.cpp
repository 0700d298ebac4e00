#include "translate/id_translation.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/crypto.hpp"

namespace shoal::translate {
namespace {

// Shapes from the Nova v2.1 and Glance v2 api-ref samples.
constexpr char kProject[] = "6f70656e737461636b20342065766572";  // the tenant's project on cloudlet c1
constexpr char kTenant[] = "b6e1e23a2a8f4c1d9a0f2c6e1d7f0a11";   // the tenant at the identity provider
constexpr char kServerC[] = "9168b536-cd40-4630-b43f-b259807c6e87";
constexpr char kServerS[] = "11111111-2222-4333-8444-555555555555";
constexpr char kImageC[] = "70a599e0-31e7-49b7-b260-868f441e862b";
constexpr char kImageS[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kImageOnC2[] = "bbbbbbbb-0000-4000-8000-00000000c2c2";
constexpr char kVolumeC[] = "a26887c6-c47b-4654-abb5-dfadf7d3f803";
constexpr char kVolumeS[] = "cccccccc-0000-4000-8000-0000000000ff";

const char* kServerDetail21 = R"({
  "server": {
    "OS-DCF:diskConfig": "AUTO",
    "OS-EXT-AZ:availability_zone": "nova",
    "OS-EXT-SRV-ATTR:host": "compute",
    "OS-EXT-SRV-ATTR:hypervisor_hostname": "fake-mini",
    "OS-EXT-SRV-ATTR:instance_name": "instance-00000001",
    "OS-EXT-STS:power_state": 1,
    "OS-EXT-STS:task_state": null,
    "OS-EXT-STS:vm_state": "active",
    "OS-SRV-USG:launched_at": "2017-02-14T19:23:59.895661",
    "OS-SRV-USG:terminated_at": null,
    "accessIPv4": "1.2.3.4",
    "accessIPv6": "80fe::",
    "addresses": {"private": [{"OS-EXT-IPS-MAC:mac_addr": "aa:bb:cc:dd:ee:ff", "OS-EXT-IPS:type": "fixed",
                               "addr": "192.168.0.3", "version": 4}]},
    "config_drive": "",
    "created": "2017-02-14T19:23:58Z",
    "flavor": {"id": "1", "links": [{"href": "http://127.0.0.1:5001/compute/6f70656e737461636b20342065766572/flavors/1",
                                     "rel": "bookmark"}]},
    "hostId": "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6",
    "id": "9168b536-cd40-4630-b43f-b259807c6e87",
    "image": {"id": "70a599e0-31e7-49b7-b260-868f441e862b",
              "links": [{"href": "http://127.0.0.1:5001/compute/6f70656e737461636b20342065766572/images/70a599e0-31e7-49b7-b260-868f441e862b",
                         "rel": "bookmark"}]},
    "key_name": null,
    "links": [{"href": "http://127.0.0.1:5001/compute/v2.1/6f70656e737461636b20342065766572/servers/9168b536-cd40-4630-b43f-b259807c6e87",
               "rel": "self"},
              {"href": "http://127.0.0.1:5001/compute/6f70656e737461636b20342065766572/servers/9168b536-cd40-4630-b43f-b259807c6e87",
               "rel": "bookmark"}],
    "metadata": {"My Server Name": "Apache1"},
    "name": "new-server-test",
    "os-extended-volumes:volumes_attached": [{"id": "a26887c6-c47b-4654-abb5-dfadf7d3f803"}],
    "progress": 0,
    "security_groups": [{"name": "default"}],
    "status": "ACTIVE",
    "tenant_id": "6f70656e737461636b20342065766572",
    "updated": "2017-02-14T19:24:00Z",
    "user_id": "fake"
  }
})";

const char* kImage = R"({
  "status": "active", "name": "cirros-0.3.2-x86_64-disk", "tags": [], "container_format": "bare",
  "created_at": "2014-05-05T17:15:10Z", "disk_format": "qcow2", "updated_at": "2014-05-05T17:15:11Z",
  "visibility": "private", "self": "/v2/images/70a599e0-31e7-49b7-b260-868f441e862b", "min_disk": 0,
  "protected": false, "id": "70a599e0-31e7-49b7-b260-868f441e862b",
  "file": "/v2/images/70a599e0-31e7-49b7-b260-868f441e862b/file", "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
  "os_hash_algo": "sha512", "os_hash_value": "73e9", "os_hidden": false,
  "owner": "6f70656e737461636b20342065766572", "size": 13167616, "min_ram": 0, "schema": "/v2/schemas/image",
  "virtual_size": null, "direct_url": "file:///var/lib/glance/images/70a599e0",
  "locations": [{"url": "file:///var/lib/glance/images/70a599e0", "metadata": {}}]
})";

class TranslationTest : public ::testing::Test {
protected:
    void SetUp() override {
        map.Add(Kind::kServer, kServerS, "c1", kServerC);
        map.Add(Kind::kImage, kImageS, "c1", kImageC);
        map.Add(Kind::kImage, kImageS, "c2", kImageOnC2);
        map.Add(Kind::kFlavor, "shoal-tiny", "c1", "1");
        map.Add(Kind::kFlavor, "shoal-tiny", "c2", "42");
        map.Add(Kind::kVolume, kVolumeS, "c1", kVolumeC);
        map.Add(Kind::kNetwork, "net-s", "c1", "net-c1");
        map.Add(Kind::kPort, "port-s", "c1", "port-c1");
        map.Add(Kind::kSnapshot, "snap-s", "c1", "snap-c1");
        map.Add(Kind::kServerGroup, "group-s", "c1", "group-c1");
    }
    json Server() const { return json::parse(kServerDetail21)["server"]; }

    MemoryIdMap map;
    Translator tr{map, kTenant, AgentUrls{"http://127.0.0.1:8774/compute/v2.1", "http://127.0.0.1:9292"}};
    CloudletContext c1{"c1", kProject};
    CloudletContext c2{"c2", kProject};
};

// ---- sha224 / hostId ----------------------------------------------------------------------------

TEST(Sha224, MatchesKnownDigestsAcrossPaddingBoundaries) {
    EXPECT_EQ(Sha224Hex(""), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
    EXPECT_EQ(Sha224Hex("abc"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    EXPECT_EQ(Sha224Hex(std::string(55, 'a')), "fb0bd626a70c28541dfa781bb5cc4d7d7f56622a58f01a0b1ddd646f");
    EXPECT_EQ(Sha224Hex(std::string(56, 'a')), "d40854fc9caf172067136f2e29e1380b14626bf6f0dd06779f820dcd");
    EXPECT_EQ(Sha224Hex(std::string(63, 'a')), "1d4e051f4d6fed2a63fd2421e65834cec00d64456553de3496ae8b1d");
    EXPECT_EQ(Sha224Hex(std::string(64, 'a')), "a88cd5cde6d6fe9136a4e58b49167461ea95d388ca2bdb7afdc3cbf4");
    EXPECT_EQ(Sha224Hex(std::string(65, 'a')), "ff8716f600af42959d0efb52e1f21b01bb328733009344d511c299fb");
    EXPECT_EQ(Sha224Hex(std::string(119, 'a')), "e000e6709d26667b631faa7fc1bd404eb4774003c5fb4f51a0184875");
    EXPECT_EQ(Sha224Hex(std::string(120, 'a')), "66924e30a9929327e7a6cf03747397226ed2efc180ebe3dea7132a79");
    EXPECT_EQ(Sha224Hex(std::string(1000, 'a')), "4e8f0ce90b64661a2b5e84be6d93a7d9b76871062f1814433d04a03d");
}

TEST(Sha224, IsNovasHostIdOfTheApiRefSample) {
    // nova.utils.generate_hostid: sha224(project_id + host); the api-ref sample's host is "compute".
    EXPECT_EQ(Sha224Hex(std::string(kProject) + "compute"), "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6");
}

TEST_F(TranslationTest, HostIdIsSharedOnOneHostAndNeverCollidesAcrossCloudlets) {
    std::string h1 = Sha224Hex(std::string(kProject) + "compute-1");
    std::string h2 = Sha224Hex(std::string(kProject) + "compute-2");
    std::string a = tr.HostIdToShoal("c1", h1);
    EXPECT_EQ(a.size(), 56u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, h1);                          // the cloudlet's value never leaks
    EXPECT_EQ(a, tr.HostIdToShoal("c1", h1));  // same host, same value
    EXPECT_NE(a, tr.HostIdToShoal("c1", h2));  // other host
    EXPECT_NE(a, tr.HostIdToShoal("c2", h1));  // same cloudlet hostId on another cloudlet
    Translator other(map, "another-tenant", tr.urls());
    EXPECT_NE(a, other.HostIdToShoal("c1", h1));  // like Nova: not comparable across projects
    EXPECT_EQ(tr.HostIdToShoal("c1", ""), "");    // not scheduled yet

    std::set<std::string> seen;
    for (int c = 0; c < 20; ++c)
        for (int h = 0; h < 20; ++h)
            seen.insert(
                tr.HostIdToShoal("c" + std::to_string(c), Sha224Hex(std::string(kProject) + std::to_string(h))));
    EXPECT_EQ(seen.size(), 400u);
}

// ---- servers: cloudlet -> shoal ----------------------------------------------------------------

TEST_F(TranslationTest, DetailedServerPre247) {
    auto r = tr.ServerToShoal(c1, Server());
    ASSERT_TRUE(r.ok()) << r.error().message;
    const json& s = *r;
    EXPECT_EQ(s["id"], kServerS);
    ASSERT_EQ(s["links"].size(), 2u);
    EXPECT_EQ(s["links"][0]["rel"], "self");
    EXPECT_EQ(s["links"][0]["href"], std::string("http://127.0.0.1:8774/compute/v2.1/servers/") + kServerS);
    EXPECT_EQ(s["links"][1]["rel"], "bookmark");
    EXPECT_EQ(s["links"][1]["href"], std::string("http://127.0.0.1:8774/compute/servers/") + kServerS);
    EXPECT_EQ(s["image"]["id"], kImageS);
    EXPECT_EQ(s["image"]["links"][0]["href"], std::string("http://127.0.0.1:8774/compute/images/") + kImageS);
    EXPECT_EQ(s["image"]["links"][0]["rel"], "bookmark");
    EXPECT_EQ(s["flavor"]["id"], "shoal-tiny");
    EXPECT_EQ(s["flavor"]["links"][0]["href"], "http://127.0.0.1:8774/compute/flavors/shoal-tiny");
    EXPECT_EQ(s["tenant_id"], kTenant);
    EXPECT_EQ(s["hostId"], tr.HostIdToShoal("c1", "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6"));
    EXPECT_EQ(s["os-extended-volumes:volumes_attached"][0]["id"], kVolumeS);
    for (auto it = s.begin(); it != s.end(); ++it) EXPECT_NE(it.key().rfind("OS-EXT-SRV-ATTR:", 0), 0u) << it.key();
    // Everything without ids passes unchanged.
    json original = Server();
    for (const char* key : {"name", "status", "created", "updated", "addresses", "metadata", "OS-EXT-STS:vm_state",
                            "OS-EXT-STS:task_state", "OS-SRV-USG:launched_at", "security_groups", "accessIPv4",
                            "user_id", "progress", "OS-DCF:diskConfig", "config_drive", "key_name"})
        EXPECT_EQ(s[key], original[key]) << key;
    EXPECT_EQ(s.dump().find("127.0.0.1:5001"), std::string::npos);
    EXPECT_EQ(s.dump().find(kServerC), std::string::npos);
    EXPECT_EQ(s.dump().find(kProject), std::string::npos);
}

TEST_F(TranslationTest, EmbeddedFlavorFrom247PassesUnchanged) {
    json in = Server();
    in["flavor"] = json::parse(R"({"disk": 1, "ephemeral": 0, "extra_specs": {"hw:cpu_policy": "shared"},
                                   "original_name": "m1.tiny", "ram": 512, "swap": 0, "vcpus": 1})");
    in["locked"] = false;
    in["tags"] = json::array({"web"});
    in["description"] = nullptr;
    in["trusted_image_certificates"] = nullptr;
    in["server_groups"] = json::array({"group-c1"});
    in["locked_reason"] = nullptr;
    auto r = tr.ServerToShoal(c1, in);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["flavor"], in["flavor"]);
    EXPECT_EQ((*r)["tags"], in["tags"]);
    EXPECT_EQ((*r)["server_groups"], json::array({"group-s"}));
}

TEST_F(TranslationTest, VolumeBackedServerKeepsEmptyImage) {
    json in = Server();
    in["image"] = "";
    auto r = tr.ServerToShoal(c1, in);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["image"], "");
}

TEST_F(TranslationTest, FaultIsKept) {
    json in = Server();
    in["status"] = "ERROR";
    in["hostId"] = "";
    in["fault"] = {{"code", 500}, {"created", "2017-02-14T19:24:00Z"}, {"message", "No valid host was found."}};
    auto r = tr.ServerToShoal(c1, in);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["fault"], in["fault"]);
    EXPECT_EQ((*r)["hostId"], "");
}

TEST_F(TranslationTest, AdminFieldsMappedWhenShown) {
    Translator admin(map, kTenant, tr.urls(), TranslatorOptions{true});
    json in = Server();
    in["OS-EXT-SRV-ATTR:kernel_id"] = "";
    in["OS-EXT-SRV-ATTR:ramdisk_id"] = kImageC;
    in["host_status"] = "UP";
    auto r = admin.ServerToShoal(c1, in);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["OS-EXT-SRV-ATTR:host"], "c1/compute");
    EXPECT_EQ((*r)["OS-EXT-SRV-ATTR:hypervisor_hostname"], "c1/fake-mini");
    EXPECT_EQ((*r)["OS-EXT-SRV-ATTR:instance_name"], "instance-00000001");
    EXPECT_EQ((*r)["OS-EXT-SRV-ATTR:kernel_id"], "");
    EXPECT_EQ((*r)["OS-EXT-SRV-ATTR:ramdisk_id"], kImageS);
    EXPECT_EQ((*r)["host_status"], "UP");
    auto hidden = tr.ServerToShoal(c1, in);
    ASSERT_TRUE(hidden.ok());
    EXPECT_FALSE(hidden->contains("host_status"));
}

TEST_F(TranslationTest, CreateAnswerAndBasicView) {
    json body = json::parse(R"({"server": {"OS-DCF:diskConfig": "AUTO", "adminPass": "6NpUwoz2QDRN",
        "id": "9168b536-cd40-4630-b43f-b259807c6e87",
        "links": [{"href": "http://127.0.0.1:5001/compute/v2.1/servers/9168b536-cd40-4630-b43f-b259807c6e87", "rel": "self"},
                  {"href": "http://127.0.0.1:5001/compute/servers/9168b536-cd40-4630-b43f-b259807c6e87", "rel": "bookmark"}],
        "security_groups": [{"name": "default"}]}})");
    auto r = tr.ServerBodyToShoal(c1, body);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["server"]["id"], kServerS);
    EXPECT_EQ((*r)["server"]["adminPass"], "6NpUwoz2QDRN");
    EXPECT_EQ((*r)["server"]["links"], tr.Links("servers", kServerS));
}

TEST_F(TranslationTest, UnknownIdsAreTypedErrors) {
    json in = Server();
    in["id"] = "00000000-0000-4000-8000-000000000000";
    auto r = tr.ServerToShoal(c1, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().message, "Instance 00000000-0000-4000-8000-000000000000 could not be found.");

    in = Server();
    in["image"]["id"] = "ffffffff-0000-4000-8000-000000000000";
    r = tr.ServerToShoal(c1, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().message, "Image ffffffff-0000-4000-8000-000000000000 could not be found.");

    // The server is known on c1, not on c2: ids are per cloudlet.
    r = tr.ServerToShoal(c2, Server());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);

    r = tr.ServerToShoal(c1, json::parse(R"({"name": "no id"})"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kBadGateway);
    EXPECT_FALSE(tr.ServerBodyToShoal(c1, json::array()).ok());
    EXPECT_FALSE(tr.ServerToShoal(c1, json("x")).ok());
}

// ---- hrefs ---------------------------------------------------------------

TEST_F(TranslationTest, ComputeHrefForms) {
    std::string id = kServerC;
    struct Case {
        std::string in, out;
    } cases[] = {
        {"http://127.0.0.1:5001/compute/v2.1/" + std::string(kProject) + "/servers/" + id,
         std::string("http://127.0.0.1:8774/compute/v2.1/servers/") + kServerS},
        {"http://127.0.0.1:5001/compute/v2.1/servers/" + id,
         std::string("http://127.0.0.1:8774/compute/v2.1/servers/") + kServerS},
        {"http://10.0.0.5:8774/v2.1/servers/" + id + "/action",
         std::string("http://127.0.0.1:8774/compute/v2.1/servers/") + kServerS + "/action"},
        {"http://10.0.0.5:8774/" + std::string(kProject) + "/servers/" + id,
         std::string("http://127.0.0.1:8774/compute/servers/") + kServerS},
        {"http://127.0.0.1:5001/compute/v2.1/servers/detail?limit=2",
         "http://127.0.0.1:8774/compute/v2.1/servers/detail?limit=2"},
        {"http://127.0.0.1:5001/compute/v2.1/flavors/1", "http://127.0.0.1:8774/compute/v2.1/flavors/shoal-tiny"},
        {"http://127.0.0.1:5001/compute/images/" + std::string(kImageC),
         std::string("http://127.0.0.1:8774/compute/images/") + kImageS},
    };
    for (const auto& c : cases) {
        auto r = tr.ComputeHrefToShoal("c1", c.in);
        ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message;
        EXPECT_EQ(*r, c.out) << c.in;
    }
    auto bad = tr.ComputeHrefToShoal("c1", "http://127.0.0.1:5001/compute/v2.1/os-hypervisors/1");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kBadGateway);
    auto unknown = tr.ComputeHrefToShoal("c1", "http://127.0.0.1:5001/compute/v2.1/servers/nope");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

// ---- Glance images ----------------------------------------------------------------------------

TEST_F(TranslationTest, GlanceImage) {
    auto r = tr.ImageToShoal(c1, json::parse(kImage));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["id"], kImageS);
    EXPECT_EQ((*r)["self"], std::string("/v2/images/") + kImageS);
    EXPECT_EQ((*r)["file"], std::string("/v2/images/") + kImageS + "/file");
    EXPECT_EQ((*r)["schema"], "/v2/schemas/image");
    EXPECT_EQ((*r)["owner"], kTenant);
    EXPECT_FALSE(r->contains("direct_url"));
    EXPECT_FALSE(r->contains("locations"));
    EXPECT_EQ((*r)["checksum"], "64d7c1cd2b6f60c92c14662941cb7913");
    EXPECT_EQ((*r)["virtual_size"], nullptr);

    // The copy on c2 is the same shoal image.
    json copy = json::parse(kImage);
    copy["id"] = kImageOnC2;
    copy["self"] = std::string("/v2/images/") + kImageOnC2;
    copy["file"] = std::string("/v2/images/") + kImageOnC2 + "/file";
    auto r2 = tr.ImageToShoal(c2, copy);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ((*r2)["id"], kImageS);
    EXPECT_EQ((*r2)["self"], (*r)["self"]);

    // A public image of another project keeps its owner.
    copy["owner"] = "admin-project";
    EXPECT_EQ((*tr.ImageToShoal(c2, copy))["owner"], "admin-project");
}

TEST_F(TranslationTest, SnapshotPropertiesMappedOrDropped) {
    json snap = json::parse(kImage);
    snap["image_type"] = "snapshot";
    snap["instance_uuid"] = kServerC;
    snap["base_image_ref"] = "99999999-0000-4000-8000-000000000000";  // not the tenant's through shoal
    snap["owner_user_name"] = "demo";
    auto r = tr.ImageToShoal(c1, snap);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["instance_uuid"], kServerS);
    EXPECT_FALSE(r->contains("base_image_ref"));
    EXPECT_EQ((*r)["image_type"], "snapshot");
    EXPECT_EQ((*r)["owner_user_name"], "demo");

    json unknown = json::parse(kImage);
    unknown["id"] = "99999999-0000-4000-8000-000000000000";
    auto bad = tr.ImageToShoal(c1, unknown);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
}

// ---- requests: shoal -> cloudlet --------------------------------------------------------------

TEST_F(TranslationTest, CreateServerRequest) {
    json body = json::parse(R"({
      "server": {
        "name": "new-server-test",
        "imageRef": "http://127.0.0.1:8774/compute/images/aaaaaaaa-0000-4000-8000-000000000001",
        "flavorRef": "shoal-tiny",
        "availability_zone": "nova",
        "OS-DCF:diskConfig": "AUTO",
        "metadata": {"My Server Name": "Apache1"},
        "security_groups": [{"name": "default"}],
        "user_data": "IyEvYmluL2Jhc2gKL2Jpbi9zdQplY2hvICJJIGFtIGluIHlvdSEiCg==",
        "networks": [{"uuid": "net-s", "fixed_ip": "10.0.0.9"}, {"port": "port-s", "tag": "nic1"}],
        "block_device_mapping_v2": [
          {"boot_index": 0, "uuid": "aaaaaaaa-0000-4000-8000-000000000001", "source_type": "image",
           "destination_type": "volume", "volume_size": 1, "delete_on_termination": true},
          {"boot_index": 1, "uuid": "cccccccc-0000-4000-8000-0000000000ff", "source_type": "volume", "destination_type": "volume"},
          {"uuid": "snap-s", "source_type": "snapshot", "destination_type": "volume"},
          {"source_type": "blank", "destination_type": "local", "guest_format": "swap", "volume_size": 1}
        ],
        "block_device_mapping": [{"device_name": "vdc", "volume_id": "cccccccc-0000-4000-8000-0000000000ff"}]
      },
      "os:scheduler_hints": {"group": "group-s", "same_host": ["11111111-2222-4333-8444-555555555555"]}
    })");
    auto r = tr.CreateServerToCloudlet(c1, body);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const json& s = (*r)["server"];
    EXPECT_EQ(s["imageRef"], kImageC);
    EXPECT_EQ(s["flavorRef"], "1");
    EXPECT_EQ(s["networks"][0]["uuid"], "net-c1");
    EXPECT_EQ(s["networks"][0]["fixed_ip"], "10.0.0.9");
    EXPECT_EQ(s["networks"][1]["port"], "port-c1");
    EXPECT_EQ(s["block_device_mapping_v2"][0]["uuid"], kImageC);
    EXPECT_EQ(s["block_device_mapping_v2"][1]["uuid"], kVolumeC);
    EXPECT_EQ(s["block_device_mapping_v2"][2]["uuid"], "snap-c1");
    EXPECT_EQ(s["block_device_mapping_v2"][3], body["server"]["block_device_mapping_v2"][3]);
    EXPECT_EQ(s["block_device_mapping"][0]["volume_id"], kVolumeC);
    EXPECT_EQ((*r)["os:scheduler_hints"]["group"], "group-c1");
    EXPECT_EQ((*r)["os:scheduler_hints"]["same_host"], json::array({kServerC}));
    EXPECT_EQ(s["user_data"], body["server"]["user_data"]);
    EXPECT_EQ(s["metadata"], body["server"]["metadata"]);

    // The same image on c2 becomes c2's copy; the flavor c2's id.
    json simple = {
        {"server", {{"name", "x"}, {"imageRef", kImageS}, {"flavorRef", "shoal-tiny"}, {"networks", "auto"}}}};
    auto r2 = tr.CreateServerToCloudlet(c2, simple);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ((*r2)["server"]["imageRef"], kImageOnC2);
    EXPECT_EQ((*r2)["server"]["flavorRef"], "42");
    EXPECT_EQ((*r2)["server"]["networks"], "auto");
}

TEST_F(TranslationTest, CreateServerHintsNameServersOfThisCloudletOnly) {
    // kServerS is on c1. On c2 every host is a different host from it, and none is the same.
    json body = {{"server", {{"name", "x"}, {"imageRef", kImageS}, {"flavorRef", "shoal-tiny"}}},
                 {"os:scheduler_hints", {{"different_host", json::array({kServerS})}}}};
    auto on_c1 = tr.CreateServerToCloudlet(c1, body);
    ASSERT_TRUE(on_c1.ok());
    EXPECT_EQ((*on_c1)["os:scheduler_hints"]["different_host"], json::array({kServerC}));
    auto on_c2 = tr.CreateServerToCloudlet(c2, body);
    ASSERT_TRUE(on_c2.ok()) << on_c2.error().message;
    EXPECT_FALSE((*on_c2)["os:scheduler_hints"].contains("different_host"));

    body["os:scheduler_hints"] = {{"same_host", kServerS}};
    auto same = tr.CreateServerToCloudlet(c1, body);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ((*same)["os:scheduler_hints"]["same_host"], kServerC);
    auto impossible = tr.CreateServerToCloudlet(c2, body);
    ASSERT_FALSE(impossible.ok());
    EXPECT_EQ(impossible.error().code, ErrorCode::kNotFound);
}

TEST_F(TranslationTest, CreateServerRequestErrorsAndOddShapes) {
    // The network exists on c1 only.
    json body = {{"server",
                  {{"name", "x"},
                   {"imageRef", kImageS},
                   {"flavorRef", "shoal-tiny"},
                   {"networks", json::array({{{"uuid", "net-s"}}})}}}};
    auto r = tr.CreateServerToCloudlet(c2, body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().message, "Network net-s could not be found.");

    body["server"]["imageRef"] = "no-such-image";
    r = tr.CreateServerToCloudlet(c1, body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "Image no-such-image could not be found.");

    // Volume-backed: imageRef "" stays; a flavorRef given as an integer works.
    json vol = {{"server", {{"name", "x"}, {"imageRef", ""}, {"flavorRef", 1}}}};
    map.Add(Kind::kFlavor, "1", "c1", "7");
    auto v = tr.CreateServerToCloudlet(c1, vol);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ((*v)["server"]["imageRef"], "");
    EXPECT_EQ((*v)["server"]["flavorRef"], "7");

    // Malformed bodies reach the cloudlet unchanged: its validation answers.
    for (const char* text :
         {R"([])", R"({"server": 3})", R"({"nothing": true})",
          R"({"server": {"imageRef": 5, "networks": [1, "x"], "block_device_mapping_v2": [{"uuid": 1}]}})"}) {
        json odd = json::parse(text);
        auto o = tr.CreateServerToCloudlet(c1, odd);
        ASSERT_TRUE(o.ok()) << text;
        EXPECT_EQ(*o, odd) << text;
    }
}

TEST_F(TranslationTest, ActionRequests) {
    auto r = tr.ActionToCloudlet(c2, {{"rebuild", {{"imageRef", kImageS}, {"name", "foobar"}}}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["rebuild"]["imageRef"], kImageOnC2);
    r = tr.ActionToCloudlet(c1, {{"resize", {{"flavorRef", "http://127.0.0.1:8774/compute/flavors/shoal-tiny"}}}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["resize"]["flavorRef"], "1");
    r = tr.ActionToCloudlet(c1, {{"rescue", {{"adminPass", "MySecretPass"}, {"rescue_image_ref", kImageS}}}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["rescue"]["rescue_image_ref"], kImageC);
    json reboot = {{"reboot", {{"type", "HARD"}}}};
    EXPECT_EQ(*tr.ActionToCloudlet(c1, reboot), reboot);
    json create_image = {{"createImage", {{"name", "snap"}, {"metadata", json::object()}}}};
    EXPECT_EQ(*tr.ActionToCloudlet(c1, create_image), create_image);
    auto bad = tr.ActionToCloudlet(c1, {{"resize", {{"flavorRef", "m1.huge"}}}});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(bad.error().message, "Flavor m1.huge could not be found.");
}

TEST_F(TranslationTest, ListQueryParams) {
    QueryParams q = {{"image", std::string("http://127.0.0.1:8774/compute/images/") + kImageS},
                     {"flavor", "shoal-tiny"},
                     {"status", "ACTIVE"},
                     {"name", "web-.*"},
                     {"marker", kServerS},
                     {"limit", "5"},
                     {"sort_key", "display_name"},
                     {"sort_dir", "asc"}};
    auto r = tr.ListQueryToCloudlet(c2, q);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_value());
    QueryParams want = {{"image", kImageOnC2},        {"flavor", "42"},   {"status", "ACTIVE"}, {"name", "web-.*"},
                        {"sort_key", "display_name"}, {"sort_dir", "asc"}};
    EXPECT_EQ(**r, want);
    // A server filter (uuid=) only matches where the server is.
    auto c1q = tr.ListQueryToCloudlet(c1, {{"uuid", kServerS}});
    ASSERT_TRUE(c1q.ok() && c1q->has_value());
    EXPECT_EQ((**c1q)[0].second, kServerC);
    auto c2q = tr.ListQueryToCloudlet(c2, {{"uuid", kServerS}});
    ASSERT_TRUE(c2q.ok());
    EXPECT_FALSE(c2q->has_value());
    auto none = tr.ListQueryToCloudlet(c1, {{"image", "unknown"}});
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
}

// ---- small helpers ----------------------------------------------------------------------------

TEST(Helpers, IdFromHrefAndTheQueryEncodingOfListsSentOn) {
    EXPECT_EQ(IdFromHref("abc"), "abc");
    EXPECT_EQ(IdFromHref("http://h/compute/images/abc?x=1"), "abc");
    EXPECT_EQ(IdFromHref("http://h/flavors/1/"), "1");
    // Lists sent on to cloudlets and next links use the HTTP core's encoding (RFC 3986: a space
    // is %20, which WebOb and the embedded cloudlet decode alike).
    EXPECT_EQ(http::EncodeQuery({{"name", "a b&c"}, {"marker", "x/y"}}), "name=a%20b%26c&marker=x%2Fy");
    EXPECT_EQ(http::EncodeQuery({}), "");
}

TEST(Helpers, MemoryIdMapPassThroughAndCopies) {
    MemoryIdMap m;
    m.PassThrough(Kind::kFlavor);
    EXPECT_EQ(m.ToShoal(Kind::kFlavor, "c9", "m1.tiny"), "m1.tiny");
    EXPECT_EQ(m.ToCloudlet(Kind::kFlavor, "m1.tiny", "c9"), "m1.tiny");
    EXPECT_FALSE(m.ToShoal(Kind::kImage, "c9", "x").has_value());
    m.Add(Kind::kImage, "s", "c2", "i2");
    m.Add(Kind::kImage, "s", "c1", "i1");
    ASSERT_EQ(m.Copies(Kind::kImage, "s").size(), 2u);
    EXPECT_EQ(m.ToCloudlet(Kind::kImage, "s", "c1"), "i1");
    EXPECT_FALSE(m.ToCloudlet(Kind::kImage, "s", "c3").has_value());
    Translator t(m, "t", {"http://a/compute/v2.1", "http://a:9292"});
    EXPECT_EQ(t.ComputeBookmarkBase(), "http://a/compute");
}

}  // namespace
}  // namespace shoal::translate
