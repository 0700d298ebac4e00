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

Caller CallerFromToken(const TokenInfo& token, std::string api_base);
// The JSON form that crosses the signed A2A port (/a2a/v1/api, a2a::ApiForwardCall), and back.
std::string EncodeCaller(const Caller& caller);
Result<Caller> DecodeCaller(std::string_view encoded);
// The caller the API gateway attached to the request (http::RequestContext, never a header);
// kUnauthorized when there is none: a programming error in routing, answered as a 401.
Result<Caller> CallerOf(const http::Request& request);

}  // namespace shoal::identity
