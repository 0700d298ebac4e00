#pragma once

#include <cstdio>
#include <string>

namespace shoal::state::testing {

// The key and value state_crash_writer writes as its i-th put (i from 0).
inline std::string CrashKey(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "k%06d", i);
    return buf;
}
inline std::string CrashValue(int i) {
    return "value-" + std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i % 700), 'x');
}

}  // namespace shoal::state::testing
