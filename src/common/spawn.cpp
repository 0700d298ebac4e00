#include "common/spawn.hpp"

#include <spdlog/spdlog.h>

namespace shoal {

void LogCoroutineFailure(std::string_view what, const std::exception_ptr& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        spdlog::error("{}: {}", what, x.what());
    } catch (...) {
        spdlog::error("{}: an exception that is not a std::exception", what);
    }
}

}  // namespace shoal
