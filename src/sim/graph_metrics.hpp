#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace shoal::sim {

struct DegreeStats {
    std::size_t nodes = 0;
    double mean = 0;
    double stddev = 0;  // population standard deviation
    std::uint32_t min = 0;
    std::uint32_t max = 0;
};

DegreeStats ComputeDegreeStats(const std::vector<std::uint32_t>& degrees);

// Disjoint sets with path halving and union by size.
class UnionFind {
public:
    explicit UnionFind(std::size_t n) : parent_(n), size_(n, 1) { std::iota(parent_.begin(), parent_.end(), 0u); }

    std::uint32_t Find(std::uint32_t x) {
        while (parent_[x] != x) {
            parent_[x] = parent_[parent_[x]];
            x = parent_[x];
        }
        return x;
    }
    void Union(std::uint32_t a, std::uint32_t b) {
        a = Find(a);
        b = Find(b);
        if (a == b) return;
        if (size_[a] < size_[b]) std::swap(a, b);
        parent_[b] = a;
        size_[a] += size_[b];
    }
    std::uint32_t SizeOf(std::uint32_t x) { return size_[Find(x)]; }

private:
    std::vector<std::uint32_t> parent_;
    std::vector<std::uint32_t> size_;
};

}  // namespace shoal::sim
