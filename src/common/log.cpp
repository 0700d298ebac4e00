#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace shoal {

void SetupLogging(std::string_view level) {
    auto logger = spdlog::stderr_color_mt("shoal");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace shoal
