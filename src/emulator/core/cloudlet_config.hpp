#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace shoal::emulator {

using Millis = std::chrono::milliseconds;

// The fake compute nodes of one cloudlet (the paper's compute container).
struct HypervisorSpec {
    int count = 1;
    int vcpus = 16;
    int memory_mb = 32768;
    int disk_gb = 500;
    int reserved_host_memory_mb = 512;  // Nova's default; shows as MEMORY_MB reserved in placement
    double cpu_allocation_ratio = 4.0;  // Nova Zed's initial_cpu_allocation_ratio
    double ram_allocation_ratio = 1.0;
    double disk_allocation_ratio = 1.0;
    // Fault injection: the share of builds (0..1) whose spawn fails on the hypervisor, as on a broken
    // nova-compute. The server ends in ERROR ("Exceeded maximum number of retries ...") and its
    // allocation is freed, so the hypervisors keep reporting free RAM. 1.0: every build fails.
    double spawn_failure_rate = 0.0;
};

// The controller's limits (docs/architecture.md, "Controller model"). The defaults model
// the paper's cloudlet controller: 2 cores running nova-api, conductor, scheduler, glance
// and keystone.
struct ControllerModel {
    int api_workers = 4;            // API requests processed at once (uwsgi processes x threads)
    int api_queue = 128;            // requests waiting for a worker; one more is refused with 503
    Millis api_timeout{30'000};     // a request still waiting after this is answered 503
    Millis api_service_time{0};     // simulated controller CPU per API request
    int max_concurrent_builds = 8;  // builds the conductor+scheduler run at once
    int build_queue = 256;          // builds waiting; beyond: ERROR "No valid host was found"
    Millis build_timeout{60'000};   // a build waiting longer fails (RPC timeout in Nova)
    Millis schedule_time{0};        // simulated scheduler+conductor work per build
};

// nova.conf [quota]: every project's limits (Nova's defaults). Benchmarks raise them, as
// operators do for Rally.
struct QuotaSpec {
    int instances = 10;
    int cores = 20;
    int ram_mb = 51200;
};

struct FlavorSpec {
    std::string id;
    std::string name;
    int vcpus = 1;
    int ram_mb = 512;
    int disk_gb = 1;
    int ephemeral_gb = 0;
    int swap_mb = 0;
    double rxtx_factor = 1.0;
    bool is_public = true;
    std::string description;
};

struct CloudletConfig {
    std::string name = "cloudlet";
    std::string region = "RegionOne";
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: a free port

    std::string admin_user = "admin";
    std::string admin_password = "secret";
    std::string admin_project = "admin";

    HypervisorSpec hypervisors;
    ControllerModel controller;
    QuotaSpec quota;
    Millis boot_delay{1'000};  // BUILD -> ACTIVE on the fake hypervisor
    Millis action_delay{200};  // stop/start/reboot take this long
    Millis delete_delay{100};  // deleting -> gone
    std::chrono::seconds token_ttl{3600};
    std::vector<FlavorSpec> flavors;  // empty: the classic m1.* set

    std::string state_path;  // empty: state in memory; else a SQLite file, durable across restarts
    std::string data_dir;    // image data; empty: a fresh temporary directory, removed at exit
    std::uint64_t max_image_bytes = 8ull * 1024 * 1024 * 1024;
    // Glance's [import_filtering_opts]: web-download may only fetch from these hosts.
    std::vector<std::string> import_allowed_hosts = {"127.0.0.1", "localhost"};

    static std::vector<FlavorSpec> DefaultFlavors();
};

// Reads a JSON config file; unknown keys are errors (a typo must not pass silently).
Result<CloudletConfig> LoadCloudletConfig(const std::string& path);
Result<CloudletConfig> CloudletConfigFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const CloudletConfig& c);

}  // namespace shoal::emulator
