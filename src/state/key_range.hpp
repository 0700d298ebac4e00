#pragma once

#include <string>

namespace shoal::state {

// The smallest key greater than every key that starts with `prefix` (the prefix with its last
// byte below 0xff incremented and the bytes after it dropped), as etcd's range_end. Empty when no
// such key exists (empty prefix, or only 0xff bytes): the range is then unbounded above.
inline std::string PrefixRangeEnd(std::string prefix) {
    while (!prefix.empty()) {
        auto last = static_cast<unsigned char>(prefix.back());
        if (last < 0xff) {
            prefix.back() = static_cast<char>(last + 1);
            return prefix;
        }
        prefix.pop_back();
    }
    return prefix;
}

}  // namespace shoal::state
