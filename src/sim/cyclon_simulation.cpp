#include "sim/cyclon_simulation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace shoal::sim {

std::string_view BootstrapName(Bootstrap b) {
    switch (b) {
        case Bootstrap::kJoin:
            return "join";
        case Bootstrap::kRandom:
            return "random";
        case Bootstrap::kChain:
            return "chain";
    }
    return "?";
}

std::optional<Bootstrap> ParseBootstrap(std::string_view name) {
    for (auto b : {Bootstrap::kJoin, Bootstrap::kRandom, Bootstrap::kChain}) {
        if (name == BootstrapName(b)) return b;
    }
    return std::nullopt;
}

CyclonSimulation::CyclonSimulation(CyclonSimConfig config)
    : config_(config), rng_(config.seed), network_(config.network, rng_) {
    if (config_.period <= 0) throw std::invalid_argument("CyclonSimulation: period must be positive");
    if (config_.nodes >= kNoPayload) throw std::invalid_argument("CyclonSimulation: too many nodes");
    nodes_.reserve(config_.nodes);
    if (config_.membership) members_.reserve(config_.nodes);
    // With kJoin a node starts shuffling when it has joined.
    const SimTime start = config_.bootstrap == Bootstrap::kJoin ? kNever : 0;
    for (std::size_t i = 0; i < config_.nodes; ++i) CreateNode(start);
    std::stable_sort(ticks_.begin(), ticks_.end(),
                     [](const TickSlot& a, const TickSlot& b) { return a.phase < b.phase; });
    Bootstrap();
}

std::size_t CyclonSimulation::CreateNode(SimTime start) {
    const auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back(SimPeer{index, 0}, config_.cyclon, rng_);
    if (config_.membership) members_.emplace_back(SimPeer{index, 0}, 0, config_.membership_config, rng_);
    alive_.push_back(1);
    start_.push_back(start);
    ++alive_count_;
    // A random phase, so that shuffles are spread over the period instead of in lock-step.
    ticks_.push_back(TickSlot{static_cast<SimTime>(rng_.Uniform(static_cast<std::uint64_t>(config_.period))), index});
    return index;
}

void CyclonSimulation::Bootstrap() {
    const std::size_t n = nodes_.size();
    const std::size_t c = config_.cyclon.view_size;
    switch (config_.bootstrap) {
        case Bootstrap::kJoin: {
            const double spacing = config_.join_rounds * static_cast<double>(config_.period) / static_cast<double>(n);
            for (std::size_t i = 0; i < n; ++i) {
                queue_.Push(static_cast<SimTime>(std::floor(spacing * static_cast<double>(i))),
                            Event{Kind::kJoin, 0, 0, static_cast<std::uint32_t>(i), kNoPayload});
            }
            break;
        }
        case Bootstrap::kRandom:
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t want = std::min(c, n - 1);
                while (nodes_[i].View().size() < want) {
                    const auto peer = static_cast<std::uint32_t>(rng_.Uniform(n));
                    if (peer != i) nodes_[i].AddPeer(SimPeer{peer, 0});  // refuses duplicates
                }
            }
            break;
        case Bootstrap::kChain:
            for (std::size_t i = 0; i + 1 < n; ++i) nodes_[i].AddPeer(SimPeer{static_cast<std::uint32_t>(i + 1), 0});
            break;
    }
}

std::size_t CyclonSimulation::AddNode() {
    const std::size_t index = CreateNode(kNever);
    // Move the new slot from the back to its place in the ring.
    const TickSlot slot = ticks_.back();
    ticks_.pop_back();
    auto pos = std::upper_bound(ticks_.begin(), ticks_.end(), slot.phase,
                                [](SimTime phase, const TickSlot& s) { return phase < s.phase; });
    // Before the ring's cursor, this round's turn for that phase is over.
    if (static_cast<std::size_t>(pos - ticks_.begin()) < next_tick_) ++next_tick_;
    ticks_.insert(pos, slot);
    queue_.Push(now_, Event{Kind::kJoin, 0, 0, static_cast<std::uint32_t>(index), kNoPayload});
    return index;
}

void CyclonSimulation::Kill(std::size_t node) {
    if (!alive_[node]) return;
    alive_[node] = 0;
    --alive_count_;
}

void CyclonSimulation::Restart(std::size_t node) {
    if (alive_[node]) return;
    alive_[node] = 1;
    ++alive_count_;
    const auto id = static_cast<std::uint32_t>(node);
    nodes_[node] = SimCyclon(SimPeer{id, 0}, config_.cyclon, rng_);
    if (!members_.empty()) {
        const std::uint64_t incarnation = members_[node].Incarnation() + 1;
        members_[node] = SimMembership(SimPeer{id, 0}, incarnation, config_.membership_config, rng_);
    }
    start_[node] = now_;
    StartJoin(id, nodes_.size());
}

std::size_t CyclonSimulation::KillFraction(double fraction) {
    const auto target_alive =
        static_cast<std::size_t>(std::llround((1.0 - fraction) * static_cast<double>(nodes_.size())));
    std::size_t killed = 0;
    while (alive_count_ > target_alive) {
        const auto victim = static_cast<std::size_t>(rng_.Uniform(nodes_.size()));
        if (!alive_[victim]) continue;
        Kill(victim);
        ++killed;
    }
    return killed;
}

std::uint32_t CyclonSimulation::NewPayload() {
    if (!free_payloads_.empty()) {
        const std::uint32_t p = free_payloads_.back();
        free_payloads_.pop_back();
        return p;
    }
    payloads_.emplace_back();
    return static_cast<std::uint32_t>(payloads_.size() - 1);
}

void CyclonSimulation::FreePayload(std::uint32_t payload) {
    if (payload == kNoPayload) return;
    Payload& p = payloads_[payload];
    p.entries.clear();
    // Sync payloads hold whole member lists: do not keep that much memory in the pool.
    if (p.updates.capacity() > 256) {
        p.updates = {};
    } else {
        p.updates.clear();
    }
    p.has_digest = false;
    free_payloads_.push_back(payload);
}

std::optional<SimTime> CyclonSimulation::Send(Kind kind, std::uint32_t from, std::uint32_t to, std::uint32_t payload) {
    if (!members_.empty() && payload != kNoPayload && kind != Kind::kSyncRequest && kind != Kind::kSyncReply) {
        // Every message carries the sender's gossip and digest; lost ones waste them, as on a network.
        Payload& p = payloads_[payload];
        p.updates = members_[from].TakeGossip();
        p.digest = members_[from].Digest();
        p.has_digest = true;
        membership_stats_.piggybacked_updates += p.updates.size();
    }
    if (auto latency = network_.Transit()) {
        queue_.Push(now_ + *latency, Event{kind, 0, from, to, payload});
        return now_ + *latency;
    }
    FreePayload(payload);
    return std::nullopt;
}

void CyclonSimulation::ScheduleTimeout(std::uint32_t requester, std::uint32_t target, SimTime sent_at) {
    const SimTime at = std::max(now_, sent_at + network_.Config().request_timeout);
    queue_.Push(at, Event{Kind::kShuffleTimeout, 0, target, requester, kNoPayload});
}

void CyclonSimulation::SchedulePingTimeout(std::uint32_t requester,
                                           std::uint32_t target,
                                           SimTime sent_at,
                                           std::uint8_t attempts) {
    const SimTime at = std::max(now_, sent_at + network_.Config().request_timeout);
    queue_.Push(at, Event{Kind::kPingTimeout, attempts, target, requester, kNoPayload});
}

void CyclonSimulation::SendPing(std::uint32_t from, std::uint32_t to, std::uint8_t attempts) {
    ++membership_stats_.pings;
    const std::uint32_t p = NewPayload();
    payloads_[p].sent_at = now_;
    payloads_[p].attempts = attempts;
    if (!Send(Kind::kPing, from, to, p)) SchedulePingTimeout(from, to, now_, static_cast<std::uint8_t>(attempts - 1));
}

void CyclonSimulation::SendSync(Kind kind, std::uint32_t from, std::uint32_t to) {
    const std::uint32_t p = NewPayload();
    payloads_[p].updates = members_[from].Snapshot();
    ++membership_stats_.sync_messages;
    membership_stats_.sync_entries += payloads_[p].updates.size();
    Send(kind, from, to, p);
}

bool CyclonSimulation::ReceiveMembership(const Event& e) {
    SimMembership& m = members_[e.to];
    switch (e.kind) {
        case Kind::kSyncRequest:
            m.ApplySnapshot(payloads_[e.payload].updates);
            FreePayload(e.payload);
            SendSync(Kind::kSyncReply, e.to, e.from);
            return true;
        case Kind::kSyncReply:
            m.ApplySnapshot(payloads_[e.payload].updates);
            FreePayload(e.payload);
            return true;
        case Kind::kPingTimeout:
            if (e.attempts > 0) {
                SendPing(e.to, e.from, e.attempts);
            } else {
                const auto before = m.Find(e.from);
                m.Suspect(e.from);
                if (before && before->state == overlay::MemberState::kAlive) {
                    ++membership_stats_.suspicions;
                    membership_stats_.false_suspicions += alive_[e.from] ? 1 : 0;
                }
            }
            return true;
        case Kind::kShuffleTimeout:
            // Cyclon forgets the target either way; the membership first makes sure it is gone.
            nodes_[e.to].OnShuffleTimeout(e.from);
            if (config_.confirm_pings > 0) {
                SendPing(e.to, e.from, config_.confirm_pings);
            } else {
                queue_.Push(now_, Event{Kind::kPingTimeout, 0, e.from, e.to, kNoPayload});
            }
            return true;
        default:
            break;
    }
    if (e.payload != kNoPayload && payloads_[e.payload].has_digest) {
        const Payload& p = payloads_[e.payload];
        m.Apply(p.updates, p.digest);
        if (m.WantsSync(p.digest)) SendSync(Kind::kSyncRequest, e.to, e.from);
    }
    switch (e.kind) {
        case Kind::kPing: {
            const Payload& p = payloads_[e.payload];
            const SimTime sent_at = p.sent_at;
            const auto remaining = static_cast<std::uint8_t>(p.attempts - 1);
            const auto arrives = Send(Kind::kPingAck, e.to, e.from, e.payload);
            if (!arrives || *arrives > sent_at + network_.Config().request_timeout) {
                SchedulePingTimeout(e.from, e.to, sent_at, remaining);
            }
            return true;
        }
        case Kind::kPingAck:
            FreePayload(e.payload);
            return true;
        default:
            return false;
    }
}

void CyclonSimulation::SendJoinStep(std::uint32_t from, overlay::BasicJoinStep<SimPeer> step) {
    const std::uint32_t p = NewPayload();
    if (auto* forward = std::get_if<overlay::BasicJoinForward<SimPeer>>(&step)) {
        payloads_[p].walk = std::move(forward->walk);
        Send(Kind::kJoinWalk, from, forward->to.id, p);
    } else {
        auto& reply = std::get<overlay::BasicJoinReply<SimPeer>>(step);
        payloads_[p].entries = std::move(reply.entries);
        Send(Kind::kJoinReply, from, reply.to.id, p);
    }
}

SimTime CyclonSimulation::NextTickTime() const {
    return ticks_.empty() ? kNever : tick_round_start_ + ticks_[next_tick_].phase;
}

void CyclonSimulation::RunUntil(SimTime t) {
    for (;;) {
        const SimTime tick_at = NextTickTime();
        const SimTime message_at = queue_.Empty() ? kNever : queue_.NextTime();
        // At equal times messages go first; either order would be deterministic.
        if (message_at <= tick_at) {
            if (message_at > t) break;
            auto [at, event] = queue_.Pop();
            now_ = at;
            Dispatch(event);
        } else {
            if (tick_at > t) break;
            const std::uint32_t node = ticks_[next_tick_].node;
            if (++next_tick_ == ticks_.size()) {
                next_tick_ = 0;
                tick_round_start_ += config_.period;
            }
            // A slot can lie before now_ only for a node created during this round; start_ skips it.
            if (tick_at < start_[node] || !alive_[node]) continue;
            now_ = tick_at;
            Tick(node);
        }
    }
    now_ = std::max(now_, t);
}

void CyclonSimulation::Tick(std::uint32_t node) {
    if (!members_.empty()) members_[node].Tick();
    SimCyclon& cyclon = nodes_[node];
    auto request = cyclon.StartShuffle();
    if (config_.rejoin_after_quiet_rounds > 0 && cyclon.QuietRounds() >= config_.rejoin_after_quiet_rounds) {
        ++rejoins_;
        StartJoin(node, nodes_.size());
    }
    if (!request) return;
    ++shuffles_;
    const std::uint32_t q = request->to.id;
    const std::uint32_t p = NewPayload();
    payloads_[p].entries = std::move(request->entries);
    payloads_[p].sent_at = now_;
    // A timeout is only scheduled for a reply that will not be in time: the same outcome as
    // always scheduling one, for a fraction of the events.
    if (!Send(Kind::kShuffleRequest, node, q, p)) ScheduleTimeout(node, q, now_);
}

void CyclonSimulation::StartJoin(std::uint32_t node, std::size_t candidates) {
    if (alive_count_ < 2 || candidates == 0) return;
    std::uint32_t introducer = node;
    for (int attempt = 0; attempt < 64 && (introducer == node || !alive_[introducer]); ++attempt) {
        introducer = static_cast<std::uint32_t>(rng_.Uniform(candidates));
    }
    if (introducer == node || !alive_[introducer]) return;
    auto request = nodes_[node].Join(nodes_[introducer].Self());
    const std::uint32_t p = NewPayload();
    payloads_[p].walk.joiner = request.joiner;
    Send(Kind::kJoinRequest, node, introducer, p);
}

void CyclonSimulation::Dispatch(const Event& e) {
    if (!alive_[e.to]) {
        // Dead nodes do not answer; a requester learns of it only through its timeout.
        if (e.kind != Kind::kJoin && e.kind != Kind::kShuffleTimeout && e.kind != Kind::kPingTimeout) ++to_dead_;
        if (e.kind == Kind::kShuffleRequest) ScheduleTimeout(e.from, e.to, payloads_[e.payload].sent_at);
        if (e.kind == Kind::kPing) {
            const Payload& p = payloads_[e.payload];
            SchedulePingTimeout(e.from, e.to, p.sent_at, static_cast<std::uint8_t>(p.attempts - 1));
        }
        FreePayload(e.payload);
        return;
    }
    if (!members_.empty() && ReceiveMembership(e)) return;
    SimCyclon& node = nodes_[e.to];
    switch (e.kind) {
        case Kind::kShuffleRequest: {
            Payload& payload = payloads_[e.payload];
            const SimTime sent_at = payload.sent_at;
            payload.entries = node.OnShuffleRequest(e.from, std::move(payload.entries));
            const auto arrives = Send(Kind::kShuffleReply, e.to, e.from, e.payload);
            if (!arrives || *arrives > sent_at + network_.Config().request_timeout) {
                ScheduleTimeout(e.from, e.to, sent_at);
            }
            return;
        }
        case Kind::kShuffleReply:
            node.OnShuffleReply(e.from, std::move(payloads_[e.payload].entries));
            FreePayload(e.payload);
            return;
        case Kind::kShuffleTimeout:
            node.OnShuffleTimeout(e.from);
            return;
        case Kind::kJoin:
            start_[e.to] = now_;
            // Bootstrap joins go through an earlier node, later ones (AddNode) through any.
            StartJoin(e.to, config_.bootstrap == Bootstrap::kJoin && e.to < config_.nodes ? e.to : nodes_.size());
            return;
        case Kind::kJoinRequest: {
            auto steps = node.OnJoinRequest(payloads_[e.payload].walk.joiner);
            FreePayload(e.payload);
            for (auto& step : steps) SendJoinStep(e.to, std::move(step));
            return;
        }
        case Kind::kJoinWalk: {
            auto step = node.OnJoinWalk(payloads_[e.payload].walk);
            FreePayload(e.payload);
            if (step) SendJoinStep(e.to, std::move(*step));
            return;
        }
        case Kind::kJoinReply:
            node.OnJoinReply(std::move(payloads_[e.payload].entries));
            FreePayload(e.payload);
            return;
        case Kind::kPing:
        case Kind::kPingAck:
        case Kind::kPingTimeout:
        case Kind::kSyncRequest:
        case Kind::kSyncReply:
            // Only sent with membership, which handled them.
            FreePayload(e.payload);
            return;
    }
}

std::vector<std::uint32_t> CyclonSimulation::InDegrees() const {
    std::vector<std::uint32_t> degree(nodes_.size(), 0);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        for (const auto& entry : nodes_[i].View()) ++degree[entry.id];
    }
    return degree;
}

std::uint32_t CyclonSimulation::InDegree(std::size_t node) const {
    return InDegrees()[node];
}

DegreeStats CyclonSimulation::InDegreeStats() const {
    const auto all = InDegrees();
    std::vector<std::uint32_t> alive;
    alive.reserve(alive_count_);
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (alive_[i]) alive.push_back(all[i]);
    }
    return ComputeDegreeStats(alive);
}

std::vector<std::uint32_t> CyclonSimulation::ComponentSizes() const {
    UnionFind sets(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        for (const auto& entry : nodes_[i].View()) {
            if (alive_[entry.id]) sets.Union(static_cast<std::uint32_t>(i), entry.id);
        }
    }
    std::vector<std::uint32_t> sizes;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (alive_[i] && sets.Find(i) == i) sizes.push_back(sets.SizeOf(i));
    }
    std::sort(sizes.begin(), sizes.end(), std::greater<>());
    return sizes;
}

std::size_t CyclonSimulation::DeadEntries() const {
    std::size_t dead = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        for (const auto& entry : nodes_[i].View()) dead += alive_[entry.id] ? 0 : 1;
    }
    return dead;
}

std::optional<int> CyclonSimulation::RunUntilNoDeadEntries(int max_rounds) {
    for (int round = 1; round <= max_rounds; ++round) {
        RunRounds(1);
        if (DeadEntries() == 0) return round;
    }
    return std::nullopt;
}

std::size_t CyclonSimulation::WrongMemberLists() const {
    if (members_.empty()) return 0;
    std::vector<std::uint32_t> truth;
    truth.reserve(alive_count_);
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (alive_[i]) truth.push_back(i);
    }
    std::size_t wrong = 0;
    for (std::uint32_t i : truth) {
        const auto& members = members_[i].Members();
        const bool same =
            members.size() == truth.size() && std::equal(members.begin(), members.end(), truth.begin(),
                                                         [](const SimPeer& p, std::uint32_t id) { return p.id == id; });
        wrong += same ? 0 : 1;
    }
    return wrong;
}

std::optional<int> CyclonSimulation::RunUntilMembershipConverged(int max_rounds) {
    if (WrongMemberLists() == 0) return 0;
    for (int round = 1; round <= max_rounds; ++round) {
        RunRounds(1);
        if (WrongMemberLists() == 0) return round;
    }
    return std::nullopt;
}

}  // namespace shoal::sim
