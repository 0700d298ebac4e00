#include "a2a/routes.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "http/errors.hpp"

namespace shoal::a2a {

// The JSON bodies' codecs (beside their types, for ADL); a missing key reads as its default, a
// mistyped one throws, caught by Decode below.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TenantHomeAnswer::Home, id, address)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TenantHomeAnswer, tenant, home)

namespace {

using cloudlet::Service;
using nlohmann::json;

struct BuildAnswer {
    std::string status;
    std::string fault;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BuildAnswer, status, fault)

std::optional<Service> ServiceOf(std::string_view name) {
    for (auto s : {Service::kCompute, Service::kImage, Service::kPlacement, Service::kIdentity})
        if (cloudlet::ServiceType(s) == name) return s;
    return std::nullopt;
}

// The whole value must be a number: "12x" or "" is refused, never read as 12 or 0.
template <class Int>
std::optional<Int> NumberOf(std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

Error Bad(std::string message) {
    return Error{ErrorCode::kBadRequest, std::move(message)};
}

// An optional query number: nullopt when absent, an Error when present but not a number.
template <class Int>
Result<std::optional<Int>> QueryNumber(const http::Request& request, std::string_view name) {
    auto text = request.Query(name);
    if (!text) return std::optional<Int>();
    auto n = NumberOf<Int>(*text);
    if (!n) return Bad(std::string(name) + " must be a number, not \"" + std::string(*text) + "\"");
    return std::optional<Int>(*n);
}

// The value of a route's one "{param}" segment in `path`, or nullopt when the path is not the
// route's (or the segment is empty).
std::optional<std::string> PathParam(const Route& route, std::string_view path) {
    const auto open = route.path.find('{');
    const auto close = route.path.find('}', open);
    const auto prefix = route.path.substr(0, open);
    const auto suffix = route.path.substr(close + 1);
    if (path.size() <= prefix.size() + suffix.size()) return std::nullopt;
    if (path.substr(0, prefix.size()) != prefix || path.substr(path.size() - suffix.size()) != suffix)
        return std::nullopt;
    auto value = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (value.find('/') != std::string_view::npos) return std::nullopt;
    return std::string(value);
}

// The route's path with its "{param}" segment filled (percent-encoded).
std::string PathWith(const Route& route, std::string_view value) {
    const auto open = route.path.find('{');
    const auto close = route.path.find('}', open);
    return std::string(route.path.substr(0, open)) + http::UrlEncode(value) + std::string(route.path.substr(close + 1));
}

// A request of the route, JSON in and out like Peers::Call.
http::Request Start(const Route& route, const std::string& target) {
    http::Request r;
    r.method = route.method;
    r.SetTarget(target);
    r.headers.Set("Accept", "application/json");
    return r;
}

http::Request Start(const Route& route, const http::QueryParams& query) {
    return Start(route, std::string(route.path) + (query.empty() ? "" : "?" + http::EncodeQuery(query)));
}

Result<json> JsonOf(const http::Response& response) {
    if (response.body.empty()) return json::object();
    return response.JsonBody();
}

template <class T>
Result<T> Decode(const json& j, std::string_view what) {
    try {
        return j.get<T>();
    } catch (const json::exception& e) {
        return Bad("malformed " + std::string(what) + ": " + e.what());
    }
}

}  // namespace

// --- /a2a/v1/overlay -------------------------------------------------------------------------

http::Request ToRequest(const OverlayMessage& call) {
    auto r = Start(kOverlayRoute, std::string(kOverlayRoute.path));
    r.body = http::DumpJson(call.message);
    r.headers.Set("Content-Type", "application/json");
    return r;
}

template <>
Result<OverlayMessage> FromRequest<OverlayMessage>(http::Request&& request) {
    auto body = request.JsonBody();
    if (!body.ok()) return body.error();
    return OverlayMessage{std::move(body).value()};
}

// --- /a2a/v1/status --------------------------------------------------------------------------

http::Request ToRequest(StatusQuery) {
    return Start(kStatusRoute, std::string(kStatusRoute.path));
}

template <>
Result<StatusQuery> FromRequest<StatusQuery>(http::Request&&) {
    return StatusQuery{};
}

http::Response ToResponse(const StatusAnswer& answer) {
    return http::Response::Json(200, answer.document);
}

template <>
Result<StatusAnswer> FromResponse<StatusAnswer>(const http::Response& response) {
    auto j = JsonOf(response);
    if (!j.ok()) return j.error();
    if (!j->is_object()) return Bad("a status is a JSON object");
    return StatusAnswer{std::move(j).value()};
}

// --- /a2a/v1/tenants/{tenant}/home -----------------------------------------------------------

http::Request ToRequest(const TenantHomeQuery& call) {
    return Start(kTenantHomeRoute, PathWith(kTenantHomeRoute, call.tenant));
}

template <>
Result<TenantHomeQuery> FromRequest<TenantHomeQuery>(http::Request&& request) {
    auto tenant = PathParam(kTenantHomeRoute, request.path);
    if (!tenant) return Bad("the tenant's home needs a tenant: " + request.path);
    return TenantHomeQuery{std::move(*tenant)};
}

http::Response ToResponse(const TenantHomeAnswer& answer) {
    return http::Response::Json(200, json(answer));
}

template <>
Result<TenantHomeAnswer> FromResponse<TenantHomeAnswer>(const http::Response& response) {
    auto j = JsonOf(response);
    if (!j.ok()) return j.error();
    return Decode<TenantHomeAnswer>(*j, "tenant home");
}

// --- /a2a/v1/api -----------------------------------------------------------------------------

http::Request ToRequest(ApiForwardCall call) {
    http::QueryParams q = {{"method", std::string(http::MethodName(call.method))},
                           {"target", call.target},
                           {"caller", identity::EncodeCaller(call.caller)}};
    http::Request r;
    r.method = kApiForwardRoute.method;
    r.SetTarget(std::string(kApiForwardRoute.path) + "?" + http::EncodeQuery(q));
    for (auto h : kApiForwardedHeaders)
        if (auto v = call.headers.Get(h)) r.headers.Set(std::string(h), std::string(*v));
    r.body = std::move(call.body);
    return r;
}

template <>
Result<ApiForwardCall> FromRequest<ApiForwardCall>(http::Request&& request) {
    ApiForwardCall call;
    call.method = http::ParseMethod(request.Query("method").value_or(""));
    auto target = request.Query("target");
    auto caller = request.Query("caller");
    if (call.method == http::Method::kUnknown || !target || !caller)
        return Bad("api call needs method, target and caller");
    http::Request probe;
    if (target->empty() || target->front() != '/' || !probe.SetTarget(std::string(*target)))
        return Bad("malformed target");
    call.target = std::string(*target);
    // The one place a forwarded caller is read (signed by the peer, still checked for types).
    auto who = identity::DecodeCaller(*caller);
    if (!who.ok()) return who.error();
    call.caller = std::move(who).value();
    for (auto h : kApiForwardedHeaders)
        if (auto v = request.headers.Get(h)) call.headers.Set(std::string(h), std::string(*v));
    call.body = std::move(request.body);
    return call;
}

// --- /a2a/v1/cloudlet ------------------------------------------------------------------------

http::Request ToRequest(CloudletRelayCall relay) {
    auto& call = relay.call;
    http::QueryParams q = {{"tenant", relay.tenant},
                           {"service", std::string(cloudlet::ServiceType(call.service))},
                           {"method", std::string(http::MethodName(call.method))},
                           {"path", call.path}};
    if (!call.microversion.empty()) q.emplace_back("mv", call.microversion);
    if (call.reserve_ram_mb > 0) q.emplace_back("reserve", std::to_string(call.reserve_ram_mb));
    if (call.reservation != 0) q.emplace_back("reservation", std::to_string(call.reservation));
    if (call.timeout) q.emplace_back("timeout_ms", std::to_string(call.timeout->count()));
    http::Request r;
    r.method = kCloudletRelayRoute.method;
    r.SetTarget(std::string(kCloudletRelayRoute.path) + "?" + http::EncodeQuery(q));
    r.body = std::move(call.body);
    r.headers.Set("Content-Type", call.content_type);
    r.headers.Set("Accept", call.accept);
    return r;
}

template <>
Result<CloudletRelayCall> FromRequest<CloudletRelayCall>(http::Request&& request) {
    auto tenant = request.Query("tenant");
    auto service = ServiceOf(request.Query("service").value_or(""));
    auto method = http::ParseMethod(request.Query("method").value_or(""));
    auto path = request.Query("path");
    if (!tenant || tenant->empty() || !service || method == http::Method::kUnknown || !path)
        return Bad("cloudlet call needs tenant, service, method, path");
    auto reserve = QueryNumber<std::int64_t>(request, "reserve");
    if (!reserve.ok()) return reserve.error();
    auto reservation = QueryNumber<std::uint64_t>(request, "reservation");
    if (!reservation.ok()) return reservation.error();
    auto timeout = QueryNumber<std::int64_t>(request, "timeout_ms");
    if (!timeout.ok()) return timeout.error();
    if (reserve->value_or(0) < 0) return Bad("reserve must not be negative");
    if (timeout->value_or(1) <= 0) return Bad("timeout_ms must be positive");

    CloudletRelayCall relay{std::string(*tenant), cloudlet::CloudletCall(*service, method, std::string(*path))};
    auto& call = relay.call;
    call.microversion = std::string(request.Query("mv").value_or(""));
    call.reserve_ram_mb = reserve->value_or(0);
    call.reservation = reservation->value_or(0);
    if (*timeout) call.timeout = std::chrono::milliseconds(**timeout);
    call.content_type = std::string(request.headers.Get("Content-Type").value_or("application/json"));
    call.accept = std::string(request.headers.Get("Accept").value_or("application/json"));
    call.body = std::move(request.body);
    return relay;
}

// --- /a2a/v1/builds/{id} ---------------------------------------------------------------------

http::Request ToRequest(const BuildWatchQuery& call) {
    return Start(kBuildWatchRoute,
                 PathWith(kBuildWatchRoute, call.cloudlet_server_id) + "?wait_ms=" + std::to_string(call.wait.count()));
}

template <>
Result<BuildWatchQuery> FromRequest<BuildWatchQuery>(http::Request&& request) {
    auto id = PathParam(kBuildWatchRoute, request.path);
    if (!id) return Bad("a build watch needs a server id: " + request.path);
    auto wait = QueryNumber<std::int64_t>(request, "wait_ms");
    if (!wait.ok()) return wait.error();
    const auto ms = std::clamp<std::int64_t>(wait->value_or(0), 0, kMaxBuildWait.count());
    return BuildWatchQuery{std::move(*id), std::chrono::milliseconds(ms)};
}

http::Response ToResponse(const cloudlet::BuildProgress& answer) {
    return http::Response::Json(200, json(BuildAnswer{answer.status, answer.fault}));
}

template <>
Result<cloudlet::BuildProgress> FromResponse<cloudlet::BuildProgress>(const http::Response& response) {
    auto j = JsonOf(response);
    if (!j.ok()) return j.error();
    auto answer = Decode<BuildAnswer>(*j, "build progress");
    if (!answer.ok()) return answer.error();
    return cloudlet::BuildProgress{std::move(answer->status), std::move(answer->fault)};
}

// --- /a2a/v1/load ----------------------------------------------------------------------------

http::Request ToRequest(LoadQuery) {
    return Start(kLoadRoute, std::string(kLoadRoute.path));
}

template <>
Result<LoadQuery> FromRequest<LoadQuery>(http::Request&&) {
    return LoadQuery{};
}

http::Response ToResponse(const scheduler::CloudletLoad& answer) {
    return http::Response::Json(200, json{{"load", scheduler::ToJson(answer)}});
}

template <>
Result<scheduler::CloudletLoad> FromResponse<scheduler::CloudletLoad>(const http::Response& response) {
    auto j = JsonOf(response);
    if (!j.ok()) return j.error();
    if (!j->is_object() || !j->contains("load")) return Error{ErrorCode::kBadGateway, "load answer without load"};
    return scheduler::CloudletLoadFromJson((*j)["load"]);
}

http::Request ToRequest(LoadHoldCall call) {
    return Start(kLoadHoldRoute, http::QueryParams{{"hold_ram_mb", std::to_string(call.ram_mb)}});
}

template <>
Result<LoadHoldCall> FromRequest<LoadHoldCall>(http::Request&& request) {
    auto mb = NumberOf<std::int64_t>(request.Query("hold_ram_mb").value_or(""));
    if (!mb || *mb <= 0) return Bad("hold_ram_mb must be a positive number");
    return LoadHoldCall{*mb};
}

http::Response ToResponse(const cloudlet::CloudletGateway::HeldLoad& answer) {
    return http::Response::Json(200,
                                json{{"load", scheduler::ToJson(answer.load)}, {"reservation", answer.reservation}});
}

template <>
Result<cloudlet::CloudletGateway::HeldLoad> FromResponse<cloudlet::CloudletGateway::HeldLoad>(
    const http::Response& response) {
    auto load = FromResponse<scheduler::CloudletLoad>(response);
    if (!load.ok()) return load.error();
    const json j = *JsonOf(response);
    const auto it = j.find("reservation");
    if (it == j.end() || !it->is_number_unsigned())
        return Error{ErrorCode::kBadGateway, "load answer without a reservation"};
    cloudlet::CloudletGateway::HeldLoad held;
    held.load = std::move(load).value();
    held.reservation = it->get<std::uint64_t>();
    return held;
}

// --- /a2a/v1/reservations/{id} ---------------------------------------------------------------

http::Request ToRequest(ReleaseCall call) {
    return Start(kReleaseRoute, PathWith(kReleaseRoute, std::to_string(call.reservation)));
}

template <>
Result<ReleaseCall> FromRequest<ReleaseCall>(http::Request&& request) {
    auto text = PathParam(kReleaseRoute, request.path);
    auto id = NumberOf<std::uint64_t>(text.value_or(""));
    if (!id || *id == 0) return Bad("a reservation id is a positive number, not \"" + text.value_or("") + "\"");
    return ReleaseCall{*id};
}

// --- the client side -------------------------------------------------------------------------

boost::asio::awaitable<Result<http::Response>> Ask(Peers& peers,
                                                   std::string address,
                                                   http::Request request,
                                                   std::chrono::milliseconds timeout) {
    auto answer = co_await peers.Send(address, std::move(request), timeout);
    if (!answer.ok()) co_return answer.error();
    if (answer->status < 200 || answer->status > 299)
        co_return Error{http::ErrorCodeOfStatus(answer->status),
                        "agent " + address + ": " + http::ErrorMessageOf(*answer)};
    co_return answer;
}

}  // namespace shoal::a2a
