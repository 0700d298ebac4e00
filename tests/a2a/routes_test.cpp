// The A2A route table and its codecs: what a client builds with ToRequest, the server reads back
// with FromRequest as the same struct; malformed input is refused with kBadRequest, never thrown.
#include "a2a/routes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace shoal::a2a {
namespace {

using nlohmann::json;
using M = http::Method;

// A request as the server sees it: only what crosses the wire (method, target, headers, body).
http::Request OnTheWire(const http::Request& sent) {
    http::Request r;
    r.method = sent.method;
    EXPECT_TRUE(r.SetTarget(sent.target)) << sent.target;
    r.headers = sent.headers;
    r.body = sent.body;
    return r;
}

http::Request Raw(M method, std::string target, std::string body = {}) {
    http::Request r;
    r.method = method;
    EXPECT_TRUE(r.SetTarget(std::move(target)));
    r.body = std::move(body);
    return r;
}

template <class Call>
void ExpectBadRequest(http::Request request) {
    const std::string target = request.target;
    auto decoded = FromRequest<Call>(std::move(request));
    ASSERT_FALSE(decoded.ok()) << target;
    EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << target << ": " << decoded.error().message;
    EXPECT_FALSE(decoded.error().message.empty());
}

void ExpectOnRoute(const http::Request& r, const Route& route) {
    EXPECT_EQ(r.method, route.method);
    // The route's path with its parameter filled in.
    const auto open = route.path.find('{');
    EXPECT_EQ(r.path.substr(0, open), route.path.substr(0, open)) << r.path;
}

TEST(RouteTable, HasNoDuplicateAndEveryPathIsVersioned) {
    std::set<std::pair<M, std::string_view>> seen;
    for (const auto& route : kRoutes) {
        EXPECT_TRUE(seen.emplace(route.method, route.path).second)
            << http::MethodName(route.method) << " " << route.path;
        EXPECT_EQ(route.path.rfind(kPathPrefix, 0), 0u) << route.path;
        EXPECT_LE(std::count(route.path.begin(), route.path.end(), '{'), 1) << route.path;
    }
    EXPECT_EQ(seen.size(), kRoutes.size());
}

TEST(RouteCodecs, OverlayMessageRoundTripsAndABrokenBodyIsRefused) {
    const json message = {{"type", "membership.ping"}, {"gossip", json::array()}};
    const auto sent = ToRequest(OverlayMessage{message});
    ExpectOnRoute(sent, kOverlayRoute);
    auto back = FromRequest<OverlayMessage>(OnTheWire(sent));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->message, message);
    ExpectBadRequest<OverlayMessage>(Raw(M::kPost, "/a2a/v1/overlay", "{not json"));
}

TEST(RouteCodecs, StatusRoundTrips) {
    const auto sent = ToRequest(StatusQuery{});
    ExpectOnRoute(sent, kStatusRoute);
    EXPECT_TRUE(FromRequest<StatusQuery>(OnTheWire(sent)).ok());
    const json document = {{"id", "agent-1"}, {"overlay", {{"members", json::array()}}}};
    auto back = FromResponse<StatusAnswer>(ToResponse(StatusAnswer{document}));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->document, document);
    http::Response not_an_object;
    not_an_object.body = "[1]";
    EXPECT_FALSE(FromResponse<StatusAnswer>(not_an_object).ok());
}

TEST(RouteCodecs, TenantHomeRoundTripsWithAnEncodedTenant) {
    const auto sent = ToRequest(TenantHomeQuery{"acme corp/1"});
    ExpectOnRoute(sent, kTenantHomeRoute);
    auto back = FromRequest<TenantHomeQuery>(OnTheWire(sent));
    // A "/" in the value cannot be told from a path separator once decoded: refused, not misread.
    EXPECT_FALSE(back.ok());
    auto plain = FromRequest<TenantHomeQuery>(OnTheWire(ToRequest(TenantHomeQuery{"acme corp"})));
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(plain->tenant, "acme corp");

    TenantHomeAnswer answer;
    answer.tenant = "acme";
    answer.home = {"agent-3", "127.0.0.1:9003"};
    const auto response = ToResponse(answer);
    EXPECT_EQ(json::parse(response.body),
              json::parse(R"({"tenant":"acme","home":{"id":"agent-3","address":"127.0.0.1:9003"}})"));
    auto read = FromResponse<TenantHomeAnswer>(response);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->home.id, "agent-3");
    EXPECT_EQ(read->home.address, "127.0.0.1:9003");
    http::Response mistyped;
    mistyped.body = R"({"tenant":"acme","home":{"id":7}})";
    EXPECT_FALSE(FromResponse<TenantHomeAnswer>(mistyped).ok());
}

TEST(RouteCodecs, ApiForwardCallRoundTripsCallerHeadersAndBody) {
    ApiForwardCall call;
    call.method = M::kPut;
    call.target = "/compute/v2.1/servers/s2?x=1&y=a%20b";
    call.caller.tenant = "alice0000000000000000000000000001";
    call.caller.user_name = "alice";
    call.caller.roles = {"member", "reader"};
    call.caller.api_base = "http://agent-a.example:8774";
    call.headers.Set("OpenStack-API-Version", "compute 2.37");
    call.headers.Set("Content-Type", "application/json");
    call.headers.Set("X-Auth-Token", "never forwarded");
    call.body = R"({"server":{"name":"n"}})";
    const auto sent = ToRequest(call);
    ExpectOnRoute(sent, kApiForwardRoute);
    EXPECT_FALSE(sent.headers.Has("X-Auth-Token"));

    auto back = FromRequest<ApiForwardCall>(OnTheWire(sent));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->method, M::kPut);
    EXPECT_EQ(back->target, call.target);
    EXPECT_EQ(back->caller.tenant, call.caller.tenant);
    EXPECT_EQ(back->caller.user_name, "alice");
    EXPECT_EQ(back->caller.roles, call.caller.roles);
    EXPECT_EQ(back->caller.api_base, call.caller.api_base);
    EXPECT_EQ(back->headers.Get("OpenStack-API-Version").value_or(""), "compute 2.37");
    EXPECT_FALSE(back->headers.Has("X-Auth-Token"));
    EXPECT_EQ(back->body, call.body);
}

TEST(RouteCodecs, ApiForwardCallRefusesMissingOrMalformedParts) {
    const std::string caller = http::UrlEncode(identity::EncodeCaller(identity::Caller{.tenant = "t"}));
    for (const std::string& query : std::vector<std::string>{
             "", "?method=GET&target=/x", "?method=GET&caller=" + caller, "?target=/x&caller=" + caller,
             "?method=BREW&target=/x&caller=" + caller, "?method=GET&target=no-slash&caller=" + caller,
             "?method=GET&target=/x&caller=%7Bnot"})
        ExpectBadRequest<ApiForwardCall>(Raw(M::kPost, "/a2a/v1/api" + query));
    // A caller without a tenant is not admitted (identity::DecodeCaller).
    auto untenanted = FromRequest<ApiForwardCall>(Raw(M::kPost, "/a2a/v1/api?method=GET&target=/x&caller=%7B%7D"));
    ASSERT_FALSE(untenanted.ok());
    EXPECT_EQ(untenanted.error().code, ErrorCode::kUnauthorized);
}

TEST(RouteCodecs, CloudletRelayCallRoundTripsEveryField) {
    cloudlet::CloudletCall call(cloudlet::Service::kCompute, M::kPost, "/servers?x=1&y=2");
    call.body = R"({"server":{}})";
    call.content_type = "application/json; charset=utf-8";
    call.accept = "application/octet-stream";
    call.microversion = "2.37";
    call.reserve_ram_mb = 512;
    call.reservation = 42;
    call.timeout = std::chrono::milliseconds(1500);
    const auto sent = ToRequest(CloudletRelayCall{"tenant-1", call});
    ExpectOnRoute(sent, kCloudletRelayRoute);

    auto back = FromRequest<CloudletRelayCall>(OnTheWire(sent));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->tenant, "tenant-1");
    const auto& c = back->call;
    EXPECT_EQ(c.service, cloudlet::Service::kCompute);
    EXPECT_EQ(c.method, M::kPost);
    EXPECT_EQ(c.path, call.path);
    EXPECT_EQ(c.body, call.body);
    EXPECT_EQ(c.content_type, call.content_type);
    EXPECT_EQ(c.accept, call.accept);
    EXPECT_EQ(c.microversion, "2.37");
    EXPECT_EQ(c.reserve_ram_mb, 512);
    EXPECT_EQ(c.reservation, 42u);
    EXPECT_EQ(c.timeout, std::chrono::milliseconds(1500));

    // The optional parts stay unset.
    auto plain = FromRequest<CloudletRelayCall>(OnTheWire(
        ToRequest(CloudletRelayCall{"t", cloudlet::CloudletCall(cloudlet::Service::kImage, M::kGet, "/v2/images")})));
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(plain->call.service, cloudlet::Service::kImage);
    EXPECT_EQ(plain->call.microversion, "");
    EXPECT_EQ(plain->call.reserve_ram_mb, 0);
    EXPECT_EQ(plain->call.reservation, 0u);
    EXPECT_FALSE(plain->call.timeout);
}

TEST(RouteCodecs, CloudletRelayCallRefusesMissingOrMalformedParts) {
    const std::string base = "/a2a/v1/cloudlet?tenant=t&service=compute&method=GET&path=/servers";
    for (const std::string& target :
         {std::string("/a2a/v1/cloudlet"), std::string("/a2a/v1/cloudlet?service=compute&method=GET&path=/servers"),
          std::string("/a2a/v1/cloudlet?tenant=&service=compute&method=GET&path=/servers"),
          std::string("/a2a/v1/cloudlet?tenant=t&service=volume&method=GET&path=/servers"),
          std::string("/a2a/v1/cloudlet?tenant=t&service=compute&method=FETCH&path=/servers"),
          std::string("/a2a/v1/cloudlet?tenant=t&service=compute&method=GET"), base + "&reserve=12x",
          base + "&reserve=-1", base + "&reservation=abc", base + "&reservation=-3",
          base + "&timeout_ms=", base + "&timeout_ms=0", base + "&timeout_ms=99999999999999999999999"})
        ExpectBadRequest<CloudletRelayCall>(Raw(M::kPost, target));
}

TEST(RouteCodecs, BuildWatchRoundTripsAndCutsLongWaits) {
    const auto sent = ToRequest(BuildWatchQuery{"3f1c-server", std::chrono::milliseconds(5000)});
    ExpectOnRoute(sent, kBuildWatchRoute);
    auto back = FromRequest<BuildWatchQuery>(OnTheWire(sent));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->cloudlet_server_id, "3f1c-server");
    EXPECT_EQ(back->wait, std::chrono::milliseconds(5000));

    auto long_wait = FromRequest<BuildWatchQuery>(Raw(M::kGet, "/a2a/v1/builds/x?wait_ms=99999"));
    ASSERT_TRUE(long_wait.ok());
    EXPECT_EQ(long_wait->wait, kMaxBuildWait);
    auto no_wait = FromRequest<BuildWatchQuery>(Raw(M::kGet, "/a2a/v1/builds/x"));
    ASSERT_TRUE(no_wait.ok());
    EXPECT_EQ(no_wait->wait, std::chrono::milliseconds(0));
    ExpectBadRequest<BuildWatchQuery>(Raw(M::kGet, "/a2a/v1/builds/x?wait_ms=soon"));
    ExpectBadRequest<BuildWatchQuery>(Raw(M::kGet, "/a2a/v1/builds/"));

    for (const auto& progress : {cloudlet::BuildProgress{"ERROR", "No valid host was found."},
                                 cloudlet::BuildProgress{"", ""}, cloudlet::BuildProgress{"ACTIVE", ""}}) {
        auto read = FromResponse<cloudlet::BuildProgress>(ToResponse(progress));
        ASSERT_TRUE(read.ok()) << read.error().message;
        EXPECT_EQ(read->status, progress.status);
        EXPECT_EQ(read->fault, progress.fault);
    }
    http::Response mistyped;
    mistyped.body = R"({"status":1})";
    EXPECT_FALSE(FromResponse<cloudlet::BuildProgress>(mistyped).ok());
}

scheduler::CloudletLoad SomeLoad() {
    scheduler::CloudletLoad load;
    load.cloudlet = "agent-2";
    load.free_ram_mb = 1024;
    load.total_free_ram_mb = 4096;
    load.total_ram_mb = 8192;
    load.in_flight_ram_mb = 512;
    load.in_flight_builds = 1;
    return load;
}

TEST(RouteCodecs, LoadAndHoldRoundTrip) {
    const auto query = ToRequest(LoadQuery{});
    ExpectOnRoute(query, kLoadRoute);
    EXPECT_TRUE(FromRequest<LoadQuery>(OnTheWire(query)).ok());
    auto load = FromResponse<scheduler::CloudletLoad>(ToResponse(SomeLoad()));
    ASSERT_TRUE(load.ok()) << load.error().message;
    EXPECT_EQ(*load, SomeLoad());

    const auto hold = ToRequest(LoadHoldCall{768});
    ExpectOnRoute(hold, kLoadHoldRoute);
    auto call = FromRequest<LoadHoldCall>(OnTheWire(hold));
    ASSERT_TRUE(call.ok()) << call.error().message;
    EXPECT_EQ(call->ram_mb, 768);
    cloudlet::CloudletGateway::HeldLoad held;
    held.load = SomeLoad();
    held.reservation = 17;
    auto read = FromResponse<cloudlet::CloudletGateway::HeldLoad>(ToResponse(held));
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->load, SomeLoad());
    EXPECT_EQ(read->reservation, 17u);

    for (const std::string q : {"", "?hold_ram_mb=0", "?hold_ram_mb=-5", "?hold_ram_mb=lots"})
        ExpectBadRequest<LoadHoldCall>(Raw(M::kPost, "/a2a/v1/load" + q));
    http::Response without_load;
    without_load.body = R"({"reservation":1})";
    EXPECT_FALSE(FromResponse<scheduler::CloudletLoad>(without_load).ok());
    http::Response without_reservation = ToResponse(SomeLoad());
    EXPECT_FALSE(FromResponse<cloudlet::CloudletGateway::HeldLoad>(without_reservation).ok());
}

TEST(RouteCodecs, ReleaseRoundTripsAndRefusesANonNumber) {
    const auto sent = ToRequest(ReleaseCall{99});
    ExpectOnRoute(sent, kReleaseRoute);
    auto back = FromRequest<ReleaseCall>(OnTheWire(sent));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->reservation, 99u);
    for (const std::string id : {"abc", "0", "-1", "12x"})
        ExpectBadRequest<ReleaseCall>(Raw(M::kDelete, "/a2a/v1/reservations/" + id));
}

}  // namespace
}  // namespace shoal::a2a
