#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time_format.hpp"

namespace shoal::emulator {

// What the other emulated services learn from a validated token (keystonemiddleware's view).
struct TokenInfo {
    std::string token_id;
    std::string user_id;
    std::string user_name;
    std::string user_domain_id;
    std::string project_id;  // empty when not project-scoped
    std::string project_name;
    std::string project_domain_id;
    std::string domain_id;  // set when domain-scoped
    std::vector<std::string> roles;
    SystemTime issued_at;
    SystemTime expires_at;

    bool HasRole(std::string_view role) const {
        for (const auto& r : roles)
            if (r == role) return true;
        return false;
    }
    bool IsAdmin() const { return HasRole("admin"); }
};

// Implemented by the emulated Keystone; used by Glance, Nova and Placement.
class TokenValidator {
public:
    virtual ~TokenValidator() = default;
    // Error{kUnauthorized} for unknown, expired or revoked tokens.
    virtual Result<TokenInfo> Validate(std::string_view token) const = 0;
};

}  // namespace shoal::emulator
