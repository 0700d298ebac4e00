#include "sim/cyclon_experiment.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace shoal::sim {
namespace {

using nlohmann::json;

constexpr std::size_t kLargestComponentsShown = 10;

double Ms(SimTime t) {
    return static_cast<double>(t) / 1000.0;
}

json DegreeJson(const DegreeStats& s) {
    return json{{"mean", s.mean}, {"stddev", s.stddev}, {"min", s.min}, {"max", s.max}};
}

json ComponentsJson(const std::vector<std::uint32_t>& sizes) {
    const auto shown = std::min(sizes.size(), kLargestComponentsShown);
    return json{{"count", sizes.size()},
                {"largest", std::vector<std::uint32_t>(sizes.begin(), sizes.begin() + static_cast<long>(shown))}};
}

json Snapshot(const CyclonSimulation& sim) {
    return json{{"alive", sim.AliveCount()},
                {"in_degree", DegreeJson(sim.InDegreeStats())},
                {"components", ComponentsJson(sim.ComponentSizes())},
                {"dead_entries", sim.DeadEntries()}};
}

}  // namespace

json RunCyclonSimulation(const CyclonExperiment& experiment) {
    if (experiment.rounds < 0 || experiment.after_kill_rounds < 0) {
        throw std::invalid_argument("rounds must not be negative");
    }
    if (experiment.kill < 0 || experiment.kill >= 1) throw std::invalid_argument("kill must be in [0, 1)");
    const auto started = std::chrono::steady_clock::now();
    const CyclonSimConfig& config = experiment.sim;
    const auto c = config.cyclon.view_size;

    json out;
    out["parameters"] = json{{"nodes", config.nodes},
                             {"view_size", c},
                             {"shuffle_length", config.cyclon.shuffle_length},
                             {"walk_length", config.cyclon.walk_length},
                             {"rounds", experiment.rounds},
                             {"kill", experiment.kill},
                             {"after_kill_rounds", experiment.after_kill_rounds},
                             {"loss", config.network.loss},
                             {"seed", config.seed},
                             {"bootstrap", BootstrapName(config.bootstrap)},
                             {"period_ms", Ms(config.period)},
                             {"latency_ms", {Ms(config.network.min_latency), Ms(config.network.max_latency)}},
                             {"request_timeout_ms", Ms(config.network.request_timeout)},
                             {"rejoin_after_quiet_rounds", config.rejoin_after_quiet_rounds}};
    // Each node's in-degree in a random graph with out-degree c is Binomial(n-1, c/(n-1)).
    const double n = static_cast<double>(config.nodes);
    const double p = n > 1 ? static_cast<double>(c) / (n - 1) : 0;
    out["random_graph_in_degree_stddev"] = std::sqrt(std::max(0.0, (n - 1) * p * (1 - p)));

    CyclonSimulation sim(config);
    sim.RunRounds(experiment.rounds);
    out["before_kill"] = Snapshot(sim);

    json kill;
    kill["killed"] = sim.KillFraction(experiment.kill);
    kill["alive"] = sim.AliveCount();
    kill["components_right_after"] = ComponentsJson(sim.ComponentSizes());
    kill["dead_entries_right_after"] = sim.DeadEntries();
    std::optional<int> clean_after;
    if (sim.DeadEntries() == 0) clean_after = 0;
    for (int round = 1; round <= experiment.after_kill_rounds; ++round) {
        sim.RunRounds(1);
        if (!clean_after && sim.DeadEntries() == 0) clean_after = round;
    }
    kill["rounds_until_no_dead_entries"] = clean_after ? json(*clean_after) : json(nullptr);
    out["kill"] = std::move(kill);
    out["end"] = Snapshot(sim);
    out["messages"] = json{{"sent", sim.MessagesSent()},
                           {"lost", sim.MessagesLost()},
                           {"to_dead_nodes", sim.MessagesToDeadNodes()},
                           {"shuffles", sim.ShufflesStarted()},
                           {"rejoins", sim.Rejoins()}};
    out["wall_time_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return out;
}

}  // namespace shoal::sim
