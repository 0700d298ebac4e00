#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace shoal {

// Logs go to stderr: stdout of `shoal cloudlet`/`shoal up` is for the `export OS_...` lines.
void SetupLogging(std::string_view level);

}  // namespace shoal
