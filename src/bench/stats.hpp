#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <vector>

namespace shoal::bench {

// Summary of a sample (seconds, milliseconds: whatever the samples are in). Percentiles are
// nearest-rank, so every reported value was observed. An empty sample is all zeros.
struct Distribution {
    std::size_t count = 0;
    double mean = 0, p50 = 0, p95 = 0, p99 = 0, min = 0, max = 0;
};

Distribution Summarize(std::vector<double> samples);
// Population standard deviation (the paper's "standard deviation of the number of VMs").
double StdDev(const std::vector<double>& values);
double Mean(const std::vector<double>& values);
nlohmann::json ToJson(const Distribution& d);

}  // namespace shoal::bench
