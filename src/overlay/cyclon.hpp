#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include "common/rng.hpp"
#include "overlay/peer.hpp"

namespace shoal::overlay {

// Parameters in the Cyclon paper's names (Voulgaris, Gavidia, van Steen 2005).
struct CyclonConfig {
    std::size_t view_size = 20;      // c: entries a view holds
    std::size_t shuffle_length = 8;  // l: entries exchanged per shuffle
    std::uint32_t walk_length = 5;   // L: hops of each join random walk (about the overlay's path length)
};

// What a view entry needs: an id to compare and an age. Agents use PeerDescriptor (string id and
// address); the simulator uses a compact 8-byte descriptor so 100,000 views fit in cache, and
// both run the very same protocol code.
template <class P>
concept CyclonPeer = std::copyable<P> && std::equality_comparable<decltype(P::id)> && requires(P p) {
    { p.age } -> std::convertible_to<std::uint32_t>;
    p.age = std::uint32_t{0};
};

// The initiator's half of a shuffle: send `entries` to `to`, then feed the answer to
// OnShuffleReply(to.id, ...) or, if none comes, call OnShuffleTimeout(to.id).
template <CyclonPeer P>
struct BasicShuffleRequest {
    P to;
    std::vector<P> entries;  // entries[0] is the initiator itself with age 0
};

// A joiner asks an introducer to start c random walks on its behalf.
template <CyclonPeer P>
struct BasicJoinRequest {
    P to;      // the introducer
    P joiner;  // the sender itself, age 0
};

template <CyclonPeer P>
struct BasicJoinWalk {
    P joiner;
    std::uint32_t ttl = 0;  // hops left; the node that receives ttl 0 ends the walk
};

// One hop of a join walk: deliver `walk` to `to`, which calls OnJoinWalk.
template <CyclonPeer P>
struct BasicJoinForward {
    P to;
    BasicJoinWalk<P> walk;
};

// The end of a join walk: deliver `entries` to the joiner `to`, which calls OnJoinReply.
template <CyclonPeer P>
struct BasicJoinReply {
    P to;
    std::vector<P> entries;
};

template <CyclonPeer P>
using BasicJoinStep = std::variant<BasicJoinForward<P>, BasicJoinReply<P>>;

// One node's Cyclon membership protocol as a sans-I/O state machine (STYLE B.5): it never sends,
// sleeps or reads a clock. The shell (simulator or A2A layer) calls StartShuffle once per period T,
// delivers what it returns, and feeds incoming messages to the On* handlers. All randomness comes
// from the injected Rng, so a seeded run is reproducible.
//
// The paper treats an exchange as atomic. Over a real network a node may answer other shuffles
// while its own is in flight, so two rules keep the paper's semantics (each exchange moves
// pointers, never copies or drops them): a pending shuffle reserves the slot its target left, and
// entries sent in a pending shuffle are not handed out again until the reply or the timeout.
template <CyclonPeer P>
class BasicCyclon {
public:
    using Peer = P;
    using Id = decltype(P::id);

    BasicCyclon(P self, CyclonConfig config, Rng& rng) : self_(std::move(self)), config_(config), rng_(&rng) {
        if (config_.view_size == 0 || config_.shuffle_length == 0 || config_.shuffle_length > config_.view_size) {
            throw std::invalid_argument("Cyclon: need 1 <= shuffle_length <= view_size");
        }
        self_.age = 0;
        view_.reserve(config_.view_size);
    }

    const P& Self() const { return self_; }
    const CyclonConfig& Config() const { return config_; }
    const std::vector<P>& View() const { return view_; }
    bool Contains(const Id& id) const { return Find(id) != kNotFound; }

    // Bootstrap from a configured peer list: false for self, duplicates, or a full view.
    bool AddPeer(P peer);
    // Drops a peer the shell knows to be dead (e.g. its connection was refused).
    bool Remove(const Id& id);

    // Enhanced shuffle, steps 1-4: age all entries, pick the oldest neighbour Q plus l-1 random
    // others, and send them with a fresh self-entry in Q's place. Q leaves the view now, so a dead
    // Q is forgotten without any failure detector. nullopt when the view is empty.
    std::optional<BasicShuffleRequest<P>> StartShuffle();
    // Q's side: answer with min(l, |view|) random entries, then merge the received ones,
    // overwriting the answered entries once free slots run out.
    std::vector<P> OnShuffleRequest(const Id& from, std::vector<P> entries);
    // Steps 5-7: merge Q's answer. A reply without a pending shuffle (late, or duplicated) only
    // fills free slots.
    void OnShuffleReply(const Id& from, std::vector<P> entries);
    // No answer from `to`: forget the pending shuffle (Q already left the view), unless Q was the
    // last neighbour: then Q comes back, since an empty view can never refill.
    void OnShuffleTimeout(const Id& to);
    std::size_t PendingShuffles() const { return pending_.size(); }
    // StartShuffle calls since this node last heard of a peer that holds it (a shuffle request or
    // a join walk answer). Every entry pointing here becomes its holder's oldest within about c
    // rounds and then brings a request, so a count well above c means nobody knows this node:
    // the shell should Join again through a seed peer. Message loss during bootstrap can do that.
    std::uint32_t QuietRounds() const { return quiet_rounds_; }

    // Joiner: keep the introducer as a stand-in neighbour (so a joiner whose walks all get lost
    // is not isolated) and ask it to start the walks. The first walk answer that finds the view
    // full replaces the stand-in.
    BasicJoinRequest<P> Join(const P& introducer);
    // Introducer: start c walks of length L (section 4 of the paper). A walk that ends here at
    // once comes back as a JoinReply.
    std::vector<BasicJoinStep<P>> OnJoinRequest(const P& joiner);
    // Any node on a walk: forward it to a random neighbour, or at ttl 0 (or with nobody to forward
    // to) end it: put the joiner in the view in place of a random entry and hand that entry to
    // the joiner, so every in-degree stays as it was and the joiner gains one. nullopt when the
    // walk reached the joiner itself.
    std::optional<BasicJoinStep<P>> OnJoinWalk(const BasicJoinWalk<P>& walk);
    // Joiner: add what the walks handed over.
    void OnJoinReply(std::vector<P> entries);

private:
    static constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);
    // More outstanding shuffles than this means replies are not coming back at all.
    static constexpr std::size_t kMaxPendingShuffles = 8;

    struct PendingShuffle {
        P to;
        std::vector<Id> sent;
    };

    std::size_t Find(const Id& id) const {
        for (std::size_t i = 0; i < view_.size(); ++i) {
            if (view_[i].id == id) return i;
        }
        return kNotFound;
    }
    void EraseAt(std::size_t index) {
        // Order in a view carries no meaning, so swap-and-pop.
        if (index + 1 != view_.size()) view_[index] = std::move(view_.back());
        view_.pop_back();
    }
    P FreshSelf() const {
        P me = self_;
        me.age = 0;
        return me;
    }
    void ForgetStandIn(const Id& id) {
        if (stand_in_ && *stand_in_ == id) stand_in_.reset();
    }
    // True if `id` went out in a shuffle whose reply is still pending.
    bool Promised(const Id& id) const;
    // Empty slots not reserved for pending replies.
    std::size_t FreeSlots() const {
        const std::size_t used = view_.size() + pending_.size();
        return used < config_.view_size ? config_.view_size - used : 0;
    }
    // Picks min(k, n) distinct view positions uniformly among the n eligible ones.
    std::vector<std::size_t> RandomPositions(std::size_t k, bool skip_promised);
    // Steps 6-7: drop self and known entries, fill free slots, then overwrite the entries at
    // `replaceable` (view positions of entries sent to the other side).
    void Merge(std::vector<P> received, std::vector<std::size_t> replaceable);

    P self_;
    CyclonConfig config_;
    Rng* rng_;
    std::vector<P> view_;
    std::vector<PendingShuffle> pending_;
    std::optional<Id> stand_in_;  // the introducer a joiner keeps until walk answers arrive
    std::uint32_t quiet_rounds_ = 0;
};

// ---- Implementation ----

template <CyclonPeer P>
bool BasicCyclon<P>::AddPeer(P peer) {
    if (peer.id == self_.id || Contains(peer.id) || FreeSlots() == 0) return false;
    view_.push_back(std::move(peer));
    return true;
}

template <CyclonPeer P>
bool BasicCyclon<P>::Remove(const Id& id) {
    const std::size_t i = Find(id);
    if (i == kNotFound) return false;
    EraseAt(i);
    ForgetStandIn(id);
    return true;
}

template <CyclonPeer P>
bool BasicCyclon<P>::Promised(const Id& id) const {
    for (const auto& pending : pending_) {
        if (std::find(pending.sent.begin(), pending.sent.end(), id) != pending.sent.end()) return true;
    }
    return false;
}

template <CyclonPeer P>
std::vector<std::size_t> BasicCyclon<P>::RandomPositions(std::size_t k, bool skip_promised) {
    std::vector<std::size_t> positions;
    positions.reserve(view_.size());
    for (std::size_t i = 0; i < view_.size(); ++i) {
        if (!skip_promised || pending_.empty() || !Promised(view_[i].id)) positions.push_back(i);
    }
    k = std::min(k, positions.size());
    // Partial Fisher-Yates: the first k positions end up a uniform k-subset.
    for (std::size_t i = 0; i < k; ++i) {
        const std::size_t j = i + rng_->Uniform(positions.size() - i);
        std::swap(positions[i], positions[j]);
    }
    positions.resize(k);
    return positions;
}

template <CyclonPeer P>
std::optional<BasicShuffleRequest<P>> BasicCyclon<P>::StartShuffle() {
    ++quiet_rounds_;
    if (view_.empty()) return std::nullopt;
    for (auto& e : view_) ++e.age;

    // Oldest neighbour; ties broken uniformly (reservoir sampling over the maxima).
    std::size_t oldest = 0;
    std::size_t ties = 1;
    for (std::size_t i = 1; i < view_.size(); ++i) {
        if (view_[i].age > view_[oldest].age) {
            oldest = i;
            ties = 1;
        } else if (view_[i].age == view_[oldest].age && rng_->Uniform(++ties) == 0) {
            oldest = i;
        }
    }
    BasicShuffleRequest<P> request;
    request.to = std::move(view_[oldest]);
    EraseAt(oldest);
    ForgetStandIn(request.to.id);

    request.entries.reserve(config_.shuffle_length);
    request.entries.push_back(FreshSelf());
    PendingShuffle pending{request.to, {}};
    pending.sent.reserve(config_.shuffle_length - 1);
    for (std::size_t i : RandomPositions(config_.shuffle_length - 1, true)) {
        request.entries.push_back(view_[i]);
        pending.sent.push_back(view_[i].id);
    }
    if (pending_.size() >= kMaxPendingShuffles) pending_.erase(pending_.begin());
    pending_.push_back(std::move(pending));
    return request;
}

template <CyclonPeer P>
std::vector<P> BasicCyclon<P>::OnShuffleRequest(const Id& from, std::vector<P> entries) {
    if (from == self_.id) return {};
    quiet_rounds_ = 0;
    std::vector<P> reply;
    reply.reserve(config_.shuffle_length);
    auto answered = RandomPositions(config_.shuffle_length, true);
    for (std::size_t i : answered) reply.push_back(view_[i]);
    // The answered entries are the ones to overwrite; Merge only appends, so positions hold.
    Merge(std::move(entries), std::move(answered));
    return reply;
}

template <CyclonPeer P>
void BasicCyclon<P>::OnShuffleReply(const Id& from, std::vector<P> entries) {
    std::vector<std::size_t> replaceable;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->to.id == from) {
            // Sent entries that something else replaced or removed meanwhile are skipped.
            for (const auto& id : it->sent) {
                if (const std::size_t i = Find(id); i != kNotFound) replaceable.push_back(i);
            }
            pending_.erase(it);
            break;
        }
    }
    Merge(std::move(entries), std::move(replaceable));
}

template <CyclonPeer P>
void BasicCyclon<P>::OnShuffleTimeout(const Id& to) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->to.id == to) {
            // A node whose view runs empty is cut off for good (nobody may know it either), so it
            // keeps its last neighbour and retries: that costs nothing if the neighbour is dead and
            // saves the node if only the message was lost.
            if (view_.empty()) view_.push_back(std::move(it->to));
            pending_.erase(it);
            return;
        }
    }
}

template <CyclonPeer P>
void BasicCyclon<P>::Merge(std::vector<P> received, std::vector<std::size_t> replaceable) {
    std::size_t next = 0;
    for (auto& entry : received) {
        if (entry.id == self_.id || Contains(entry.id)) continue;
        if (FreeSlots() > 0) {
            view_.push_back(std::move(entry));
        } else if (next < replaceable.size()) {
            P& slot = view_[replaceable[next++]];
            ForgetStandIn(slot.id);
            slot = std::move(entry);
        }
    }
}

template <CyclonPeer P>
BasicJoinRequest<P> BasicCyclon<P>::Join(const P& introducer) {
    quiet_rounds_ = 0;
    P entry = introducer;
    entry.age = 0;
    if (AddPeer(std::move(entry))) stand_in_ = introducer.id;
    return BasicJoinRequest<P>{introducer, FreshSelf()};
}

template <CyclonPeer P>
std::vector<BasicJoinStep<P>> BasicCyclon<P>::OnJoinRequest(const P& joiner) {
    std::vector<BasicJoinStep<P>> steps;
    if (joiner.id == self_.id) return steps;
    for (std::size_t i = 0; i < config_.view_size; ++i) {
        if (auto step = OnJoinWalk(BasicJoinWalk<P>{joiner, config_.walk_length})) steps.push_back(std::move(*step));
    }
    return steps;
}

template <CyclonPeer P>
std::optional<BasicJoinStep<P>> BasicCyclon<P>::OnJoinWalk(const BasicJoinWalk<P>& walk) {
    const P& joiner = walk.joiner;
    if (joiner.id == self_.id) return std::nullopt;
    const std::size_t j = Find(joiner.id);
    if (walk.ttl > 0) {
        // Never forward to the joiner: its view says nothing about the overlay yet.
        const std::size_t candidates = view_.size() - (j == kNotFound ? 0 : 1);
        if (candidates > 0) {
            std::size_t pick = rng_->Uniform(candidates);
            if (j != kNotFound && pick >= j) ++pick;
            return BasicJoinForward<P>{view_[pick], BasicJoinWalk<P>{joiner, walk.ttl - 1}};
        }
    }
    P fresh_joiner = joiner;
    fresh_joiner.age = 0;
    BasicJoinReply<P> reply{joiner, {}};
    if (j != kNotFound) {
        // An earlier walk already ended here: introduce ourselves instead, changing nothing.
        reply.entries.push_back(FreshSelf());
    } else if (FreeSlots() > 0) {
        view_.push_back(std::move(fresh_joiner));
        reply.entries.push_back(FreshSelf());
    } else {
        P& slot = view_[rng_->Uniform(view_.size())];
        reply.entries.push_back(std::move(slot));
        slot = std::move(fresh_joiner);
    }
    return reply;
}

template <CyclonPeer P>
void BasicCyclon<P>::OnJoinReply(std::vector<P> entries) {
    quiet_rounds_ = 0;
    for (auto& entry : entries) {
        if (entry.id == self_.id || Contains(entry.id)) continue;
        if (FreeSlots() > 0) {
            view_.push_back(std::move(entry));
        } else if (stand_in_) {
            const std::size_t i = Find(*stand_in_);
            stand_in_.reset();
            if (i != kNotFound) view_[i] = std::move(entry);
        }
    }
}

// What agents use.
using ShuffleRequest = BasicShuffleRequest<PeerDescriptor>;
using JoinRequest = BasicJoinRequest<PeerDescriptor>;
using JoinWalk = BasicJoinWalk<PeerDescriptor>;
using JoinForward = BasicJoinForward<PeerDescriptor>;
using JoinReply = BasicJoinReply<PeerDescriptor>;
using JoinStep = BasicJoinStep<PeerDescriptor>;
using Cyclon = BasicCyclon<PeerDescriptor>;

extern template class BasicCyclon<PeerDescriptor>;

}  // namespace shoal::overlay
