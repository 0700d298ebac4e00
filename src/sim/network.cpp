#include "sim/network.hpp"

#include <stdexcept>

namespace shoal::sim {

SimNetwork::SimNetwork(NetworkConfig config, Rng& rng) : config_(config), rng_(rng) {
    if (config_.min_latency < 0 || config_.max_latency < config_.min_latency) {
        throw std::invalid_argument("SimNetwork: need 0 <= min_latency <= max_latency");
    }
    if (config_.loss < 0 || config_.loss > 1) throw std::invalid_argument("SimNetwork: loss must be in [0, 1]");
    if (config_.request_timeout <= 0) throw std::invalid_argument("SimNetwork: request_timeout must be positive");
}

std::optional<SimTime> SimNetwork::Transit() {
    ++sent_;
    if (rng_.Bernoulli(config_.loss)) {
        ++lost_;
        return std::nullopt;
    }
    return rng_.Between(config_.min_latency, config_.max_latency);
}

}  // namespace shoal::sim
