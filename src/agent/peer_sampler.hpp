#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "a2a/peer_client.hpp"
#include "agent/agent_config.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"

namespace shoal::agent {

// The network shell around the sans-I/O overlay (overlay::Cyclon for the partial view,
// overlay::Membership for the full member list): once per period it starts a shuffle over A2A,
// feeds answers and failures back, forwards join walks, and joins again through a seed when
// nobody has contacted it for a while (a restarted agent, or one cut off by a mass failure).
// Placement does not sample the view: AgentCloudlets::Candidates draws from the member list
// (docs/compute.md). Single-threaded: everything runs on the agent's executor.
class PeerSampler {
public:
    struct Counters {
        std::uint64_t shuffles_started = 0;
        std::uint64_t shuffles_answered = 0;
        std::uint64_t shuffles_failed = 0;
        std::uint64_t shuffles_served = 0;
        std::uint64_t joins = 0;  // joins this agent started (first join and rejoins)
        std::uint64_t join_walks_forwarded = 0;
        std::uint64_t full_syncs = 0;
        std::uint64_t suspicions = 0;        // peers suspected after a failed shuffle and ping
        std::uint64_t messages_refused = 0;  // malformed overlay messages
    };

    PeerSampler(boost::asio::any_io_executor executor,
                a2a::PeerClient& client,
                overlay::PeerDescriptor self,
                std::uint64_t incarnation,
                OverlayOptions options,
                std::vector<std::string> seeds,
                std::uint64_t rng_seed);
    ~PeerSampler();
    PeerSampler(const PeerSampler&) = delete;
    PeerSampler& operator=(const PeerSampler&) = delete;

    // Joins through the seeds and starts the periodic shuffles.
    void Start();
    // Stops the loop; messages in flight finish or time out on their own.
    void Stop();

    // The A2A route's body: one overlay message in, its answer out.
    boost::asio::awaitable<Result<nlohmann::json>> OnMessage(nlohmann::json message);

    const overlay::Cyclon& View() const { return cyclon_; }
    const overlay::BasicMembership<overlay::PeerDescriptor>& Members() const { return membership_; }
    const Counters& Stats() const { return counters_; }
    const overlay::PeerDescriptor& Self() const { return cyclon_.Self(); }
    nlohmann::json Status() const;

private:
    using Membership = overlay::BasicMembership<overlay::PeerDescriptor>;

    boost::asio::awaitable<void> Loop();
    void Round();
    void JoinThroughSeed();
    boost::asio::awaitable<void> Join(std::string introducer);
    boost::asio::awaitable<void> Shuffle(overlay::ShuffleRequest request);
    // Fire-and-forget one-way message (join walk hop, join reply, sync push).
    void Post(std::string address, nlohmann::json message);
    boost::asio::awaitable<void> Deliver(std::string address, nlohmann::json message);
    void SendJoinStep(overlay::JoinStep step);
    // Adds gossip and the digest to an outgoing message.
    nlohmann::json WithGossip(nlohmann::json message);
    // Applies the gossip, digest and member list an incoming message carries.
    void TakeGossip(const nlohmann::json& message);

    boost::asio::any_io_executor executor_;
    a2a::PeerClient& client_;
    OverlayOptions options_;
    std::vector<std::string> seeds_;
    Rng rng_;
    overlay::Cyclon cyclon_;
    Membership membership_;
    Counters counters_;
    boost::asio::steady_timer timer_;
    bool running_ = false;
    // Lets detached coroutines see that the sampler is gone.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::agent
