#pragma once

#include <CLI/CLI.hpp>

namespace shoal::cli {

// `shoal sim cyclon` and `shoal sim membership`: run the deterministic overlay simulations and print
// one JSON report each.
void AddSimCommand(CLI::App& app);

}  // namespace shoal::cli
