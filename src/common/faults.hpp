#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace shoal::faults {

// Named fault-injection points (ScyllaDB's error injection, FoundationDB's BUGGIFY). Product code
// calls Hit("boot.send_create.after") at each step that has an effect elsewhere; nothing happens
// unless a test armed that point, from the environment (SHOAL_FAULTS, read by the agent's
// composition root) or in process (Arm). docs/reliability.md lists the points.
//
// A spec is a comma-separated list of `point=effect`:
//   boot.send_create.after=crash      SIGKILL the process there, at the first hit
//   boot.send_create.after=crash@5    ... at the fifth hit
//   boot.record.before=delay:250      wait 250 ms there, at every hit
// A `point` ending in `*` arms every point with that prefix.
enum class Effect { kNone, kCrash, kDelay };

struct Fault {
    Effect effect = Effect::kNone;
    std::uint64_t at_hit = 1;  // crash: the hit that crashes (1 = the first)
    std::chrono::milliseconds delay{0};
};

// kBadRequest naming the part of the spec that is wrong; nothing is armed then.
Status Configure(std::string_view spec);
void Arm(std::string point, Fault fault);
void Clear();

// What a crash does: SIGKILL by default (as the OOM killer or a lost host would); the simulator
// installs its own, to crash a simulated agent instead of the process.
void SetCrashHandler(std::function<void(std::string_view point)> handler);

// Called at the point: crashes here if armed so, and returns how long to wait (0 when unarmed).
// Cheap when nothing is armed (one atomic load).
std::chrono::milliseconds Hit(std::string_view point);

// How many times the point was hit since it was armed (tests).
std::uint64_t Hits(std::string_view point);

}  // namespace shoal::faults
