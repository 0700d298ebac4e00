#pragma once

#include <CLI/CLI.hpp>

namespace shoal::cli {

// `shoal cloudlet`: runs one embedded OpenStack cloudlet in the foreground.
void AddCloudletCommand(CLI::App& app);

}  // namespace shoal::cli
