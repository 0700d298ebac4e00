#pragma once

#include <string>

namespace shoal::bench {

// `shoal bench --scenario overhead`: what one agent adds to a GET, against the same GET sent
// straight to its cloudlet in the same run (docs/benchmarks.md, "Agent overhead").
int RunOverhead(const std::string& json_path);

}  // namespace shoal::bench
