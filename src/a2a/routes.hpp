#pragma once

#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "a2a/peer_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "common/result.hpp"
#include "http/message.hpp"
#include "identity/caller.hpp"
#include "scheduler/cloudlet_load.hpp"

// Every route of the A2A port, and for each the one codec both sides use: the client builds its
// request with ToRequest(call), the server reads it back with FromRequest<Call>(request), so the
// query names, defaults and limits live here only. Structured answers have ToResponse and
// FromResponse<Answer> likewise. Decoding never throws: bad input is an Error{kBadRequest}.
namespace shoal::a2a {

struct Route {
    http::Method method;
    std::string_view path;  // a Router pattern: at most one "{param}" segment
};

inline constexpr Route kOverlayRoute{http::Method::kPost, "/a2a/v1/overlay"};
inline constexpr Route kStatusRoute{http::Method::kGet, "/a2a/v1/status"};
inline constexpr Route kTenantHomeRoute{http::Method::kGet, "/a2a/v1/tenants/{tenant}/home"};
inline constexpr Route kApiForwardRoute{http::Method::kPost, "/a2a/v1/api"};
inline constexpr Route kCloudletRelayRoute{http::Method::kPost, "/a2a/v1/cloudlet"};
inline constexpr Route kBuildWatchRoute{http::Method::kGet, "/a2a/v1/builds/{id}"};
inline constexpr Route kLoadRoute{http::Method::kGet, "/a2a/v1/load"};
inline constexpr Route kLoadHoldRoute{http::Method::kPost, "/a2a/v1/load"};
inline constexpr Route kReleaseRoute{http::Method::kDelete, "/a2a/v1/reservations/{id}"};

// The whole table (docs/agent.md describes each route).
inline constexpr std::array kRoutes = {kOverlayRoute,    kStatusRoute,        kTenantHomeRoute,
                                       kApiForwardRoute, kCloudletRelayRoute, kBuildWatchRoute,
                                       kLoadRoute,       kLoadHoldRoute,      kReleaseRoute};

// Decodes a request of one route (specialised for each call type below).
template <class Call>
Result<Call> FromRequest(http::Request&& request);
// Decodes the answer of one route (specialised for each answer type below).
template <class Answer>
Result<Answer> FromResponse(const http::Response& response);

// POST /a2a/v1/overlay: one overlay message (overlay/wire.hpp) as the JSON body; the answer is
// the overlay's own JSON. The overlay validates the message itself.
struct OverlayMessage {
    nlohmann::json message;
};
http::Request ToRequest(const OverlayMessage& call);
template <>
Result<OverlayMessage> FromRequest<OverlayMessage>(http::Request&& request);

// GET /a2a/v1/status: the agent's status document (agent::Agent::Status), open JSON for
// operators and `shoal status`: readers take the keys they know.
struct StatusQuery {};
struct StatusAnswer {
    nlohmann::json document;
};
http::Request ToRequest(StatusQuery call);
template <>
Result<StatusQuery> FromRequest<StatusQuery>(http::Request&& request);
http::Response ToResponse(const StatusAnswer& answer);
template <>
Result<StatusAnswer> FromResponse<StatusAnswer>(const http::Response& response);

// GET /a2a/v1/tenants/{tenant}/home: the home this agent routes the tenant to.
struct TenantHomeQuery {
    std::string tenant;
};
struct TenantHomeAnswer {
    struct Home {
        std::string id;
        std::string address;  // "" for a static home that is not a member
    };
    std::string tenant;
    Home home;
};
http::Request ToRequest(const TenantHomeQuery& call);
template <>
Result<TenantHomeQuery> FromRequest<TenantHomeQuery>(http::Request&& request);
http::Response ToResponse(const TenantHomeAnswer& answer);
template <>
Result<TenantHomeAnswer> FromResponse<TenantHomeAnswer>(const http::Response& response);

// POST /a2a/v1/api?method=M&target=T&caller=<identity::Caller JSON>: an OpenStack request the
// sender admitted (token checked), for the tenant's home. The user's body and the headers in
// kApiForwardedHeaders travel as they are; the answer is the API's, unchanged.
struct ApiForwardCall {
    http::Method method = http::Method::kGet;
    std::string target;  // the user's path and query
    identity::Caller caller;
    http::Headers headers;  // only kApiForwardedHeaders are sent and read
    std::string body;
};
// The headers of the user's request that the home's handlers read.
inline constexpr std::array<std::string_view, 5> kApiForwardedHeaders = {
    "Content-Type", "Accept", "OpenStack-API-Version", "X-OpenStack-Nova-API-Version", "Host"};
http::Request ToRequest(ApiForwardCall call);
// kBadRequest without a method, target or caller, or with a malformed one; a caller without a
// tenant is kUnauthorized (identity::DecodeCaller).
template <>
Result<ApiForwardCall> FromRequest<ApiForwardCall>(http::Request&& request);

// POST /a2a/v1/cloudlet?tenant=T&service=S&method=M&path=P[&mv=][&reserve=MB][&reservation=ID]
// [&timeout_ms=]: one call to the receiving agent's cloudlet as the tenant's shadow user, body,
// Content-Type and Accept as the call's. The answer is the cloudlet's as it is, plus
// cloudlet::kCloudletProjectHeader.
struct CloudletRelayCall {
    std::string tenant;
    cloudlet::CloudletCall call;
};
http::Request ToRequest(CloudletRelayCall call);
template <>
Result<CloudletRelayCall> FromRequest<CloudletRelayCall>(http::Request&& request);

// GET /a2a/v1/builds/{id}?wait_ms=N: a long poll for a build created with a reservation; the
// answer is {"status", "fault"} (cloudlet::BuildProgress).
struct BuildWatchQuery {
    std::string cloudlet_server_id;
    std::chrono::milliseconds wait{0};
};
inline constexpr std::chrono::milliseconds kMaxBuildWait{30'000};  // longer waits are cut to it
http::Request ToRequest(const BuildWatchQuery& call);
template <>
Result<BuildWatchQuery> FromRequest<BuildWatchQuery>(http::Request&& request);
http::Response ToResponse(const cloudlet::BuildProgress& answer);
template <>
Result<cloudlet::BuildProgress> FromResponse<cloudlet::BuildProgress>(const http::Response& response);

// GET /a2a/v1/load: {"load": the cloudlet's memory load, builds and holds in flight included}.
struct LoadQuery {};
http::Request ToRequest(LoadQuery call);
template <>
Result<LoadQuery> FromRequest<LoadQuery>(http::Request&& request);
http::Response ToResponse(const scheduler::CloudletLoad& answer);
template <>
Result<scheduler::CloudletLoad> FromResponse<scheduler::CloudletLoad>(const http::Response& response);

// POST /a2a/v1/load?hold_ram_mb=N: the load, and N MB held from then on:
// {"load", "reservation"}.
struct LoadHoldCall {
    std::int64_t ram_mb = 0;
};
http::Request ToRequest(LoadHoldCall call);
template <>
Result<LoadHoldCall> FromRequest<LoadHoldCall>(http::Request&& request);
http::Response ToResponse(const cloudlet::CloudletGateway::HeldLoad& answer);
template <>
Result<cloudlet::CloudletGateway::HeldLoad> FromResponse<cloudlet::CloudletGateway::HeldLoad>(
    const http::Response& response);

// DELETE /a2a/v1/reservations/{id}: gives a hold back (204, also when it is already gone).
struct ReleaseCall {
    std::uint64_t reservation = 0;
};
http::Request ToRequest(ReleaseCall call);
template <>
Result<ReleaseCall> FromRequest<ReleaseCall>(http::Request&& request);

// Sends a codec's request to a peer, like Peers::Call: a non-2xx answer is an Error carrying the
// peer's message and the status's code.
boost::asio::awaitable<Result<http::Response>> Ask(Peers& peers,
                                                   std::string address,
                                                   http::Request request,
                                                   std::chrono::milliseconds timeout);

}  // namespace shoal::a2a
