#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "common/rng.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/home_mapping.hpp"
#include "overlay/peer.hpp"

namespace shoal::overlay {

// The full member list that dynamic home-agent mapping hashes over. Cyclon views are partial by
// design; rendezvous hashing needs every agent to agree on the set of live agents, so membership
// changes are disseminated SWIM-style (Das, Gupta, Motivala 2002) piggy-backed on the messages the
// overlay sends anyway (docs/overlay.md, "Membership"):
//   - each update is an (entry, incarnation, state) triple; a higher incarnation wins, and at the
//     same incarnation kDead beats kSuspect beats kAlive;
//   - a node that hears it is suspected or dead refutes with incarnation + 1;
//   - a failed (and confirmed, see the docs) request makes its target a suspect; a suspect not
//     refuted within SuspectTimeout() rounds (suspect_rounds, scaled by log10 N) is declared
//     dead; dead entries stay as tombstones for
//     tombstone_rounds, so that stale "alive" rumours cannot bring them back;
//   - every update is piggy-backed about gossip_factor * log2(N + 1) times (infection style),
//     the least-sent first;
//   - anti-entropy: messages carry a digest of the list; on a mismatch the two sides exchange
//     their full lists, at most once per sync_every_rounds, which repairs lost rumours.
enum class MemberState : std::uint8_t { kAlive = 0, kSuspect = 1, kDead = 2 };

constexpr std::string_view MemberStateName(MemberState s) {
    switch (s) {
        case MemberState::kAlive:
            return "alive";
        case MemberState::kSuspect:
            return "suspect";
        case MemberState::kDead:
            return "dead";
    }
    return "?";
}

constexpr std::optional<MemberState> ParseMemberState(std::string_view name) {
    for (auto s : {MemberState::kAlive, MemberState::kSuspect, MemberState::kDead}) {
        if (name == MemberStateName(s)) return s;
    }
    return std::nullopt;
}

struct MembershipConfig {
    double gossip_factor = 3.0;
    std::size_t max_piggyback = 16;  // updates per message
    // A suspect not refuted within suspect_rounds * max(1, log10(N + 1)) rounds is dead (N the
    // members; memberlist's rule): the rumour has to reach the suspect and the refutation
    // everybody, both O(log N) rounds.
    std::uint32_t suspect_rounds = 5;
    std::uint32_t tombstone_rounds = 60;
    std::uint32_t sync_every_rounds = 5;
    // A digest mismatch starts a sync only after this many rounds without meeting a peer that
    // agrees: a rumour in flight makes digests differ for a few rounds, and gossip settles that
    // for a fraction of a full list. Before its first sync a node does not wait.
    std::uint32_t sync_after_rounds = 4;
};

template <CyclonPeer P>
struct BasicMemberUpdate {
    P peer;  // id and (for agents) address; age is ignored
    std::uint64_t incarnation = 0;
    MemberState state = MemberState::kAlive;

    friend bool operator==(const BasicMemberUpdate&, const BasicMemberUpdate&) = default;
};

// One node's view of the full membership, a sans-I/O state machine like BasicCyclon: no clock,
// no I/O. The shell calls Tick once per round, attaches TakeGossip() and Digest() to every
// outgoing message, feeds what arrives to Apply, and exchanges Snapshot()s (merged with
// ApplySnapshot) when WantsSync says so. Not thread-safe (Members() fills a cache).
//
// Memory: one entry per known id (for SimPeer 24 bytes, for PeerDescriptor about 80 plus the
// strings) and the Members() cache; 1,000 members are ~32 KB in the simulator.
template <CyclonPeer P>
class BasicMembership {
public:
    using Peer = P;
    using Id = decltype(P::id);
    using Update = BasicMemberUpdate<P>;

    // `incarnation` must grow across restarts of the same id (agents use their start time in ms).
    BasicMembership(P self, std::uint64_t incarnation, MembershipConfig config, Rng& rng)
        : config_(config), rng_(&rng), incarnation_(incarnation) {
        if (config_.max_piggyback == 0 || config_.suspect_rounds == 0 || config_.gossip_factor <= 0) {
            throw std::invalid_argument("Membership: need max_piggyback, suspect_rounds, gossip_factor > 0");
        }
        self.age = 0;
        self_id_ = self.id;
        entries_.push_back(Entry{std::move(self), incarnation, 0, MemberState::kAlive, false});
        digest_ = Contribution(entries_.front());
        live_ = 1;
        Enqueue(entries_.front());
    }

    const Id& SelfId() const { return self_id_; }
    const MembershipConfig& Config() const { return config_; }

    // Once per round (the shell calls it beside Cyclon::StartShuffle): suspects whose time is up
    // become dead, old tombstones go.
    void Tick();
    // Updates to piggy-back on one outgoing message (at most max_piggyback), the least-sent
    // first; each counts as one transmission.
    std::vector<Update> TakeGossip();
    // Updates received on any message. What is news to this node is passed on by gossip.
    void Apply(const std::vector<Update>& updates);
    // The same, with the sender's Digest() from the message. When it equals ours, the sender
    // already knows every alive member and every death we are gossiping about, so each of those
    // counts as sent once more: in a converged group the queues drain in about GossipLimit()
    // messages instead of carrying old news for thousands of rounds. (Suspicions do not count:
    // the digest does not tell them apart from alive members.)
    void Apply(const std::vector<Update>& updates, std::uint64_t peer_digest);
    // A peer's Snapshot(): merged like Apply, but not gossiped again (the peer has it already;
    // a joiner learning a thousand members is no news to anyone).
    void ApplySnapshot(const std::vector<Update>& updates);
    // A request to `id` got no answer (the shell should confirm first, see docs/overlay.md).
    // Only an alive member becomes a suspect; the rest is ignored.
    void Suspect(const Id& id);

    // Anti-entropy: order-independent hash of the (id, incarnation) pairs of Members(), kept up
    // to date on every change. Suspects count as members, tombstones do not.
    std::uint64_t Digest() const { return digest_; }
    // True when `peer_digest` differs from ours, no peer's digest (passed to Apply) agreed for
    // sync_after_rounds and no sync happened for sync_every_rounds. Always true on a mismatch
    // before the first sync, so a joiner syncs at once.
    bool WantsSync(std::uint64_t peer_digest) const {
        if (peer_digest == digest_) return false;
        if (!synced_) return true;
        return round_ - last_agreement_ >= config_.sync_after_rounds &&
               round_ - last_sync_ >= config_.sync_every_rounds;
    }
    // Every entry including tombstones, for a sync or a joiner. Marks a sync as done.
    std::vector<Update> Snapshot();

    // Alive and suspect members including self, sorted by id: what the mapping hashes over.
    // Rebuilt lazily after a change; the reference stays valid until the next non-const call.
    const std::vector<P>& Members() const {
        if (members_dirty_) RebuildMembers();
        return members_;
    }
    // Changes whenever Members() changes, so callers can cache what they derive from it.
    std::uint64_t Generation() const { return generation_; }
    std::uint64_t Incarnation() const { return incarnation_; }

    // Introspection (tests, simulator).
    std::optional<Update> Find(const Id& id) const {
        const auto it = Lower(id);
        if (it == entries_.end() || !(it->peer.id == id)) return std::nullopt;
        return ToUpdate(*it);
    }
    std::size_t MemberCount() const { return live_; }
    std::size_t EntryCount() const { return entries_.size(); }  // with tombstones
    std::size_t PendingGossip() const { return queue_.size(); }
    // Transmissions per update at the current size: ceil(gossip_factor * log2(N + 1)).
    std::uint32_t GossipLimit() const {
        return std::max<std::uint32_t>(
            1,
            static_cast<std::uint32_t>(std::ceil(config_.gossip_factor * std::log2(static_cast<double>(live_) + 1))));
    }
    // Rounds a suspect has to refute: ceil(suspect_rounds * max(1, log10(N + 1))).
    std::uint32_t SuspectTimeout() const {
        const double scale = std::max(1.0, std::log10(static_cast<double>(live_) + 1));
        return static_cast<std::uint32_t>(std::ceil(config_.suspect_rounds * scale));
    }
    std::uint64_t Round() const { return round_; }
    std::uint64_t Refutations() const { return refutations_; }

private:
    struct Entry {
        P peer;
        std::uint64_t incarnation;
        std::uint32_t since;  // round of the last change: the suspicion and tombstone clocks
        MemberState state;
        bool queued;  // in queue_
    };
    struct Gossip {
        Id id;
        std::uint32_t sent;
        bool suspect;  // the entry's state when queued (a hint for Apply with a digest)
    };

    static bool Live(MemberState s) { return s != MemberState::kDead; }
    static std::uint64_t Contribution(const Entry& e) {
        return Mix64(StableHash(e.peer.id) ^ Mix64(e.incarnation ^ 0x5bd1e9955bd1e995ULL));
    }
    static Update ToUpdate(const Entry& e) { return Update{e.peer, e.incarnation, e.state}; }
    // u beats e: higher incarnation, or the same one with a stronger state.
    static bool Newer(const Update& u, const Entry& e) {
        return u.incarnation > e.incarnation || (u.incarnation == e.incarnation && u.state > e.state);
    }

    typename std::vector<Entry>::const_iterator Lower(const Id& id) const {
        return std::lower_bound(entries_.begin(), entries_.end(), id,
                                [](const Entry& e, const Id& key) { return e.peer.id < key; });
    }
    typename std::vector<Entry>::iterator Lower(const Id& id) {
        return std::lower_bound(entries_.begin(), entries_.end(), id,
                                [](const Entry& e, const Id& key) { return e.peer.id < key; });
    }
    void MembersChanged() {
        ++generation_;
        members_dirty_ = true;
    }
    void RebuildMembers() const {
        members_.clear();
        members_.reserve(live_);
        for (const auto& e : entries_) {
            if (Live(e.state)) members_.push_back(e.peer);
        }
        members_dirty_ = false;
    }
    // Puts `e` first in the queue with nothing sent (queue_ stays sorted by sent, ascending).
    void Enqueue(Entry& e) {
        if (!e.queued) {
            e.queued = true;
            queue_.insert(queue_.begin(), Gossip{e.peer.id, 0, e.state == MemberState::kSuspect});
            return;
        }
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if (it->id == e.peer.id) {
                it->sent = 0;
                it->suspect = e.state == MemberState::kSuspect;
                std::rotate(queue_.begin(), it, it + 1);
                return;
            }
        }
    }
    // Drops the queue's tail of updates sent `limit` times.
    void DropSent(std::uint32_t limit) {
        while (!queue_.empty() && queue_.back().sent >= limit) {
            if (auto it = Lower(queue_.back().id); it != entries_.end() && it->peer.id == queue_.back().id) {
                it->queued = false;
            }
            queue_.pop_back();
        }
    }
    void Merge(const Update& u, bool gossip);
    void MergeSelf(const Update& u);
    // Moves e to `state` (and incarnation/peer), keeping digest, counts and generation right.
    void Change(Entry& e, const P& peer, std::uint64_t incarnation, MemberState state);

    MembershipConfig config_;
    Rng* rng_;  // reserved: the protocol makes no random choice today
    Id self_id_;
    std::uint64_t incarnation_;
    std::vector<Entry> entries_;  // sorted by id, self included
    std::vector<Gossip> queue_;   // updates still to piggy-back, least sent first; the entry holds the state
    std::uint64_t digest_ = 0;
    std::size_t live_ = 0;      // alive + suspect
    std::size_t suspects_ = 0;  // entries the Tick scan has to look at
    std::size_t dead_ = 0;
    std::uint32_t round_ = 0;
    std::uint32_t last_sync_ = 0;
    std::uint32_t last_agreement_ = 0;  // last round a peer's digest equalled ours
    bool synced_ = false;
    std::uint64_t generation_ = 0;
    std::uint64_t refutations_ = 0;
    mutable std::vector<P> members_;
    mutable bool members_dirty_ = true;
};

// ---- Implementation ----

template <CyclonPeer P>
void BasicMembership<P>::Change(Entry& e, const P& peer, std::uint64_t incarnation, MemberState state) {
    const bool was_live = Live(e.state);
    const bool now_live = Live(state);
    if (was_live) digest_ -= Contribution(e);
    P fresh = peer;
    fresh.age = 0;
    const bool peer_changed = !(fresh == e.peer);
    if (peer_changed) e.peer = std::move(fresh);
    suspects_ -= e.state == MemberState::kSuspect ? 1 : 0;
    dead_ -= e.state == MemberState::kDead ? 1 : 0;
    e.incarnation = incarnation;
    e.state = state;
    e.since = round_;
    suspects_ += state == MemberState::kSuspect ? 1 : 0;
    dead_ += state == MemberState::kDead ? 1 : 0;
    if (now_live) digest_ += Contribution(e);
    live_ = live_ - (was_live ? 1 : 0) + (now_live ? 1 : 0);
    if (was_live != now_live || (now_live && peer_changed)) MembersChanged();
}

template <CyclonPeer P>
void BasicMembership<P>::MergeSelf(const Update& u) {
    // Only others' opinions of this node arrive here. Anything that would beat the own entry
    // (a suspicion or death at the current incarnation, or a higher incarnation from an earlier
    // life) is refuted with a higher incarnation.
    if (u.incarnation < incarnation_ || (u.incarnation == incarnation_ && u.state == MemberState::kAlive)) return;
    incarnation_ = u.incarnation + 1;
    ++refutations_;
    Entry& me = *Lower(self_id_);
    Change(me, me.peer, incarnation_, MemberState::kAlive);
    Enqueue(me);
}

template <CyclonPeer P>
void BasicMembership<P>::Merge(const Update& u, bool gossip) {
    if (u.peer.id == self_id_) {
        MergeSelf(u);
        return;
    }
    auto it = Lower(u.peer.id);
    if (it == entries_.end() || !(it->peer.id == u.peer.id)) {
        // A new id. A tombstone for an unknown id is kept too: it stops stale alive rumours.
        P peer = u.peer;
        peer.age = 0;
        it = entries_.insert(it, Entry{std::move(peer), u.incarnation, round_, u.state, false});
        if (Live(u.state)) {
            digest_ += Contribution(*it);
            ++live_;
            MembersChanged();
        }
        suspects_ += u.state == MemberState::kSuspect ? 1 : 0;
        dead_ += u.state == MemberState::kDead ? 1 : 0;
    } else {
        if (!Newer(u, *it)) return;
        Change(*it, u.peer, u.incarnation, u.state);
    }
    if (gossip) Enqueue(*it);
}

template <CyclonPeer P>
void BasicMembership<P>::Apply(const std::vector<Update>& updates) {
    for (const auto& u : updates) Merge(u, true);
}

template <CyclonPeer P>
void BasicMembership<P>::Apply(const std::vector<Update>& updates, std::uint64_t peer_digest) {
    Apply(updates);
    if (peer_digest != digest_) return;
    last_agreement_ = round_;
    if (queue_.empty()) return;
    bool suspects = false;
    for (auto& g : queue_) {
        suspects = suspects || g.suspect;
        if (!g.suspect) ++g.sent;
    }
    // Skipping the suspects can break the order.
    if (suspects) {
        std::stable_sort(queue_.begin(), queue_.end(),
                         [](const Gossip& a, const Gossip& b) { return a.sent < b.sent; });
    }
    DropSent(GossipLimit());
}

template <CyclonPeer P>
void BasicMembership<P>::ApplySnapshot(const std::vector<Update>& updates) {
    // A snapshot may bring hundreds of new ids: they are merged in one pass at the end instead of
    // one insertion (and one shift of the sorted list) each.
    std::vector<Entry> fresh;
    for (const auto& u : updates) {
        if (u.peer.id == self_id_) {
            MergeSelf(u);
            continue;
        }
        auto it = Lower(u.peer.id);
        if (it != entries_.end() && it->peer.id == u.peer.id) {
            if (Newer(u, *it)) Change(*it, u.peer, u.incarnation, u.state);
            continue;
        }
        P peer = u.peer;
        peer.age = 0;
        fresh.push_back(Entry{std::move(peer), u.incarnation, round_, u.state, false});
    }
    if (fresh.empty()) return;
    // By id, the newest first, so that unique() keeps the newest of duplicate ids.
    std::stable_sort(fresh.begin(), fresh.end(), [](const Entry& a, const Entry& b) {
        if (a.peer.id < b.peer.id) return true;
        if (b.peer.id < a.peer.id) return false;
        return a.incarnation != b.incarnation ? a.incarnation > b.incarnation : a.state > b.state;
    });
    fresh.erase(
        std::unique(fresh.begin(), fresh.end(), [](const Entry& a, const Entry& b) { return a.peer.id == b.peer.id; }),
        fresh.end());
    bool members_changed = false;
    for (const auto& e : fresh) {
        if (Live(e.state)) {
            digest_ += Contribution(e);
            ++live_;
            members_changed = true;
        }
        suspects_ += e.state == MemberState::kSuspect ? 1 : 0;
        dead_ += e.state == MemberState::kDead ? 1 : 0;
    }
    if (members_changed) MembersChanged();
    const auto middle = static_cast<std::ptrdiff_t>(entries_.size());
    entries_.insert(entries_.end(), std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()));
    std::inplace_merge(entries_.begin(), entries_.begin() + middle, entries_.end(),
                       [](const Entry& a, const Entry& b) { return a.peer.id < b.peer.id; });
}

template <CyclonPeer P>
void BasicMembership<P>::Suspect(const Id& id) {
    if (id == self_id_) return;
    auto it = Lower(id);
    if (it == entries_.end() || !(it->peer.id == id) || it->state != MemberState::kAlive) return;
    Change(*it, it->peer, it->incarnation, MemberState::kSuspect);
    Enqueue(*it);
}

template <CyclonPeer P>
void BasicMembership<P>::Tick() {
    ++round_;
    if (suspects_ == 0 && dead_ == 0) return;
    const std::uint32_t timeout = SuspectTimeout();
    for (auto& e : entries_) {
        if (e.state == MemberState::kSuspect && round_ - e.since >= timeout) {
            Change(e, e.peer, e.incarnation, MemberState::kDead);
            Enqueue(e);
        }
    }
    if (dead_ == 0) return;
    const auto expired = [this](const Entry& e) {
        return e.state == MemberState::kDead && round_ - e.since >= config_.tombstone_rounds;
    };
    const auto before = entries_.size();
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), expired), entries_.end());
    dead_ -= before - entries_.size();
}

template <CyclonPeer P>
std::vector<typename BasicMembership<P>::Update> BasicMembership<P>::TakeGossip() {
    std::vector<Update> out;
    if (queue_.empty()) return out;
    const std::uint32_t limit = GossipLimit();
    const std::size_t n = std::min(queue_.size(), config_.max_piggyback);
    out.reserve(n);
    bool expired = false;
    for (std::size_t i = 0; i < n; ++i) {
        Gossip& g = queue_[i];
        const auto it = Lower(g.id);
        if (it == entries_.end() || !(it->peer.id == g.id)) {
            g.sent = std::numeric_limits<std::uint32_t>::max();  // the tombstone expired
            expired = true;
            continue;
        }
        out.push_back(ToUpdate(*it));
        ++g.sent;
    }
    // The first n were the least sent and grew by one: merging them back keeps the order (stable,
    // so the same on every library), and what reached the limit is at the end.
    const auto cmp = [](const Gossip& a, const Gossip& b) { return a.sent < b.sent; };
    if (expired) {
        std::stable_sort(queue_.begin(), queue_.end(), cmp);
    } else if (n < queue_.size() && cmp(queue_[n], queue_[n - 1])) {
        std::inplace_merge(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n), queue_.end(), cmp);
    }
    DropSent(limit);
    return out;
}

template <CyclonPeer P>
std::vector<typename BasicMembership<P>::Update> BasicMembership<P>::Snapshot() {
    synced_ = true;
    last_sync_ = round_;
    std::vector<Update> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(ToUpdate(e));
    return out;
}

// What agents use.
using MemberUpdate = BasicMemberUpdate<PeerDescriptor>;
using Membership = BasicMembership<PeerDescriptor>;

extern template class BasicMembership<PeerDescriptor>;

}  // namespace shoal::overlay
