#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace shoal::cloudlet {

enum class MemorySource {
    kAuto,         // Nova's hypervisors, else Placement when their memory fields are absent
    kHypervisors,  // GET /os-hypervisors/detail at microversion 2.1
    kPlacement,    // resource providers' MEMORY_MB inventories and usages
};
std::string_view MemorySourceName(MemorySource s);

// A cloudlet's memory load, for the scheduler. All in MiB.
struct MemoryLoadReport {
    std::int64_t free_ram_mb_max = 0;           // free on the least-loaded compute node: the biggest VM that fits
    std::int64_t free_ram_mb_total = 0;         // free over all counted compute nodes
    std::int64_t ram_mb_total = 0;              // physical RAM of the counted compute nodes
    int hypervisors = 0;                        // compute nodes counted (up and enabled)
    MemorySource source = MemorySource::kAuto;  // where the numbers came from
};

// From Nova's GET /os-hypervisors/detail body: only hypervisors whose state is "up" and status
// "enabled" count; free = memory_mb - memory_mb_used (Nova counts the host's reserved memory
// as used), never below 0. An error (kNotImplemented) when a counted hypervisor has no memory
// fields (microversion >= 2.88 dropped them).
Result<MemoryLoadReport> MemoryFromHypervisors(const nlohmann::json& body);

// One Placement resource provider's MEMORY_MB.
struct ProviderMemory {
    std::int64_t total = 0;
    std::int64_t reserved = 0;
    double allocation_ratio = 1.0;
    std::int64_t max_unit = 0;  // the largest single allocation; 0: unlimited
    std::int64_t used = 0;

    std::int64_t Capacity() const;    // (total - reserved) * allocation_ratio
    std::int64_t Free() const;        // Capacity() - used, never below 0
    std::int64_t LargestFit() const;  // Free(), capped by max_unit
};

// From GET /resource_providers/{uuid}/inventories and .../usages bodies; nullopt when the
// provider has no MEMORY_MB inventory (not a compute node, e.g. a nested device provider).
std::optional<ProviderMemory> ParseProviderMemory(const nlohmann::json& inventories, const nlohmann::json& usages);

MemoryLoadReport MemoryFromProviders(const std::vector<ProviderMemory>& providers);

}  // namespace shoal::cloudlet
