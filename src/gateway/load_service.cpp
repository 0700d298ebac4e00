#include "gateway/load_service.hpp"

#include "a2a/routes.hpp"

namespace shoal::gateway {
namespace {

namespace asio = boost::asio;

}  // namespace

LoadService::LoadService(std::string self_id,
                         cloudlet::CloudletClient& client,
                         scheduler::InFlightLedger& ledger,
                         const Clock& clock,
                         std::chrono::milliseconds memory_ttl)
    : self_id_(std::move(self_id)), client_(client), ledger_(ledger), clock_(clock), memory_ttl_(memory_ttl) {}

void LoadService::AddRoutes(http::Router& router) {
    router.Add(a2a::kLoadRoute.method, a2a::kLoadRoute.path,
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   if (auto query = a2a::FromRequest<a2a::LoadQuery>(std::move(req)); !query.ok())
                       co_return query.error();
                   auto load = co_await Load();
                   if (!load.ok()) co_return load.error();
                   co_return a2a::ToResponse(*load);
               });
    router.Add(a2a::kLoadHoldRoute.method, a2a::kLoadHoldRoute.path,
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   auto call = a2a::FromRequest<a2a::LoadHoldCall>(std::move(req));
                   if (!call.ok()) co_return call.error();
                   auto held = co_await Hold(call->ram_mb);
                   if (!held.ok()) co_return held.error();
                   co_return a2a::ToResponse(*held);
               });
    router.Add(a2a::kReleaseRoute.method, a2a::kReleaseRoute.path,
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   auto call = a2a::FromRequest<a2a::ReleaseCall>(std::move(req));
                   if (!call.ok()) co_return call.error();
                   Release(call->reservation);
                   co_return http::Response::Empty(204);
               });
}

scheduler::InFlightLedger::Time LoadService::Now() const {
    return std::chrono::duration_cast<scheduler::InFlightLedger::Time>(clock_.Steady().time_since_epoch());
}

asio::awaitable<Result<scheduler::CloudletLoad>> LoadService::Load() {
    const auto now = clock_.Steady();
    Result<cloudlet::MemoryLoadReport> report = MakeError(ErrorCode::kUnavailable, "no report");
    if (memory_ && now - memory_->second < memory_ttl_) {
        report = memory_->first;
    } else {
        report = co_await memory_flight_.Do("memory", [this]() { return client_.MemoryLoad(); });
        if (report.ok()) memory_.emplace(*report, now);
    }
    if (!report.ok())
        co_return MakeError(ErrorCode::kUnavailable, "cloudlet of " + self_id_ + ": " + report.error().message);
    scheduler::CloudletLoad raw;
    raw.cloudlet = self_id_;
    raw.free_ram_mb = report->free_ram_mb_max;
    raw.total_free_ram_mb = report->free_ram_mb_total;
    raw.total_ram_mb = report->ram_mb_total;
    ledger_.Expire(Now());
    co_return ledger_.Apply(raw);
}

asio::awaitable<Result<cloudlet::CloudletGateway::HeldLoad>> LoadService::Hold(std::int64_t ram_mb) {
    auto load = co_await Load();
    if (!load.ok()) co_return load.error();
    // After the load was read: this hold is not in it, every earlier one is.
    auto id = Reserve(ram_mb);
    if (!id.ok()) co_return id.error();
    cloudlet::CloudletGateway::HeldLoad held;
    held.load = std::move(load).value();
    held.reservation = *id;
    co_return held;
}

Result<scheduler::ReservationId> LoadService::Reserve(std::int64_t ram_mb) {
    return ledger_.Reserve(self_id_, ram_mb, Now());
}

void LoadService::Release(scheduler::ReservationId reservation) {
    ledger_.Release(reservation);
}

}  // namespace shoal::gateway
