#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time_format.hpp"
#include "emulator/core/service_context.hpp"

// The compute side of one cloudlet, modelled on Nova's conductor, scheduler and fake virt driver.
//
// Build pipeline (one coroutine per server, all on the cloudlet's executor):
//  1. POST /servers (NovaService) validates and checks quota, then Create() stores the server in
//     BUILD with task_state "scheduling".
//  2. The build waits for one of controller.max_concurrent_builds slots of the conductor+scheduler
//     (a Gate). More than controller.build_queue waiting builds, or a wait longer than
//     controller.build_timeout, puts the server in ERROR with a fault, as Nova does when the
//     conductor is overloaded ("No valid host was found. Exceeded max scheduling attempts ..." /
//     "Build of instance ... aborted: Timed out waiting for a reply ...").
//  3. With a slot: controller.schedule_time of simulated work, then the scheduler: Placement's
//     capacity check per hypervisor ((total - reserved) * allocation_ratio, and no single request
//     above the total) and the RAM weigher (most free RAM wins: Nova's default spread). The claim
//     is an Allocation, counted at once so concurrent builds do not pile onto one host. No host
//     fits: ERROR with "No valid host was found. There are not enough hosts available.".
//  4. The slot is released; task_state "spawning" on the chosen hypervisor, and after boot_delay
//     the server is ACTIVE (power_state 1, launched_at set). With hypervisors.spawn_failure_rate
//     (fault injection) the spawn may fail instead: ERROR with Nova's fault after exhausting its
//     reschedules ("Exceeded maximum number of retries. ..."), allocation freed, no host.
// Stop/start/reboot move through powering-off / powering-on / rebooting(_hard) for action_delay.
// Delete sets task_state "deleting"; after delete_delay the server is gone and its allocation
// freed. With a durable store every change is written through; Load() resumes whatever was in
// flight (a build that was queued is queued again, a spawn or an action completes).

namespace shoal::emulator {

// The nova-compute service record of one host, as os-services shows and changes it. A disabled
// or forced-down service is skipped by the scheduler (Nova's ComputeFilter); its hypervisor keeps
// reporting its resources, and a disabled one carries placement's COMPUTE_STATUS_DISABLED trait.
struct ComputeService {
    bool disabled = false;
    std::optional<std::string> disabled_reason;
    bool forced_down = false;  // "down" to the service group, whatever the heartbeat says
    bool Schedulable() const { return !disabled && !forced_down; }
};

// One fake hypervisor (nova-compute with the fake virt driver) and its resource usage.
struct Hypervisor {
    int id = 0;            // Nova's integer id (microversions < 2.53)
    std::string uuid;      // also the placement resource provider UUID
    std::string hostname;  // "<cloudlet>-compute-<n>"
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
    ComputeService service;        // its nova-compute service record
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

    // A server's fault, shown by the API while it is in ERROR.
    struct Fault {
        int code = 500;
        std::string message;
        SystemTime created;
    };

    // Nova keeps a copy of the flavor in the instance: later flavor changes do not affect it.
    struct FlavorSnapshot {
        std::string id;
        std::string name;
        int vcpus = 0;
        int ram_mb = 0;
        int disk_gb = 0;
        int ephemeral_gb = 0;
        int swap_mb = 0;
        std::map<std::string, std::string> extra_specs;
    };

    // One instance, with the fields of Nova's instance record that the API shows.
    struct Server {
        std::string id;
        std::int64_t number = 0;  // database id; instance_name is "instance-%08x"
        std::string name;
        std::string hostname;  // sanitised name (OS-EXT-SRV-ATTR:hostname)
        std::optional<std::string> description;
        std::string project_id;
        std::string user_id;
        std::string image_id;
        FlavorSnapshot flavor;
        std::optional<std::string> key_name;
        std::map<std::string, std::string> metadata;
        std::vector<std::string> tags;
        std::optional<std::vector<std::string>> trusted_image_certificates;
        std::optional<std::string> user_data;  // base64 as given
        std::string availability_zone = "nova";
        std::string access_ipv4;
        std::string access_ipv6;
        bool config_drive = false;
        bool auto_disk_config = false;
        std::string reservation_id;
        int launch_index = 0;
        std::string requested_host;  // scheduling restricted to this hypervisor (2.74 host, "az:host")
        std::string vm_state = "building";
        std::optional<std::string> task_state = "scheduling";
        int power_state = 0;
        std::string host;  // empty until scheduled
        bool locked = false;
        bool locked_by_admin = false;
        std::optional<std::string> locked_reason;
        SystemTime created;
        SystemTime updated;
        std::optional<SystemTime> launched_at;
        std::optional<Fault> fault;
    };

    // Stores the servers (already validated, quota checked) in BUILD and queues their builds.
    void Create(std::vector<Server> servers);
    const Server* Find(std::string_view id) const;
    std::vector<const Server*> Servers() const;  // every server not yet gone, oldest first
    std::int64_t NextServerNumber();

    // Lifecycle actions with Nova's state checks (409 "Cannot 'stop' instance X while it is in
    // vm_state stopped"). The caller has checked existence, ownership and locks.
    Status StopServer(std::string_view id);
    Status StartServer(std::string_view id);
    Status RebootServer(std::string_view id, bool hard);
    Status PauseServer(std::string_view id);
    Status UnpauseServer(std::string_view id);
    Status SuspendServer(std::string_view id);
    Status ResumeServer(std::string_view id);
    // os-resetState: vm_state active or error, task_state cleared, pending work abandoned.
    Status ResetState(std::string_view id, bool active);
    Status DeleteServer(std::string_view id);
    // Changes that need no compute work (name, description, metadata, lock).
    Status UpdateServer(std::string_view id, const std::function<void(Server&)>& change);

    const Hypervisor* FindHypervisor(std::string_view hostname) const;
    // Replaces the nova-compute service record of `hostname` (os-services PUT). A change of
    // `disabled` is a trait change on the resource provider, so its generation moves. Durable
    // with the store. Null when no hypervisor has that host name.
    const Hypervisor* UpdateComputeService(std::string_view hostname, const ComputeService& service);
    SystemTime StartedAt() const;
    int BuildsWaiting() const;  // builds queued for a conductor slot
    int BuildsRunning() const;  // builds holding a slot

private:
    struct State;
    ServiceContext& ctx_;
    std::shared_ptr<State> state_;
};

}  // namespace shoal::emulator
