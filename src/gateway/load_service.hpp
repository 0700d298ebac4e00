#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "cloudlet/single_flight.hpp"
#include "common/clock.hpp"
#include "http/router.hpp"
#include "scheduler/in_flight_ledger.hpp"

namespace shoal::gateway {

// The scheduler's questions to this agent's cloudlet (paper IV-G, docs/compute.md): its memory
// load with the builds and holds in flight added, so that concurrent placements do not all pick
// the same empty cloudlet; and holds, RAM counted as in flight from a decision until the create
// takes it over (or it is given back, or the ledger's ttl ends). Serves GET and
// POST /a2a/v1/load and DELETE /a2a/v1/reservations/{id} (a2a/routes.hpp).
class LoadService {
public:
    LoadService(std::string self_id,
                cloudlet::CloudletClient& client,
                scheduler::InFlightLedger& ledger,
                const Clock& clock = SystemClock(),
                std::chrono::milliseconds memory_ttl = std::chrono::milliseconds(1000));

    void AddRoutes(http::Router& a2a_router);

    boost::asio::awaitable<Result<scheduler::CloudletLoad>> Load();
    // The load, then `ram_mb` held: this hold is not in the load, every earlier one is.
    boost::asio::awaitable<Result<cloudlet::CloudletGateway::HeldLoad>> Hold(std::int64_t ram_mb);
    // A hold for a create that did not ask for one at decision time (CloudletCall::reserve_ram_mb).
    Result<scheduler::ReservationId> Reserve(std::int64_t ram_mb);
    void Release(scheduler::ReservationId reservation);

private:
    scheduler::InFlightLedger::Time Now() const;

    std::string self_id_;
    cloudlet::CloudletClient& client_;
    scheduler::InFlightLedger& ledger_;
    const Clock& clock_;
    // The cloudlet's hypervisor report, reused for memory_ttl_ by every load question (one
    // fetch at a time): builds since then are in the ledger, and each fetch costs the
    // cloudlet's controller an API request (docs/benchmarks.md).
    std::chrono::milliseconds memory_ttl_;
    std::optional<std::pair<cloudlet::MemoryLoadReport, Clock::SteadyTime>> memory_;
    cloudlet::SingleFlight<Result<cloudlet::MemoryLoadReport>> memory_flight_;
};

}  // namespace shoal::gateway
