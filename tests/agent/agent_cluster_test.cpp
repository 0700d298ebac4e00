// Real `shoal agent` processes on 127.0.0.1, each with its own embedded cloudlet, killed with
// SIGKILL and restarted: the overlay, the member lists and the home-agent mapping as an operator
// would see them through `shoal status` and the A2A interface, and a tenant's servers through the
// OpenStack APIs when its home dies.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "a2a/peer_client.hpp"
#include "async_test.hpp"
#include "etcd_server.hpp"
#include "http/client.hpp"
#include "identity/keystone_admin.hpp"
#include "process.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
using shoal::testing::ChildProcess;

constexpr const char* kSecret = "cluster-test-secret-0123456789";

struct AgentProcess {
    std::string id;
    std::string address;
    std::string api_url;  // "http://127.0.0.1:P" when the agent serves the OpenStack APIs
    std::string config_path;
    ChildProcess process;
};

class AgentProcessTest : public ::testing::Test {
protected:
    // Config files with fixed ports, so a restarted agent comes back at the same address. With
    // `idp_auth_url`, every agent serves the OpenStack APIs too.
    void Configure(int n, const json& state_for_all, const std::string& idp_auth_url = {}) {
        for (int i = 0; i < n; ++i) {
            auto a = std::make_unique<AgentProcess>();
            a->id = "agent-" + std::to_string(i);
            a->address = "127.0.0.1:" + std::to_string(shoal::testing::FreePort());
            a->config_path = (dir_.Path() / (a->id + ".json")).string();
            agents_.push_back(std::move(a));
        }
        for (int i = 0; i < n; ++i) {
            auto& a = *agents_[i];
            json state = state_for_all;
            if (state.is_null()) state = {{"backend", "sqlite"}, {"path", (dir_.Path() / (a.id + ".db")).string()}};
            json seeds = json::array();
            for (int s = 0; s < std::min(n, 2); ++s) seeds.push_back(agents_[s]->address);
            json config = {
                {"id", a.id},
                {"listen", a.address},
                {"seeds", seeds},
                {"secret", kSecret},
                {"embedded_cloudlet", {{"hypervisors", {{"count", 1}}}}},
                {"state", state},
                {"overlay",
                 {{"view_size", 6},
                  {"shuffle_length", 3},
                  {"period_ms", 250},
                  {"request_timeout_ms", 1000},
                  {"suspect_rounds", 6}}},
            };
            if (!idp_auth_url.empty()) {
                const auto port = shoal::testing::FreePort();
                a.api_url = "http://127.0.0.1:" + std::to_string(port);
                config["api"] = {{"port", port}, {"idp_auth_url", idp_auth_url}};
            }
            std::ofstream(a.config_path) << config.dump(2);
        }
    }
    void Launch(AgentProcess& a) {
        a.process.Start({SHOAL_BINARY, "agent", "--config", a.config_path, "--log-level", "warn"},
                        (dir_.Path() / (a.id + ".log")).string());
        auto lines = a.process.ReadUntil("ready", std::chrono::seconds(120));
        if (!lines) {
            // The temp dir goes with the test: show the log in the failure, as CI keeps no files.
            std::ifstream log(dir_.Path() / (a.id + ".log"));
            const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
            FAIL() << a.id << " did not start; its log:\n" << text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
        }
        ASSERT_FALSE(lines->empty());
        EXPECT_EQ(lines->front(), "agent " + a.id + " a2a " + a.address);
    }
    void LaunchAll() {
        for (auto& a : agents_) {
            Launch(*a);
            if (HasFatalFailure()) return;
        }
    }
    std::vector<AgentProcess*> Live() {
        std::vector<AgentProcess*> live;
        for (auto& a : agents_)
            if (a->process.Running()) live.push_back(a.get());
        return live;
    }
    Result<json> Call(const std::string& address, http::Method method, const std::string& target, json body = {}) {
        a2a::PeerClient peers(http_, kSecret, "test");
        return shoal::testing::Run(io_, peers.Call(address, method, target, std::move(body), std::chrono::seconds(10)));
    }
    // One OpenStack API request, as the CLI sends it.
    http::Response Api(const AgentProcess& a,
                       http::Method method,
                       const std::string& target,
                       const std::string& token,
                       json body = {}) {
        http::Request r;
        r.method = method;
        r.headers.Set("X-Auth-Token", token);
        r.headers.Set("OpenStack-API-Version", "compute 2.37");
        if (!body.is_null()) {
            r.headers.Set("Content-Type", "application/json");
            r.body = body.dump();
        }
        auto answer = shoal::testing::Run(io_, http_.Send(a.api_url + target, std::move(r), std::chrono::seconds(60)),
                                          std::chrono::seconds(90));
        EXPECT_TRUE(answer.ok()) << target << ": " << (answer.ok() ? "" : answer.error().message);
        return answer.ok() ? *answer : http::Response{};
    }
    std::map<std::string, json> Statuses() {
        std::map<std::string, json> out;
        for (auto* a : Live()) {
            auto s = Call(a->address, http::Method::kGet, "/a2a/v1/status");
            if (s.ok()) out[a->id] = *s;
        }
        return out;
    }
    static std::set<std::string> Ids(const json& list) {
        std::set<std::string> ids;
        for (const auto& e : list) ids.insert(e.at("id").get<std::string>());
        return ids;
    }
    std::set<std::string> LiveIds() {
        std::set<std::string> ids;
        for (auto* a : Live()) ids.insert(a->id);
        return ids;
    }
    // Every live agent answers, lists exactly the live agents as members, and no view holds a
    // dead one; every live agent is in somebody's view.
    bool Converged(std::string* why) {
        const auto live = LiveIds();
        const auto statuses = Statuses();
        if (statuses.size() != live.size()) return *why = "not every agent answers", false;
        std::set<std::string> pointed_to;
        for (const auto& [id, s] : statuses) {
            const auto members = Ids(s["overlay"]["members"]);
            if (members != live) return *why = id + " has " + std::to_string(members.size()) + " members", false;
            const auto view = Ids(s["overlay"]["view"]);
            if (view.empty()) return *why = id + " has an empty view", false;
            for (const auto& v : view) {
                if (!live.contains(v)) return *why = id + "'s view holds dead " + v, false;
                pointed_to.insert(v);
            }
        }
        if (pointed_to != live) return *why = "some agent is in no view", false;
        return true;
    }
    void ExpectConverges(std::chrono::seconds limit) {
        std::string why;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!Converged(&why)) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not converged: " << why;
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    }

    shoal::testing::TempDir dir_{"shoal-agents"};
    boost::asio::io_context io_;
    http::Client http_{io_.get_executor()};
    std::vector<std::unique_ptr<AgentProcess>> agents_;
};

TEST_F(AgentProcessTest, SixteenAgentsFormOneOverlayLoseFourToSigkillAndARestartedOneRejoins) {
    Configure(16, json());
    ASSERT_NO_FATAL_FAILURE(LaunchAll());
    ASSERT_NO_FATAL_FAILURE(ExpectConverges(std::chrono::seconds(120)));

    // What an operator runs: every member's status, through the CLI.
    ChildProcess cli;
    cli.Start({SHOAL_BINARY, "status", "--config", agents_[5]->config_path, "--all"});
    std::string out;
    while (auto line = cli.ReadLine(std::chrono::seconds(60))) out += *line + "\n";
    cli.Kill(SIGTERM);
    const json all = json::parse(out, nullptr, false);
    ASSERT_TRUE(all.is_array()) << out;
    EXPECT_EQ(all.size(), 16u);
    for (const auto& s : all) EXPECT_FALSE(s["overlay"]["view"].empty()) << s.dump();

    for (int victim : {3, 7, 11, 14}) agents_[victim]->process.Kill(SIGKILL);
    ASSERT_NO_FATAL_FAILURE(ExpectConverges(std::chrono::seconds(120)));

    ASSERT_NO_FATAL_FAILURE(Launch(*agents_[7]));
    ASSERT_NO_FATAL_FAILURE(ExpectConverges(std::chrono::seconds(120)));
    auto restarted = Call(agents_[7]->address, http::Method::kGet, "/a2a/v1/status");
    ASSERT_TRUE(restarted.ok());
    EXPECT_EQ((*restarted)["overlay"]["members"].size(), 13u);
}

// Through the live path: a user's Nova requests at any agent reach the tenant's home (the one
// GET /a2a/v1/tenants/{t}/home names), which keeps the servers' records in etcd; the home is
// SIGKILLed; every agent then routes the tenant to the same new home, which shows every server
// the old home recorded.
TEST_F(AgentProcessTest, ATenantsRequestsFollowItsHomeAndTheNewHomeFindsTheMapInEtcd) {
    shoal::testing::EtcdServer etcd;
    etcd.Start();
    // The identity provider: an embedded cloudlet's Keystone.
    ChildProcess idp;
    idp.Start({SHOAL_BINARY, "cloudlet", "--name", "idp", "--hypervisors", "1", "--log-level", "warn"},
              (dir_.Path() / "idp.log").string());
    auto exports = idp.ReadUntil("ready", std::chrono::seconds(60));
    ASSERT_TRUE(exports.has_value()) << "the identity provider did not start";
    std::map<std::string, std::string> env;
    for (const auto& line : *exports) {
        const auto eq = line.find('=');
        if (line.rfind("export ", 0) == 0 && eq != std::string::npos) env[line.substr(7, eq - 7)] = line.substr(eq + 1);
    }
    identity::KeystoneAdmin admin(http_,
                                  {env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"], env["OS_PROJECT_NAME"]});
    constexpr const char* kUserPassword = "erin-password-0123";
    auto project = shoal::testing::Run(io_, admin.EnsureMember("etcd-tenant", "erin", kUserPassword));
    ASSERT_TRUE(project.ok()) << project.error().message;
    const std::string tenant = *project;
    http::Request login;
    login.method = http::Method::kPost;
    login.headers.Set("Content-Type", "application/json");
    login.body = identity::PasswordAuthBody({env["OS_AUTH_URL"], "erin", kUserPassword, "etcd-tenant"});
    auto logged = shoal::testing::Run(io_, http_.Send(env["OS_AUTH_URL"] + "/auth/tokens", std::move(login)));
    ASSERT_TRUE(logged.ok() && logged->status == 201);
    const std::string token(logged->headers.Get("X-Subject-Token").value_or(""));

    Configure(6, json{{"backend", "etcd"}, {"endpoints", {etcd.Endpoint()}}, {"prefix", "/shoal-test/"}},
              env["OS_AUTH_URL"]);
    ASSERT_NO_FATAL_FAILURE(LaunchAll());
    ASSERT_NO_FATAL_FAILURE(ExpectConverges(std::chrono::seconds(120)));

    auto HomeSeenBy = [&](AgentProcess& a) {
        auto h = Call(a.address, http::Method::kGet, "/a2a/v1/tenants/" + tenant + "/home");
        return h.ok() ? (*h)["home"]["id"].get<std::string>() : std::string("(error)");
    };
    const std::string home = HomeSeenBy(*agents_[0]);
    for (auto* a : Live()) ASSERT_EQ(HomeSeenBy(*a), home) << "as seen by " << a->id;

    // One server created through each agent. The image is never uploaded, so no build reaches a
    // cloudlet: the servers exist only as the home's records (they end in ERROR).
    auto image = Api(*agents_[0], http::Method::kPost, "/image/v2/images", token,
                     json{{"name", "img"}, {"disk_format", "raw"}, {"container_format", "bare"}});
    ASSERT_EQ(image.status, 201) << image.body;
    const std::string image_id = json::parse(image.body)["id"].get<std::string>();
    std::map<std::string, std::string> servers;  // id -> name
    for (auto* a : Live()) {
        const std::string name = "vm-via-" + a->id;
        auto created = Api(
            *a, http::Method::kPost, "/compute/v2.1/servers", token,
            json{{"server", {{"name", name}, {"imageRef", image_id}, {"flavorRef", "m1.tiny"}, {"networks", "none"}}}});
        ASSERT_EQ(created.status, 202) << created.body;
        servers[json::parse(created.body)["server"]["id"].get<std::string>()] = name;
    }

    AgentProcess* old_home = nullptr;
    for (auto& a : agents_)
        if (a->id == home) old_home = a.get();
    ASSERT_NE(old_home, nullptr);
    old_home->process.Kill(SIGKILL);
    ASSERT_NO_FATAL_FAILURE(ExpectConverges(std::chrono::seconds(120)));

    const std::string new_home = HomeSeenBy(*Live().front());
    ASSERT_NE(new_home, home);
    for (auto* a : Live()) {
        EXPECT_EQ(HomeSeenBy(*a), new_home) << "as seen by " << a->id;
        for (const auto& [id, name] : servers) {
            auto shown = Api(*a, http::Method::kGet, "/compute/v2.1/servers/" + id, token);
            ASSERT_EQ(shown.status, 200) << "server " << id << " through " << a->id
                                         << " (the map the old home wrote is in etcd): " << shown.body;
            EXPECT_EQ(json::parse(shown.body)["server"]["name"], name);
        }
    }
}

}  // namespace
}  // namespace shoal::agent
