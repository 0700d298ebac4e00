#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace shoal::bench {

namespace {
double NearestRank(const std::vector<double>& sorted, double p) {
    const auto n = sorted.size();
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    return sorted[rank - 1];
}
}  // namespace

double Mean(const std::vector<double>& values) {
    if (values.empty()) return 0;
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double StdDev(const std::vector<double>& values) {
    if (values.empty()) return 0;
    const double m = Mean(values);
    double sq = 0;
    for (double v : values) sq += (v - m) * (v - m);
    return std::sqrt(sq / static_cast<double>(values.size()));
}

Distribution Summarize(std::vector<double> samples) {
    Distribution d;
    if (samples.empty()) return d;
    std::sort(samples.begin(), samples.end());
    d.count = samples.size();
    d.mean = Mean(samples);
    d.p50 = NearestRank(samples, 50);
    d.p95 = NearestRank(samples, 95);
    d.p99 = NearestRank(samples, 99);
    d.min = samples.front();
    d.max = samples.back();
    return d;
}

nlohmann::json ToJson(const Distribution& d) {
    return {{"count", d.count}, {"mean", d.mean}, {"p50", d.p50}, {"p95", d.p95},
            {"p99", d.p99},     {"min", d.min},   {"max", d.max}};
}

}  // namespace shoal::bench
