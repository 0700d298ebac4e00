#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

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
        out = j_.at(key).get<T>();
    }
    void GetMillis(const char* key, std::chrono::milliseconds& out) {
        seen_.insert(key);
        if (j_.contains(key)) out = std::chrono::milliseconds(j_.at(key).get<std::int64_t>());
    }
    // "where.key" of the first key nobody asked for.
    std::optional<std::string> Unknown() const {
        for (const auto& [k, v] : j_.items())
            if (!seen_.contains(k)) return where_ + k;
        return std::nullopt;
    }

private:
    const nlohmann::json& j_;
    std::string where_;
    std::set<std::string> seen_;
};

}  // namespace shoal
