#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal {

using SystemTime = std::chrono::system_clock::time_point;

// Milliseconds since the Unix epoch (record timestamps; pass the component's Clock::System()).
std::int64_t UnixMillis(SystemTime t);
// The same for the machine's time now: composition roots only (an agent's incarnation).
std::int64_t UnixMillisNow();

// "2026-11-22T18:51:01Z" (Nova, Glance).
std::string FormatIso8601(SystemTime t);
// "2026-11-22T18:51:01.000000Z" (Keystone tokens).
std::string FormatIso8601Micro(SystemTime t);
// "2026-11-22T18:51:01.000000" (Nova's OS-SRV-USG:launched_at has no zone).
std::string FormatIso8601MicroNoZone(SystemTime t);
// Accepts the forms above and "+00:00"; nullopt when malformed.
std::optional<SystemTime> ParseIso8601(std::string_view s);

}  // namespace shoal
