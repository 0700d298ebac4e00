#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "common/rng.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "overlay/overlay_node.hpp"
#include "sim/event_queue.hpp"
#include "sim/graph_metrics.hpp"
#include "sim/network.hpp"

namespace shoal::sim {

// How the overlay starts.
enum class Bootstrap {
    kJoin,    // node i joins through a random earlier node with the join protocol (random walks)
    kRandom,  // every view starts as c random distinct other nodes
    kChain,   // node i knows only node i+1: connected, but as far from random as it gets
};

std::string_view BootstrapName(Bootstrap b);
std::optional<Bootstrap> ParseBootstrap(std::string_view name);

// The simulator's view entry: node index and age. At 8 bytes instead of ~80 for PeerDescriptor,
// 100,000 views take 16 MB and most accesses hit the cache.
struct SimPeer {
    std::uint32_t id = 0;
    std::uint32_t age = 0;

    friend bool operator==(const SimPeer&, const SimPeer&) = default;
};
using SimCyclon = overlay::BasicCyclon<SimPeer>;
using SimMembership = overlay::BasicMembership<SimPeer>;
using SimMemberUpdate = overlay::BasicMemberUpdate<SimPeer>;
using SimNode = overlay::BasicOverlayNode<SimPeer>;
using SimMessage = overlay::BasicOverlayMessage<SimPeer>;

struct CyclonSimConfig {
    std::size_t nodes = 1000;
    overlay::CyclonConfig cyclon;
    SimTime period = 1'000'000;  // T: each node starts one shuffle per period, at its own random phase
    NetworkConfig network;
    Bootstrap bootstrap = Bootstrap::kJoin;
    // With kJoin, node i joins at i * join_rounds * T / nodes.
    double join_rounds = 10;
    // The node policy's rejoin rule (overlay::OverlayNodeOptions): a node whose QuietRounds()
    // reaches this, or whose view is empty, joins again through its seed. 0 runs the paper's
    // protocol alone.
    std::uint32_t rejoin_after_quiet_rounds = 0;
    std::uint64_t seed = 1;

    // Opt-in full membership (overlay::BasicMembership) on top of Cyclon, as agents run it.
    // Off, the simulator runs Cyclon alone at its usual speed.
    bool membership = false;
    overlay::MembershipConfig membership_config;
    // Pings confirming a shuffle that got no answer before its target is suspected: the
    // agent's default unless set.
    std::uint8_t confirm_pings = overlay::OverlayNodeOptions{}.confirm_pings;
};

// Membership traffic, counted over the whole run.
struct MembershipStats {
    std::uint64_t piggybacked_updates = 0;  // updates carried on ordinary messages
    std::uint64_t sync_messages = 0;        // full-list messages (requests and replies)
    std::uint64_t sync_entries = 0;         // updates they carried
    std::uint64_t pings = 0;                // confirmation pings
    std::uint64_t suspicions = 0;           // Suspect() calls after confirmation
    std::uint64_t false_suspicions = 0;     // of which the target was alive
};

// Deterministic single-process simulation of N overlay nodes (STYLE B.7, FoundationDB-style):
// virtual time, one event queue, a lossy network with latency, and one seeded Rng shared by the
// network and every node. A run is a pure function of its config. Every node is the agent's own
// overlay::BasicOverlayNode (its Cyclon, membership and policy: rounds, rejoins, confirmation
// pings, suspicion, syncs) over SimPeer entries whose id is the node index; this class is only
// its network shell, as overlay::node::PeerSampler is in an agent. Every message is a request
// with an answer, like an A2A call: an answer lost or later than the request timeout is a
// timeout for the requester (OnNoAnswer), and a dead node answers nothing.
class CyclonSimulation {
public:
    explicit CyclonSimulation(CyclonSimConfig config);

    const CyclonSimConfig& Config() const { return config_; }
    std::uint64_t Seed() const { return config_.seed; }
    SimTime Now() const { return now_; }
    std::size_t Size() const { return nodes_.size(); }
    std::size_t AliveCount() const { return alive_count_; }
    bool IsAlive(std::size_t node) const { return alive_[node] != 0; }
    const SimCyclon& Node(std::size_t node) const { return nodes_[node].Cyclon(); }
    const SimNode& OverlayNode(std::size_t node) const { return nodes_[node]; }
    // Only with config.membership.
    const SimMembership& Membership(std::size_t node) const { return nodes_[node].Membership(); }
    const NetworkConfig& Network() const { return network_.Config(); }

    // Processes every event up to and including time t.
    void RunUntil(SimTime t);
    // A round is one period T of virtual time, i.e. one shuffle per alive node.
    void RunRounds(int rounds) { RunUntil(now_ + rounds * config_.period); }

    // A new node that joins now through a random alive node; returns its index.
    std::size_t AddNode();
    void Kill(std::size_t node);
    // A dead node starts again: empty view, and with membership a list of itself only and a
    // higher incarnation; it joins through a random alive node.
    void Restart(std::size_t node);
    // Kills random alive nodes at once until only (1 - fraction) of all nodes ever created live.
    std::size_t KillFraction(double fraction);

    // Over alive nodes, counting only entries in alive views.
    std::uint32_t InDegree(std::size_t node) const;
    std::vector<std::uint32_t> InDegrees() const;
    DegreeStats InDegreeStats() const;
    // Weakly connected components of the alive nodes (alive-to-alive entries), largest first.
    std::vector<std::uint32_t> ComponentSizes() const;
    // Entries in alive views that point to dead nodes.
    std::size_t DeadEntries() const;
    // Runs round by round; the number of rounds until no alive view holds a dead peer, or
    // nullopt if that did not happen within max_rounds (which then all ran).
    std::optional<int> RunUntilNoDeadEntries(int max_rounds);

    std::uint64_t MessagesSent() const { return network_.Sent(); }
    std::uint64_t MessagesLost() const { return network_.Lost(); }
    std::uint64_t MessagesToDeadNodes() const { return to_dead_; }
    std::uint64_t ShufflesStarted() const { return shuffles_; }
    std::uint64_t Rejoins() const { return rejoins_; }

    // Membership (config.membership only). Alive nodes whose Members() differ from the alive set.
    std::size_t WrongMemberLists() const;
    // Runs round by round; rounds until every alive list is right, nullopt if not within
    // max_rounds (which then all ran).
    std::optional<int> RunUntilMembershipConverged(int max_rounds);
    const MembershipStats& MembershipTraffic() const { return membership_stats_; }

private:
    enum class Kind : std::uint8_t {
        kJoin,      // a node starts: it joins through its seed
        kRequest,   // a message reaches its receiver
        kAnswer,    // the answer reaches the requester in time
        kNoAnswer,  // the requester's timeout: no answer (lost, late, or a dead receiver)
    };
    // Small and trivially copyable; messages live in payloads_.
    struct Event {
        Kind kind;
        std::uint32_t epoch;  // of the node the event is for: a restarted node ignores its old life's answers
        std::uint32_t from;
        std::uint32_t to;
        std::uint32_t payload;
        std::uint64_t exchange;
    };
    struct Payload {
        SimMessage message;
        SimTime sent_at = 0;      // of a request: when its requester gives up
        std::uint32_t epoch = 0;  // the requester's
    };
    // Node `node` runs its rounds at times phase + k*T (k >= 0) that are >= its start time.
    struct TickSlot {
        SimTime phase;
        std::uint32_t node;
    };
    static constexpr std::uint32_t kNoPayload = static_cast<std::uint32_t>(-1);
    static constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

    std::size_t CreateNode(SimTime start);
    SimNode MakeNode(std::uint32_t index, std::uint64_t incarnation);
    void Bootstrap();
    SimTime NextTickTime() const;
    void Tick(std::uint32_t node);
    // A random alive node other than `node` among the first `candidates` (an operator's seed).
    std::optional<std::uint32_t> PickSeed(std::uint32_t node, std::size_t candidates);
    void StartNode(std::uint32_t node, std::size_t seed_candidates);
    void Dispatch(const Event& e);
    std::uint32_t NewPayload();
    void FreePayload(std::uint32_t payload);
    void Count(const SimMessage& m);
    // Sends what node `from` put in outbox_ (and empties it).
    void Flush(std::uint32_t from);
    void Answer(const Event& request, SimMessage answer);
    void TimeOut(
        std::uint32_t requester, std::uint32_t target, std::uint32_t epoch, std::uint64_t exchange, SimTime sent_at);

    CyclonSimConfig config_;
    overlay::OverlayNodeOptions node_options_;
    Rng rng_;
    SimNetwork network_;
    // Messages and timeouts only. Periodic rounds use ticks_: phases never change, so a sorted
    // ring replaces one heap entry per node and keeps the heap small enough for the cache.
    EventQueue<Event> queue_;
    std::vector<TickSlot> ticks_;  // by phase; ties by creation order
    std::size_t next_tick_ = 0;
    SimTime tick_round_start_ = 0;
    SimTime now_ = 0;
    std::vector<SimNode> nodes_;
    std::vector<std::uint32_t> epoch_;
    std::vector<std::uint8_t> alive_;
    std::vector<SimTime> start_;
    std::size_t alive_count_ = 0;
    std::vector<Payload> payloads_;
    std::vector<std::uint32_t> free_payloads_;
    SimNode::Outbox outbox_;  // reused for every node call
    std::uint64_t to_dead_ = 0;
    std::uint64_t shuffles_ = 0;
    std::uint64_t rejoins_ = 0;
    MembershipStats membership_stats_;
};

}  // namespace shoal::sim
