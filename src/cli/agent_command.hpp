#pragma once

#include <CLI/CLI.hpp>

namespace shoal::cli {

// `shoal agent --config FILE`: one agent (and its embedded cloudlet, if configured).
void AddAgentCommand(CLI::App& app);
// `shoal status --config FILE [--agent HOST:PORT] [--all]`: an agent's view, members and counters.
void AddStatusCommand(CLI::App& app);

}  // namespace shoal::cli
