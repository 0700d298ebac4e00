// The API gateway's user flows in process: two agents' gateways joined by the fake A2A network
// (tests/support/fake_peers.hpp), tokens from the fake validator, and at the home either a probe
// handler that shows what the home saw or the real Nova proxy over the fake cloudlet gateway.
#include "gateway/api_gateway.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>

#include "a2a/routes.hpp"
#include "async_test.hpp"
#include "compute/nova_proxy.hpp"
#include "fake_cloudlet_gateway.hpp"
#include "fake_peers.hpp"
#include "fake_tokens.hpp"
#include "identity/caller.hpp"
#include "state/memory_kv_store.hpp"

namespace shoal::gateway {
namespace {

using nlohmann::json;
using M = http::Method;

constexpr const char* kAlice = "alice0000000000000000000000000001";  // her home: agent-b
constexpr const char* kBob = "bob00000000000000000000000000002";     // his home: agent-a

// One agent's API side: its routers, its gateway, and a probe at /compute/v2.1/servers/{id}.
struct Agent {
    Agent(const std::string& id, testing::FakeTokens& tokens, ApiGateway::HomeOf home_of)
        : id(id), peers(id), gateway(id, tokens, peers, std::move(home_of), "http://" + id + ".example:8774") {
        api.SetErrorStyle("/compute", http::ErrorStyle::kNova);
        auto probe = [this](http::Request& req) -> boost::asio::awaitable<Result<http::Response>> {
            ++probed;
            auto who = identity::CallerOf(req);
            if (!who.ok()) co_return who.error();
            json shoal_headers = json::object();
            for (const auto& [name, value] : req.headers)
                if (name.rfind("X-Shoal", 0) == 0 || name.rfind("x-shoal", 0) == 0) shoal_headers[name] = value;
            auto r =
                http::Response::Json(200, json{{"served_by", this->id},
                                               {"tenant", who->tenant},
                                               {"user", who->user_name},
                                               {"api_base", who->api_base},
                                               {"server", req.Param("server_id")},
                                               {"body", req.body},
                                               {"microversion", req.headers.Get("OpenStack-API-Version").value_or("")},
                                               {"shoal_headers", shoal_headers}});
            r.headers.Set("Location", who->api_base + "/compute/v2.1/servers/" + req.Param("server_id"));
            r.headers.Set("X-Home-Internal", "not for users");
            co_return r;
        };
        api.Add(M::kGet, "/compute/v2.1/servers/{server_id}", probe);
        api.Add(M::kPut, "/compute/v2.1/servers/{server_id}", probe);
        api.Add(M::kGet, "/compute/v2.1", [](http::Request&) -> boost::asio::awaitable<Result<http::Response>> {
            co_return http::Response::Json(200, json{{"version", {{"id", "v2.1"}}}});
        });
        gateway.Attach(api, a2a);
    }
    std::string id;
    testing::FakePeers peers;
    ApiGateway gateway;
    http::Router api;
    http::Router a2a;
    int probed = 0;
};

class ApiGatewayTest : public ::testing::Test {
protected:
    ApiGatewayTest() {
        tokens_.Issue("alice-token", kAlice, "alice");
        tokens_.Issue("bob-token", kBob, "bob");
        tokens_.Issue("unscoped-token", "", "carol");
        for (auto* agent : {&a_, &b_})
            for (auto* peer : {&a_, &b_}) agent->peers.Register(peer->id + ":9000", peer->a2a);
    }
    overlay::PeerDescriptor HomeOf(const std::string& tenant) {
        const std::string home = tenant == kAlice ? "agent-b" : "agent-a";
        return overlay::PeerDescriptor{overlay::PeerId(home), home + ":9000", 0};
    }
    http::Response Send(Agent& at,
                        M method,
                        const std::string& target,
                        const std::string& token,
                        const std::map<std::string, std::string>& headers = {},
                        std::string body = {}) {
        auto req = shoal::testing::MakeRequest(method, target, std::move(body), token);
        for (const auto& [k, v] : headers) req.headers.Set(k, v);
        return shoal::testing::Run(io_, at.api.Dispatch(req));
    }

    boost::asio::io_context io_;
    testing::FakeTokens tokens_;
    Agent a_{"agent-a", tokens_, [this](const std::string& t) { return HomeOf(t); }};
    Agent b_{"agent-b", tokens_, [this](const std::string& t) { return HomeOf(t); }};
};

TEST_F(ApiGatewayTest, ARequestIsServedAtTheTenantsHomeWhicheverAgentItReaches) {
    // Bob's home is agent-a: served where it arrived, nothing sent to a peer.
    auto local = Send(a_, M::kGet, "/compute/v2.1/servers/s1", "bob-token");
    ASSERT_EQ(local.status, 200) << local.body;
    EXPECT_EQ(json::parse(local.body)["served_by"], "agent-a");
    EXPECT_TRUE(a_.peers.Sent().empty());

    // Alice's home is agent-b: forwarded once, served there as alice, the answer relayed as is.
    auto forwarded = Send(a_, M::kPut, "/compute/v2.1/servers/s2?x=1", "alice-token",
                          {{"OpenStack-API-Version", "compute 2.37"}}, R"({"server":{"name":"n"}})");
    ASSERT_EQ(forwarded.status, 200) << forwarded.body;
    const json seen = json::parse(forwarded.body);
    EXPECT_EQ(seen["served_by"], "agent-b");
    EXPECT_EQ(seen["tenant"], kAlice);
    EXPECT_EQ(seen["user"], "alice");
    EXPECT_EQ(seen["server"], "s2");
    EXPECT_EQ(seen["body"], R"({"server":{"name":"n"}})");
    EXPECT_EQ(seen["microversion"], "compute 2.37");
    // Links point where the user came in, not at the home.
    EXPECT_EQ(seen["api_base"], "http://agent-a.example:8774");
    EXPECT_EQ(forwarded.headers.Get("Location").value_or(""), "http://agent-a.example:8774/compute/v2.1/servers/s2");
    EXPECT_FALSE(forwarded.headers.Get("X-Home-Internal"));
    ASSERT_EQ(a_.peers.Sent().size(), 1u);
    EXPECT_EQ(a_.peers.Sent()[0].first, "agent-b:9000");
    EXPECT_EQ(a_.probed, 1);
    EXPECT_EQ(b_.probed, 1);
    EXPECT_EQ(a_.gateway.Forwarded(), 1u);
    EXPECT_EQ(b_.gateway.Served(), 1u);
}

TEST_F(ApiGatewayTest, WithoutAValidProjectTokenNothingIsServedOrForwarded) {
    struct Case {
        std::string token;
        int status;
    };
    for (const auto& c : {Case{"", 401}, Case{"forged-token", 401}, Case{"unscoped-token", 401}}) {
        auto r = Send(a_, M::kGet, "/compute/v2.1/servers/s1", c.token);
        EXPECT_EQ(r.status, c.status) << c.token << ": " << r.body;
    }
    tokens_.idp_down = true;
    auto down = Send(a_, M::kGet, "/compute/v2.1/servers/s1", "alice-token");
    EXPECT_EQ(down.status, 503) << down.body;
    EXPECT_EQ(a_.probed + b_.probed, 0);
    EXPECT_TRUE(a_.peers.Sent().empty());
    EXPECT_EQ(a_.gateway.Refused(), 4u);
    // The version document needs no token (clients read it before they log in).
    EXPECT_EQ(Send(a_, M::kGet, "/compute/v2.1", "").status, 200);
}

TEST_F(ApiGatewayTest, ShoalHeadersFromAClientAreDroppedAndNeverNameTheCaller) {
    const std::map<std::string, std::string> forged = {
        {"X-Shoal-Caller", json{{"tenant", kBob}, {"user_name", "bob"}}.dump()},
        {"X-Shoal-Internal", "guess"},
        {"x-shoal-via", "agent-b"}};
    auto r = Send(a_, M::kGet, "/compute/v2.1/servers/s1", "alice-token", forged);
    ASSERT_EQ(r.status, 200) << r.body;
    const json seen = json::parse(r.body);
    EXPECT_EQ(seen["tenant"], kAlice);
    EXPECT_EQ(seen["served_by"], "agent-b");
    EXPECT_EQ(seen["shoal_headers"], json::object());
    EXPECT_EQ(Send(a_, M::kGet, "/compute/v2.1/servers/s1", "", forged).status, 401);
}

TEST_F(ApiGatewayTest, AnUnreachableHomeIsA503ThatNamesIt) {
    a_.peers.CutOff("agent-b:9000");
    auto r = Send(a_, M::kGet, "/compute/v2.1/servers/s1", "alice-token");
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("agent-b"), std::string::npos) << r.body;
    EXPECT_EQ(b_.probed, 0);
}

TEST_F(ApiGatewayTest, TheForwardingRouteRefusesACallWithoutMethodTargetOrCaller) {
    for (const std::string& query :
         std::vector<std::string>{"", "?method=GET&target=/compute/v2.1/servers/s1", "?method=GET&caller=%7B%7D",
                                  "?target=/x&caller=" + http::UrlEncode(identity::EncodeCaller({}))}) {
        auto r = shoal::testing::Run(
            io_, a_.peers.Call("agent-b:9000", M::kPost, std::string(a2a::kApiForwardRoute.path) + query, nullptr,
                               std::chrono::seconds(1)));
        ASSERT_FALSE(r.ok()) << query;
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << query << ": " << r.error().message;
    }
    EXPECT_EQ(b_.probed, 0);
}

// The whole of a forwarded create: alice reaches agent-a, her home agent-b runs the real Nova
// proxy over the fake cloudlets, and what she reads back through agent-a points at agent-a.
TEST(ApiGatewayFlowTest, AServerCreatedThroughAnotherAgentIsBuiltByTheHomeAndReadBackThroughIt) {
    boost::asio::io_context io;
    testing::FakeTokens tokens;
    tokens.Issue("alice-token", kAlice, "alice");
    auto home_of = [](const std::string&) {
        return overlay::PeerDescriptor{overlay::PeerId("agent-b"), "agent-b:9000", 0};
    };
    testing::FakePeers peers_a("agent-a"), peers_b("agent-b");
    ApiGateway gateway_a("agent-a", tokens, peers_a, home_of, "http://agent-a.example:8774");
    ApiGateway gateway_b("agent-b", tokens, peers_b, home_of, "http://agent-b.example:8774");
    http::Router api_a, a2a_a, api_b, a2a_b;
    testing::FakeCloudletGateway cloudlets(io.get_executor(), "agent-b");
    cloudlets.AddCloudlet("agent-b");
    state::MemoryKvStore store;
    state::TenantState state(store);
    compute::NovaProxyOptions options;
    options.poll = std::chrono::milliseconds(1);
    auto same_image = [](std::string, std::string image, std::string) -> boost::asio::awaitable<Result<std::string>> {
        co_return image;
    };
    compute::NovaProxy nova_a(io.get_executor(), cloudlets, state, same_image, options);
    compute::NovaProxy nova_b(io.get_executor(), cloudlets, state, same_image, options);
    nova_a.AddRoutes(api_a);
    nova_b.AddRoutes(api_b);
    gateway_a.Attach(api_a, a2a_a);
    gateway_b.Attach(api_b, a2a_b);
    peers_a.Register("agent-b:9000", a2a_b);
    state::ResourceRecord image;
    image.id = "image-1";
    image.tenant = kAlice;
    image.kind = "image";
    image.status = "active";
    ASSERT_TRUE(shoal::testing::Run(io, state.CreateResource(image)).ok());

    auto send = [&](M method, const std::string& path, const std::string& body = {}) {
        auto req = shoal::testing::MakeRequest(method, path, body, "alice-token");
        return shoal::testing::Run(io, api_a.Dispatch(req));
    };
    auto created = send(M::kPost, "/compute/v2.1/servers",
                        R"({"server":{"name":"vm","imageRef":"image-1","flavorRef":"m1.tiny"}})");
    ASSERT_EQ(created.status, 202) << created.body;
    const std::string id = json::parse(created.body)["server"]["id"];
    EXPECT_EQ(created.headers.Get("Location").value_or(""), "http://agent-a.example:8774/compute/v2.1/servers/" + id);
    std::string status;
    for (int i = 0; i < 2000 && status != "ACTIVE"; ++i) {
        shoal::testing::RunFor(io, std::chrono::milliseconds(1));
        status = json::parse(send(M::kGet, "/compute/v2.1/servers/" + id).body)["server"].value("status", "");
    }
    EXPECT_EQ(status, "ACTIVE");
    const json listed = json::parse(send(M::kGet, "/compute/v2.1/servers").body);
    ASSERT_EQ(listed["servers"].size(), 1u);
    EXPECT_EQ(listed["servers"][0]["id"], id);
    EXPECT_EQ(listed["servers"][0]["links"][0]["href"], "http://agent-a.example:8774/compute/v2.1/servers/" + id);
    EXPECT_EQ(nova_a.GetStats().creates, 0u);  // agent-a only forwarded
    EXPECT_EQ(nova_b.GetStats().creates, 1u);
    EXPECT_EQ(gateway_a.Forwarded(), 3u);
}

}  // namespace
}  // namespace shoal::gateway
