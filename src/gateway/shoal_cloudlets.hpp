#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "a2a/peer_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "common/rng.hpp"
#include "gateway/build_watch.hpp"
#include "gateway/cloudlet_relay.hpp"
#include "gateway/load_service.hpp"
#include "overlay/peer.hpp"

namespace shoal::gateway {

// The agent's CloudletGateway: its own cloudlet in process (CloudletRelay, LoadService,
// BuildWatch), every other cloudlet through that cloudlet's agent over signed A2A, with the
// codecs of a2a/routes.hpp. Placement candidates and peer addresses come from the live member
// list, whoever keeps it (the overlay's PeerSampler in the agent).
class ShoalCloudlets final : public cloudlet::CloudletGateway {
public:
    // The live members of the shoal, as the overlay knows them; read at each call, never kept.
    using MemberList = std::function<const std::vector<overlay::PeerDescriptor>&()>;

    ShoalCloudlets(std::string self_id,
                   a2a::Peers& peers,
                   MemberList members,
                   CloudletRelay& relay,
                   LoadService& loads,
                   BuildWatch& builds,
                   std::uint64_t rng_seed);

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

private:
    Result<std::string> AddressOf(const std::string& agent_id) const;

    std::string self_id_;
    a2a::Peers& peers_;
    MemberList members_;
    CloudletRelay& relay_;
    LoadService& loads_;
    BuildWatch& builds_;
    Rng rng_;
};

}  // namespace shoal::gateway
