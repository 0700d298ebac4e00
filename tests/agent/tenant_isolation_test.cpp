// The tenant isolation matrix (docs/security.md): every route the API port proxies, asked by
// every kind of principal, answers what real OpenStack answers (the owner what it asked for,
// another tenant 404 for the owner's ids, anyone without a valid token 401), whatever X-Shoal-*
// headers come along; and every A2A route refuses unsigned, forged, stale, replayed and
// rotated-out signatures with 401, counted. One identity provider and two agents with embedded
// cloudlets, in process, on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <functional>
#include <map>
#include <set>

#include "a2a/request_signer.hpp"
#include "a2a/routes.hpp"
#include "agent/agent.hpp"
#include "agent_test_support.hpp"
#include "common/time_format.hpp"
#include "emulator/cloudlet.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "identity/caller.hpp"
#include "identity/keystone_admin.hpp"
#include "overlay/node/peer_sampler.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
using shoal::testing::RunUntil;

// shoal::testing::Run under another name: inside a gtest fixture, Run is Test::Run.
template <class T>
T Await(boost::asio::io_context& io,
        boost::asio::awaitable<T> aw,
        std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    return shoal::testing::Run(io, std::move(aw), limit);
}
using M = http::Method;

constexpr const char* kPassword = "matrix-password-0123";
// The cluster secret during a rotation: agents sign with kSecret, still accept kPrevious, and no
// longer accept kRotatedOut.
constexpr const char* kSecret = "matrix-secret-new-0123456789";
constexpr const char* kPrevious = "matrix-secret-old-0123456789";
constexpr const char* kRotatedOut = "matrix-secret-older-0123456789";

// Who asks. Principals marked `stranger` must see nothing of the owner's; `anonymous` ones
// have no valid token at all.
enum class Who {
    kOwner,             // alice, project alpha, at alpha's home agent
    kOwnerElsewhere,    // the same token at the other agent: forwarded over signed A2A
    kTenantSameAgent,   // bob, project beta, whose home is the owner's home
    kTenantOtherAgent,  // carol, project gamma, homed at the other agent
    kOtherProject,      // alice again, with a token scoped to her other project alpha2
    kForgedWithToken,   // bob's token plus X-Shoal-* headers claiming to be alice in alpha
    kNoToken,           //
    kExpiredToken,      // alice's, expired an hour ago
    kRevokedToken,      // alice's, revoked at the identity provider
    kForgedNoToken,     // only X-Shoal-* headers claiming to be alice in alpha, as an admin
};
constexpr Who kEveryone[] = {Who::kOwner,        Who::kOwnerElsewhere,  Who::kTenantSameAgent, Who::kTenantOtherAgent,
                             Who::kOtherProject, Who::kForgedWithToken, Who::kNoToken,         Who::kExpiredToken,
                             Who::kRevokedToken, Who::kForgedNoToken};

const char* Name(Who w) {
    switch (w) {
        case Who::kOwner:
            return "owner";
        case Who::kOwnerElsewhere:
            return "owner at another agent";
        case Who::kTenantSameAgent:
            return "another tenant at the same agent";
        case Who::kTenantOtherAgent:
            return "another tenant at another agent";
        case Who::kOtherProject:
            return "a token scoped to another project";
        case Who::kForgedWithToken:
            return "forged X-Shoal-* headers with another tenant's token";
        case Who::kNoToken:
            return "no token";
        case Who::kExpiredToken:
            return "an expired token";
        case Who::kRevokedToken:
            return "a revoked token";
        case Who::kForgedNoToken:
            return "forged X-Shoal-* headers without a token";
    }
    return "?";
}
bool Anonymous(Who w) {
    return w == Who::kNoToken || w == Who::kExpiredToken || w == Who::kRevokedToken || w == Who::kForgedNoToken;
}
bool SameUserAsOwner(Who w) {
    return w == Who::kOwner || w == Who::kOwnerElsewhere || w == Who::kOtherProject;
}

// One row of the matrix. `{server}` and the like in the target are the owner's resources.
struct Row {
    M method;
    std::string route;   // the router pattern the row covers
    std::string target;  // with placeholders
    std::string body;
    int owner;     // what the owner gets
    int stranger;  // what another tenant (or project) gets
    int anonymous = 401;
    std::string content_type = "application/json";
    // Lists: the owner's resource id (placeholder) must be in the owner's answer and in no other.
    std::string listed;
    // Keystone's own answer depends on the user, not the project: alice's other project sees
    // her user and her tokens.
    bool by_user = false;
    // Identity routes that name a token: X-Subject-Token is a fresh token of the owner's.
    bool subject_token = false;
    // The row uses its resource up (a delete, an upload): asked by the owner alone of the two
    // owner principals (the owner at another agent is checked on every other row).
    bool once = false;
    // A URL of the home agent (a signed image-data URL names its host): everyone asks there.
    bool at_home = false;
};

Row Once(Row r) {
    r.once = true;
    return r;
}
Row AtHome(Row r) {
    r.at_home = true;
    return r;
}

std::string HmacHex(std::string_view key, std::string_view msg) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), mac, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) {
        s.push_back(kHex[mac[i] >> 4]);
        s.push_back(kHex[mac[i] & 0xf]);
    }
    return s;
}

class TenantIsolationTest : public ::testing::Test {
public:
    static void SetUpTestSuite() {
        env_ = new Env();
        MakeOwnersResources(*env_);
    }
    static void TearDownTestSuite() {
        delete env_;
        env_ = nullptr;
    }

    struct Env {
        boost::asio::io_context io;
        http::Client http{io.get_executor()};
        std::unique_ptr<emulator::Cloudlet> idp;
        std::vector<std::unique_ptr<Agent>> agents;
        std::map<std::string, std::string> projects;  // name -> id
        std::string alice_id;
        std::string expired, revoked;
        std::map<std::string, std::string> ids;  // placeholder -> the owner's resource id

        Env() {
            emulator::CloudletConfig ic;
            ic.name = "idp";
            ic.admin_password = "idp-admin-password";
            ic.hypervisors.count = 1;
            idp = std::make_unique<emulator::Cloudlet>(io.get_executor(), ic);
            if (!idp->Start().ok()) throw std::runtime_error("identity provider did not start");
            identity::KeystoneAdmin admin(http, {idp->AuthUrl(), "admin", ic.admin_password, "admin"});
            for (auto [project, user] :
                 {std::pair{"alpha", "alice"}, {"alpha2", "alice"}, {"beta", "bob"}, {"gamma", "carol"}}) {
                auto id = Await(io, admin.EnsureMember(project, user, kPassword));
                if (!id.ok()) throw std::runtime_error("provisioning: " + id.error().message);
                projects[project] = *id;
            }
            for (int k = 0; k < 2; ++k) {
                const std::string id = "agent" + std::to_string(k + 1);
                auto c = shoal::testing::TestAgentConfig(
                    id, k == 0 ? std::vector<std::string>{} : std::vector<std::string>{agents[0]->Address()});
                c.secret = kSecret;
                c.previous_secrets = {kPrevious};
                c.cloudlet.reset();
                emulator::CloudletConfig cloudlet;
                cloudlet.name = "cloudlet" + std::to_string(k + 1);
                cloudlet.boot_delay = std::chrono::milliseconds(50);
                cloudlet.action_delay = std::chrono::milliseconds(10);
                cloudlet.delete_delay = std::chrono::milliseconds(10);
                cloudlet.quota = {-1, -1, -1};
                c.embedded_cloudlet = cloudlet;
                ApiOptions api;
                api.idp_auth_url = idp->AuthUrl();
                c.api = api;
                c.mapping.mode = MappingMode::kStatic;
                c.mapping.table = {{projects["alpha"], "agent1"},
                                   {projects["alpha2"], "agent1"},
                                   {projects["beta"], "agent1"},
                                   {projects["gamma"], "agent2"}};
                agents.push_back(std::make_unique<Agent>(io.get_executor(), c));
                if (!agents.back()->Start().ok()) throw std::runtime_error(id + " did not start");
            }
            if (!RunUntil(io, [&] {
                    for (auto& a : agents)
                        if (a->Overlay().Members().Members().size() != agents.size()) return false;
                    return true;
                }))
                throw std::runtime_error("the agents did not find each other");

            // The tokens nobody may use: one that expired an hour ago (issued on a clock two
            // hours back), one revoked at the identity provider.
            idp->SkewClock(-std::chrono::hours(2));
            expired = Token("alice", "alpha");
            idp->SkewClock(std::chrono::microseconds(0));
            revoked = Token("alice", "alpha");
            http::Request rv;
            rv.method = M::kDelete;
            rv.headers.Set("X-Auth-Token", revoked);
            rv.headers.Set("X-Subject-Token", revoked);
            auto gone = Await(io, http.Send(idp->AuthUrl() + "/auth/tokens", std::move(rv)));
            if (!gone.ok() || gone->status != 204) throw std::runtime_error("revocation failed");
            auto me = Identity();
            alice_id = me.value("user_id", "");
        }
        ~Env() {
            for (auto& a : agents) Await(io, a->Stop());
            agents.clear();
            if (idp) Await(io, idp->Stop());
        }

        json Identity() {
            http::Request r;
            const auto t = Token("alice", "alpha");
            r.headers.Set("X-Auth-Token", t);
            r.headers.Set("X-Subject-Token", t);
            auto a = Await(io, http.Send(idp->AuthUrl() + "/auth/tokens", std::move(r)));
            if (!a.ok() || a->status != 200) throw std::runtime_error("token validation failed");
            auto body = a->JsonBody();
            return json{{"user_id", (*body)["token"]["user"]["id"]}};
        }

        std::string Token(const std::string& user, const std::string& project) {
            http::Request r;
            r.method = M::kPost;
            r.headers.Set("Content-Type", "application/json");
            r.body = identity::PasswordAuthBody({idp->AuthUrl(), user, kPassword, project});
            auto a = Await(io, http.Send(idp->AuthUrl() + "/auth/tokens", std::move(r)));
            if (!a.ok() || a->status != 201) throw std::runtime_error("cannot log " + user + " in");
            return std::string(a->headers.Get("X-Subject-Token").value_or(""));
        }

        http::Response Api(std::size_t agent,
                           M method,
                           const std::string& target,
                           std::string body = {},
                           const http::Headers& headers = {},
                           const std::string& content_type = "application/json") {
            http::Request r;
            r.method = method;
            r.headers = headers;
            if (!body.empty()) r.headers.Set("Content-Type", content_type);
            r.body = std::move(body);
            auto a = Await(io, http.Send(agents[agent]->ApiUrl() + target, std::move(r), std::chrono::seconds(60)),
                           std::chrono::seconds(90));
            if (!a.ok()) throw std::runtime_error(target + ": " + a.error().message);
            return *a;
        }
    };

    static void MakeOwnersResources(Env& e);

protected:
    static Env& E() { return *env_; }

    // What `who` sends: which agent, which headers.
    static std::pair<std::size_t, http::Headers> As(Who who) {
        http::Headers h;
        auto forge = [&h] {
            identity::Caller alice;
            alice.tenant = E().projects["alpha"];
            alice.project_name = "alpha";
            alice.user_id = E().alice_id;
            alice.user_name = "alice";
            alice.roles = {"member", "admin"};
            alice.is_admin = true;
            h.Set("X-Shoal-Caller", identity::EncodeCaller(alice));
            h.Set("X-Shoal-Internal", "00000000-0000-4000-8000-000000000000");
            h.Set("X-Shoal-Agent", "agent1");
            h.Set("X-Shoal-Cloudlet-Project", E().projects["alpha"]);
        };
        std::size_t at = 0;
        switch (who) {
            case Who::kOwner:
                h.Set("X-Auth-Token", E().Token("alice", "alpha"));
                break;
            case Who::kOwnerElsewhere:
                h.Set("X-Auth-Token", E().Token("alice", "alpha"));
                at = 1;
                break;
            case Who::kTenantSameAgent:
                h.Set("X-Auth-Token", E().Token("bob", "beta"));
                break;
            case Who::kTenantOtherAgent:
                h.Set("X-Auth-Token", E().Token("carol", "gamma"));
                break;
            case Who::kOtherProject:
                h.Set("X-Auth-Token", E().Token("alice", "alpha2"));
                break;
            case Who::kForgedWithToken:
                h.Set("X-Auth-Token", E().Token("bob", "beta"));
                forge();
                break;
            case Who::kNoToken:
                break;
            case Who::kExpiredToken:
                h.Set("X-Auth-Token", E().expired);
                break;
            case Who::kRevokedToken:
                h.Set("X-Auth-Token", E().revoked);
                break;
            case Who::kForgedNoToken:
                forge();
                break;
        }
        return {at, h};
    }

    static std::string Fill(std::string s) {
        for (const auto& [k, v] : E().ids)
            for (auto p = s.find(k); p != std::string::npos; p = s.find(k)) s.replace(p, k.size(), v);
        return s;
    }

    static inline Env* env_ = nullptr;
};

// The owner's resources the rows ask about, made through agent1 as alice.
void TenantIsolationTest::MakeOwnersResources(Env& e) {
    http::Headers alice;
    alice.Set("X-Auth-Token", e.Token("alice", "alpha"));
    auto image = [&](const std::string& name, bool upload) {
        auto made = e.Api(0, M::kPost, "/image/v2/images",
                          json{{"name", name}, {"disk_format", "raw"}, {"container_format", "bare"}}.dump(), alice);
        if (made.status != 201) throw std::runtime_error("image create: " + made.body);
        std::string id = (*made.JsonBody())["id"];
        if (upload) {
            auto put = e.Api(0, M::kPut, "/image/v2/images/" + id + "/file", "alpha's image data", alice,
                             "application/octet-stream");
            if (put.status != 204) throw std::runtime_error("image upload: " + put.body);
        }
        return id;
    };
    e.ids["{image}"] = image("alpha-image", true);
    e.ids["{queued_image}"] = image("alpha-queued", false);
    e.ids["{doomed_image}"] = image("alpha-doomed", true);
    auto flavors = e.Api(0, M::kGet, "/compute/v2.1/flavors", {}, alice);
    const json flavor_list = *flavors.JsonBody();
    for (const auto& f : flavor_list["flavors"])
        if (f["name"] == "m1.tiny") e.ids["{flavor}"] = f["id"];
    http::Headers mv = alice;
    mv.Set("OpenStack-API-Version", "compute 2.37");
    auto server = [&](const std::string& name) {
        json body = {
            {"server",
             {{"name", name}, {"imageRef", e.ids["{image}"]}, {"flavorRef", e.ids["{flavor}"]}, {"networks", "none"}}}};
        auto made = e.Api(0, M::kPost, "/compute/v2.1/servers", body.dump(), mv);
        if (made.status != 202) throw std::runtime_error("server create: " + made.body);
        std::string id = (*made.JsonBody())["server"]["id"];
        // ACTIVE, and recorded as placed at the home (actions answer 409 "building" until then,
        // though a show already says ACTIVE).
        if (!RunUntil(e.io, [&] {
                auto s = e.Api(0, M::kGet, "/compute/v2.1/servers/" + id, {}, alice);
                if (s.status != 200 || (*s.JsonBody())["server"]["status"] != "ACTIVE") return false;
                return e.Api(0, M::kPut, "/compute/v2.1/servers/" + id, json{{"server", {{"name", name}}}}.dump(),
                             alice)
                           .status == 200;
            }))
            throw std::runtime_error("server " + id + " never became ACTIVE");
        return id;
    };
    e.ids["{server}"] = server("alpha-vm");
    e.ids["{doomed_server}"] = server("alpha-doomed");
    e.ids["{alpha}"] = e.projects["alpha"];
    e.ids["{alice_login}"] = identity::PasswordAuthBody({e.idp->AuthUrl(), "alice", kPassword, "alpha"});
    e.ids["{wrong_login}"] = identity::PasswordAuthBody({e.idp->AuthUrl(), "alice", "not-her-password", "alpha"});
    e.ids["{alice}"] = e.alice_id;
    // The URLs an agent hands a cloudlet for web-download, signed as docs/image.md describes.
    const std::int64_t expires = UnixMillisNow() / 1000 + 600;
    auto data = [&](const std::string& path_tenant, const std::string& signed_tenant, std::int64_t exp) {
        return "/image/shoal-data/" + path_tenant + "/" + e.ids["{image}"] + "?expires=" + std::to_string(exp) +
               "&sig=" +
               HmacHex(kSecret,
                       "shoal/image-data/v1\n" + signed_tenant + "\n" + e.ids["{image}"] + "\n" + std::to_string(exp));
    };
    const std::string alpha = e.projects["alpha"];
    e.ids["{data_url}"] = data(alpha, alpha, expires);
    // A valid signature, for another tenant: the signature binds the tenant.
    e.ids["{data_url_other_tenant}"] = data(alpha, e.projects["beta"], expires);
    e.ids["{data_url_expired}"] = data(alpha, alpha, UnixMillisNow() / 1000 - 1);
    e.ids["{data_url_unsigned}"] = "/image/shoal-data/" + e.projects["alpha"] + "/" + e.ids["{image}"];
}

const std::vector<Row>& Rows() {
    const std::string patch = "application/openstack-images-v2.1-json-patch";
    static const std::vector<Row> rows = {
        // Nova: the owner's servers are 404 to everyone else.
        {M::kGet, "/compute/v2.1/servers", "/compute/v2.1/servers", "", 200, 200, 401, "application/json", "{server}"},
        {M::kGet, "/compute/v2.1/servers/detail", "/compute/v2.1/servers/detail", "", 200, 200, 401, "application/json",
         "{server}"},
        {M::kGet, "/compute/v2.1/servers/{server_id}", "/compute/v2.1/servers/{server}", "", 200, 404},
        {M::kPut, "/compute/v2.1/servers/{server_id}", "/compute/v2.1/servers/{server}",
         R"({"server":{"name":"renamed"}})", 200, 404},
        {M::kPost, "/compute/v2.1/servers/{server_id}/action", "/compute/v2.1/servers/{server}/action",
         R"({"lock":null})", 202, 404},
        // Booting another tenant's private image: Nova's 400 "Image ... could not be found".
        {M::kPost, "/compute/v2.1/servers", "/compute/v2.1/servers",
         R"({"server":{"name":"b","imageRef":"{image}","flavorRef":"{flavor}","networks":"none"}})", 202, 400},
        Once({M::kDelete, "/compute/v2.1/servers/{server_id}", "/compute/v2.1/servers/{doomed_server}", "", 204, 404}),
        // Flavors are public: every tenant sees them; nobody without a token does.
        {M::kGet, "/compute/v2.1/flavors", "/compute/v2.1/flavors", "", 200, 200},
        {M::kGet, "/compute/v2.1/flavors/detail", "/compute/v2.1/flavors/detail", "", 200, 200},
        {M::kGet, "/compute/v2.1/flavors/{flavor_id}", "/compute/v2.1/flavors/{flavor}", "", 200, 200},
        {M::kGet, "/compute/v2.1/flavors/{flavor_id}/os-extra_specs", "/compute/v2.1/flavors/{flavor}/os-extra_specs",
         "", 200, 200},
        {M::kGet, "/compute/v2.1/flavors/{flavor_id}/os-extra_specs/{key}",
         "/compute/v2.1/flavors/{flavor}/os-extra_specs/hw:cpu_policy", "", 404, 404},
        // Glance: the owner's images (private by default) are 404 to everyone else.
        {M::kGet, "/image/v2/images", "/image/v2/images", "", 200, 200, 401, "application/json", "{image}"},
        {M::kPost, "/image/v2/images", "/image/v2/images",
         R"({"name":"mine","disk_format":"raw","container_format":"bare"})", 201, 201},
        {M::kGet, "/image/v2/images/{image_id}", "/image/v2/images/{image}", "", 200, 404},
        {M::kPatch, "/image/v2/images/{image_id}", "/image/v2/images/{image}",
         R"([{"op":"replace","path":"/name","value":"renamed"}])", 200, 404, 401, patch},
        {M::kGet, "/image/v2/images/{image_id}/file", "/image/v2/images/{image}/file", "", 200, 404},
        Once({M::kPut, "/image/v2/images/{image_id}/file", "/image/v2/images/{queued_image}/file", "data", 204, 404,
              401, "application/octet-stream"}),
        {M::kPut, "/image/v2/images/{image_id}/tags/{tag}", "/image/v2/images/{image}/tags/red", "", 204, 404},
        Once({M::kDelete, "/image/v2/images/{image_id}/tags/{tag}", "/image/v2/images/{image}/tags/red", "", 204, 404}),
        Once({M::kDelete, "/image/v2/images/{image_id}", "/image/v2/images/{doomed_image}", "", 204, 404}),
        {M::kGet, "/image/v2/schemas/image", "/image/v2/schemas/image", "", 200, 200},
        {M::kGet, "/image/v2/schemas/images", "/image/v2/schemas/images", "", 200, 200},
        {M::kGet, "/image/v2/schemas/member", "/image/v2/schemas/member", "", 200, 200},
        {M::kGet, "/image/v2/schemas/members", "/image/v2/schemas/members", "", 200, 200},
        {M::kGet, "/image/v2/info/import", "/image/v2/info/import", "", 200, 200},
        // Glance without multiple stores: 404 "Multi backend is not supported at this site."
        {M::kGet, "/image/v2/info/stores", "/image/v2/info/stores", "", 404, 404},
        // The signed image-data URLs: the signature is the capability (as Swift's temp URLs), so
        // the token does not matter; a signature for another tenant's path, an expired one or
        // none is 401 to everyone.
        AtHome({M::kGet, "/image/shoal-data/{tenant}/{image_id}", "{data_url}", "", 200, 200, 200}),
        AtHome({M::kGet, "/image/shoal-data/{tenant}/{image_id}", "{data_url_other_tenant}", "", 401, 401, 401}),
        AtHome({M::kGet, "/image/shoal-data/{tenant}/{image_id}", "{data_url_expired}", "", 401, 401, 401}),
        AtHome({M::kGet, "/image/shoal-data/{tenant}/{image_id}", "{data_url_unsigned}", "", 401, 401, 401}),
        // Identity, passed to the identity provider with the caller's own token: Keystone's
        // policy answers (another user's token, project or user record: 403).
        {M::kGet, "/identity/v3/auth/tokens", "/identity/v3/auth/tokens", "", 200, 403, 401, "application/json", "",
         true, true},
        {M::kHead, "/identity/v3/auth/tokens", "/identity/v3/auth/tokens", "", 200, 403, 401, "application/json", "",
         true, true},
        {M::kDelete, "/identity/v3/auth/tokens", "/identity/v3/auth/tokens", "", 204, 403, 401, "application/json", "",
         true, true},
        {M::kGet, "/identity/v3/auth/catalog", "/identity/v3/auth/catalog", "", 200, 200},
        // Logging in: a password is the credential here, so every principal's headers are moot
        // but the body's: alice's password for alpha gives alice's token, a wrong one 401.
        {M::kPost, "/identity/v3/auth/tokens", "/identity/v3/auth/tokens", "{alice_login}", 201, 201, 201},
        {M::kPost, "/identity/v3/auth/tokens", "/identity/v3/auth/tokens", "{wrong_login}", 401, 401, 401},
        {M::kGet, "/identity/v3/{p1}/{p2}", "/identity/v3/projects/{alpha}", "", 200, 403},
        {M::kGet, "/identity/v3/{p1}/{p2}", "/identity/v3/users/{alice}", "", 200, 403, 401, "application/json", "",
         true},
    };
    return rows;
}

// Routes served without any token: version documents and the identity provider's discovery.
bool Unprotected(const std::string& route) {
    static const std::set<std::string> kPublic = {"/compute",        "/compute/v2.1", "/image",
                                                  "/image/versions", "/identity",     "/identity/v3"};
    return kPublic.contains(route);
}

TEST_F(TenantIsolationTest, EveryProxiedRouteAnswersEachPrincipalWhatOpenStackWould) {
    int checked = 0;
    std::set<std::pair<M, std::string>> covered;
    for (const Row& row : Rows()) {
        covered.emplace(row.method, row.route);
        // The owner last: some rows change or delete what they ask about.
        std::vector<Who> order(std::begin(kEveryone) + 1, std::end(kEveryone));
        order.push_back(Who::kOwner);
        for (Who who : order) {
            if (row.once && who == Who::kOwnerElsewhere) continue;
            auto [at, headers] = As(who);
            if (row.at_home) at = 0;
            if (row.subject_token) headers.Set("X-Subject-Token", E().Token("alice", "alpha"));
            // The microversion the CLI sends for `--nic none` (2.37), on every compute row.
            if (row.target.starts_with("/compute")) headers.Set("OpenStack-API-Version", "compute 2.37");
            const bool owner_like =
                who == Who::kOwner || who == Who::kOwnerElsewhere || (row.by_user && SameUserAsOwner(who));
            const int expected = Anonymous(who) ? row.anonymous : owner_like ? row.owner : row.stranger;
            const std::string target = Fill(row.target);
            auto answer = E().Api(at, row.method, target, Fill(row.body), headers, row.content_type);
            ++checked;
            EXPECT_EQ(answer.status, expected)
                << MethodName(row.method) << " " << row.target << " as " << Name(who) << ": " << answer.body;
            if (!row.listed.empty() && answer.status == 200) {
                const bool sees = answer.body.find(Fill(row.listed)) != std::string::npos;
                EXPECT_EQ(sees, owner_like) << MethodName(row.method) << " " << row.target << " as " << Name(who);
            }
            // An error says so in the service's own body, never an empty or foreign one.
            if (answer.status >= 400 && row.method != M::kHead) {
                EXPECT_FALSE(answer.body.empty()) << row.target << " as " << Name(who);
            }
            if (who == Who::kOwner && row.route == "/image/shoal-data/{tenant}/{image_id}" && expected == 200) {
                EXPECT_EQ(answer.body, "alpha's image data");
            }
        }
    }
    // Every proxied route has a row: a route added without one fails here.
    for (const auto& [method, route] : E().agents[0]->ApiRouter().Routes()) {
        if (Unprotected(route)) continue;
        if (route.starts_with("/identity/v3/{p1}") && route != "/identity/v3/{p1}/{p2}")
            continue;  // one depth stands for all
        if (route == "/identity/v3/{p1}/{p2}" && method != M::kGet) continue;
        EXPECT_TRUE(covered.contains({method, route})) << "no matrix row for " << MethodName(method) << " " << route;
    }
    std::printf("tenant isolation matrix: %zu rows x %zu principals = %d requests checked\n", Rows().size(),
                std::size(kEveryone), checked);
}

TEST_F(TenantIsolationTest, ShoalHeadersOnTheApiPortGrantNothingBeyondTheToken) {
    // Whatever X-Shoal-Internal / X-Shoal-Caller say, bob with his token is bob: his own server
    // list, and 404 for alice's image even with a header naming alice's project as the caller.
    for (const char* internal : {"", "00000000-0000-4000-8000-000000000000", "true", "1"}) {
        auto [at, headers] = As(Who::kForgedWithToken);
        headers.Set("X-Shoal-Internal", internal);
        auto image = E().Api(at, M::kGet, Fill("/image/v2/images/{image}"), {}, headers);
        EXPECT_EQ(image.status, 404) << image.body;
        auto list = E().Api(at, M::kGet, "/compute/v2.1/servers", {}, headers);
        EXPECT_EQ(list.status, 200);
        EXPECT_EQ(list.body.find(E().ids["{server}"]), std::string::npos);
        auto [at2, anonymous] = As(Who::kForgedNoToken);
        anonymous.Set("X-Shoal-Internal", internal);
        EXPECT_EQ(E().Api(at2, M::kGet, "/compute/v2.1/servers", {}, anonymous).status, 401);
    }
}

// ---- the A2A port ------------------------------------------------------------------------

std::string Instantiate(std::string pattern) {
    for (auto open = pattern.find('{'); open != std::string::npos; open = pattern.find('{')) {
        auto close = pattern.find('}', open);
        pattern.replace(open, close - open + 1, "x");
    }
    return pattern;
}

TEST_F(TenantIsolationTest, EveryA2aRouteRefusesBadSignaturesWith401AndCountsThem) {
    Agent& agent = *E().agents[0];
    auto endpoint = a2a::ParseAddress(agent.Address());
    ASSERT_TRUE(endpoint.ok());
    auto send = [&](http::Request r) {
        auto a =
            Await(E().io, E().http.Send(*endpoint, std::move(r), std::chrono::seconds(10)), std::chrono::seconds(20));
        return a.ok() ? a->status : -1;
    };
    auto& v = agent.Verifier();
    using a2a::Rejection;
    const auto before = std::array{v.Refused(Rejection::kUnsigned), v.Refused(Rejection::kForged),
                                   v.Refused(Rejection::kStale), v.Refused(Rejection::kReplayed)};
    const auto now = [] { return std::chrono::system_clock::now(); };
    std::size_t routes = 0;
    for (const auto& [route_method, pattern] : agent.A2aRouter().Routes()) {
        ++routes;
        const auto method = route_method;  // a copy: clang 14 cannot capture a structured binding
        const std::string target = Instantiate(pattern);
        auto request = [&] {
            http::Request r;
            r.method = method;
            r.SetTarget(target);
            if (method != M::kGet && method != M::kDelete) {
                r.body = "{}";
                r.headers.Set("Content-Type", "application/json");
            }
            return r;
        };
        const std::string what = std::string(MethodName(method)) + " " + pattern;
        EXPECT_EQ(send(request()), 401) << what << " unsigned";

        auto forged = request();
        a2a::SignRequest(forged, "a-secret-nobody-in-the-cluster-has", "agent2", now());
        EXPECT_EQ(send(forged), 401) << what << " forged";

        auto rotated_out = request();
        a2a::SignRequest(rotated_out, kRotatedOut, "agent2", now());
        EXPECT_EQ(send(rotated_out), 401) << what << " signed with a rotated-out secret";

        auto stale = request();
        a2a::SignRequest(stale, kSecret, "agent2", now() - std::chrono::minutes(5));
        EXPECT_EQ(send(stale), 401) << what << " stale";

        // A valid request once (answered by the route, whatever it says about the dummy ids),
        // then the same bytes again.
        auto once = request();
        a2a::SignRequest(once, kPrevious, "agent2", now());
        EXPECT_NE(send(once), 401) << what << " signed with the previous secret, during a rotation";
        EXPECT_EQ(send(once), 401) << what << " replayed";
    }
    // The port serves the route table, no more and no less (a2a/routes.hpp).
    std::set<std::pair<M, std::string>> served(agent.A2aRouter().Routes().begin(), agent.A2aRouter().Routes().end());
    std::set<std::pair<M, std::string>> table;
    for (const auto& route : a2a::kRoutes) table.emplace(route.method, std::string(route.path));
    EXPECT_EQ(served, table);
    EXPECT_EQ(routes, a2a::kRoutes.size());
    EXPECT_EQ(v.Refused(Rejection::kUnsigned) - before[0], routes);
    EXPECT_EQ(v.Refused(Rejection::kForged) - before[1], 2 * routes);
    EXPECT_EQ(v.Refused(Rejection::kStale) - before[2], routes);
    EXPECT_EQ(v.Refused(Rejection::kReplayed) - before[3], routes);
    std::printf("A2A matrix: %zu routes x 5 attacks = %zu refusals counted\n", routes, 5 * routes);
}

}  // namespace
}  // namespace shoal::agent
