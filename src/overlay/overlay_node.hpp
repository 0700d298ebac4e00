#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/rng.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "overlay/peer.hpp"

namespace shoal::overlay {

// What overlay nodes send each other (docs/overlay.md, "Messages"). Every message is a request
// that gets an answer (over A2A: a POST and its response), so one struct serves every type; the
// fields a type does not use stay empty.
enum class MessageType : std::uint8_t {
    kShuffle,       // entries: entries[0] is the sender with age 0
    kShuffleReply,  // entries; peer: the sender
    kJoin,          // peer: the joiner
    kJoinAnswer,    // peer: the introducer; members: its whole list
    kJoinWalk,      // peer: the joiner; ttl: hops left
    kJoinReply,     // entries: what the walk's end hands the joiner
    kPing,          // nothing but the gossip: "are you there?"
    kSync,          // members: the sender's whole list; answered with the receiver's
    kList,          // members: the sender's whole list, back to a node that pushed its own
    kAck,           // the answer to anything but a shuffle or a join
};

std::string_view MessageTypeName(MessageType type);
std::optional<MessageType> ParseMessageType(std::string_view name);

template <CyclonPeer P>
struct BasicOverlayMessage {
    MessageType type = MessageType::kAck;
    P peer{};
    std::uint32_t ttl = 0;
    std::vector<P> entries;
    // Membership, on every message: the sender's gossip and digest, and a whole list when the
    // sender sends one (a sync, a join answer, or an answer pushed to a peer that differs).
    std::vector<BasicMemberUpdate<P>> gossip;
    std::optional<std::uint64_t> digest;
    std::optional<std::vector<BasicMemberUpdate<P>>> members;
};

// One message for the shell to deliver to `to` (for agents its address, in the simulator its
// index). Its answer goes to OnAnswer(exchange, ...); no answer within the request timeout, or
// a transport failure, to OnNoAnswer(exchange); a malformed answer to OnRefusedAnswer(exchange).
template <CyclonPeer P>
struct BasicOutgoing {
    P to;
    BasicOverlayMessage<P> message;
    std::uint64_t exchange = 0;
};

struct OverlayNodeOptions {
    CyclonConfig cyclon;
    // The full member list (SWIM-style) on top of Cyclon. Agents always keep it; the simulator
    // turns it off to run Cyclon alone at 100,000 nodes.
    bool membership = true;
    MembershipConfig membership_config;
    // A node that heard of nobody holding it for this many rounds (Cyclon's QuietRounds), or
    // whose view is empty, joins again through a seed. 0: never (the paper's protocol alone).
    std::uint32_t rejoin_after_quiet_rounds = 0;
    // A shuffle that got no answer is confirmed with up to this many pings before its target
    // becomes a suspect (a slow peer is not a dead one). 0: suspect at once. One was not enough:
    // the simulator, at 5% loss, then saw alive nodes declared dead (docs/overlay.md).
    std::uint8_t confirm_pings = 3;
};

struct OverlayNodeCounters {
    std::uint64_t shuffles_started = 0;
    std::uint64_t shuffles_answered = 0;
    std::uint64_t shuffles_failed = 0;
    std::uint64_t shuffles_served = 0;
    std::uint64_t joins = 0;  // joins this node started (first join and rejoins)
    std::uint64_t join_walks_forwarded = 0;
    std::uint64_t pings = 0;                // confirmation pings sent
    std::uint64_t suspicions = 0;           // alive peers suspected after a failed shuffle and its pings
    std::uint64_t full_syncs = 0;           // whole lists sent
    std::uint64_t sync_entries = 0;         // updates those lists carried
    std::uint64_t piggybacked_updates = 0;  // gossip updates sent on messages
    std::uint64_t messages_refused = 0;     // malformed or unexpected messages and answers
};

// The overlay's node policy, sans-I/O (events in, messages out, no clock, no sockets): what an
// agent does once per period and with each message, around the two protocols it runs:
// BasicCyclon (the partial view) and BasicMembership (the full list). The agent's network shell
// (overlay/node/peer_sampler) and the simulator (sim/cyclon_simulation) both drive this very
// code, so a change to the policy (when to rejoin, how a failure is confirmed, who starts a
// sync) shows in the simulator's figures.
//
// The rules:
//   - once per round: Membership::Tick, Cyclon::StartShuffle, and a join through a seed when
//     the view is empty or nobody held this node for rejoin_after_quiet_rounds;
//   - a shuffle that gets no answer: Cyclon forgets it, and after confirm_pings pings without an
//     answer its target becomes a suspect;
//   - every message and answer carries gossip and the digest; on a digest mismatch for which
//     Membership::WantsSync says yes, the receiver of a request pushes its list with the answer
//     and gets the requester's back (membership.list); the initiator of a shuffle that still
//     differs and wants a sync pulls (membership.sync: both lists cross);
//   - a join answers with the introducer's whole list, so a joiner knows every member at once.
template <CyclonPeer P>
class BasicOverlayNode {
public:
    using Peer = P;
    using Id = decltype(P::id);
    using Message = BasicOverlayMessage<P>;
    using Outgoing = BasicOutgoing<P>;
    using Outbox = std::vector<Outgoing>;
    using Update = BasicMemberUpdate<P>;

    BasicOverlayNode(P self, std::uint64_t incarnation, OverlayNodeOptions options, Rng& rng)
        : options_(options), rng_(&rng), cyclon_(self, options.cyclon, rng) {
        if (options_.membership) membership_.emplace(self, incarnation, options.membership_config, rng);
    }

    // Introducers for joins (self is dropped). Without seeds a node joins through any member it
    // knows of (a restarted agent whose seeds are gone).
    void SetSeeds(std::vector<P> seeds) {
        std::erase_if(seeds, [this](const P& p) { return SameNode(p, cyclon_.Self()); });
        seeds_ = std::move(seeds);
    }
    const std::vector<P>& Seeds() const { return seeds_; }

    // Bootstrap from a configured view (the simulator's random and chain bootstraps).
    bool AddPeer(P peer) { return cyclon_.AddPeer(std::move(peer)); }

    // The first join. Nothing to do for the first node of a shoal: others join it.
    void Start(Outbox& out) { JoinThroughSeed(out); }

    // Once per period T.
    void OnRound(Outbox& out) {
        if (membership_) membership_->Tick();
        if (auto request = cyclon_.StartShuffle()) {
            ++counters_.shuffles_started;
            Message m;
            m.type = MessageType::kShuffle;
            m.entries = std::move(request->entries);
            Send(out, request->to, std::move(m), Pending::kShuffle);
        }
        const bool quiet = options_.rejoin_after_quiet_rounds > 0 &&
                           (cyclon_.View().empty() || cyclon_.QuietRounds() >= options_.rejoin_after_quiet_rounds);
        if (quiet) JoinThroughSeed(out);
    }

    // A request from another node: its answer (sent back the same way), or nullopt when the
    // request is malformed or not a request (counted; an agent answers 400). What else the
    // request makes this node send (join walks) goes to `out`.
    std::optional<Message> OnMessage(Message in, Outbox& out) {
        Message answer;
        switch (in.type) {
            case MessageType::kShuffle: {
                if (in.entries.empty()) return Refuse();
                ++counters_.shuffles_served;
                TakeMembership(in);
                const Id from = in.entries.front().id;
                answer.type = MessageType::kShuffleReply;
                answer.peer = cyclon_.Self();
                answer.entries = cyclon_.OnShuffleRequest(from, std::move(in.entries));
                break;
            }
            case MessageType::kJoin:
                TakeMembership(in);
                for (auto& step : cyclon_.OnJoinRequest(in.peer)) SendJoinStep(out, std::move(step));
                answer.type = MessageType::kJoinAnswer;
                answer.peer = cyclon_.Self();
                if (membership_) {
                    // The joiner learns the whole member list at once instead of waiting for rumours.
                    answer.members = FullList();
                }
                return WithGossip(std::move(answer));
            case MessageType::kJoinWalk:
                TakeMembership(in);
                if (auto step = cyclon_.OnJoinWalk(BasicJoinWalk<P>{in.peer, in.ttl})) {
                    SendJoinStep(out, std::move(*step));
                }
                answer.type = MessageType::kAck;
                break;
            case MessageType::kJoinReply:
                TakeMembership(in);
                cyclon_.OnJoinReply(std::move(in.entries));
                answer.type = MessageType::kAck;
                break;
            case MessageType::kPing:
                TakeMembership(in);
                answer.type = MessageType::kAck;
                return WithGossip(std::move(answer));
            case MessageType::kSync:
                TakeMembership(in);
                answer.type = MessageType::kAck;
                if (membership_) answer.members = FullList();
                return WithGossip(std::move(answer));
            case MessageType::kList:
                TakeMembership(in);
                answer.type = MessageType::kAck;
                return WithGossip(std::move(answer));
            case MessageType::kShuffleReply:
            case MessageType::kJoinAnswer:
            case MessageType::kAck:
                return Refuse();
        }
        // Push: this side differs and wants a sync, so the initiator gets the whole list.
        if (membership_ && in.digest && membership_->WantsSync(*in.digest)) answer.members = FullList();
        return WithGossip(std::move(answer));
    }

    // The answer to the message sent as `exchange`.
    void OnAnswer(std::uint64_t exchange, Message answer, Outbox& out) {
        auto pending = TakePending(exchange);
        if (!pending) return;  // late, or not ours
        const bool expected =
            (pending->what == Pending::kShuffle && answer.type == MessageType::kShuffleReply) ||
            (pending->what == Pending::kJoin && answer.type == MessageType::kJoinAnswer) ||
            (pending->what != Pending::kShuffle && pending->what != Pending::kJoin && answer.type == MessageType::kAck);
        if (!expected) {
            Refused(*pending);
            return;
        }
        const bool pushed = answer.members.has_value();
        TakeMembership(answer);
        if (pending->what == Pending::kShuffle) {
            ++counters_.shuffles_answered;
            cyclon_.OnShuffleReply(pending->to.id, std::move(answer.entries));
        } else if (pending->what == Pending::kJoin) {
            // Keep the introducer as a stand-in until the walks answer (Cyclon::Join).
            (void)cyclon_.Join(answer.peer);
            return;
        }
        if (!membership_ || !answer.digest || *answer.digest == membership_->Digest() ||
            pending->what == Pending::kSync) {
            return;
        }
        if (pushed) {
            // The peer wanted a sync and pushed its list; it still lacks ours.
            Message list;
            list.type = MessageType::kList;
            list.members = FullList();
            Send(out, pending->to, std::move(list), Pending::kSync);
        } else if (pending->what == Pending::kShuffle && membership_->WantsSync(*answer.digest)) {
            // Pull: still different and this side wants a sync. A responder only pushes when *it*
            // wants one, and a converged responder never does, so a node that missed a rumour
            // must ask.
            Message sync;
            sync.type = MessageType::kSync;
            sync.members = FullList();
            Send(out, pending->to, std::move(sync), Pending::kSync);
        }
    }

    // No answer to `exchange` in time, or the transport failed.
    void OnNoAnswer(std::uint64_t exchange, Outbox& out) {
        auto pending = TakePending(exchange);
        if (!pending) return;
        switch (pending->what) {
            case Pending::kShuffle:
                ++counters_.shuffles_failed;
                cyclon_.OnShuffleTimeout(pending->to.id);
                Confirm(out, pending->to, options_.confirm_pings);
                return;
            case Pending::kPing:
                Confirm(out, pending->to, pending->pings_left);
                return;
            case Pending::kJoin:
            case Pending::kSync:
            case Pending::kOther:
                return;  // a lost join is retried by the rejoin rule, a lost sync at the next mismatch
        }
    }

    // An answer that could not be decoded.
    void OnRefusedAnswer(std::uint64_t exchange) {
        if (auto pending = TakePending(exchange)) Refused(*pending);
    }

    // A request that could not be decoded.
    void OnRefusedMessage() { ++counters_.messages_refused; }

    const P& Self() const { return cyclon_.Self(); }
    const BasicCyclon<P>& Cyclon() const { return cyclon_; }
    bool HasMembership() const { return membership_.has_value(); }
    // Only with options.membership.
    const BasicMembership<P>& Membership() const { return *membership_; }
    const OverlayNodeCounters& Counters() const { return counters_; }
    const OverlayNodeOptions& Options() const { return options_; }
    std::size_t PendingExchanges() const { return pending_.size(); }

private:
    enum class Pending : std::uint8_t { kShuffle, kJoin, kPing, kSync, kOther };
    struct PendingExchange {
        std::uint64_t exchange;
        Pending what;
        P to;
        std::uint8_t pings_left;  // of a ping: confirmation pings still to send after it
    };

    // Seeds may be known by address only (an agent's configuration, ids still unknown), so for
    // agents "the same node" is the same id or the same address.
    static bool SameNode(const P& a, const P& b) {
        if constexpr (requires { a.address; }) {
            if (!a.address.empty() && a.address == b.address) return true;
        }
        return a.id == b.id;
    }

    static bool KnownId(const P& p) {
        if constexpr (requires { p.id.empty(); }) {
            return !p.id.empty();
        } else {
            return true;
        }
    }

    void Send(Outbox& out, const P& to, Message m, Pending what, std::uint8_t pings_left = 0) {
        const std::uint64_t exchange = ++next_exchange_;
        pending_.push_back(PendingExchange{exchange, what, to, pings_left});
        out.push_back(Outgoing{to, WithGossip(std::move(m)), exchange});
    }

    std::optional<PendingExchange> TakePending(std::uint64_t exchange) {
        const auto it = std::find_if(pending_.begin(), pending_.end(),
                                     [exchange](const PendingExchange& p) { return p.exchange == exchange; });
        if (it == pending_.end()) return std::nullopt;
        PendingExchange p = std::move(*it);
        pending_.erase(it);
        return p;
    }

    void Refused(const PendingExchange& pending) {
        ++counters_.messages_refused;
        // A peer that answers nonsense to a shuffle loses its place in the view like a silent
        // one, but it did answer: no suspicion.
        if (pending.what == Pending::kShuffle) cyclon_.OnShuffleTimeout(pending.to.id);
    }

    // One more ping to `to`, or, with none left, the suspicion.
    void Confirm(Outbox& out, const P& to, std::uint8_t pings) {
        if (!membership_) return;
        if (pings > 0) {
            ++counters_.pings;
            Message ping;
            ping.type = MessageType::kPing;
            Send(out, to, std::move(ping), Pending::kPing, static_cast<std::uint8_t>(pings - 1));
            return;
        }
        const auto before = membership_->Find(to.id);
        if (before && before->state == MemberState::kAlive) ++counters_.suspicions;
        membership_->Suspect(to.id);
    }

    void JoinThroughSeed(Outbox& out) {
        // One join at a time: a lost one is retried at the next quiet round.
        if (std::any_of(pending_.begin(), pending_.end(),
                        [](const PendingExchange& p) { return p.what == Pending::kJoin; })) {
            return;
        }
        std::vector<P> candidates = seeds_;
        if (candidates.empty() && membership_) {
            for (const auto& m : membership_->Members()) {
                if (!SameNode(m, cyclon_.Self())) candidates.push_back(m);
            }
        }
        if (candidates.empty()) return;
        ++counters_.joins;
        const P& introducer = candidates[rng_->Uniform(candidates.size())];
        // An introducer whose id is known stands in at once, so that a lost join request does not
        // leave the view empty (the walks' answers replace it); one known by address only does
        // when it answers.
        if (KnownId(introducer)) (void)cyclon_.Join(introducer);
        Message join;
        join.type = MessageType::kJoin;
        join.peer = cyclon_.Self();
        Send(out, introducer, std::move(join), Pending::kJoin);
    }

    void SendJoinStep(Outbox& out, BasicJoinStep<P> step) {
        Message m;
        if (auto* forward = std::get_if<BasicJoinForward<P>>(&step)) {
            ++counters_.join_walks_forwarded;
            m.type = MessageType::kJoinWalk;
            m.peer = std::move(forward->walk.joiner);
            m.ttl = forward->walk.ttl;
            Send(out, forward->to, std::move(m), Pending::kOther);
            return;
        }
        auto& reply = std::get<BasicJoinReply<P>>(step);
        m.type = MessageType::kJoinReply;
        m.entries = std::move(reply.entries);
        Send(out, reply.to, std::move(m), Pending::kOther);
    }

    std::vector<Update> FullList() {
        auto list = membership_->Snapshot();
        ++counters_.full_syncs;
        counters_.sync_entries += list.size();
        return list;
    }

    Message WithGossip(Message m) {
        if (!membership_) return m;
        m.gossip = membership_->TakeGossip();
        counters_.piggybacked_updates += m.gossip.size();
        m.digest = membership_->Digest();
        return m;
    }

    // Applies the gossip, digest and member list a message carries.
    void TakeMembership(const Message& m) {
        if (!membership_) return;
        if (m.digest) {
            membership_->Apply(m.gossip, *m.digest);
        } else {
            membership_->Apply(m.gossip);
        }
        if (m.members) membership_->ApplySnapshot(*m.members);
    }

    std::nullopt_t Refuse() {
        ++counters_.messages_refused;
        return std::nullopt;
    }

    OverlayNodeOptions options_;
    Rng* rng_;
    BasicCyclon<P> cyclon_;
    std::optional<BasicMembership<P>> membership_;
    std::vector<P> seeds_;
    std::vector<PendingExchange> pending_;  // a handful: shuffles, pings and walks in flight
    std::uint64_t next_exchange_ = 0;
    OverlayNodeCounters counters_;
};

// What agents use.
using OverlayMessage = BasicOverlayMessage<PeerDescriptor>;
using OverlayNode = BasicOverlayNode<PeerDescriptor>;

extern template class BasicOverlayNode<PeerDescriptor>;

}  // namespace shoal::overlay
