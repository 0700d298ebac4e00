#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "bench/boot_and_delete.hpp"

namespace shoal::bench {

// One benchmark step: one system, one size, one load (docs/benchmarks.md, "Results").
struct StepResult {
    std::string system;  // shoal, standard, direct
    int size = 0;        // cloudlets (shoal, direct) or compute nodes (standard)
    int users = 0;
    BootPlan plan;
    std::vector<RepetitionOutcome> repetitions;
    double wall_s = 0;
    double start_s = 0;  // the system's start (agents converged), part of wall_s
    double rss_mb = 0;   // the whole process's resident memory after the boots (systems and load generator)
    std::string error;   // the step could not run at all (the system did not start, ...)
};

// The step's JSON: counts, failure rate and reasons, start-up time distribution, servers per
// host and their standard deviation. Field names are documented in docs/benchmarks.md.
nlohmann::json StepJson(const StepResult& step);

// Failure reasons with ids and numbers that differ per server replaced, so that equal causes
// count together ("... for instance {id}").
std::string ReasonKey(const std::string& reason);

// Writes PNG plots of a scenario's steps with gnuplot: for each metric, one line per system
// against `x_field` ("size" or "concurrency"). Returns the files written; empty (and a warning)
// when gnuplot is not installed.
std::vector<std::string> WritePlots(const nlohmann::json& results,
                                    const std::string& prefix,
                                    const std::string& x_field);

}  // namespace shoal::bench
