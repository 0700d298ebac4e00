#include "gateway/cloudlet_relay.hpp"

#include <optional>

#include "a2a/routes.hpp"

namespace shoal::gateway {
namespace {

namespace asio = boost::asio;

}  // namespace

CloudletRelay::CloudletRelay(cloudlet::CloudletClient& client, LoadService& loads, BuildWatch& builds)
    : client_(client), loads_(loads), builds_(builds) {}

void CloudletRelay::AddRoutes(http::Router& router) {
    http::RouteOptions big;  // image data on its way to or from the cloudlet
    big.max_body_bytes = std::size_t{8} << 30;
    const auto& route = a2a::kCloudletRelayRoute;
    router.Add(
        route.method, route.path,
        [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
            auto relay = a2a::FromRequest<a2a::CloudletRelayCall>(std::move(req));
            if (!relay.ok()) co_return relay.error();
            co_return co_await Call(std::move(relay->tenant), std::move(relay->call));
        },
        big);
}

asio::awaitable<Result<http::Response>> CloudletRelay::Call(std::string tenant, cloudlet::CloudletCall call) {
    auto account = co_await client_.EnsureTenant(tenant, tenant);
    if (!account.ok()) co_return account.error();
    cloudlet::CallOptions options;
    options.microversion = call.microversion;
    options.timeout = call.timeout;
    if (!call.body.empty()) {
        options.raw_body = call.body;
        options.content_type = call.content_type;
    }
    options.headers.Set("Accept", call.accept);
    std::optional<scheduler::ReservationId> reservation;
    if (call.reservation != 0 && call.method == http::Method::kPost) {
        reservation = call.reservation;  // made at decision time: this create takes it over
    } else if (call.reserve_ram_mb > 0 && call.method == http::Method::kPost) {
        auto r = loads_.Reserve(call.reserve_ram_mb);
        if (r.ok()) reservation = *r;
    }
    auto answer = co_await client_.Call(call.service, call.method, call.path, nullptr, cloudlet::As::Tenant(tenant),
                                        std::move(options));
    if (reservation) {
        std::string id;
        if (answer.ok() && answer->status == 202) {
            auto body = answer->JsonBody();
            if (body.ok() && body->contains("server") && (*body)["server"].contains("id"))
                id = (*body)["server"]["id"].get<std::string>();
        }
        if (id.empty())
            loads_.Release(*reservation);
        else
            builds_.Started(std::move(id), *reservation);
    }
    if (!answer.ok()) co_return answer.error();
    builds_.Track(call, *answer);
    answer->headers.Set(std::string(cloudlet::kCloudletProjectHeader), account->project_id);
    co_return answer;
}

}  // namespace shoal::gateway
