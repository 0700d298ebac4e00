#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "http/message.hpp"
#include "identity/token_cache.hpp"

namespace shoal::identity {

// Who is asking, as the Nova and Glance proxies need it: the agent that received the request
// validated the token and names the caller to the tenant's home agent (signed A2A), so the home
// never sees, stores or re-validates the user's token.
struct Caller {
    std::string tenant;  // the project id at the identity provider: the shoal tenant
    std::string project_name;
    std::string user_id;
    std::string user_name;
    std::vector<std::string> roles;
    bool is_admin = false;
    std::string api_base;  // "http://host:port" the client used: links in answers point there
};

// The header that carries a Caller inside an agent (and over A2A). Set only by the agent's API
// gateway after the token checked out; whatever a client sends in it is discarded.
inline constexpr std::string_view kCallerHeader = "X-Shoal-Caller";

Caller CallerFromToken(const TokenInfo& token, std::string api_base);
std::string EncodeCaller(const Caller& caller);
// kUnauthorized when the request carries no (valid) caller: a programming error in routing.
Result<Caller> CallerOf(const http::Request& request);

}  // namespace shoal::identity
