#pragma once

#include <string>
#include <vector>

#include "agent/agent_config.hpp"

namespace shoal::bench {

// One `shoal bench` run (docs/benchmarks.md): the scenario's steps, each against fresh systems
// (bench/systems.hpp) built on the calibrated controller model (bench/controller_model.hpp).
struct BenchOptions {
    std::string scenario;
    std::vector<std::string> systems;  // empty: the scenario's
    std::vector<int> sizes;            // empty: the scenario's
    std::vector<int> concurrency;      // empty: the scenario's
    int repetitions = 0;               // 0: the scenario's
    int poll_ms = 0;                   // 0: the scenario's
    int image_kib = 0;                 // 0: the scenario's
    int boot_timeout_s = 0;            // 0: the scenario's
    std::string json_path;
    std::string plots;  // PNG prefix; empty: beside --json
    std::string log_level = "warn";
    std::string replot;                                 // a results file: only draw its plots
    std::vector<agent::CloudletAccess> real_cloudlets;  // the real-* systems' cloudlets
};

// Runs it; the process's exit code (2: bad options, with the reason on stderr).
int RunBench(const BenchOptions& options);

}  // namespace shoal::bench
