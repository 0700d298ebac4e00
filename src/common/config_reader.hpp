#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>

namespace shoal {

// Reads known keys of one JSON object and refuses unknown ones, so that a misspelt option in a
// config file is an error, not a silent default. Type mismatches throw nlohmann::json's
// exceptions; config loaders catch them and return kBadRequest.
class ConfigReader {
public:
    ConfigReader(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {}

    template <class T>
    void Get(const char* key, T& out) {
        seen_.insert(key);
        if (!j_.contains(key)) return;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) CheckRange<T>(j_.at(key), key);
        out = j_.at(key).get<T>();
    }
    void GetMillis(const char* key, std::chrono::milliseconds& out) {
        seen_.insert(key);
        if (!j_.contains(key)) return;
        CheckRange<std::int64_t>(j_.at(key), key);
        out = std::chrono::milliseconds(j_.at(key).get<std::int64_t>());
    }
    // "where.key" of the first key nobody asked for.
    std::optional<std::string> Unknown() const {
        for (const auto& [k, v] : j_.items())
            if (!seen_.contains(k)) return where_ + k;
        return std::nullopt;
    }

private:
    // nlohmann::json converts a float to an integer type with a plain cast, undefined behaviour
    // when out of range ("count": 1e300): refused like any other wrong type.
    template <class T>
    void CheckRange(const nlohmann::json& v, const char* key) const {
        if (!v.is_number_float()) return;
        const double d = v.get<double>();
        if (!(d >= static_cast<double>(std::numeric_limits<T>::min()) &&
              d < static_cast<double>(std::numeric_limits<T>::max())))
            throw nlohmann::json::out_of_range::create(406, where_ + key + ": number out of range", &v);
    }

    const nlohmann::json& j_;
    std::string where_;
    std::set<std::string> seen_;
};

}  // namespace shoal
