#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "http/client.hpp"
#include "http/router.hpp"
#include "identity/rewrite.hpp"

namespace shoal::identity {

class TokenCache;

struct IdentityProxyOptions {
    std::string idp_auth_url;  // the IdP's Keystone v3: "http://idp/identity/v3"
    // The agent's OpenStack-facing base URL as clients reach it ("http://agent:8080"). Empty: taken
    // from each request's Host header (set it behind a TLS terminator or NAT).
    std::string public_url;
    CatalogOptions catalog;                     // region, id seed, which services the agent serves
    std::chrono::milliseconds timeout{30'000};  // per IdP call
};

// The agent's Keystone (paper IV-F): every /identity request is forwarded to the identity
// provider; token and catalog answers get a catalog of the agent's own endpoints, and the
// IdP's URLs in links and Location headers become the agent's. docs/identity.md.
// Must outlive the Router it adds routes to.
class IdentityProxy {
public:
    struct Stats {
        std::uint64_t forwarded = 0;    // requests sent to the IdP
        std::uint64_t unreachable = 0;  // ... that got no answer
        std::uint64_t catalogs = 0;     // catalogs replaced
    };

    // `cache` (optional, not owned) learns tokens issued through the proxy and forgets revoked ones.
    IdentityProxy(boost::asio::any_io_executor executor, IdentityProxyOptions options, TokenCache* cache = nullptr);
    ~IdentityProxy();
    IdentityProxy(const IdentityProxy&) = delete;
    IdentityProxy& operator=(const IdentityProxy&) = delete;

    // Adds GET /identity, /identity/v3, the /identity/v3/auth/{tokens,catalog} routes and a
    // catch-all for every other /identity/v3/... path (up to kMaxDepth segments), all methods;
    // errors under /identity take Keystone's shape.
    void AddRoutes(http::Router& router);
    static constexpr int kMaxDepth = 10;

    const Stats& GetStats() const { return stats_; }

private:
    enum class Kind { kPlain, kIssue, kValidate, kRevoke, kCatalog };
    boost::asio::awaitable<Result<http::Response>> Forward(Kind kind, http::Request& req);
    std::string AgentBase(const http::Request& req) const;

    IdentityProxyOptions options_;
    std::string idp_identity_;  // "http://idp/identity"
    TokenCache* cache_;
    http::Client client_;
    Stats stats_;
};

}  // namespace shoal::identity
