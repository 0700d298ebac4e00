#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <map>
#include <string>

#include "a2a/peer_client.hpp"
#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "common/rng.hpp"
#include "http/router.hpp"
#include "scheduler/in_flight_ledger.hpp"

namespace shoal::agent {

class PeerSampler;

// The agent's CloudletGateway: its own cloudlet through its CloudletClient (as the tenant's
// shadow user), every other cloudlet through that cloudlet's agent over A2A:
//
//   POST /a2a/v1/cloudlet?tenant=T&service=compute&method=GET&path=/servers/X[&mv=2.37][&reserve=512]
//        body: the call's body, Content-Type/Accept as the call's
//   -> the cloudlet's answer as it is (status, body, Content-Type), plus X-Shoal-Cloudlet-Project
//
// and GET /a2a/v1/load for loads. It also keeps the ledger of builds in flight at its cloudlet:
// a create that asked for a reservation is counted until a read of that server sees it ACTIVE
// or ERROR, it is deleted, or the ledger's ttl ends.
class AgentCloudlets final : public cloudlet::CloudletGateway {
public:
    AgentCloudlets(std::string self_id,
                   cloudlet::CloudletClient& client,
                   a2a::PeerClient& peers,
                   PeerSampler& sampler,
                   scheduler::InFlightLedger& ledger);

    void AddRoutes(http::Router& a2a_router);  // POST /a2a/v1/cloudlet, GET /a2a/v1/load

    const std::string& SelfId() const override { return self_id_; }
    boost::asio::awaitable<Result<http::Response>> Call(std::string cloudlet,
                                                        std::string tenant,
                                                        cloudlet::CloudletCall call) override;
    boost::asio::awaitable<Result<scheduler::CloudletLoad>> Load(std::string cloudlet) override;
    std::vector<std::string> Candidates(std::size_t k) override;

    // This agent's own cloudlet's load, its in-flight builds included.
    boost::asio::awaitable<Result<scheduler::CloudletLoad>> LocalLoad();

private:
    boost::asio::awaitable<Result<http::Response>> Local(std::string tenant, cloudlet::CloudletCall call);
    Result<std::string> AddressOf(const std::string& agent_id) const;
    void Track(const cloudlet::CloudletCall& call, const http::Response& answer);

    std::string self_id_;
    cloudlet::CloudletClient& client_;
    a2a::PeerClient& peers_;
    PeerSampler& sampler_;
    scheduler::InFlightLedger& ledger_;
    std::map<std::string, scheduler::ReservationId, std::less<>> building_;  // cloudlet server id -> reservation
    Rng rng_;
};

}  // namespace shoal::agent
