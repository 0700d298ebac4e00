#pragma once

#include <CLI/CLI.hpp>

namespace shoal::cli {

// `shoal sim cyclon`: runs the deterministic Cyclon overlay simulation and prints one JSON report.
void AddSimCommand(CLI::App& app);

}  // namespace shoal::cli
