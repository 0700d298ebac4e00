#include "cli/sim_command.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "sim/cyclon_experiment.hpp"
#include "sim/membership_experiment.hpp"

namespace shoal::cli {
namespace {

struct CyclonOptions {
    sim::CyclonExperiment experiment;
    std::string bootstrap = "join";
    double period_ms = 1000;
    double min_latency_ms = 5;
    double max_latency_ms = 50;
    double timeout_ms = 200;
};

sim::SimTime Micros(double ms) {
    return static_cast<sim::SimTime>(ms * 1000.0);
}

int RunCyclon(CyclonOptions o) {
    auto bootstrap = sim::ParseBootstrap(o.bootstrap);
    if (!bootstrap) {
        std::cerr << "shoal sim cyclon: --bootstrap must be join, random or chain\n";
        return 2;
    }
    auto& config = o.experiment.sim;
    config.bootstrap = *bootstrap;
    config.period = Micros(o.period_ms);
    config.network.min_latency = Micros(o.min_latency_ms);
    config.network.max_latency = Micros(o.max_latency_ms);
    config.network.request_timeout = Micros(o.timeout_ms);
    try {
        std::cout << sim::RunCyclonSimulation(o.experiment).dump(2) << std::endl;
    } catch (const std::invalid_argument& e) {
        std::cerr << "shoal sim cyclon: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

int RunMembership(const sim::MembershipExperiment& experiment) {
    try {
        std::cout << sim::RunMembershipSimulation(experiment).dump(2) << std::endl;
    } catch (const std::invalid_argument& e) {
        std::cerr << "shoal sim membership: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

void AddMembershipCommand(CLI::App& sim) {
    auto m = std::make_shared<sim::MembershipExperiment>();
    auto* cmd = sim.add_subcommand(
        "membership",
        "Simulate N agents running Cyclon with the full SWIM-style membership on top: rounds until every alive "
        "node's member list is right after bootstrap, a kill, a join and a restart; traffic; home-agent agreement "
        "over 10,000 tenants. Prints one JSON object; same seed, same output except wall_time_ms and lookup_ns.");
    cmd->add_option("--nodes", m->sim.nodes, "Number of nodes N")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--rounds", m->max_rounds, "Most rounds per phase")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--kill", m->kill, "Fraction of the nodes killed at once after bootstrap")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--loss", m->sim.network.loss, "Probability that a message is lost")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--seed", m->sim.seed, "Seed of the one random generator")->capture_default_str();
    cmd->add_option("--stable-rounds", m->stable_rounds, "Rounds watched for wrong lists at the end")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--tenants", m->tenants, "Tenants whose home every node computes")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    auto& mc = m->sim.membership_config;
    cmd->add_option("--gossip-factor", mc.gossip_factor, "Each update is sent about factor * log2(N+1) times")
        ->capture_default_str();
    cmd->add_option("--max-piggyback", mc.max_piggyback, "Updates per message")->capture_default_str();
    cmd->add_option("--suspect-rounds", mc.suspect_rounds, "Rounds before an unrefuted suspect is dead")
        ->capture_default_str();
    cmd->add_option("--sync-every", mc.sync_every_rounds, "Rounds between full-list syncs of one node")
        ->capture_default_str();
    cmd->add_option("--confirm-pings", m->sim.confirm_pings, "Pings confirming a shuffle timeout (0: none)")
        ->capture_default_str();
    cmd->callback([m] { std::exit(RunMembership(*m)); });
}

}  // namespace

void AddSimCommand(CLI::App& app) {
    auto* sim = app.add_subcommand("sim", "Deterministic simulations (virtual time, seeded; no sockets).");
    sim->require_subcommand(1);

    auto o = std::make_shared<CyclonOptions>();
    auto& e = o->experiment;
    auto* cyclon = sim->add_subcommand(
        "cyclon",
        "Simulate N agents running the Cyclon overlay: build it, kill a fraction of the nodes at once, let it "
        "heal, and print one JSON object (in-degree, components, rounds until no view holds a dead peer). "
        "Same seed, same output, except wall_time_ms. See docs/overlay.md.");
    cyclon->add_option("--nodes", e.sim.nodes, "Number of nodes N")->capture_default_str()->check(CLI::PositiveNumber);
    cyclon->add_option("--view", e.sim.cyclon.view_size, "View size c")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cyclon->add_option("--shuffle", e.sim.cyclon.shuffle_length, "Shuffle length l (1..c)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cyclon->add_option("--walk-length", e.sim.cyclon.walk_length, "Hops of each join random walk L")
        ->capture_default_str();
    cyclon->add_option("--rounds", e.rounds, "Rounds (shuffle periods) before the kill")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cyclon->add_option("--kill", e.kill, "Fraction of the nodes killed at once after --rounds")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cyclon->add_option("--after-kill-rounds", e.after_kill_rounds, "Rounds simulated after the kill")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cyclon->add_option("--seed", e.sim.seed, "Seed of the one random generator")->capture_default_str();
    cyclon->add_option("--loss", e.sim.network.loss, "Probability that a message is lost")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cyclon->add_option("--bootstrap", o->bootstrap, "join (random walks), random (random graph) or chain")
        ->capture_default_str();
    cyclon->add_option("--join-rounds", e.sim.join_rounds, "With --bootstrap join: rounds over which nodes join")
        ->capture_default_str();
    cyclon
        ->add_option("--rejoin-after", e.sim.rejoin_after_quiet_rounds,
                     "Join again after this many rounds without being contacted (0: never), as an agent would")
        ->capture_default_str();
    cyclon->add_option("--period-ms", o->period_ms, "Shuffle period T")->capture_default_str();
    cyclon->add_option("--min-latency-ms", o->min_latency_ms, "One-way latency, lower bound")->capture_default_str();
    cyclon->add_option("--max-latency-ms", o->max_latency_ms, "One-way latency, upper bound")->capture_default_str();
    cyclon->add_option("--timeout-ms", o->timeout_ms, "A shuffle without reply is given up after this long")
        ->capture_default_str();
    cyclon->callback([o] { std::exit(RunCyclon(*o)); });

    AddMembershipCommand(*sim);
}

}  // namespace shoal::cli
