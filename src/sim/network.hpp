#pragma once

#include <cstdint>
#include <optional>

#include "common/rng.hpp"
#include "sim/event_queue.hpp"

namespace shoal::sim {

struct NetworkConfig {
    SimTime min_latency = 5'000;  // one-way, uniform in [min, max]
    SimTime max_latency = 50'000;
    double loss = 0.0;                  // probability that one message is lost
    SimTime request_timeout = 200'000;  // a requester gives up on an answer after this long
};

// The simulated network's randomness: each message is lost or gets a latency. Dead receivers
// are the simulation's business, since a node may die while a message is in flight.
class SimNetwork {
public:
    SimNetwork(NetworkConfig config, Rng& rng);

    const NetworkConfig& Config() const { return config_; }
    // Latency of one message, or nullopt when the network loses it.
    std::optional<SimTime> Transit();

    std::uint64_t Sent() const { return sent_; }
    std::uint64_t Lost() const { return lost_; }

private:
    NetworkConfig config_;
    Rng& rng_;
    std::uint64_t sent_ = 0;
    std::uint64_t lost_ = 0;
};

}  // namespace shoal::sim
