#pragma once

#include <cstdint>
#include <iterator>
#include <random>
#include <utility>

namespace shoal {

// The one source of randomness that protocols receive by reference (STYLE B.6), so that a
// seed reproduces a whole run. Uniform and Shuffle are written out instead of using
// std::uniform_int_distribution/std::shuffle, whose output differs between standard libraries.
// Predictable by design (a seed replays it): it only gives numbers for protocol choices, never
// bytes or text. Secrets, nonces and ids come from common/secure_random.hpp.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}

    // Uniform in [0, n); n must be > 0. Lemire's multiply-and-reject: unbiased, one draw usually.
    std::uint64_t Uniform(std::uint64_t n) {
        __extension__ using U128 = unsigned __int128;  // __extension__: -Wpedantic accepts it
        U128 m = static_cast<U128>(engine_()) * n;
        auto low = static_cast<std::uint64_t>(m);
        if (low < n) {
            const std::uint64_t threshold = -n % n;
            while (low < threshold) {
                m = static_cast<U128>(engine_()) * n;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    // Uniform in [lo, hi], inclusive.
    std::int64_t Between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(Uniform(static_cast<std::uint64_t>(hi - lo) + 1));
    }

    // Uniform in [0, 1).
    double UniformReal() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    bool Bernoulli(double p) { return p > 0 && UniformReal() < p; }

    // Fisher-Yates.
    template <class RandomIt>
    void Shuffle(RandomIt first, RandomIt last) {
        const auto n = static_cast<std::uint64_t>(std::distance(first, last));
        for (std::uint64_t i = n; i > 1; --i) {
            using std::swap;
            swap(first[i - 1], first[Uniform(i)]);
        }
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace shoal
