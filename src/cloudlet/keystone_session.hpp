#pragma once

#include <nlohmann/json.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cloudlet/single_flight.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/time_format.hpp"
#include "http/client.hpp"
#include "openstack/credentials.hpp"

namespace shoal::cloudlet {

using Credentials = openstack::Credentials;

enum class Service { kIdentity, kImage, kCompute, kPlacement };
std::string_view ServiceType(Service s);  // the catalog type: "identity", "image", ...

// Service URLs from the catalog (public interface, our region), without trailing slashes.
struct Endpoints {
    std::string identity;
    std::string image;
    std::string compute;  // without the project id, even if the catalog's URL had one
    std::string placement;
    // The catalog's compute URL ended in the token's project id (an old-style
    // ".../v2.1/%(project_id)s" endpoint): each call must then put its own project id there.
    bool compute_has_project_id = false;

    // The base URL for a call on behalf of `project_id`.
    std::string Url(Service s, std::string_view project_id) const;
};

// Finds the `interface` URL of service `type` in `region` in a Keystone v3 catalog (an empty
// region matches any). Trailing slashes are stripped.
Result<std::string> FindEndpoint(const nlohmann::json& catalog,
                                 std::string_view type,
                                 std::string_view interface,
                                 std::string_view region);
// All four services from a token body's catalog; `project_id` is the token's project.
Result<Endpoints> DiscoverEndpoints(const nlohmann::json& catalog,
                                    std::string_view interface,
                                    std::string_view region,
                                    std::string_view project_id);

// auth_url normalised to the v3 API root ("http://h:5000" and "http://h:5000/v3/" both give
// "http://h:5000/v3").
std::string IdentityV3(std::string_view auth_url);

struct Token {
    std::string id;
    std::string user_id;
    std::string project_id;
    SystemTime expires_at;  // Keystone's clock
    // Local deadlines, from the lifetime Keystone granted (expires_at - issued_at) counted
    // from when we asked: immune to clock skew between agent and cloudlet.
    std::chrono::steady_clock::time_point refresh_at;
    std::chrono::steady_clock::time_point expires_local;

    bool Usable(std::chrono::steady_clock::time_point now) const { return !id.empty() && now < expires_local; }
    bool Fresh(std::chrono::steady_clock::time_point now) const { return !id.empty() && now < refresh_at; }
};

// When a cached token is replaced: `margin` before it expires, or half-way through its
// lifetime if that is sooner (a 10-minute token is refreshed after 5).
std::chrono::steady_clock::duration RefreshAfter(std::chrono::steady_clock::duration lifetime,
                                                 std::chrono::seconds margin);

struct SessionOptions {
    // NOLINTNEXTLINE(modernize-use-equals-default): user-provided, so never an aggregate
    SessionOptions() {}  // not an aggregate: passed by value to coroutines (docs/architecture.md)
    std::string interface = "public";
    std::chrono::seconds refresh_margin{300};
    std::chrono::milliseconds request_timeout{30'000};
    Clock* clock = &SystemClock();  // token lifetimes and refresh points
};

struct SessionStats {
    std::uint64_t admin_logins = 0;   // POST /v3/auth/tokens for the service account
    std::uint64_t scoped_logins = 0;  // ... for other users (tenant shadow users)
    std::uint64_t joined = 0;         // callers that waited for a login already in flight
};

// Keystone for the agent: the service account's token (cached, refreshed before expiry, one
// login at a time), the catalog, and cached project-scoped tokens for other users.
// Lives on one io_context thread; must outlive the coroutines it starts.
class KeystoneSession {
public:
    KeystoneSession(http::Client& client, Credentials credentials, SessionOptions options = {});
    KeystoneSession(const KeystoneSession&) = delete;
    KeystoneSession& operator=(const KeystoneSession&) = delete;

    // The service account's project-scoped token: cached while fresh; past its refresh point
    // one caller logs in while the others wait for that login. A failed refresh still hands
    // out the old token while Keystone would accept it.
    boost::asio::awaitable<Result<Token>> AdminToken();
    // The catalog's endpoints (logs in first if needed).
    boost::asio::awaitable<Result<Endpoints>> GetEndpoints();

    // A token cached under `key` like the admin token: returned while fresh, else `login` runs
    // once for all concurrent callers and its token is cached. Key "" is the admin token's.
    boost::asio::awaitable<Result<Token>> CachedToken(std::string key, SingleFlight<Result<Token>>::Start login);
    // A project-scoped password login for `user_id`, not cached (CachedToken caches it).
    boost::asio::awaitable<Result<Token>> UserLogin(std::string user_id, std::string password, std::string project_id);

    // A token drew a 401: drop it (only if it is still the cached one, so that 20 callers
    // holding the same dead token cause one login, not 20). Key "" is the admin token.
    void Invalidate(const std::string& key, const std::string& token_id);

    const Credentials& credentials() const { return credentials_; }
    std::string IdentityUrl() const { return identity_v3_; }  // the v3 root all Keystone calls use
    SessionStats Stats() const;
    std::chrono::milliseconds RequestTimeout() const { return options_.request_timeout; }

private:
    struct Login {
        Token token;
        nlohmann::json catalog;
    };
    boost::asio::awaitable<Result<Token>> LoginAndStore(std::string key, SingleFlight<Result<Token>>::Start login);
    boost::asio::awaitable<Result<Token>> AdminLogin();
    boost::asio::awaitable<Result<Login>> PasswordLogin(nlohmann::json auth, bool want_catalog);

    http::Client& client_;
    Credentials credentials_;
    SessionOptions options_;
    std::string identity_v3_;
    std::map<std::string, Token, std::less<>> tokens_;  // "" = admin, else the caller's key
    std::optional<Endpoints> endpoints_;
    SingleFlight<Result<Token>> flights_;
    SessionStats stats_;
};

}  // namespace shoal::cloudlet
