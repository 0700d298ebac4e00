#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "common/clock.hpp"
#include "http/router.hpp"
#include "scheduler/in_flight_ledger.hpp"

namespace shoal::gateway {

// The builds in flight at this agent's cloudlet, and the long poll homes wait on for them
// (GET /a2a/v1/builds/{id}?wait_ms=N, a2a::BuildWatchQuery). A create relayed with a
// reservation is watched from its 202 until a read of that server sees it ACTIVE or ERROR, it
// is deleted, or the ledger's ttl ends; then its reservation goes back to the ledger. While
// homes wait, the watch lists the cloudlet's servers once per period, as admin, and answers
// every waiter from that one list instead of one GET per build (docs/compute.md).
class BuildWatch {
public:
    BuildWatch(std::string self_id,
               cloudlet::CloudletClient& client,
               scheduler::InFlightLedger& ledger,
               const Clock& clock = SystemClock(),
               std::chrono::milliseconds period = std::chrono::milliseconds(500));

    void AddRoutes(http::Router& a2a_router);  // GET /a2a/v1/builds/{id}

    // A create accepted by the cloudlet: its build holds `reservation` until it ends.
    void Started(std::string cloudlet_server_id, scheduler::ReservationId reservation);
    // A relayed call and the cloudlet's answer: a delete, a 404 or a read that sees ACTIVE or
    // ERROR ends that server's build.
    void Track(const cloudlet::CloudletCall& call, const http::Response& answer);
    // The build's end, or "BUILD" once `wait` has passed, or "" for a server not watched here.
    boost::asio::awaitable<cloudlet::BuildProgress> Await(std::string cloudlet_server_id,
                                                          std::chrono::milliseconds wait);

    std::uint64_t Lists() const { return lists_; }  // lists of the cloudlet's servers made

private:
    void Ended(const std::string& id, cloudlet::BuildProgress how);
    boost::asio::awaitable<void> Loop();

    std::string self_id_;
    cloudlet::CloudletClient& client_;
    scheduler::InFlightLedger& ledger_;
    const Clock& clock_;
    std::chrono::milliseconds period_;
    std::map<std::string, scheduler::ReservationId, std::less<>> building_;  // cloudlet server id -> reservation
    // Builds that ended, kept a while for the homes still to ask; with when they ended.
    std::map<std::string, std::pair<cloudlet::BuildProgress, Clock::SteadyTime>, std::less<>> ended_;
    int waiters_ = 0;
    bool watching_ = false;
    std::uint64_t lists_ = 0;
    std::shared_ptr<boost::asio::steady_timer> listed_;  // cancelled after every list: wakes the waiters
};

}  // namespace shoal::gateway
