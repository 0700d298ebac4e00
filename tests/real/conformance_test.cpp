// Conformance: the same list of requests (every kind the agent sends to a cloudlet, in
// conformance_requests.json) against shoal's embedded cloudlet and a real OpenStack Zed
// cloudlet, comparing status codes and JSON shapes. Differences are fixed in the embedded
// cloudlet, or listed in the request file with the reason they do not matter.
//
// Hermetic: the real cloudlet may hold anything (tests/real/bystanders.sh puts resources there
// that no test made), so a step that lists names the entries it compares ("only": the test's
// own resources, by id or name) and the test deletes what it made.
//
// The real cloudlet comes from the environment (tests/real/provision.sh makes one):
//   SHOAL_REAL_AUTH_URL   its Keystone v3, e.g. http://127.0.0.1:5000/v3
//   SHOAL_REAL_PASSWORD   its admin's password (admin / project admin / domain Default)
//   SHOAL_CONFORMANCE_REQUESTS   the request list (conformance_requests.json)
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "async_test.hpp"
#include "cloudlet/cloudlet_client.hpp"
#include "emulator/cloudlet.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace shoal {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string Env(const char* name, std::string fallback = {}) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// Runs a function when the scope ends.
class Defer {
public:
    explicit Defer(std::function<void()> f) : f_(std::move(f)) {}
    Defer(const Defer&) = delete;
    Defer& operator=(const Defer&) = delete;
    ~Defer() { f_(); }

private:
    std::function<void()> f_;
};

std::string RandomUuid(std::mt19937_64& rng) {
    static const char* hex = "0123456789abcdef";
    std::string u = "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx";
    for (auto& c : u)
        if (c == 'x') c = hex[rng() % 16];
    return u;
}

// A JSON document reduced to its structure: objects keep their keys, arrays the union of their
// elements' shapes, scalars become their type's name.
json Shape(const json& j);

void MergeInto(json& into, const json& shape) {
    if (into.is_null()) {
        into = shape;
        return;
    }
    if (into.is_object() && shape.is_object()) {
        for (const auto& [k, v] : shape.items()) MergeInto(into[k], v);
        return;
    }
    if (into.is_array() && shape.is_array()) {
        if (into.empty())
            into = shape;
        else if (!shape.empty())
            MergeInto(into[0], shape[0]);
        return;
    }
    if (into != shape) into = "mixed";
}

json Shape(const json& j) {
    if (j.is_object()) {
        json o = json::object();
        for (const auto& [k, v] : j.items()) o[k] = Shape(v);
        return o;
    }
    if (j.is_array()) {
        json merged;  // null
        for (const auto& e : j) MergeInto(merged, Shape(e));
        return merged.is_null() ? json::array() : json::array({merged});
    }
    if (j.is_string()) return "string";
    if (j.is_boolean()) return "boolean";
    if (j.is_number()) return "number";
    return "null";
}

std::string Describe(const json& shape) {
    if (shape.is_object()) return "object";
    if (shape.is_array()) return "array";
    return shape.get<std::string>();
}

// Differences between the real cloudlet's shape and the embedded one's, as
// "/json/pointer: what". `ignored` holds pointers (array elements as /0) left out with a reason.
void Compare(const json& real,
             const json& embedded,
             const std::string& at,
             const std::set<std::string>& ignored,
             std::vector<std::string>& out) {
    if (ignored.count(at)) return;
    if (real.is_object() && embedded.is_object()) {
        for (const auto& [k, v] : real.items()) {
            const std::string p = at + "/" + k;
            if (!embedded.contains(k)) {
                if (!ignored.count(p)) out.push_back(p + ": missing in the embedded cloudlet");
            } else {
                Compare(v, embedded[k], p, ignored, out);
            }
        }
        for (const auto& [k, v] : embedded.items()) {
            const std::string p = at + "/" + k;
            if (!real.contains(k) && !ignored.count(p)) out.push_back(p + ": only in the embedded cloudlet");
        }
        return;
    }
    if (real.is_array() && embedded.is_array()) {
        // An empty list says nothing about its elements.
        if (!real.empty() && !embedded.empty()) Compare(real[0], embedded[0], at + "/0", ignored, out);
        return;
    }
    if (real != embedded)
        out.push_back(at + ": " + Describe(real) + " at the real cloudlet, " + Describe(embedded) + " embedded");
}

std::string Substitute(std::string s, const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
        const std::string key = "{" + k + "}";
        for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + v.size()))
            s.replace(pos, key.size(), v);
    }
    return s;
}

json SubstituteJson(const json& j, const std::map<std::string, std::string>& vars) {
    if (j.is_string()) return Substitute(j.get<std::string>(), vars);
    if (j.is_object() || j.is_array()) {
        json out = j;
        for (auto& [k, v] : out.items()) v = SubstituteJson(v, vars);
        return out;
    }
    return j;
}

cloudlet::Service ServiceOf(const std::string& s) {
    if (s == "identity") return cloudlet::Service::kIdentity;
    if (s == "image") return cloudlet::Service::kImage;
    if (s == "compute") return cloudlet::Service::kCompute;
    if (s == "placement") return cloudlet::Service::kPlacement;
    throw std::invalid_argument("unknown service " + s);
}

http::Method MethodOf(const std::string& m) {
    static const std::map<std::string, http::Method> methods = {
        {"GET", http::Method::kGet}, {"HEAD", http::Method::kHead},   {"POST", http::Method::kPost},
        {"PUT", http::Method::kPut}, {"PATCH", http::Method::kPatch}, {"DELETE", http::Method::kDelete},
    };
    return methods.at(m);
}

// What one request drew from one cloudlet.
struct Answer {
    int status = 0;
    std::string content_type;
    json shape;  // null for a body that is not JSON
    std::string body;
    int kept = -1;  // entries left by the step's "only" filter (-1: no filter)
};

// A step's "only": {"in": "/images", "key": "/id", "values": ["{image_id}"]} keeps, in the list
// at "in", the entries whose "key" is one of "values", so that what else the cloudlet holds
// (other projects' servers, public images) does not enter the comparison. Returns the number
// kept, 0 when the body has no such list.
int KeepOnly(json& body, const json& only, const std::map<std::string, std::string>& vars) {
    const json::json_pointer in(only.at("in").get<std::string>());
    if (!body.contains(in) || !body[in].is_array()) return 0;
    const json::json_pointer key(only.value("key", std::string("/id")));
    std::set<std::string> values;
    for (const auto& v : only.at("values")) values.insert(Substitute(v.get<std::string>(), vars));
    json kept = json::array();
    for (const auto& e : body[in])
        if (e.is_object() && e.contains(key) && e[key].is_string() && values.count(e[key].get<std::string>()))
            kept.push_back(e);
    body[in] = kept;
    return static_cast<int>(kept.size());
}

// Runs the request list against one cloudlet, through the agent's own client
// (cloudlet::CloudletClient: the same token handling, headers and microversions).
class Session {
public:
    Session(asio::io_context& io, cloudlet::Credentials creds, std::map<std::string, std::string> vars)
        : io_(io), client_(io.get_executor(), std::move(creds)), vars_(std::move(vars)) {}

    // The shoal tenant the "tenant" steps act as: its shadow project and user, made the way an
    // agent makes them.
    void EnsureTenant(const std::string& tenant_id) {
        auto account = shoal::testing::Run(io_, client_.EnsureTenant(tenant_id, tenant_id), 60'000ms);
        ASSERT_TRUE(account.ok()) << account.error().message;
        tenant_ = tenant_id;
        vars_["tenant_project_id"] = account->project_id;
        vars_["tenant_user_id"] = account->user_id;
    }

    Answer Step(const json& step) {
        auto path = Substitute(step.at("path").get<std::string>(), vars_);
        const auto service = ServiceOf(step.at("service"));
        // Keystone calls go to the v3 root, as the agent's (CloudletClient::Keystone): a catalog's
        // identity URL may or may not end in /v3.
        if (service == cloudlet::Service::kIdentity && !IdentityIsV3()) path = "/v3" + path;
        const auto method = MethodOf(step.value("method", "GET"));
        cloudlet::As as = cloudlet::As::Admin();
        const std::string who = step.value("as", "admin");
        if (who == "tenant") as = cloudlet::As::Tenant(tenant_);
        if (who == "anonymous") as = cloudlet::As::Anonymous();
        cloudlet::CallOptions o;
        o.microversion = step.value("microversion", "");
        o.timeout = 60'000ms;
        json body = nullptr;
        if (step.contains("body")) body = SubstituteJson(step["body"], vars_);
        if (step.contains("raw")) {
            o.raw_body = Substitute(step["raw"].get<std::string>(), vars_);
            o.content_type = step.value("content_type", "application/octet-stream");
        } else if (step.contains("content_type")) {
            o.raw_body = body.dump();
            o.content_type = step["content_type"];
            body = nullptr;
        }
        const auto poll = step.value("poll", json::object());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(poll.value("timeout_s", 120));
        for (;;) {
            auto r = shoal::testing::Run(io_, client_.Call(service, method, path, body, as, o), 90'000ms);
            Answer a;
            if (!r.ok()) {
                a.status = -1;
                a.body = r.error().message;
                return a;
            }
            a.status = r->status;
            a.content_type = std::string(r->headers.Get("Content-Type").value_or(""));
            a.body = r->body;
            auto parsed = json::parse(r->body, nullptr, false);
            if (!parsed.is_discarded() && !r->body.empty()) {
                json compared = parsed;
                if (step.contains("only")) a.kept = KeepOnly(compared, step["only"], vars_);
                a.shape = Shape(compared);
            }
            if (Done(poll, a, parsed) || std::chrono::steady_clock::now() > deadline) {
                Save(step, parsed);
                return a;
            }
            asio::steady_timer t(io_, 300ms);
            shoal::testing::Run(io_, t.async_wait(asio::use_awaitable));
        }
    }

    const std::map<std::string, std::string>& vars() const { return vars_; }

    // Deletes the tenant's shadow user and project that EnsureTenant made, as the admin.
    void DropTenant() {
        if (tenant_.empty()) return;
        const std::string v3 = IdentityIsV3() ? "" : "/v3";
        for (const std::string& path :
             {"/users/" + vars_["tenant_user_id"], "/projects/" + vars_["tenant_project_id"]}) {
            auto r = shoal::testing::Run(
                io_, client_.Call(cloudlet::Service::kIdentity, http::Method::kDelete, v3 + path), 60'000ms);
            EXPECT_TRUE(r.ok() && r->status == 204)
                << "DELETE " << path << ": " << (r.ok() ? std::to_string(r->status) : r.error().message);
        }
        tenant_.clear();
    }

private:
    bool IdentityIsV3() {
        auto e = shoal::testing::Run(io_, client_.GetEndpoints());
        return e.ok() && e->identity.ends_with("/v3");
    }

    static bool Done(const json& poll, const Answer& a, const json& parsed) {
        if (poll.empty()) return true;
        if (poll.contains("until_status"))
            for (int s : poll["until_status"])
                if (a.status == s) return true;
        if (poll.contains("pointer") && !parsed.is_discarded()) {
            const json::json_pointer p(poll["pointer"].get<std::string>());
            if (parsed.contains(p))
                for (const auto& v : poll["until"])
                    if (parsed[p] == v) return true;
        }
        return false;
    }

    void Save(const json& step, const json& parsed) {
        if (parsed.is_discarded()) return;
        const json save = step.value("save", json::object());  // (a temporary would die before the loop)
        for (const auto& [var, where] : save.items()) {
            if (where.is_string()) {
                const json::json_pointer p(where.get<std::string>());
                if (parsed.contains(p))
                    vars_[var] = parsed[p].is_string() ? parsed[p].get<std::string>() : parsed[p].dump();
                continue;
            }
            // {"in": "/flavors", "where": {"name": "m1.tiny"}, "take": "/id"}
            const json::json_pointer in(where.at("in").get<std::string>());
            if (!parsed.contains(in)) continue;
            for (const auto& e : parsed[in]) {
                bool match = true;
                for (const auto& [k, v] : where.at("where").items()) match = match && e.value(k, json()) == v;
                const json::json_pointer take(where.at("take").get<std::string>());
                if (match && e.contains(take)) {
                    vars_[var] = e[take].is_string() ? e[take].get<std::string>() : e[take].dump();
                    break;
                }
            }
        }
    }

    asio::io_context& io_;
    cloudlet::CloudletClient client_;
    std::map<std::string, std::string> vars_;
    std::string tenant_;
};

TEST(Conformance, EveryRequestTheAgentSendsAnswersAlikeAtTheEmbeddedAndTheRealCloudlet) {
    const std::string real_url = Env("SHOAL_REAL_AUTH_URL");
    ASSERT_FALSE(real_url.empty()) << "set SHOAL_REAL_AUTH_URL to a real cloudlet's Keystone (tests/real/provision.sh)";
    const std::string list_path = Env("SHOAL_CONFORMANCE_REQUESTS");
    std::ifstream in(list_path);
    ASSERT_TRUE(in) << "cannot read the request list " << list_path;
    const json steps = json::parse(in);

    asio::io_context io;
    // The image bytes Glance's web-download fetches, as an agent serves them.
    const std::string image_bytes(4096, 'c');
    http::Router files;
    files.Get("/conformance/image", [&](http::Request&) -> Result<http::Response> {
        http::Response r;
        r.headers.Set("Content-Type", "application/octet-stream");
        r.body = image_bytes;
        return r;
    });
    http::Server file_server(io.get_executor(), files);
    auto file_port = file_server.Listen("127.0.0.1", 0);
    ASSERT_TRUE(file_port.ok());

    emulator::CloudletConfig config;
    config.name = "conformance";
    emulator::Cloudlet embedded(io.get_executor(), config);
    ASSERT_TRUE(embedded.Start().ok());

    std::mt19937_64 rng(std::random_device{}());
    std::map<std::string, std::string> vars = {
        {"run", std::to_string(rng() % 1'000'000'000)},
        {"image_url", "http://127.0.0.1:" + std::to_string(*file_port) + "/conformance/image"},
        {"image_bytes", image_bytes},
        {"missing_id", "5e1e3c2a-0000-4000-8000-000000000000"},
        {"import_id", RandomUuid(rng)},  // Glance never takes a deleted image's id again
    };
    cloudlet::Credentials embedded_creds;
    embedded_creds.auth_url = embedded.AuthUrl();
    embedded_creds.username = config.admin_user;
    embedded_creds.password = config.admin_password;
    embedded_creds.project = config.admin_project;
    embedded_creds.region = config.region;
    cloudlet::Credentials real_creds;
    real_creds.auth_url = real_url;
    real_creds.password = Env("SHOAL_REAL_PASSWORD", "secret");
    real_creds.region = Env("SHOAL_REAL_REGION", "RegionOne");

    Session real(io, real_creds, vars);
    Session emb(io, embedded_creds, vars);
    const std::string tenant = "conformance-" + vars["run"];
    real.EnsureTenant(tenant);
    emb.EnsureTenant(tenant);

    int compared = 0;
    std::vector<std::string> failures;
    for (const auto& step : steps) {
        const std::string name = step.at("name");
        const Answer r = real.Step(step);
        const Answer e = emb.Step(step);
        std::ostringstream line;
        line << step.value("method", "GET") << " " << step["service"].get<std::string>() << " "
             << Substitute(step["path"].get<std::string>(), real.vars()) << " -> real " << r.status << ", embedded "
             << e.status;
        std::printf("%-40s %s\n", name.c_str(), line.str().c_str());
        if (step.contains("only")) {
            // The filter must leave exactly the test's own entries, at both cloudlets: a list that
            // lost them, or a filter that matches nothing, compares nothing.
            const int want = step["only"].value("count", 1);
            if (r.kept != want || e.kept != want)
                failures.push_back(name + ": " + std::to_string(r.kept) +
                                   " of the test's entries listed at the real cloudlet, " + std::to_string(e.kept) +
                                   " embedded (want " + std::to_string(want) + ")");
        }
        if (step.contains("expect_status") && r.status != step["expect_status"].get<int>())
            failures.push_back(name + ": the real cloudlet answered " + std::to_string(r.status) + " (want " +
                               step["expect_status"].dump() + "): " + r.body.substr(0, 300));
        if (r.status != e.status) {
            failures.push_back(name + ": status " + std::to_string(r.status) + " at the real cloudlet, " +
                               std::to_string(e.status) + " embedded; real body: " + r.body.substr(0, 300) +
                               " embedded body: " + e.body.substr(0, 300));
            continue;
        }
        std::set<std::string> ignored;
        const json ignore = step.value("ignore", json::object());
        for (const auto& [p, why] : ignore.items()) ignored.insert(p);
        if (r.shape.is_null() != e.shape.is_null()) {
            failures.push_back(name + ": JSON body at " + (r.shape.is_null() ? "the embedded" : "the real") +
                               " cloudlet only");
            continue;
        }
        std::vector<std::string> diffs;
        Compare(r.shape, e.shape, "", ignored, diffs);
        for (const auto& d : diffs) failures.push_back(name + ": " + d);
        ++compared;
    }
    for (const auto& f : failures) ADD_FAILURE() << f;
    std::printf("%d requests compared, %zu differences\n", compared, failures.size());
    EXPECT_EQ(compared, static_cast<int>(steps.size()));

    real.DropTenant();
    emb.DropTenant();
    shoal::testing::Run(io, embedded.Stop());
    shoal::testing::Run(io, file_server.Shutdown(0ms));
}

// Placement's real usage numbers: the agent reads a cloudlet's memory load from Nova's
// hypervisors or from Placement; on a real cloudlet with a server on it both must agree.
TEST(Conformance, TheRealCloudletsMemoryLoadIsTheSameFromNovaAndFromPlacement) {
    const std::string real_url = Env("SHOAL_REAL_AUTH_URL");
    ASSERT_FALSE(real_url.empty()) << "set SHOAL_REAL_AUTH_URL to a real cloudlet's Keystone (tests/real/provision.sh)";
    asio::io_context io;
    cloudlet::Credentials creds;
    creds.auth_url = real_url;
    creds.password = Env("SHOAL_REAL_PASSWORD", "secret");
    cloudlet::CloudletClient client(io.get_executor(), creds);
    auto run = [&](auto aw) { return shoal::testing::Run(io, std::move(aw), 60'000ms); };

    auto idle_nova = run(client.MemoryLoad(cloudlet::MemorySource::kHypervisors));
    ASSERT_TRUE(idle_nova.ok()) << idle_nova.error().message;
    auto idle_placement = run(client.MemoryLoad(cloudlet::MemorySource::kPlacement));
    ASSERT_TRUE(idle_placement.ok()) << idle_placement.error().message;
    EXPECT_GE(idle_nova->hypervisors, 1);
    EXPECT_EQ(idle_nova->hypervisors, idle_placement->hypervisors);
    EXPECT_EQ(idle_nova->free_ram_mb_total, idle_placement->free_ram_mb_total);
    EXPECT_EQ(idle_nova->free_ram_mb_max, idle_placement->free_ram_mb_max);

    // One m1.tiny (512 MB) server: both readings drop by its memory.
    auto flavors = run(client.CallJson(cloudlet::Service::kCompute, http::Method::kGet, "/flavors"));
    ASSERT_TRUE(flavors.ok()) << flavors.error().message;
    std::string flavor;
    for (const auto& f : (*flavors)["flavors"])
        if (f.value("name", "") == "m1.tiny") flavor = f.value("id", "");
    ASSERT_FALSE(flavor.empty()) << "the real cloudlet has no m1.tiny (tests/real/provision.sh makes it)";
    json image = {{"name", "conformance-load"}, {"disk_format", "raw"}, {"container_format", "bare"}};
    auto made = run(client.CallJson(cloudlet::Service::kImage, http::Method::kPost, "/v2/images", image));
    ASSERT_TRUE(made.ok()) << made.error().message;
    const std::string image_id = (*made)["id"];
    std::string server_id;
    // What the test made goes, also when an assertion ends it early (the cloudlet is shared).
    const Defer cleanup([&] {
        if (!server_id.empty()) {
            (void)run(client.Call(cloudlet::Service::kCompute, http::Method::kDelete, "/servers/" + server_id));
            for (int i = 0; i < 300; ++i) {
                auto shown = run(client.Call(cloudlet::Service::kCompute, http::Method::kGet, "/servers/" + server_id));
                if (shown.ok() && shown->status == 404) break;
                asio::steady_timer t(io, 200ms);
                shoal::testing::Run(io, t.async_wait(asio::use_awaitable));
            }
        }
        (void)run(client.Call(cloudlet::Service::kImage, http::Method::kDelete, "/v2/images/" + image_id));
    });
    cloudlet::CallOptions upload;
    upload.raw_body = std::string(1024, 'x');
    ASSERT_TRUE(run(client.Call(cloudlet::Service::kImage, http::Method::kPut, "/v2/images/" + image_id + "/file",
                                nullptr, cloudlet::As::Admin(), upload))
                    .ok());
    cloudlet::CallOptions mv;
    mv.microversion = "2.37";
    json server = {
        {"server",
         {{"name", "conformance-load"}, {"imageRef", image_id}, {"flavorRef", flavor}, {"networks", "none"}}}};
    auto created = run(client.CallJson(cloudlet::Service::kCompute, http::Method::kPost, "/servers", server,
                                       cloudlet::As::Admin(), mv));
    ASSERT_TRUE(created.ok()) << created.error().message;
    server_id = (*created)["server"]["id"];
    std::string status;
    for (int i = 0; i < 300 && status != "ACTIVE" && status != "ERROR"; ++i) {
        auto shown = run(client.CallJson(cloudlet::Service::kCompute, http::Method::kGet, "/servers/" + server_id));
        if (shown.ok()) status = (*shown)["server"].value("status", "");
        asio::steady_timer t(io, 200ms);
        shoal::testing::Run(io, t.async_wait(asio::use_awaitable));
    }
    EXPECT_EQ(status, "ACTIVE");
    auto busy_nova = run(client.MemoryLoad(cloudlet::MemorySource::kHypervisors));
    auto busy_placement = run(client.MemoryLoad(cloudlet::MemorySource::kPlacement));
    ASSERT_TRUE(busy_nova.ok() && busy_placement.ok());
    EXPECT_EQ(busy_nova->free_ram_mb_total, idle_nova->free_ram_mb_total - 512);
    EXPECT_EQ(busy_placement->free_ram_mb_total, idle_placement->free_ram_mb_total - 512);
}

}  // namespace
}  // namespace shoal
