#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "async_test.hpp"
#include "common/ids.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "emulator/placement/placement_service.hpp"
#include "http/client.hpp"
#include "http/router.hpp"

namespace shoal::emulator {
namespace {

using nlohmann::json;
using shoal::testing::MakeRequest;
using namespace std::chrono_literals;

constexpr std::string_view kAdminToken = "admin-token";
constexpr std::string_view kMemberToken = "member-token";
constexpr std::string_view kMemberProject = "4f1c0f5e0e6b4a8f9d3c2b1a09876543";

// Keystone's view of two tokens: a cloud admin and a member of one project.
class FakeTokens : public TokenValidator {
public:
    Result<TokenInfo> Validate(std::string_view token) const override {
        TokenInfo info;
        info.token_id = std::string(token);
        if (token == kAdminToken) {
            info.user_id = "u-admin";
            info.project_id = "p-admin";
            info.roles = {"admin", "member", "reader"};
            return info;
        }
        if (token == kMemberToken) {
            info.user_id = "u-member";
            info.project_id = std::string(kMemberProject);
            info.roles = {"member", "reader"};
            return info;
        }
        return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
    }
};

CloudletConfig TwoHypervisors() {
    CloudletConfig c;
    c.name = "pl";
    c.hypervisors.count = 2;
    c.hypervisors.vcpus = 16;
    c.hypervisors.memory_mb = 32768;
    c.hypervisors.disk_gb = 500;
    c.hypervisors.reserved_host_memory_mb = 512;
    c.hypervisors.cpu_allocation_ratio = 4.0;
    c.hypervisors.ram_allocation_ratio = 1.0;
    c.hypervisors.disk_allocation_ratio = 1.0;
    c.boot_delay = 10ms;
    c.delete_delay = 10ms;
    return c;
}

class PlacementTest : public ::testing::Test {
protected:
    PlacementTest()
        : config_(TwoHypervisors()), client_(io_.get_executor()), store_(MakeMemoryStore()), ctx_{config_,
                                                                                                  io_.get_executor(),
                                                                                                  *store_,
                                                                                                  client_,
                                                                                                  &tokens_,
                                                                                                  "",
                                                                                                  [] { return std::string("http://127.0.0.1:5000"); }} {
        compute_ = std::make_unique<FakeCompute>(ctx_);
        compute_->Load();
        placement_ = std::make_unique<PlacementService>(ctx_, *compute_);
        router_.SetErrorStyle(std::string(kPlacementPrefix), http::ErrorStyle::kPlacement);
        placement_->AddRoutes(router_);
    }
    ~PlacementTest() override { compute_->Stop(); }

    http::Response Send(http::Method method,
                        const std::string& path,
                        std::string_view version = {},
                        std::string_view token = kAdminToken,
                        std::string body = {}) {
        auto req = MakeRequest(method, "/placement" + path, std::move(body), std::string(token));
        if (!version.empty()) req.headers.Set("OpenStack-API-Version", "placement " + std::string(version));
        return shoal::testing::Run(io_, router_.Dispatch(req));
    }
    http::Response Get(const std::string& path, std::string_view version = {}, std::string_view token = kAdminToken) {
        return Send(http::Method::kGet, path, version, token);
    }
    static json Body(const http::Response& r) {
        auto j = r.JsonBody();
        EXPECT_TRUE(j.ok()) << r.body;
        return j.ok() ? *j : json();
    }
    // What osc-placement shows of an error: the last line of its detail.
    static std::string Detail(const http::Response& r) {
        auto d = Body(r)["errors"][0]["detail"].get<std::string>();
        auto nl = d.rfind('\n');
        d = nl == std::string::npos ? d : d.substr(nl + 1);
        auto b = d.find_first_not_of(' ');
        auto e = d.find_last_not_of(' ');
        return b == std::string::npos ? "" : d.substr(b, e - b + 1);
    }
    const Hypervisor& Hv(std::size_t i) const { return compute_->Hypervisors().at(i); }
    const Hypervisor& HostOf(const std::string& server) const {
        return *compute_->FindHypervisor(compute_->Find(server)->host);
    }

    // Boots a server through the fake compute and lets its build run until the scheduler has
    // claimed a host (an allocation in placement's terms).
    std::string Boot(
        int vcpus, int ram_mb, int disk_gb, const std::string& project = "p1", const std::string& user = "u1") {
        FakeCompute::Server s;
        s.id = NewUuid();
        s.number = compute_->NextServerNumber();
        s.name = s.hostname = "vm-" + std::to_string(s.number);
        s.project_id = project;
        s.user_id = user;
        s.flavor.id = s.flavor.name = "f" + std::to_string(ram_mb);
        s.flavor.vcpus = vcpus;
        s.flavor.ram_mb = ram_mb;
        s.flavor.disk_gb = disk_gb;
        s.created = s.updated = std::chrono::system_clock::now();
        std::string id = s.id;
        compute_->Create({std::move(s)});
        for (int i = 0; i < 1000 && compute_->Find(id)->host.empty() && compute_->Find(id)->vm_state != "error"; ++i)
            shoal::testing::RunFor(io_, 5ms);
        EXPECT_FALSE(compute_->Find(id)->host.empty()) << "server " << id << " was not scheduled";
        return id;
    }

    boost::asio::io_context io_;
    CloudletConfig config_;
    http::Client client_;
    std::unique_ptr<DocumentStore> store_;
    FakeTokens tokens_;
    ServiceContext ctx_;
    std::unique_ptr<FakeCompute> compute_;
    std::unique_ptr<PlacementService> placement_;
    http::Router router_;
};

using PlacementApi = PlacementTest;
using PlacementProviders = PlacementTest;
using PlacementUsages = PlacementTest;
using PlacementCandidates = PlacementTest;
using PlacementCatalog = PlacementTest;

// ------------------------------------------------------------------ version document, microversions, auth

TEST_F(PlacementApi, VersionDocumentNeedsNoToken) {
    for (std::string path : {"", "/"}) {
        auto r = Get(path, {}, {});
        ASSERT_EQ(r.status, 200) << r.body;
        auto v = Body(r)["versions"][0];
        EXPECT_EQ(v["id"], "v1.0");
        EXPECT_EQ(v["min_version"], "1.0");
        EXPECT_EQ(v["max_version"], "1.39");
        EXPECT_EQ(v["status"], "CURRENT");
        EXPECT_EQ(v["links"][0]["rel"], "self");
        EXPECT_EQ(r.headers.Get("OpenStack-API-Version"), "placement 1.0");
        EXPECT_EQ(r.headers.Get("Vary"), "openstack-api-version");
    }
}

TEST_F(PlacementApi, NegotiatesMicroversions) {
    EXPECT_EQ(Get("/", "latest").headers.Get("OpenStack-API-Version"), "placement 1.39");
    // osc-placement asks for 1.29 first.
    EXPECT_EQ(Get("/", "1.29").headers.Get("OpenStack-API-Version"), "placement 1.29");

    auto req = MakeRequest(http::Method::kGet, "/placement/resource_providers", {}, std::string(kAdminToken));
    req.headers.Set("OpenStack-API-Version", "compute 2.90, placement 1.14");
    auto r = shoal::testing::Run(io_, router_.Dispatch(req));
    EXPECT_EQ(r.headers.Get("OpenStack-API-Version"), "placement 1.14");
    EXPECT_TRUE(Body(r)["resource_providers"][0].contains("root_provider_uuid"));

    req.headers.Set("OpenStack-API-Version", "compute 2.90");
    EXPECT_EQ(shoal::testing::Run(io_, router_.Dispatch(req)).headers.Get("OpenStack-API-Version"), "placement 1.0");

    for (std::string_view bad : {"1.40", "2.0", "0.9"}) {
        auto na = Get("/", bad, {});
        ASSERT_EQ(na.status, 406) << bad;
        auto e = Body(na)["errors"][0];
        EXPECT_EQ(e["max_version"], "1.39");  // what osc-placement falls back to
        EXPECT_EQ(e["min_version"], "1.0");
        EXPECT_EQ(Detail(na), "Invalid microversion: Unacceptable version header: " + std::string(bad));
    }
    for (std::string_view bad : {"abc", "1", "1.x", "1.2.3"}) {
        auto br = Get("/resource_providers", bad);
        EXPECT_EQ(br.status, 400) << bad;
        EXPECT_NE(Detail(br).find("Invalid microversion: invalid version string: " + std::string(bad)),
                  std::string::npos)
            << Detail(br);
    }
}

TEST_F(PlacementApi, NeedsTokenAndAdminRole) {
    auto none = Get("/resource_providers", {}, {});
    EXPECT_EQ(none.status, 401);
    EXPECT_TRUE(none.headers.Has("WWW-Authenticate"));
    EXPECT_EQ(Get("/resource_providers", {}, "expired").status, 401);

    auto member = Get("/resource_providers", "1.29", kMemberToken);
    ASSERT_EQ(member.status, 403);
    EXPECT_EQ(Detail(member), "Policy does not allow placement:resource_providers:list to be performed.");
    EXPECT_EQ(member.headers.Get("OpenStack-API-Version"), "placement 1.29");
    EXPECT_EQ(Get("/resource_providers/" + Hv(0).uuid + "/inventories", {}, kMemberToken).status, 403);
    EXPECT_EQ(Get("/allocation_candidates?resources=VCPU:1", "1.10", kMemberToken).status, 403);
}

TEST_F(PlacementApi, ErrorsCarryCodesFrom1_23) {
    auto old = Get("/resource_providers/" + Hv(0).uuid + "x", "1.22");
    ASSERT_EQ(old.status, 404);
    EXPECT_FALSE(Body(old)["errors"][0].contains("code"));
    auto now = Get("/resource_providers/" + Hv(0).uuid + "x", "1.23");
    ASSERT_EQ(now.status, 404);
    auto e = Body(now)["errors"][0];
    EXPECT_EQ(e["code"], "placement.undefined_code");
    EXPECT_EQ(e["title"], "Not Found");
    EXPECT_EQ(e["request_id"], "req-test");
}

TEST_F(PlacementApi, CacheHeadersFrom1_15) {
    auto old = Get("/resource_providers", "1.14");
    EXPECT_FALSE(old.headers.Has("Last-Modified"));
    EXPECT_FALSE(old.headers.Has("Cache-Control"));
    auto now = Get("/resource_providers", "1.15");
    EXPECT_EQ(now.headers.Get("Cache-Control"), "no-cache");
    auto lm = std::string(now.headers.Get("Last-Modified").value_or(""));
    EXPECT_TRUE(lm.ends_with(" GMT")) << lm;
    EXPECT_EQ(lm.size(), std::string("Tue, 20 Nov 2018 14:31:40 GMT").size()) << lm;
}

TEST_F(PlacementApi, RefusesJsonOnlyForOtherMediaTypes) {
    auto req = MakeRequest(http::Method::kGet, "/placement/resource_providers", {}, std::string(kAdminToken));
    req.headers.Set("Accept", "text/html");
    auto r = shoal::testing::Run(io_, router_.Dispatch(req));
    EXPECT_EQ(r.status, 406);
    EXPECT_EQ(Detail(r), "Only application/json is provided");
    req.headers.Set("Accept", "text/html, application/json;q=0.9");
    EXPECT_EQ(shoal::testing::Run(io_, router_.Dispatch(req)).status, 200);
}

TEST_F(PlacementApi, WritesAreRefusedBecauseComputeOwnsTheState) {
    const std::string rp = "/resource_providers/" + Hv(0).uuid;
    auto create = Send(http::Method::kPost, "/resource_providers", "1.20", kAdminToken, R"({"name": "x"})");
    EXPECT_EQ(create.status, 403);
    EXPECT_NE(Detail(create).find("read-only"), std::string::npos);
    EXPECT_EQ(Send(http::Method::kDelete, rp).status, 403);
    EXPECT_EQ(Send(http::Method::kPut, rp + "/inventories", {}, kAdminToken, "{}").status, 403);
    EXPECT_EQ(Send(http::Method::kPut, "/allocations/" + Hv(0).uuid, "1.28", kAdminToken, "{}").status, 403);
    // Policy still speaks first, and microversion gates still apply.
    auto member = Send(http::Method::kDelete, rp, {}, kMemberToken);
    EXPECT_EQ(Detail(member), "Policy does not allow placement:resource_providers:delete to be performed.");
    EXPECT_EQ(Send(http::Method::kDelete, rp + "/inventories", "1.4").status, 405);
    EXPECT_EQ(Send(http::Method::kPut, "/traits/CUSTOM_X", "1.5").status, 404);
    // Methods placement itself does not route.
    EXPECT_EQ(Send(http::Method::kPatch, rp).status, 405);
    EXPECT_EQ(Get("/nonexistent").status, 404);
}

TEST_F(PlacementApi, OddInputIsAClientErrorNeverACrash) {
    const std::pair<std::string, std::string_view> cases[] = {
        {"/resource_providers?resources=VCPU:99999999999999999999999", "1.4"},
        {"/resource_providers?resources=VCPU:-1,MEMORY_MB:1:2", "1.4"},
        {"/resource_providers?required=!!!,", "1.22"},
        {"/resource_providers?member_of=in:,", "1.24"},
        {"/resource_providers?name=%00&uuid=", "1.0"},
        {"/allocation_candidates?resources=VCPU:9223372036854775807&resources1=VCPU:9223372036854775807"
         "&group_policy=none",
         "1.39"},
        {"/allocation_candidates?resources=VCPU:1&limit=99999999999999999999", "1.16"},
        {"/allocation_candidates?resources=:,:&resources_x=", "1.33"},
        {"/allocation_candidates?resources=VCPU:1&same_subtree=,", "1.36"},
        {"/allocation_candidates?resources=VCPU:1&root_required=in:COMPUTE_NODE", "1.35"},
        {"/allocation_candidates?resources=VCPU:1&required=in:,!X", "1.39"},
        {"/usages?project_id=%00&user_id=" + std::string(300, 'u'), "1.9"},
        {"/traits?name=in:", "1.6"},
        {"/resource_providers", "1.99999999999999999999"},
        {"/resource_providers", "1.-1"},
    };
    for (const auto& [path, version] : cases) {
        auto r = Get(path, version);
        EXPECT_GE(r.status, 200) << path;
        EXPECT_LT(r.status, 500) << path << " " << r.body;
        if (r.status >= 400) {
            EXPECT_TRUE(Body(r).contains("errors")) << path << " " << r.body;
        }
    }
}

// ------------------------------------------------------------------ resource providers and inventories

TEST_F(PlacementProviders, OnePerHypervisor) {
    auto r = Get("/resource_providers", "1.29");
    ASSERT_EQ(r.status, 200) << r.body;
    auto rps = Body(r)["resource_providers"];
    ASSERT_EQ(rps.size(), compute_->Hypervisors().size());
    ASSERT_EQ(rps.size(), 2u);
    for (std::size_t i = 0; i < rps.size(); ++i) {
        const auto& h = Hv(i);
        EXPECT_EQ(rps[i]["uuid"], h.uuid);
        EXPECT_EQ(rps[i]["name"], h.hostname);
        EXPECT_EQ(rps[i]["generation"], h.generation);
        EXPECT_EQ(rps[i]["root_provider_uuid"], h.uuid);
        EXPECT_TRUE(rps[i]["parent_provider_uuid"].is_null());
        EXPECT_EQ(rps[i]["links"][0]["href"], "/placement/resource_providers/" + h.uuid);
        EXPECT_EQ(rps[i]["links"].size(), 6u);  // self, inventories, usages, aggregates, traits, allocations
    }
    auto old = Body(Get("/resource_providers"))["resource_providers"][0];
    EXPECT_FALSE(old.contains("root_provider_uuid"));
    EXPECT_EQ(old["links"].size(), 3u);

    auto one = Get("/resource_providers/" + Hv(1).uuid, "1.14");
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(Body(one)["name"], Hv(1).hostname);
}

TEST_F(PlacementProviders, UnknownProviderIs404Everywhere) {
    const std::string missing = "00000000-0000-4000-8000-000000000000";
    auto r = Get("/resource_providers/" + missing);
    ASSERT_EQ(r.status, 404);
    EXPECT_EQ(Detail(r), "No resource provider with uuid " + missing + " found");
    for (std::string sub : {"/inventories", "/inventories/VCPU", "/usages", "/allocations", "/traits", "/aggregates"}) {
        auto s = Get("/resource_providers/" + missing + sub, "1.29");
        EXPECT_EQ(s.status, 404) << sub;
        EXPECT_NE(Detail(s).find("No resource provider with uuid " + missing + " found"), std::string::npos) << sub;
    }
    // Not a UUID at all: placement does not validate path UUIDs, it just finds nothing.
    EXPECT_EQ(Get("/resource_providers/not-a-uuid").status, 404);
}

TEST_F(PlacementProviders, Filters) {
    auto names = [&](const std::string& query, std::string_view version = "1.39") {
        auto r = Get("/resource_providers" + query, version);
        EXPECT_EQ(r.status, 200) << query << " " << r.body;
        std::vector<std::string> out;
        auto body = Body(r);
        for (const auto& rp : body["resource_providers"]) out.push_back(rp["name"]);
        return out;
    };
    const auto& a = Hv(0);
    const auto& b = Hv(1);
    EXPECT_EQ(names("?name=" + b.hostname), std::vector<std::string>{b.hostname});
    EXPECT_EQ(names("?uuid=" + a.uuid), std::vector<std::string>{a.hostname});
    EXPECT_EQ(names("?in_tree=" + b.uuid), std::vector<std::string>{b.hostname});
    EXPECT_TRUE(names("?name=nope").empty());
    EXPECT_EQ(names("?resources=VCPU:16,MEMORY_MB:32256").size(), 2u);  // memory capacity = total - reserved
    EXPECT_TRUE(names("?resources=MEMORY_MB:32257").empty());
    EXPECT_TRUE(names("?resources=VCPU:17").empty());  // above max_unit, though under capacity
    EXPECT_EQ(names("?required=COMPUTE_NODE").size(), 2u);
    EXPECT_TRUE(names("?required=!COMPUTE_NODE").empty());
    EXPECT_EQ(names("?required=in:COMPUTE_NODE,HW_CPU_X86_SVM").size(), 2u);
    EXPECT_TRUE(names("?member_of=in:11111111-1111-4111-8111-111111111111").empty());  // no aggregates here
    EXPECT_EQ(names("?member_of=!11111111-1111-4111-8111-111111111111").size(), 2u);

    auto bad = [&](const std::string& query, std::string_view version, std::string_view detail) {
        auto r = Get("/resource_providers" + query, version);
        EXPECT_EQ(r.status, 400) << query << " " << r.body;
        EXPECT_NE(Detail(r).find(detail), std::string::npos) << query << ": " << Detail(r);
    };
    bad("?uuid=nope", "1.0", "Invalid query string parameters: 'nope' is not a 'uuid'");
    bad("?in_tree=nope", "1.14", "'nope' is not a 'uuid'");
    bad("?colour=red", "1.0", "Additional properties are not allowed ('colour' was unexpected)");
    bad("?resources=VCPU:1", "1.3", "('resources' was unexpected)");
    bad("?in_tree=" + a.uuid, "1.13", "('in_tree' was unexpected)");
    bad("?resources=VCPU", "1.4", "Badly formed resources parameter");
    bad("?resources=", "1.4", "Got: empty string.");
    bad("?resources=VCPU:x", "1.4", "Requested resource VCPU expected positive integer amount. Got: x.");
    bad("?resources=VCPU:0", "1.4", "Requested resource VCPU requires amount >= 1. Got: 0.");
    bad("?resources=GOLD:1", "1.4", "Invalid resource class in resources parameter: No such resource class GOLD.");
    bad("?required=CUSTOM_NOPE", "1.18", "No such trait(s): CUSTOM_NOPE.");
    bad("?required=!COMPUTE_NODE", "1.21",
        "Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC");
    bad("?required=in:COMPUTE_NODE,HW_CPU_X86_SVM", "1.38", "only supported since microversion 1.39");
    bad("?required=A,,B", "1.22", "Got an empty trait in: A,,B");
    bad("?member_of=nope", "1.3", "Expected 'member_of' parameter to contain valid UUID(s). Got: nope");
    bad("?member_of=!11111111-1111-4111-8111-111111111111", "1.31", "Forbidden member_of parameters are not supported");
}

TEST_F(PlacementProviders, InventoriesAreTheHypervisorsCapacity) {
    const auto& h = Hv(0);
    auto r = Get("/resource_providers/" + h.uuid + "/inventories", "1.29");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = Body(r);
    EXPECT_EQ(j["resource_provider_generation"], h.generation);
    auto inv = j["inventories"];
    ASSERT_EQ(inv.size(), 3u);
    EXPECT_EQ(inv["VCPU"]["total"], 16);
    EXPECT_EQ(inv["VCPU"]["reserved"], 0);
    EXPECT_EQ(inv["VCPU"]["max_unit"], 16);
    EXPECT_EQ(inv["VCPU"]["allocation_ratio"], 4.0);
    EXPECT_EQ(inv["MEMORY_MB"]["total"], 32768);
    EXPECT_EQ(inv["MEMORY_MB"]["reserved"], 512);
    EXPECT_EQ(inv["MEMORY_MB"]["min_unit"], 1);
    EXPECT_EQ(inv["MEMORY_MB"]["step_size"], 1);
    EXPECT_EQ(inv["MEMORY_MB"]["allocation_ratio"], 1.0);
    EXPECT_EQ(inv["DISK_GB"]["total"], 500);

    auto one = Get("/resource_providers/" + h.uuid + "/inventories/MEMORY_MB");
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(Body(one)["reserved"], 512);
    auto none = Get("/resource_providers/" + h.uuid + "/inventories/VGPU");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(Detail(none), "No inventory of class VGPU for " + h.uuid);

    auto traits = Body(Get("/resource_providers/" + h.uuid + "/traits", "1.6"));
    EXPECT_NE(std::find(traits["traits"].begin(), traits["traits"].end(), "COMPUTE_NODE"), traits["traits"].end());
    EXPECT_EQ(Body(Get("/resource_providers/" + h.uuid + "/aggregates", "1.19"))["aggregates"], json::array());
    EXPECT_EQ(Get("/resource_providers/" + h.uuid + "/traits", "1.5").status, 404);
}

// ------------------------------------------------------------------ usages

TEST_F(PlacementUsages, IdleCloudletUsesNothing) {
    const auto& h = Hv(0);
    auto r = Get("/resource_providers/" + h.uuid + "/usages", "1.29");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = Body(r);
    EXPECT_EQ(j["resource_provider_generation"], h.generation);
    EXPECT_EQ(j["usages"], json::parse(R"({"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0})"));
    EXPECT_EQ(Body(Get("/resource_providers/" + h.uuid + "/allocations", "1.28"))["allocations"], json::object());
    EXPECT_EQ(Body(Get("/usages?project_id=p1", "1.9"))["usages"], json::object());
    auto consumer = Body(Get("/allocations/" + h.uuid, "1.38"));
    EXPECT_EQ(consumer, json::parse(R"({"allocations": {}})"));
}

TEST_F(PlacementUsages, TotalUsagesValidatesAndLetsProjectReadersIn) {
    EXPECT_EQ(Get("/usages?project_id=p1", "1.8").status, 404);
    auto missing = Get("/usages", "1.9");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(Detail(missing), "Invalid query string parameters: 'project_id' is a required property");
    EXPECT_EQ(Get("/usages?project_id=p1&consumer_type=INSTANCE", "1.37").status, 400);
    EXPECT_EQ(Get("/usages?project_id=p1&consumer_type=instance", "1.38").status, 400);
    EXPECT_EQ(Get("/usages?project_id=p1&consumer_type=all", "1.38").status, 200);
    EXPECT_EQ(Get("/usages?project_id=p1&user_id=", "1.9").status, 400);

    EXPECT_EQ(Get("/usages?project_id=" + std::string(kMemberProject), "1.9", kMemberToken).status, 200);
    auto other = Get("/usages?project_id=p1", "1.9", kMemberToken);
    EXPECT_EQ(other.status, 403);
    EXPECT_EQ(Detail(other), "Policy does not allow placement:usages to be performed.");
}

TEST_F(PlacementUsages, FollowTheServers) {
    auto a = Boot(2, 4096, 20, "p1", "u1");
    auto b = Boot(1, 512, 0, "p2", "u2");
    ASSERT_EQ(compute_->Allocations().size(), 2u);

    // Per provider: what the agent reads to learn a cloudlet's memory load.
    int memory = 0;
    for (const auto& h : compute_->Hypervisors()) {
        auto r = Get("/resource_providers/" + h.uuid + "/usages", "1.29");
        ASSERT_EQ(r.status, 200);
        auto j = Body(r);
        EXPECT_EQ(j["usages"]["MEMORY_MB"], h.memory_mb_used) << h.hostname;
        EXPECT_EQ(j["usages"]["VCPU"], h.vcpus_used);
        EXPECT_EQ(j["usages"]["DISK_GB"], h.disk_gb_used);
        EXPECT_EQ(j["resource_provider_generation"], h.generation);
        memory += j["usages"]["MEMORY_MB"].get<int>();
    }
    EXPECT_EQ(memory, 4096 + 512);
    // Per project and user.
    EXPECT_EQ(Body(Get("/usages?project_id=p1", "1.9"))["usages"],
              json::parse(R"({"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 20})"));
    EXPECT_EQ(Body(Get("/usages?project_id=p2", "1.9"))["usages"], json::parse(R"({"VCPU": 1, "MEMORY_MB": 512})"));
    EXPECT_EQ(Body(Get("/usages?project_id=p1&user_id=u2", "1.9"))["usages"], json::object());
    EXPECT_EQ(Body(Get("/usages?project_id=p1", "1.38"))["usages"],
              json::parse(R"({"INSTANCE": {"consumer_count": 1, "VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 20}})"));
    EXPECT_TRUE(Body(Get("/usages?project_id=p1&consumer_type=all", "1.38"))["usages"].contains("all"));
    EXPECT_EQ(Body(Get("/usages?project_id=p1&consumer_type=unknown", "1.38"))["usages"], json::object());

    // Per consumer, in each format.
    auto old = Body(Get("/allocations/" + a, "1.11"));
    EXPECT_FALSE(old.contains("project_id"));
    auto v38 = Body(Get("/allocations/" + a, "1.38"));
    const auto& host = HostOf(a);
    EXPECT_EQ(v38["allocations"][host.uuid]["resources"],
              json::parse(R"({"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 20})"));
    EXPECT_EQ(v38["allocations"][host.uuid]["generation"], host.generation);
    EXPECT_EQ(v38["project_id"], "p1");
    EXPECT_EQ(v38["user_id"], "u1");
    EXPECT_EQ(v38["consumer_type"], "INSTANCE");
    EXPECT_TRUE(v38.contains("consumer_generation"));

    auto on_host = Body(Get("/resource_providers/" + host.uuid + "/allocations", "1.28"));
    EXPECT_EQ(on_host["allocations"][a]["resources"]["MEMORY_MB"], 4096);
    EXPECT_TRUE(on_host["allocations"][a].contains("consumer_generation"));
    EXPECT_EQ(on_host["resource_provider_generation"], host.generation);

    // Deleting the servers frees their allocations.
    ASSERT_TRUE(compute_->DeleteServer(a).ok());
    ASSERT_TRUE(compute_->DeleteServer(b).ok());
    for (int i = 0; i < 1000 && !compute_->Allocations().empty(); ++i) shoal::testing::RunFor(io_, 5ms);
    EXPECT_EQ(Body(Get("/usages?project_id=p1", "1.9"))["usages"], json::object());
    EXPECT_EQ(Body(Get("/resource_providers/" + host.uuid + "/usages"))["usages"]["MEMORY_MB"], 0);
}

// ------------------------------------------------------------------ allocation candidates

TEST_F(PlacementCandidates, FullHostsDropOut) {
    auto big = Boot(4, 30000, 10);
    const auto& full = HostOf(big);
    auto r = Get("/allocation_candidates?resources=VCPU:1,MEMORY_MB:30000", "1.29");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = Body(r);
    ASSERT_EQ(j["allocation_requests"].size(), 1u);
    ASSERT_EQ(j["provider_summaries"].size(), 1u);
    EXPECT_FALSE(j["provider_summaries"].contains(full.uuid));

    // A small flavor still fits both, and the summaries show what is used.
    auto small = Body(Get("/allocation_candidates?resources=MEMORY_MB:2000", "1.29"));
    ASSERT_EQ(small["allocation_requests"].size(), 2u);
    EXPECT_EQ(small["provider_summaries"][full.uuid]["resources"]["MEMORY_MB"],
              json::parse(R"({"capacity": 32256, "used": 30000})"));
    EXPECT_EQ(small["provider_summaries"][full.uuid]["resources"]["VCPU"]["used"], 4);

    // The same answer from GET /resource_providers?resources=.
    auto rps = Body(Get("/resource_providers?resources=MEMORY_MB:30000", "1.4"))["resource_providers"];
    ASSERT_EQ(rps.size(), 1u);
    EXPECT_NE(rps[0]["uuid"], full.uuid);
}

TEST_F(PlacementCandidates, AnswersWhereAFlavorFits) {
    auto r = Get("/allocation_candidates?resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20", "1.29");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = Body(r);
    ASSERT_EQ(j["allocation_requests"].size(), 2u);
    const auto& h = Hv(0);
    EXPECT_EQ(j["allocation_requests"][0]["allocations"][h.uuid]["resources"],
              json::parse(R"({"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 20})"));
    auto summary = j["provider_summaries"][h.uuid];
    EXPECT_EQ(summary["resources"]["VCPU"], json::parse(R"({"capacity": 64, "used": 0})"));
    EXPECT_EQ(summary["resources"]["MEMORY_MB"], json::parse(R"({"capacity": 32256, "used": 0})"));
    EXPECT_EQ(summary["root_provider_uuid"], h.uuid);
    EXPECT_TRUE(summary.contains("traits"));

    auto limited = Body(Get("/allocation_candidates?resources=VCPU:1&limit=1", "1.16"));
    EXPECT_EQ(limited["allocation_requests"].size(), 1u);
    EXPECT_EQ(limited["provider_summaries"].size(), 1u);

    auto too_big = Body(Get("/allocation_candidates?resources=MEMORY_MB:40000", "1.29"));
    EXPECT_EQ(too_big["allocation_requests"], json::array());
    EXPECT_EQ(too_big["provider_summaries"], json::object());

    // Before 1.27 summaries show only what was asked for.
    auto narrow = Body(Get("/allocation_candidates?resources=VCPU:1", "1.26"));
    EXPECT_EQ(narrow["provider_summaries"][h.uuid]["resources"].size(), 1u);
    EXPECT_FALSE(narrow["provider_summaries"][h.uuid].contains("root_provider_uuid"));
}

TEST_F(PlacementCandidates, FormatsFollowTheMicroversion) {
    const auto& h = Hv(0);
    auto v10 = Body(Get("/allocation_candidates?resources=VCPU:1", "1.10"));
    auto first = v10["allocation_requests"][0]["allocations"];
    ASSERT_TRUE(first.is_array());
    EXPECT_EQ(first[0]["resource_provider"]["uuid"], h.uuid);
    EXPECT_EQ(first[0]["resources"]["VCPU"], 1);
    EXPECT_FALSE(v10["provider_summaries"][h.uuid].contains("traits"));

    auto v34 =
        Body(Get("/allocation_candidates?resources=VCPU:1&resources_big=MEMORY_MB:1024&group_policy=none", "1.34"));
    auto req = v34["allocation_requests"][0];
    EXPECT_EQ(req["allocations"][h.uuid]["resources"], json::parse(R"({"VCPU": 1, "MEMORY_MB": 1024})"));
    EXPECT_EQ(req["mappings"][""], json::array({h.uuid}));
    EXPECT_EQ(req["mappings"]["_big"], json::array({h.uuid}));
}

TEST_F(PlacementCandidates, RejectsMalformedRequests) {
    EXPECT_EQ(Get("/allocation_candidates?resources=VCPU:1", "1.9").status, 404);
    auto bad = [&](const std::string& query, std::string_view version, std::string_view detail) {
        auto r = Get("/allocation_candidates" + query, version);
        EXPECT_EQ(r.status, 400) << query << " " << r.body;
        EXPECT_NE(Detail(r).find(detail), std::string::npos) << query << ": " << Detail(r);
        return r;
    };
    bad("", "1.10", "'resources' is a required property");
    bad("?resources=VCPU:1&limit=1", "1.15", "('limit' was unexpected)");
    bad("?resources=VCPU:1&limit=0", "1.16", "'0' does not match '^[1-9][0-9]*$'");
    bad("?resources=VCPU:1&limit=-3", "1.16", "does not match");
    bad("?resources=GOLD:1", "1.10", "No such resource class GOLD.");
    bad("?resources=VCPU:1&required=CUSTOM_NOPE", "1.17", "No such trait(s): CUSTOM_NOPE.");
    bad("?resources1=VCPU:1&resources2=MEMORY_MB:1", "1.25", "\"group_policy\" parameter is required");
    bad("?resources=VCPU:1&group_policy=maybe", "1.25", "'maybe' is not one of ['none', 'isolate']");
    bad("?required=COMPUTE_NODE", "1.25", "orphaned traits keys: required");
    bad("?resources=VCPU:1&required=COMPUTE_NODE,!COMPUTE_NODE", "1.22", "Conflicting required and forbidden traits");
    bad("?resources=VCPU:1&in_tree=nope", "1.31", "Expected 'in_tree' parameter to be a format of uuid. Got: nope");
    auto missing =
        bad("?required=COMPUTE_NODE", "1.36", "There must be at least one resources or resources[$S] parameter.");
    EXPECT_EQ(Body(missing)["errors"][0]["code"], "placement.query.missing_value");
    auto dup = bad("?resources=VCPU:1&root_required=COMPUTE_NODE&root_required=COMPUTE_NODE", "1.35",
                   "may be specified only once");
    EXPECT_EQ(Body(dup)["errors"][0]["code"], "placement.query.duplicate_key");
}

TEST_F(PlacementCandidates, TraitsTreesAndAggregatesNarrowTheAnswer) {
    auto count = [&](const std::string& query, std::string_view version = "1.39") {
        auto r = Get("/allocation_candidates?resources=VCPU:1" + query, version);
        EXPECT_EQ(r.status, 200) << query << " " << r.body;
        return Body(r)["allocation_requests"].size();
    };
    EXPECT_EQ(count(""), 2u);
    EXPECT_EQ(count("&required=COMPUTE_NODE"), 2u);
    EXPECT_EQ(count("&required=HW_CPU_X86_SVM"), 0u);
    EXPECT_EQ(count("&required=!COMPUTE_NODE"), 0u);
    EXPECT_EQ(count("&in_tree=" + Hv(1).uuid), 1u);
    EXPECT_EQ(count("&member_of=11111111-1111-4111-8111-111111111111"), 0u);
    EXPECT_EQ(count("&root_required=!COMPUTE_STATUS_DISABLED"), 2u);
    EXPECT_EQ(count("&resources1=MEMORY_MB:1&resources2=DISK_GB:1&group_policy=isolate"), 0u);
    EXPECT_EQ(count("&resources1=MEMORY_MB:1&resources2=DISK_GB:1&group_policy=none", "1.25"), 2u);
}

// ------------------------------------------------------------------ resource classes and traits

TEST_F(PlacementCatalog, StandardResourceClassesAndTraits) {
    auto rcs = Get("/resource_classes", "1.2");
    ASSERT_EQ(rcs.status, 200);
    auto list = Body(rcs)["resource_classes"];
    EXPECT_EQ(list[0]["name"], "VCPU");
    EXPECT_EQ(list[0]["links"][0]["href"], "/placement/resource_classes/VCPU");
    EXPECT_EQ(Get("/resource_classes", "1.1").status, 404);
    EXPECT_EQ(Get("/resource_classes/MEMORY_MB", "1.2").status, 200);
    auto none = Get("/resource_classes/GOLD", "1.2");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(Detail(none), "No such resource class GOLD.");

    auto traits = Body(Get("/traits?name=startswith:COMPUTE_NET", "1.6"))["traits"];
    ASSERT_FALSE(traits.empty());
    for (const auto& t : traits) EXPECT_TRUE(t.get<std::string>().starts_with("COMPUTE_NET"));
    EXPECT_EQ(Body(Get("/traits?name=in:COMPUTE_NODE,NOPE", "1.6"))["traits"], json::array({"COMPUTE_NODE"}));
    auto associated = Body(Get("/traits?associated=true", "1.6"))["traits"];
    EXPECT_NE(std::find(associated.begin(), associated.end(), "COMPUTE_NODE"), associated.end());
    EXPECT_EQ(Get("/traits?name=COMPUTE", "1.6").status, 400);
    EXPECT_EQ(Get("/traits?associated=maybe", "1.6").status, 400);
    EXPECT_EQ(Get("/traits/COMPUTE_NODE", "1.6").status, 204);
    EXPECT_EQ(Get("/traits/CUSTOM_NOPE", "1.6").status, 404);
}

}  // namespace
}  // namespace shoal::emulator
