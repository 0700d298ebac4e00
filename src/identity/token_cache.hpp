#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloudlet/single_flight.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/time_format.hpp"
#include "http/client.hpp"

namespace shoal::identity {

// Who a token belongs to, as the agent's Nova and Glance proxies need it.
struct TokenInfo {
    std::string user_id;
    std::string user_name;
    std::string user_domain_id;
    std::string project_id;  // empty for a domain-scoped or unscoped token
    std::string project_name;
    std::string project_domain_id;
    std::string domain_id;           // domain-scoped tokens only
    std::vector<std::string> roles;  // names
    SystemTime expires_at{};
    bool is_admin = false;  // holds the role "admin"

    bool HasRole(std::string_view role) const;
};

// A Keystone token body ({"token": {...}}) as a TokenInfo; kBadGateway when it is not one.
Result<TokenInfo> ParseTokenInfo(const nlohmann::json& body);

using ServiceTokenSource = std::function<boost::asio::awaitable<Result<std::string>>()>;

struct TokenCacheOptions {
    std::string idp_auth_url;  // the IdP's Keystone v3: "http://idp/identity/v3"
    // A positive answer is believed until min(expires_at, now + cache_ttl): a token revoked at
    // the IdP by someone else is noticed at most cache_ttl late (docs/identity.md).
    std::chrono::seconds cache_ttl{60};
    std::chrono::seconds negative_ttl{5};  // 401/404 answers, so a bad token cannot hammer the IdP
    std::size_t max_entries = 10'000;
    std::chrono::milliseconds timeout{5'000};  // per IdP call
    Clock* clock = &SystemClock();
    // Empty: each token validates itself (Keystone allows it). Set: this token (a service user's)
    // is the X-Auth-Token of every validation.
    ServiceTokenSource service_token;
};

// What the API gateway asks of a token: whose it is. The agent's is TokenCache; tests use
// testing::FakeTokens.
class TokenValidator {
public:
    virtual ~TokenValidator() = default;
    // kUnauthorized: the IdP does not know the token (or it expired, or it was revoked here);
    // kUnavailable: the IdP cannot be asked (the caller answers 503); never hangs past its timeout.
    virtual boost::asio::awaitable<Result<TokenInfo>> Validate(std::string token) = 0;
};

// The agent's token validator: X-Auth-Token -> TokenInfo, cached, one IdP call per token at a
// time. Runs on one io_context thread; must outlive every Validate() in progress.
class TokenCache final : public TokenValidator {
public:
    struct Stats {
        std::uint64_t idp_calls = 0;      // validations sent to the IdP
        std::uint64_t hits = 0;           // answered from a positive entry
        std::uint64_t negative_hits = 0;  // refused from a negative entry
        std::uint64_t joined = 0;         // waited for another caller's IdP call
        std::size_t entries = 0;
    };

    TokenCache(boost::asio::any_io_executor executor, TokenCacheOptions options);
    ~TokenCache() override;
    TokenCache(const TokenCache&) = delete;
    TokenCache& operator=(const TokenCache&) = delete;

    boost::asio::awaitable<Result<TokenInfo>> Validate(std::string token) override;

    // A token body the IdP just sent for `token` (the identity proxy saw it go by): cached as if
    // validated, which saves the first validation of every new token.
    void Remember(const std::string& token, const nlohmann::json& body);
    // The token was revoked through this agent: refused at once for negative_ttl, after which
    // the IdP says so itself.
    void Revoke(const std::string& token);
    // Forget whatever is known about the token.
    void Evict(const std::string& token);

    Stats GetStats() const;

private:
    struct Entry {
        std::optional<TokenInfo> info;  // positive, else `error`
        Error error;
        SystemTime until{};
        bool revoked = false;
    };

    SystemTime Now() const;
    std::optional<Result<TokenInfo>> Lookup(const std::string& token);
    void Store(const std::string& token, Entry entry);
    void StorePositive(const std::string& token, TokenInfo info);
    void StoreNegative(const std::string& token, Error error, bool revoked);
    void Prune(SystemTime now);
    boost::asio::awaitable<Result<TokenInfo>> AskIdp(std::string token);

    TokenCacheOptions options_;
    std::string validate_url_;
    http::Client client_;
    std::map<std::string, Entry, std::less<>> entries_;
    cloudlet::SingleFlight<Result<TokenInfo>> flights_;
    Stats stats_;
};

}  // namespace shoal::identity
