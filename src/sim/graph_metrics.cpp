#include "sim/graph_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace shoal::sim {

DegreeStats ComputeDegreeStats(const std::vector<std::uint32_t>& degrees) {
    DegreeStats s;
    s.nodes = degrees.size();
    if (degrees.empty()) return s;
    const auto [lo, hi] = std::minmax_element(degrees.begin(), degrees.end());
    s.min = *lo;
    s.max = *hi;
    double sum = 0;
    for (auto d : degrees) sum += d;
    s.mean = sum / static_cast<double>(degrees.size());
    double squares = 0;
    for (auto d : degrees) squares += (d - s.mean) * (d - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(degrees.size()));
    return s;
}

}  // namespace shoal::sim
