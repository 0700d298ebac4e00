#pragma once

#include <CLI/CLI.hpp>

namespace shoal::cli {

// `shoal bench`: the paper's evaluation (docs/benchmarks.md).
void AddBenchCommand(CLI::App& app);

}  // namespace shoal::cli
