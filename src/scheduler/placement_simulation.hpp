#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "scheduler/power_of_two.hpp"

namespace shoal::scheduler {

enum class PlacementPolicy {
    kPowerOfTwo,        // the home agent samples Choices() cloudlets, asks their loads, picks (IV-G)
    kUniformRandom,     // the home agent forwards to a uniformly random cloudlet, blind
    kLeastLoadedOfAll,  // the centralized ideal: exact, current loads of every cloudlet, no latency
};
std::string_view ToString(PlacementPolicy policy);

// Virtual time in microseconds.
using SimMicros = std::int64_t;

// A seeded, single-threaded placement run (docs/scheduler.md). Users arrive uniformly in
// [0, arrival_window_us); each then creates all its servers at once (Rally's concurrent boots).
// A create's home agent samples cloudlets, queries their loads (one way: L/2; the load is read
// when the query arrives), decides when the answers are back (L), and forwards the create (L/2).
// There the agent reserves it in its InFlightLedger and the cloudlet claims a hypervisor (the
// one with most free RAM, counting builds; none: ERROR, reported back after L/2 and retried); B
// later the server is ACTIVE, counts in the cloudlet's RAM, and the reservation is released.
struct PlacementConfig {
    // The usable RAM (MB) of each hypervisor, per cloudlet.
    std::vector<std::vector<std::int64_t>> cloudlets;
    std::size_t users = 8;
    std::size_t servers_per_user = 1;
    FlavorNeed flavor{"m1.small", 2048};
    SimMicros arrival_window_us = 2'000'000;
    SimMicros query_latency_us = 40'000;   // L: a load query's round trip
    SimMicros build_time_us = 20'000'000;  // B: create reaches the cloudlet -> ACTIVE
    PlacementPolicy policy = PlacementPolicy::kPowerOfTwo;
    Comparison comparison = Comparison::kFreeFraction;
    bool count_in_flight = true;  // false: agents report raw loads only (shows the herding)
    RetryPolicy retry;
    std::uint64_t seed = 1;
};

// `n` cloudlets of `hypervisors` hypervisors with `ram_mb` usable each. The default is the
// embedded cloudlet's: one 32768 MB hypervisor less 512 MB reserved, 15 m1.small servers.
std::vector<std::vector<std::int64_t>> EqualCloudlets(std::size_t n,
                                                      std::int64_t ram_mb = 32256,
                                                      std::size_t hypervisors = 1);

struct PlacementReport {
    std::vector<int> servers;  // ACTIVE servers per cloudlet at the end
    int requested = 0;
    int placed = 0;
    int failed = 0;            // creates that ended "No valid host was found"
    int build_errors = 0;      // builds a cloudlet refused for lack of RAM (each then retried)
    int no_fit_decisions = 0;  // decisions where no candidate fitted (then re-sampled)
    int decisions = 0;
    int stale_decisions = 0;  // decisions that missed a build already sent to a candidate
    int max_servers = 0;
    int min_servers = 0;
    double mean_servers = 0;
    double stddev_servers = 0;  // population standard deviation over the cloudlets
};

// Deterministic: the same config (seed included) gives the same report. Arrivals use their own
// random stream, so runs that differ only in the policy see the very same requests.
// kBadRequest for an empty or invalid config.
Result<PlacementReport> RunPlacementSimulation(const PlacementConfig& config);

}  // namespace shoal::scheduler
