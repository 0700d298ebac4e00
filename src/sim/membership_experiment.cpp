#include "sim/membership_experiment.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "overlay/home_mapping.hpp"
#include "overlay/wire.hpp"

namespace shoal::sim {
namespace {

using nlohmann::json;

// What one update costs on the wire, for an agent-like id, address and incarnation (ms).
std::size_t JsonBytesPerUpdate() {
    const overlay::MemberUpdate u{
        {overlay::PeerId("agent-0042"), "10.0.0.42:7443", 0}, 1712345678901, overlay::MemberState::kAlive};
    return overlay::ToJson(u).dump().size();
}

// Traffic between two points of a run, per alive node and round.
class PhaseMeter {
public:
    explicit PhaseMeter(const CyclonSimulation& sim)
        : sim_(sim), stats_(sim.MembershipTraffic()), messages_(sim.MessagesSent()) {}

    // `rounds`: to convergence, or nullopt when `ran` rounds were not enough.
    json Report(const std::optional<int>& rounds, int ran, std::size_t bytes_per_update) const {
        const auto& now = sim_.MembershipTraffic();
        const int r = rounds.value_or(ran);
        const double node_rounds = static_cast<double>(sim_.AliveCount()) * std::max(r, 1);
        const auto per = [&](std::uint64_t a, std::uint64_t b) { return static_cast<double>(a - b) / node_rounds; };
        const double piggyback = per(now.piggybacked_updates, stats_.piggybacked_updates);
        const double sync_entries = per(now.sync_entries, stats_.sync_entries);
        return json{{"rounds_to_converge", rounds ? json(*rounds) : json(nullptr)},
                    {"wrong_lists", sim_.WrongMemberLists()},
                    {"per_node_per_round",
                     {{"messages", per(sim_.MessagesSent(), messages_)},
                      {"piggybacked_updates", piggyback},
                      {"sync_messages", per(now.sync_messages, stats_.sync_messages)},
                      {"sync_entries", sync_entries},
                      {"json_bytes", (piggyback + sync_entries) * static_cast<double>(bytes_per_update)}}},
                    {"full_syncs", now.sync_messages - stats_.sync_messages},
                    {"suspicions", now.suspicions - stats_.suspicions},
                    {"false_suspicions", now.false_suspicions - stats_.false_suspicions}};
    }

private:
    const CyclonSimulation& sim_;
    MembershipStats stats_;
    std::uint64_t messages_;
};

std::vector<std::string> Tenants(int n) {
    std::vector<std::string> tenants;
    tenants.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tenants.push_back("tenant-" + std::to_string(i));
    return tenants;
}

// Home of every tenant over the true alive set.
std::vector<std::uint32_t> TrueHomes(const CyclonSimulation& sim, const std::vector<std::string>& tenants) {
    std::vector<SimPeer> alive;
    for (std::uint32_t i = 0; i < sim.Size(); ++i) {
        if (sim.IsAlive(i)) alive.push_back(SimPeer{i, 0});
    }
    std::vector<std::uint32_t> homes;
    homes.reserve(tenants.size());
    for (const auto& t : tenants) homes.push_back(overlay::RendezvousOwner(t, alive)->id);
    return homes;
}

double MovedFraction(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
    std::size_t moved = 0;
    for (std::size_t i = 0; i < a.size(); ++i) moved += a[i] != b[i] ? 1 : 0;
    return a.empty() ? 0.0 : static_cast<double>(moved) / static_cast<double>(a.size());
}

// Every alive node's own answer (its member list through a HomeMapping) against the true homes.
// Nodes with the same list give the same answers, so each distinct list is evaluated once.
json HomeAgreement(const CyclonSimulation& sim, const std::vector<std::string>& tenants) {
    const auto truth = TrueHomes(sim, tenants);
    std::vector<const std::vector<SimPeer>*> distinct;
    std::size_t nodes_wrong = 0;
    std::size_t tenant_disagreements = 0;
    for (std::uint32_t i = 0; i < sim.Size(); ++i) {
        if (!sim.IsAlive(i)) continue;
        const auto& members = sim.Membership(i).Members();
        bool seen = false;
        for (const auto* d : distinct) seen = seen || *d == members;
        if (seen) continue;
        distinct.push_back(&members);
        overlay::BasicHomeMapping<SimPeer> mapping;
        std::size_t wrong = 0;
        for (std::size_t t = 0; t < tenants.size(); ++t) {
            wrong += mapping.Owner(tenants[t], sim.Membership(i))->id != truth[t] ? 1 : 0;
        }
        tenant_disagreements += wrong;
        nodes_wrong += wrong > 0 ? 1 : 0;
    }
    return json{{"tenants", tenants.size()},
                {"distinct_member_lists", distinct.size()},
                {"lists_with_a_wrong_home", nodes_wrong},
                {"wrong_homes", tenant_disagreements}};
}

// ns per HomeMapping lookup over n agent-like members: first sight (miss, O(n)) and repeat (hit).
json LookupCost(int n) {
    std::vector<overlay::PeerDescriptor> members;
    for (int i = 0; i < n; ++i) {
        members.push_back({overlay::PeerId("agent-" + std::to_string(100000 + i)), "10.0.0.1:7443", 0});
    }
    const auto tenants = Tenants(2000);
    overlay::HomeMapping mapping;
    std::size_t sink = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& t : tenants) sink += mapping.Owner(t, members, 1)->address.size();
    const auto miss = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    constexpr int kRepeats = 50;
    start = std::chrono::steady_clock::now();
    for (int r = 0; r < kRepeats; ++r) {
        for (const auto& t : tenants) sink += mapping.Owner(t, members, 1)->address.size();
    }
    const auto hit = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    return json{{"members", n},
                {"miss", miss / static_cast<double>(tenants.size())},
                {"hit", hit / static_cast<double>(tenants.size() * kRepeats)},
                {"checksum", sink % 7}};
}

}  // namespace

json RunMembershipSimulation(const MembershipExperiment& experiment) {
    if (experiment.max_rounds < 0 || experiment.stable_rounds < 0 || experiment.tenants < 0) {
        throw std::invalid_argument("rounds and tenants must not be negative");
    }
    if (experiment.kill < 0 || experiment.kill >= 1) throw std::invalid_argument("kill must be in [0, 1)");
    const auto started = std::chrono::steady_clock::now();
    CyclonSimConfig config = experiment.sim;
    config.membership = true;
    // What an agent's shell does (docs/overlay.md): a node nobody contacts for 2c rounds joins again.
    if (config.rejoin_after_quiet_rounds == 0) {
        config.rejoin_after_quiet_rounds = 2 * static_cast<std::uint32_t>(config.cyclon.view_size);
    }
    const auto& mc = config.membership_config;
    const std::size_t bytes_per_update = JsonBytesPerUpdate();

    json out;
    out["parameters"] = json{{"nodes", config.nodes},
                             {"max_rounds", experiment.max_rounds},
                             {"kill", experiment.kill},
                             {"loss", config.network.loss},
                             {"seed", config.seed},
                             {"view_size", config.cyclon.view_size},
                             {"gossip_factor", mc.gossip_factor},
                             {"max_piggyback", mc.max_piggyback},
                             {"suspect_rounds", mc.suspect_rounds},
                             {"tombstone_rounds", mc.tombstone_rounds},
                             {"sync_every_rounds", mc.sync_every_rounds},
                             {"confirm_pings", config.confirm_pings},
                             {"rejoin_after_quiet_rounds", config.rejoin_after_quiet_rounds},
                             {"json_bytes_per_update", bytes_per_update}};
    const auto tenants = Tenants(experiment.tenants);

    CyclonSimulation sim(config);
    PhaseMeter bootstrap(sim);
    out["bootstrap"] = bootstrap.Report(sim.RunUntilMembershipConverged(experiment.max_rounds), experiment.max_rounds,
                                        bytes_per_update);

    auto homes = TrueHomes(sim, tenants);
    PhaseMeter kill(sim);
    sim.KillFraction(experiment.kill);
    out["kill"] =
        kill.Report(sim.RunUntilMembershipConverged(experiment.max_rounds), experiment.max_rounds, bytes_per_update);
    auto after = TrueHomes(sim, tenants);
    out["kill"]["killed"] = sim.Size() - sim.AliveCount();
    out["kill"]["tenants_moved"] = MovedFraction(homes, after);
    homes = std::move(after);

    PhaseMeter join(sim);
    const std::size_t joiner = sim.AddNode();
    out["join"] =
        join.Report(sim.RunUntilMembershipConverged(experiment.max_rounds), experiment.max_rounds, bytes_per_update);
    after = TrueHomes(sim, tenants);
    out["join"]["tenants_moved"] = MovedFraction(homes, after);
    homes = std::move(after);
    out["join"]["node"] = joiner;

    std::optional<std::size_t> restarted;
    for (std::size_t i = 0; i < sim.Size() && !restarted; ++i) {
        if (!sim.IsAlive(i)) restarted = i;
    }
    if (restarted) {
        PhaseMeter restart(sim);
        const auto old_incarnation = sim.Membership(*restarted).Incarnation();
        sim.Restart(*restarted);
        out["restart"] = restart.Report(sim.RunUntilMembershipConverged(experiment.max_rounds), experiment.max_rounds,
                                        bytes_per_update);
        out["restart"]["node"] = *restarted;
        out["restart"]["incarnation"] = {old_incarnation, sim.Membership(*restarted).Incarnation()};
    }

    PhaseMeter stable(sim);
    int wrong_rounds = 0;
    std::size_t most_wrong = 0;
    for (int r = 0; r < experiment.stable_rounds; ++r) {
        sim.RunRounds(1);
        const auto wrong = sim.WrongMemberLists();
        wrong_rounds += wrong > 0 ? 1 : 0;
        most_wrong = std::max(most_wrong, wrong);
    }
    out["stable"] = stable.Report(experiment.stable_rounds, experiment.stable_rounds, bytes_per_update);
    out["stable"].erase("rounds_to_converge");
    out["stable"]["rounds"] = experiment.stable_rounds;
    out["stable"]["rounds_with_wrong_lists"] = wrong_rounds;
    out["stable"]["most_wrong_lists"] = most_wrong;

    out["home_agreement"] = HomeAgreement(sim, tenants);
    std::size_t tombstones = 0;
    std::size_t entries = 0;
    for (std::size_t i = 0; i < sim.Size(); ++i) {
        if (!sim.IsAlive(i)) continue;
        entries += sim.Membership(i).EntryCount();
        tombstones += sim.Membership(i).EntryCount() - sim.Membership(i).MemberCount();
    }
    out["end"] = json{{"alive", sim.AliveCount()},
                      {"entries_per_node", static_cast<double>(entries) / static_cast<double>(sim.AliveCount())},
                      {"tombstones_per_node", static_cast<double>(tombstones) / static_cast<double>(sim.AliveCount())},
                      {"messages_sent", sim.MessagesSent()},
                      {"messages_lost", sim.MessagesLost()}};
    out["wall_time_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    out["lookup_ns"] = json::array({LookupCost(16), LookupCost(static_cast<int>(sim.AliveCount()))});
    return out;
}

}  // namespace shoal::sim
