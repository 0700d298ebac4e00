#pragma once

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>

#include "identity/token_cache.hpp"

namespace shoal::testing {

// The fake of token validation (identity::TokenValidator): the tokens a test issued, each with
// whose it is. An unknown token is 401 as at Keystone; `idp_down` makes every validation fail as
// an unreachable identity provider does. Counts the validations asked for.
class FakeTokens final : public identity::TokenValidator {
public:
    // A project-scoped token of `user` in `project` (roles: member, plus admin when asked).
    identity::TokenInfo& Issue(const std::string& token,
                               const std::string& project,
                               const std::string& user = "user",
                               bool admin = false) {
        identity::TokenInfo t;
        t.user_id = "id-of-" + user;
        t.user_name = user;
        t.user_domain_id = "default";
        t.project_id = project;
        t.project_name = "name-of-" + project;
        t.project_domain_id = "default";
        t.roles = {"member"};
        if (admin) t.roles.emplace_back("admin");
        t.is_admin = admin;
        t.expires_at = std::chrono::system_clock::now() + std::chrono::hours(1);
        return tokens_[token] = t;
    }
    void Revoke(const std::string& token) { tokens_.erase(token); }

    boost::asio::awaitable<Result<identity::TokenInfo>> Validate(std::string token) override {
        ++validations;
        if (idp_down) co_return MakeError(ErrorCode::kUnavailable, "connection refused");
        auto it = tokens_.find(token);
        if (it == tokens_.end())
            co_return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
        co_return it->second;
    }

    bool idp_down = false;
    int validations = 0;

private:
    std::map<std::string, identity::TokenInfo> tokens_;
};

}  // namespace shoal::testing
