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
    if (const Caller* c = request.context.Get<Caller>()) return *c;
    return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
}

Result<Caller> DecodeCaller(std::string_view encoded) {
    auto j = nlohmann::json::parse(encoded, nullptr, false);
    if (!j.is_object()) return MakeError(ErrorCode::kBadRequest, "malformed caller");
    // A peer's value, though signed: wrong types are refused, never thrown on.
    auto string_of = [&](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Caller c;
    c.tenant = string_of("tenant");
    c.project_name = string_of("project_name");
    c.user_id = string_of("user_id");
    c.user_name = string_of("user_name");
    if (j.contains("roles") && j["roles"].is_array())
        for (const auto& r : j["roles"])
            if (r.is_string()) c.roles.push_back(r.get<std::string>());
    c.is_admin = j.contains("is_admin") && j["is_admin"].is_boolean() && j["is_admin"].get<bool>();
    c.api_base = string_of("api_base");
    if (c.tenant.empty()) return MakeError(ErrorCode::kUnauthorized, "the token is not scoped to a project");
    return c;
}

}  // namespace shoal::identity
