#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emulator/service_context.hpp"

namespace shoal::emulator {

// One fake hypervisor (nova-compute with the fake virt driver) and its resource usage.
struct Hypervisor {
    int id = 0;                 // Nova's integer id (microversions < 2.53)
    std::string uuid;           // also the placement resource provider UUID
    std::string hostname;       // "<cloudlet>-compute-<n>"
    int vcpus = 0;
    int memory_mb = 0;
    int disk_gb = 0;
    int reserved_memory_mb = 0;
    double cpu_allocation_ratio = 1.0;
    double ram_allocation_ratio = 1.0;
    double disk_allocation_ratio = 1.0;
    int vcpus_used = 0;      // sum of allocations
    int memory_mb_used = 0;  // sum of allocations (placement's MEMORY_MB usage)
    int disk_gb_used = 0;
    int running_vms = 0;
    std::uint64_t generation = 0;  // placement's resource provider generation
};

// One placement allocation: a server (consumer) holding resources on a hypervisor.
struct Allocation {
    std::string consumer_id;  // server UUID
    std::string project_id;
    std::string user_id;
    std::string provider_uuid;
    int vcpus = 0;
    int memory_mb = 0;
    int disk_gb = 0;
};

// The compute side of the cloudlet: hypervisors, the build pipeline (conductor + scheduler
// under the controller model) and the servers' lifecycle. Nova's API and Placement read it.
class FakeCompute {
public:
    explicit FakeCompute(ServiceContext& ctx);
    ~FakeCompute();

    void Load();  // hypervisors from the config; servers and allocations from a durable store
    void Stop();  // cancels every pending timer (the cloudlet is going away)

    const std::vector<Hypervisor>& Hypervisors() const;
    std::vector<Allocation> Allocations() const;

    // --- servers: defined by the Nova implementation below this line ---

private:
    struct State;
    ServiceContext& ctx_;
    std::shared_ptr<State> state_;
};

}  // namespace shoal::emulator
