#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "a2a/peer_client.hpp"
#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "cloudlet/single_flight.hpp"
#include "common/rng.hpp"
#include "http/router.hpp"
#include "scheduler/in_flight_ledger.hpp"

namespace shoal::overlay::node {
class PeerSampler;
}

namespace shoal::agent {

using overlay::node::PeerSampler;

// The agent's CloudletGateway: its own cloudlet through its CloudletClient (as the tenant's
// shadow user), every other cloudlet through that cloudlet's agent over A2A:
//
//   POST /a2a/v1/cloudlet?tenant=T&service=compute&method=GET&path=/servers/X[&mv=2.37][&reserve=512]
//        [&reservation=R]
//        body: the call's body, Content-Type/Accept as the call's
//   -> the cloudlet's answer as it is (status, body, Content-Type), plus X-Shoal-Cloudlet-Project
//
// GET /a2a/v1/load for loads, POST /a2a/v1/load?hold_ram_mb=N for a load with a hold made at
// once (a decision's candidate), DELETE /a2a/v1/reservations/{id} to give a hold back. It also keeps the ledger of
// builds in flight at its cloudlet: a create that asked for a reservation is counted until a read of that server sees
// it ACTIVE or ERROR, it is deleted, or the ledger's ttl ends. While homes wait for builds here (GET
// /a2a/v1/builds/{id}?wait_ms=N, a long poll), it lists its cloudlet's servers once per watch period, as admin, and
// answers every waiter from that one list.
class AgentCloudlets final : public cloudlet::CloudletGateway {
public:
    AgentCloudlets(std::string self_id,
                   cloudlet::CloudletClient& client,
                   a2a::PeerClient& peers,
                   PeerSampler& sampler,
                   scheduler::InFlightLedger& ledger,
                   std::chrono::milliseconds watch_period = std::chrono::milliseconds(500),
                   std::chrono::milliseconds memory_ttl = std::chrono::milliseconds(1000));

    void AddRoutes(http::Router& a2a_router);  // POST /a2a/v1/cloudlet, GET /a2a/v1/load

    const std::string& SelfId() const override { return self_id_; }
    boost::asio::awaitable<Result<http::Response>> Call(std::string cloudlet,
                                                        std::string tenant,
                                                        cloudlet::CloudletCall call) override;
    boost::asio::awaitable<Result<scheduler::CloudletLoad>> Load(std::string cloudlet) override;
    std::vector<std::string> Candidates(std::size_t k) override;
    boost::asio::awaitable<Result<cloudlet::BuildProgress>> AwaitBuild(std::string cloudlet,
                                                                       std::string cloudlet_server_id,
                                                                       std::chrono::milliseconds wait) override;
    boost::asio::awaitable<Result<HeldLoad>> LoadHolding(std::string cloudlet, std::int64_t ram_mb) override;
    boost::asio::awaitable<void> Unreserve(std::string cloudlet, std::uint64_t reservation) override;
    std::uint64_t WatchLists() const { return watch_lists_; }  // lists made by the build watch

    // This agent's own cloudlet's load, its in-flight builds included.
    boost::asio::awaitable<Result<scheduler::CloudletLoad>> LocalLoad();

private:
    boost::asio::awaitable<Result<http::Response>> Local(std::string tenant, cloudlet::CloudletCall call);
    Result<std::string> AddressOf(const std::string& agent_id) const;
    void Track(const cloudlet::CloudletCall& call, const http::Response& answer);
    void Ended(const std::string& id, cloudlet::BuildProgress how);
    boost::asio::awaitable<cloudlet::BuildProgress> AwaitLocalBuild(std::string id, std::chrono::milliseconds wait);
    boost::asio::awaitable<void> Watch();

    std::string self_id_;
    cloudlet::CloudletClient& client_;
    a2a::PeerClient& peers_;
    PeerSampler& sampler_;
    scheduler::InFlightLedger& ledger_;
    std::map<std::string, scheduler::ReservationId, std::less<>> building_;  // cloudlet server id -> reservation
    // Builds that ended, kept a while for the homes still to ask; with when they ended.
    std::map<std::string, std::pair<cloudlet::BuildProgress, std::chrono::steady_clock::time_point>, std::less<>>
        ended_;
    std::chrono::milliseconds watch_period_;
    // The cloudlet's hypervisor report, reused for memory_ttl_ by every load question (one
    // fetch at a time): builds since then are in the ledger, and each fetch costs the
    // cloudlet's controller an API request (docs/benchmarks.md).
    std::chrono::milliseconds memory_ttl_;
    std::optional<std::pair<cloudlet::MemoryLoadReport, std::chrono::steady_clock::time_point>> memory_;
    cloudlet::SingleFlight<Result<cloudlet::MemoryLoadReport>> memory_flight_;
    int waiters_ = 0;
    bool watching_ = false;
    std::uint64_t watch_lists_ = 0;
    std::shared_ptr<boost::asio::steady_timer> listed_;  // cancelled after every list: wakes the waiters
    Rng rng_;
};

}  // namespace shoal::agent
