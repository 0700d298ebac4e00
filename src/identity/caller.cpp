#include "identity/caller.hpp"

#include <nlohmann/json.hpp>

namespace shoal::identity {

Caller CallerFromToken(const TokenInfo& token, std::string api_base) {
    Caller c;
    c.tenant = token.project_id;
    c.project_name = token.project_name;
    c.user_id = token.user_id;
    c.user_name = token.user_name;
    c.roles = token.roles;
    c.is_admin = token.is_admin;
    c.api_base = std::move(api_base);
    return c;
}

std::string EncodeCaller(const Caller& c) {
    nlohmann::json j = {
        {"tenant", c.tenant}, {"project_name", c.project_name}, {"user_id", c.user_id},  {"user_name", c.user_name},
        {"roles", c.roles},   {"is_admin", c.is_admin},         {"api_base", c.api_base}};
    return j.dump();
}

Result<Caller> CallerOf(const http::Request& request) {
    auto raw = request.headers.Get(kCallerHeader);
    if (!raw || raw->empty())
        return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (!j.is_object()) return MakeError(ErrorCode::kUnauthorized, "malformed caller");
    Caller c;
    c.tenant = j.value("tenant", "");
    c.project_name = j.value("project_name", "");
    c.user_id = j.value("user_id", "");
    c.user_name = j.value("user_name", "");
    if (j.contains("roles") && j["roles"].is_array())
        for (const auto& r : j["roles"])
            if (r.is_string()) c.roles.push_back(r.get<std::string>());
    c.is_admin = j.value("is_admin", false);
    c.api_base = j.value("api_base", "");
    if (c.tenant.empty()) return MakeError(ErrorCode::kUnauthorized, "the token is not scoped to a project");
    return c;
}

}  // namespace shoal::identity
