#pragma once

#include <nlohmann/json_fwd.hpp>

#include "sim/cyclon_simulation.hpp"

namespace shoal::sim {

// One `shoal sim membership` run (docs/overlay.md, "Membership"): N nodes run Cyclon with the
// full membership on top. Phases, each run until every alive node's Members() is the true alive
// set (at most max_rounds): bootstrap; killing `kill` of the nodes at once; one new node joining;
// one killed node restarting (higher incarnation); then stable_rounds more, watching for wrong
// lists (false suspicions under loss). Then every alive node's home for `tenants` tenants.
struct MembershipExperiment {
    CyclonSimConfig sim;  // sim.membership is forced on; rejoin_after_quiet_rounds 0 becomes 2c
    int max_rounds = 200;
    double kill = 0.1;
    int stable_rounds = 30;
    int tenants = 10'000;
};

// Everything but "wall_time_ms" and "lookup_ns" is a function of the parameters and the seed.
nlohmann::json RunMembershipSimulation(const MembershipExperiment& experiment);

}  // namespace shoal::sim
