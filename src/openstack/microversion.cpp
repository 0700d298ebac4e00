#include "openstack/microversion.hpp"

#include <strings.h>

#include <charconv>

namespace shoal::openstack {
namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool IEquals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One number of "X.Y" as Nova's pattern takes it (^([1-9]\d*)\.([1-9]\d*|0)$): digits only, no
// leading zero, zero only as the minor.
bool Number(std::string_view s, bool allow_zero, int& out) {
    if (s.empty() || s.size() > 6 || (s.size() > 1 && s.front() == '0')) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    std::from_chars(s.data(), s.data() + s.size(), out);
    return allow_zero || out != 0;
}

}  // namespace

std::optional<std::string> RequestedMicroversion(const http::Headers& headers,
                                                 std::string_view service,
                                                 std::string_view legacy_header) {
    std::optional<std::string> found;
    for (const auto& [name, value] : headers) {
        if (!IEquals(name, "OpenStack-API-Version")) continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = Trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            const auto blank = item.find_first_of(" \t");
            if (blank == std::string_view::npos) continue;
            if (IEquals(Trim(item.substr(0, blank)), service)) found = std::string(Trim(item.substr(blank)));
        }
    }
    if (!found && !legacy_header.empty())
        if (auto h = headers.Get(legacy_header)) found = std::string(Trim(*h));
    return found;
}

Result<int> NovaMicroversion(const http::Headers& headers, int max_minor) {
    auto text = RequestedMicroversion(headers, "compute", "X-OpenStack-Nova-API-Version");
    if (!text) return 1;
    std::string lower = *text;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "latest") return max_minor;
    const auto dot = text->find('.');
    int major = 0, minor = 0;
    if (dot == std::string::npos || !Number(std::string_view(*text).substr(0, dot), false, major) ||
        !Number(std::string_view(*text).substr(dot + 1), true, minor))
        return MakeError(ErrorCode::kBadRequest,
                         "API Version String " + *text + " is of invalid format. Must be of format MajorNum.MinorNum.");
    if (major != 2 || minor < 1 || minor > max_minor)
        return MakeError(ErrorCode::kNotAcceptable,
                         "Version " + std::to_string(major) + "." + std::to_string(minor) +
                             " is not supported by the API. Minimum is 2.1 and maximum is 2." +
                             std::to_string(max_minor) + ".");
    return minor;
}

void SetNovaVersionHeaders(http::Response& response, int minor) {
    const std::string v = "2." + std::to_string(minor);
    response.headers.Set("OpenStack-API-Version", "compute " + v);
    response.headers.Set("X-OpenStack-Nova-API-Version", v);
    response.headers.Set("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
}

}  // namespace shoal::openstack
