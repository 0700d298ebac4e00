#include "common/faults.hpp"

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>

#include <spdlog/spdlog.h>

namespace shoal::faults {
namespace {

struct Armed {
    Fault fault;
    std::uint64_t hits = 0;
};

struct Registry {
    std::mutex mutex;
    std::map<std::string, Armed, std::less<>> points;  // a key ending in '*' is a prefix
    std::function<void(std::string_view)> crash;
};

Registry& Points() {
    static Registry r;
    return r;
}

std::atomic<bool> g_armed{false};

Result<Fault> ParseEffect(std::string_view effect) {
    Fault f;
    if (effect == "crash" || effect.starts_with("crash@")) {
        f.effect = Effect::kCrash;
        if (effect == "crash@") return MakeError(ErrorCode::kBadRequest, "crash@N needs a number");
        if (effect.size() > 6) {
            std::uint64_t n = 0;
            for (char c : effect.substr(6)) {
                if (c < '0' || c > '9') return MakeError(ErrorCode::kBadRequest, "crash@N needs a number");
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            if (n == 0) return MakeError(ErrorCode::kBadRequest, "crash@N counts from 1");
            f.at_hit = n;
        }
        return f;
    }
    if (effect.starts_with("delay:")) {
        std::int64_t ms = 0;
        const auto digits = effect.substr(6);
        if (digits.empty()) return MakeError(ErrorCode::kBadRequest, "delay:MS needs a number");
        for (char c : digits) {
            if (c < '0' || c > '9') return MakeError(ErrorCode::kBadRequest, "delay:MS needs a number");
            ms = ms * 10 + (c - '0');
        }
        f.effect = Effect::kDelay;
        f.delay = std::chrono::milliseconds(ms);
        return f;
    }
    return MakeError(ErrorCode::kBadRequest, "unknown effect '" + std::string(effect) + "' (crash, crash@N, delay:MS)");
}

bool Matches(std::string_view key, std::string_view point) {
    if (!key.empty() && key.back() == '*') return point.starts_with(key.substr(0, key.size() - 1));
    return key == point;
}

}  // namespace

Status Configure(std::string_view spec) {
    std::map<std::string, Fault> parsed;
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        const std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return MakeError(ErrorCode::kBadRequest, "fault '" + std::string(item) + "': expected point=effect");
        auto f = ParseEffect(item.substr(eq + 1));
        if (!f.ok())
            return MakeError(ErrorCode::kBadRequest, "fault '" + std::string(item) + "': " + f.error().message);
        parsed[std::string(item.substr(0, eq))] = *f;
    }
    for (auto& [point, f] : parsed) Arm(point, f);
    return Ok{};
}

void Arm(std::string point, Fault fault) {
    auto& r = Points();
    std::lock_guard lock(r.mutex);
    r.points[std::move(point)] = Armed{fault, 0};
    g_armed.store(true);
}

void Clear() {
    auto& r = Points();
    std::lock_guard lock(r.mutex);
    r.points.clear();
    g_armed.store(false);
}

void SetCrashHandler(std::function<void(std::string_view)> handler) {
    auto& r = Points();
    std::lock_guard lock(r.mutex);
    r.crash = std::move(handler);
}

std::chrono::milliseconds Hit(std::string_view point) {
    if (!g_armed.load(std::memory_order_relaxed)) return std::chrono::milliseconds(0);
    auto& r = Points();
    std::function<void(std::string_view)> crash;
    std::chrono::milliseconds delay{0};
    bool crashing = false;
    {
        std::lock_guard lock(r.mutex);
        for (auto& [key, armed] : r.points) {
            if (!Matches(key, point)) continue;
            ++armed.hits;
            if (armed.fault.effect == Effect::kDelay) delay = std::max(delay, armed.fault.delay);
            if (armed.fault.effect == Effect::kCrash && armed.hits == armed.fault.at_hit) crashing = true;
        }
        crash = r.crash;
    }
    if (crashing) {
        spdlog::warn("fault injection: crash at {}", point);
        if (crash) {
            crash(point);
        } else {
            spdlog::default_logger()->flush();
            std::raise(SIGKILL);
        }
    }
    return delay;
}

std::uint64_t Hits(std::string_view point) {
    auto& r = Points();
    std::lock_guard lock(r.mutex);
    auto it = r.points.find(point);
    return it == r.points.end() ? 0 : it->second.hits;
}

}  // namespace shoal::faults
