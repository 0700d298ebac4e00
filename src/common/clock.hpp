#pragma once

#include <chrono>

namespace shoal {

// The one source of time for product code (userver's mockable clock): deadlines, cache ages and
// build watches read Steady(); signatures, token expiry and the timestamps users see read
// System(). Product code takes a Clock& and never calls std::chrono::*_clock::now() itself, so a
// test (tests/support/fake_clock.hpp) or the simulator can move time by hand. Timers that wait
// (asio::steady_timer) still wait in real time: they only decide when to look again, and what
// they find is judged against this clock.
class Clock {
public:
    using SteadyTime = std::chrono::steady_clock::time_point;
    using SystemTime = std::chrono::system_clock::time_point;

    virtual ~Clock() = default;
    virtual SteadyTime Steady() const = 0;
    virtual SystemTime System() const = 0;
};

// The machine's clocks.
class RealClock final : public Clock {
public:
    SteadyTime Steady() const override { return std::chrono::steady_clock::now(); }
    SystemTime System() const override { return std::chrono::system_clock::now(); }
};

// A process-wide RealClock, for composition roots and defaults.
inline Clock& SystemClock() {
    static RealClock clock;
    return clock;
}

}  // namespace shoal
