#pragma once

#include <chrono>

#include "common/clock.hpp"

namespace shoal::testing {

// A clock that moves only when a test says so. Starts at an arbitrary fixed instant (system
// time 2026-01-01T00:00:00Z), so that timestamps in answers are reproducible.
class FakeClock final : public Clock {
public:
    SteadyTime Steady() const override { return steady_; }
    SystemTime System() const override { return system_; }

    void Advance(std::chrono::nanoseconds d) {
        steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
        system_ += std::chrono::duration_cast<SystemTime::duration>(d);
    }

private:
    SteadyTime steady_{std::chrono::hours(1)};
    SystemTime system_{std::chrono::seconds(1'767'225'600)};
};

}  // namespace shoal::testing
