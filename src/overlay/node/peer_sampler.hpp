#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "a2a/peer_client.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "overlay/overlay_node.hpp"

namespace shoal::overlay::node {

struct PeerSamplerOptions {
    OverlayNodeOptions node;
    std::chrono::milliseconds period{1'000};           // T: one round per period
    std::chrono::milliseconds request_timeout{2'000};  // a message unanswered by then has failed
};

// The overlay's network shell in an agent: a timer that runs overlay::OverlayNode's round once
// per period, and the A2A calls that carry what the node sends (POST /a2a/v1/overlay, one JSON
// message each way, overlay/wire.hpp). Every rule (rejoin, failure confirmation, suspicion,
// sync) is the node's, which the simulator runs too; this class only moves messages.
// Single-threaded: everything runs on the agent's executor.
class PeerSampler {
public:
    // `seeds`: introducers' A2A addresses ("host:port"); ours is dropped.
    PeerSampler(const boost::asio::any_io_executor& executor,
                a2a::Peers& peers,
                PeerDescriptor self,
                std::uint64_t incarnation,
                PeerSamplerOptions options,
                const std::vector<std::string>& seeds,
                std::uint64_t rng_seed);
    ~PeerSampler();
    PeerSampler(const PeerSampler&) = delete;
    PeerSampler& operator=(const PeerSampler&) = delete;

    // Joins through the seeds and starts the rounds.
    void Start();
    // Stops the rounds; messages in flight finish or time out on their own.
    void Stop();

    // The A2A route's body: one overlay message in, its answer out (kBadRequest when malformed).
    boost::asio::awaitable<Result<nlohmann::json>> OnMessage(nlohmann::json message);

    const Cyclon& View() const { return node_.Cyclon(); }
    const Membership& Members() const { return node_.Membership(); }
    const OverlayNodeCounters& Stats() const { return node_.Counters(); }
    const PeerDescriptor& Self() const { return node_.Self(); }
    nlohmann::json Status() const;

private:
    boost::asio::awaitable<void> Loop();
    // Sends what the node put in `out`, each on its own coroutine.
    void Deliver(OverlayNode::Outbox out);
    boost::asio::awaitable<void> Exchange(OverlayNode::Outgoing outgoing);

    boost::asio::any_io_executor executor_;
    a2a::Peers& peers_;
    PeerSamplerOptions options_;
    Rng rng_;
    OverlayNode node_;
    boost::asio::steady_timer timer_;
    bool running_ = false;
    // Lets detached coroutines see that the sampler is gone.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::overlay::node
