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
    node_options_.cyclon = config_.cyclon;
    node_options_.membership = config_.membership;
    node_options_.membership_config = config_.membership_config;
    node_options_.rejoin_after_quiet_rounds = config_.rejoin_after_quiet_rounds;
    node_options_.confirm_pings = config_.confirm_pings;
    nodes_.reserve(config_.nodes);
    // With kJoin a node starts its rounds when it has joined.
    const SimTime start = config_.bootstrap == Bootstrap::kJoin ? kNever : 0;
    for (std::size_t i = 0; i < config_.nodes; ++i) CreateNode(start);
    std::stable_sort(ticks_.begin(), ticks_.end(),
                     [](const TickSlot& a, const TickSlot& b) { return a.phase < b.phase; });
    Bootstrap();
}

SimNode CyclonSimulation::MakeNode(std::uint32_t index, std::uint64_t incarnation) {
    return SimNode(SimPeer{index, 0}, incarnation, node_options_, rng_);
}

std::size_t CyclonSimulation::CreateNode(SimTime start) {
    const auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(MakeNode(index, 0));
    epoch_.push_back(0);
    alive_.push_back(1);
    start_.push_back(start);
    ++alive_count_;
    // A random phase, so that rounds are spread over the period instead of in lock-step.
    ticks_.push_back(TickSlot{static_cast<SimTime>(rng_.Uniform(static_cast<std::uint64_t>(config_.period))), index});
    return index;
}

void CyclonSimulation::Bootstrap() {
    const std::size_t n = nodes_.size();
    const std::size_t c = config_.cyclon.view_size;
    // The view-building bootstraps are the paper's experiments: a node's seed is only for
    // rejoins, so every node gets a random other one.
    const auto seed_all = [this, n] {
        for (std::size_t i = 0; i < n; ++i) {
            if (auto seed = PickSeed(static_cast<std::uint32_t>(i), n)) nodes_[i].SetSeeds({SimPeer{*seed, 0}});
        }
    };
    switch (config_.bootstrap) {
        case Bootstrap::kJoin: {
            const double spacing = config_.join_rounds * static_cast<double>(config_.period) / static_cast<double>(n);
            for (std::size_t i = 0; i < n; ++i) {
                queue_.Push(static_cast<SimTime>(std::floor(spacing * static_cast<double>(i))),
                            Event{Kind::kJoin, 0, 0, static_cast<std::uint32_t>(i), kNoPayload, 0});
            }
            break;
        }
        case Bootstrap::kRandom:
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t want = std::min(c, n - 1);
                while (nodes_[i].Cyclon().View().size() < want) {
                    const auto peer = static_cast<std::uint32_t>(rng_.Uniform(n));
                    if (peer != i) nodes_[i].AddPeer(SimPeer{peer, 0});  // refuses duplicates
                }
            }
            seed_all();
            break;
        case Bootstrap::kChain:
            for (std::size_t i = 0; i + 1 < n; ++i) {
                nodes_[i].AddPeer(SimPeer{static_cast<std::uint32_t>(i + 1), 0});
            }
            seed_all();
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
    queue_.Push(now_, Event{Kind::kJoin, 0, 0, static_cast<std::uint32_t>(index), kNoPayload, 0});
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
    const std::uint64_t incarnation = config_.membership ? nodes_[node].Membership().Incarnation() + 1 : 0;
    nodes_[node] = MakeNode(id, incarnation);
    ++epoch_[node];
    start_[node] = now_;
    StartNode(id, nodes_.size());
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
    SimMessage& m = payloads_[payload].message;
    m.entries.clear();
    m.gossip.clear();
    m.digest.reset();
    // Whole member lists: do not keep that much memory in the pool.
    m.members.reset();
    free_payloads_.push_back(payload);
}

void CyclonSimulation::Count(const SimMessage& m) {
    membership_stats_.piggybacked_updates += m.gossip.size();
    if (m.members) {
        ++membership_stats_.sync_messages;
        membership_stats_.sync_entries += m.members->size();
    }
}

void CyclonSimulation::Flush(std::uint32_t from) {
    for (auto& o : outbox_) {
        switch (o.message.type) {
            case overlay::MessageType::kShuffle:
                ++shuffles_;
                break;
            case overlay::MessageType::kPing:
                ++membership_stats_.pings;
                break;
            default:
                break;
        }
        Count(o.message);
        const std::uint32_t to = o.to.id;
        if (auto latency = network_.Transit()) {
            const std::uint32_t p = NewPayload();
            payloads_[p].message = std::move(o.message);
            payloads_[p].sent_at = now_;
            payloads_[p].epoch = epoch_[from];
            queue_.Push(now_ + *latency, Event{Kind::kRequest, epoch_[to], from, to, p, o.exchange});
        } else {
            TimeOut(from, to, epoch_[from], o.exchange, now_);
        }
    }
    outbox_.clear();
}

void CyclonSimulation::TimeOut(
    std::uint32_t requester, std::uint32_t target, std::uint32_t epoch, std::uint64_t exchange, SimTime sent_at) {
    const SimTime at = std::max(now_, sent_at + network_.Config().request_timeout);
    queue_.Push(at, Event{Kind::kNoAnswer, epoch, target, requester, kNoPayload, exchange});
}

void CyclonSimulation::Answer(const Event& request, SimMessage answer) {
    const Payload& p = payloads_[request.payload];
    const SimTime sent_at = p.sent_at;
    const std::uint32_t epoch = p.epoch;
    Count(answer);
    const auto latency = network_.Transit();
    // An answer later than the requester's timeout is dropped by it, as an HTTP client does.
    if (!latency || now_ + *latency > sent_at + network_.Config().request_timeout) {
        FreePayload(request.payload);
        TimeOut(request.from, request.to, epoch, request.exchange, sent_at);
        return;
    }
    payloads_[request.payload].message = std::move(answer);
    queue_.Push(now_ + *latency,
                Event{Kind::kAnswer, epoch, request.to, request.from, request.payload, request.exchange});
}

std::optional<std::uint32_t> CyclonSimulation::PickSeed(std::uint32_t node, std::size_t candidates) {
    if (alive_count_ < 2 || candidates == 0) return std::nullopt;
    std::uint32_t seed = node;
    for (int attempt = 0; attempt < 64 && (seed == node || !alive_[seed]); ++attempt) {
        seed = static_cast<std::uint32_t>(rng_.Uniform(candidates));
    }
    if (seed == node || !alive_[seed]) return std::nullopt;
    return seed;
}

void CyclonSimulation::StartNode(std::uint32_t node, std::size_t seed_candidates) {
    if (auto seed = PickSeed(node, seed_candidates)) nodes_[node].SetSeeds({SimPeer{*seed, 0}});
    nodes_[node].Start(outbox_);
    Flush(node);
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
    SimNode& n = nodes_[node];
    // The environment, not the policy: an operator replaces a seed that is gone for good.
    if (n.Options().rejoin_after_quiet_rounds > 0 && !n.Seeds().empty() && !alive_[n.Seeds().front().id]) {
        if (auto seed = PickSeed(node, nodes_.size())) n.SetSeeds({SimPeer{*seed, 0}});
    }
    const auto joins = n.Counters().joins;
    n.OnRound(outbox_);
    rejoins_ += n.Counters().joins - joins;
    Flush(node);
}

void CyclonSimulation::Dispatch(const Event& e) {
    switch (e.kind) {
        case Kind::kJoin:
            start_[e.to] = now_;
            // Bootstrap joins go through an earlier node, later ones (AddNode) through any.
            StartNode(e.to, config_.bootstrap == Bootstrap::kJoin && e.to < config_.nodes ? e.to : nodes_.size());
            return;
        case Kind::kRequest: {
            // A request reaches whatever runs at the address now, a restarted node included.
            if (!alive_[e.to]) {
                // Dead nodes do not answer; the requester learns of it only through its timeout.
                ++to_dead_;
                const Payload& p = payloads_[e.payload];
                TimeOut(e.from, e.to, p.epoch, e.exchange, p.sent_at);
                FreePayload(e.payload);
                return;
            }
            auto answer = nodes_[e.to].OnMessage(std::move(payloads_[e.payload].message), outbox_);
            Flush(e.to);
            if (answer) {
                Answer(e, std::move(*answer));
            } else {
                // A refused request is an error answer: the requester gives up.
                const Payload& p = payloads_[e.payload];
                TimeOut(e.from, e.to, p.epoch, e.exchange, now_);
                FreePayload(e.payload);
            }
            return;
        }
        case Kind::kAnswer:
            if (alive_[e.to] && e.epoch == epoch_[e.to]) {
                nodes_[e.to].OnAnswer(e.exchange, std::move(payloads_[e.payload].message), outbox_);
                Flush(e.to);
            }
            FreePayload(e.payload);
            return;
        case Kind::kNoAnswer: {
            if (!alive_[e.to] || e.epoch != epoch_[e.to]) return;
            SimNode& n = nodes_[e.to];
            const auto suspicions = n.Counters().suspicions;
            n.OnNoAnswer(e.exchange, outbox_);
            if (n.Counters().suspicions > suspicions) {
                ++membership_stats_.suspicions;
                membership_stats_.false_suspicions += alive_[e.from] ? 1 : 0;
            }
            Flush(e.to);
            return;
        }
    }
}

std::vector<std::uint32_t> CyclonSimulation::InDegrees() const {
    std::vector<std::uint32_t> degree(nodes_.size(), 0);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        for (const auto& entry : nodes_[i].Cyclon().View()) ++degree[entry.id];
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
        for (const auto& entry : nodes_[i].Cyclon().View()) {
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
        for (const auto& entry : nodes_[i].Cyclon().View()) dead += alive_[entry.id] ? 0 : 1;
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
    if (!config_.membership) return 0;
    std::vector<std::uint32_t> truth;
    truth.reserve(alive_count_);
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (alive_[i]) truth.push_back(i);
    }
    std::size_t wrong = 0;
    for (std::uint32_t i : truth) {
        const auto& members = nodes_[i].Membership().Members();
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
