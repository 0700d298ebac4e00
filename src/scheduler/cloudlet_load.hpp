#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace shoal::scheduler {

// One cloudlet's memory load as its agent reports it to a home agent that is placing a server
// (A2A, docs/scheduler.md). RAM in MB, after the hypervisors' reserved memory.
struct CloudletLoad {
    std::string cloudlet;                // the agent's peer id
    std::int64_t free_ram_mb = 0;        // on the least-loaded hypervisor: the biggest VM that fits
    std::int64_t total_free_ram_mb = 0;  // summed over the hypervisors
    std::int64_t total_ram_mb = 0;       // summed over the hypervisors
    std::int64_t in_flight_ram_mb = 0;   // builds sent to the cloudlet, not yet ACTIVE or ERROR
    int in_flight_builds = 0;

    bool operator==(const CloudletLoad&) const = default;
};

// Free RAM on the best hypervisor once the in-flight builds land. Pessimistic on purpose: the
// report cannot say which hypervisor each build will take, so all of them are charged to it.
inline std::int64_t EffectiveFreeRamMb(const CloudletLoad& load) {
    return load.free_ram_mb - load.in_flight_ram_mb;
}
// Free RAM of the whole cloudlet once the in-flight builds land (may be negative).
inline std::int64_t EffectiveTotalFreeRamMb(const CloudletLoad& load) {
    return load.total_free_ram_mb - load.in_flight_ram_mb;
}

// {"cloudlet":"c1","free_ram_mb":n,"total_free_ram_mb":n,"total_ram_mb":n,
//  "in_flight_ram_mb":n,"in_flight_builds":n}
nlohmann::json ToJson(const CloudletLoad& load);
// kBadRequest unless every field is present, integral and non-negative, and
// free_ram_mb <= total_free_ram_mb <= total_ram_mb. Unknown keys are ignored, so a newer agent
// may report more (vCPUs, disk) to an older one.
Result<CloudletLoad> CloudletLoadFromJson(const nlohmann::json& j);

}  // namespace shoal::scheduler
