#include "common/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace shoal {

std::int64_t UnixMillis(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t UnixMillisNow() {
    return UnixMillis(std::chrono::system_clock::now());
}

namespace {

std::tm ToTm(SystemTime t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return tm;
}

std::string Format(SystemTime t, bool micro, const char* zone) {
    auto tm = ToTm(t);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string s(buf, static_cast<std::size_t>(n));
    if (micro) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
        std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
        s += buf;
    }
    s += zone;
    return s;
}

}  // namespace

std::string FormatIso8601(SystemTime t) {
    return Format(t, false, "Z");
}
std::string FormatIso8601Micro(SystemTime t) {
    return Format(t, true, "Z");
}
std::string FormatIso8601MicroNoZone(SystemTime t) {
    return Format(t, true, "");
}

std::optional<SystemTime> ParseIso8601(std::string_view s) {
    std::tm tm{};
    int year, mon, day, hour, min, sec;
    std::string str(s);
    int consumed = 0;
    if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &consumed) != 6)
        return std::nullopt;
    long long micros = 0;
    std::size_t pos = static_cast<std::size_t>(consumed);
    if (pos < str.size() && str[pos] == '.') {
        ++pos;
        long long scale = 100000;
        while (pos < str.size() && std::isdigit(static_cast<unsigned char>(str[pos]))) {
            micros += (str[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    std::string_view rest = std::string_view(str).substr(pos);
    if (!(rest.empty() || rest == "Z" || rest == "+00:00" || rest == "+0000")) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    std::time_t tt = timegm(&tm);
    if (tt == static_cast<std::time_t>(-1)) return std::nullopt;
    // system_clock counts nanoseconds: about 1678 to 2261. Beyond, from_time_t overflows.
    constexpr auto kMaxSeconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count() - 1;
    if (tt > kMaxSeconds || tt < -kMaxSeconds) return std::nullopt;
    return std::chrono::system_clock::from_time_t(tt) + std::chrono::microseconds(micros);
}

}  // namespace shoal
