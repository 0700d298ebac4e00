#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>

#include "sim/cyclon_simulation.hpp"

namespace shoal::sim {

// One `shoal sim cyclon` run: build the overlay for `rounds`, kill `kill` of the nodes at once,
// then run `after_kill_rounds` more.
struct CyclonExperiment {
    CyclonSimConfig sim;
    int rounds = 100;
    double kill = 0.5;
    int after_kill_rounds = 100;
};

// Runs the experiment and reports it as one JSON object (docs/overlay.md lists the fields).
// Everything but "wall_time_ms" is a function of the parameters and the seed.
nlohmann::json RunCyclonSimulation(const CyclonExperiment& experiment);

}  // namespace shoal::sim
