#pragma once

#include <nlohmann/json.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloudlet/keystone_session.hpp"
#include "cloudlet/memory_load.hpp"
#include "cloudlet/single_flight.hpp"
#include "common/result.hpp"
#include "http/client.hpp"
#include "http/message.hpp"
#include "openstack/keystone_admin.hpp"

namespace shoal::cloudlet {

// Whose token a call carries. A class with constructors, not an aggregate: it is passed by
// value to coroutines (g++ 12, docs/architecture.md "Coroutine rules").
class As {
public:
    enum class Kind { kAdmin, kTenant, kAnonymous };
    static As Admin() { return {Kind::kAdmin, {}}; }
    static As Tenant(std::string tenant_id) { return {Kind::kTenant, std::move(tenant_id)}; }
    static As Anonymous() { return {Kind::kAnonymous, {}}; }

    Kind kind() const { return kind_; }
    const std::string& tenant_id() const { return tenant_id_; }

private:
    As(Kind k, std::string t) : kind_(k), tenant_id_(std::move(t)) {}
    Kind kind_;
    std::string tenant_id_;
};

struct CallOptions {
    CallOptions() {}  // NOLINT(modernize-use-equals-default): user-provided, so never an aggregate (see As)
    // "2.1" (compute), "1.22" (placement): sent as "OpenStack-API-Version: <type> <v>", and
    // for compute also as X-OpenStack-Nova-API-Version (Nova before 2.27 reads only that).
    std::string microversion;
    std::optional<std::chrono::milliseconds> timeout;  // default: SessionOptions::request_timeout
    bool retry_unauthorized = true;                    // a 401 re-authenticates and retries once
    http::Headers headers;                             // extra headers
    // Sent instead of a JSON body (image data, or a body passed through untouched).
    std::optional<std::string> raw_body;
    std::string content_type = "application/octet-stream";  // of raw_body
};

// What EnsureTenant made (or found) in the cloudlet for one shoal tenant. The caller persists
// it (the client stores nothing on disk); AdoptTenant() gives it back after a restart.
struct TenantAccount {
    std::string tenant_id;  // the shoal tenant
    std::string domain_id;  // where the project and user live
    std::string project_id;
    std::string project_name;  // ShadowName(tenant_id)
    std::string user_id;
    std::string user_name;           // ShadowName(tenant_id)
    std::vector<std::string> roles;  // role names assigned on the project ("member", "reader")
    bool created = false;            // this call created the project or the user
};

struct CloudletClientOptions {
    CloudletClientOptions() { http.connect_timeout = std::chrono::milliseconds(3'000); }
    SessionOptions session;
    http::ClientOptions http;
    // Key for the shadow users' passwords (HMAC-SHA256, see ShadowPassword). Empty: the
    // service account's password, which the agent has anyway.
    std::string tenant_secret;
    std::string name_prefix = "shoal-";  // of the projects and users it creates
};

// The Keystone name of the project and user that stand for shoal tenant `tenant_id`:
// prefix + tenant_id, or prefix + "h-" + 40 hex digits of its SHA-256 when that would be
// longer than 64 characters (Keystone's project name limit) or hold other than [A-Za-z0-9._-].
std::string ShadowName(std::string_view prefix, std::string_view tenant_id);
// The shadow user's password: "Sh0al-" + base64url(HMAC-SHA256(secret,
// "shoal/tenant-password/v1\n" + identity_v3_url + "\n" + tenant_id)). Derived, so nothing
// secret needs persisting and a restarted agent can still log the user in.
std::string ShadowPassword(std::string_view secret, std::string_view identity_v3_url, std::string_view tenant_id);

// The agent's client of its own cloudlet: an unmodified OpenStack (Keystone, Glance, Nova,
// Placement), or shoal's embedded one. Every result is a Result; network conditions never
// throw: a cloudlet that cannot be reached is kUnavailable, one that does not answer in time
// kTimeout. Lives on one io_context thread and must outlive the calls it runs.
class CloudletClient {
public:
    CloudletClient(boost::asio::any_io_executor executor,
                   Credentials credentials,
                   CloudletClientOptions options = CloudletClientOptions());
    ~CloudletClient();
    CloudletClient(const CloudletClient&) = delete;
    CloudletClient& operator=(const CloudletClient&) = delete;

    // Any request to `service`: `path` (with query) is relative to the catalog endpoint, e.g.
    // Call(kCompute, kGet, "/servers/detail"). A null `body` sends none. Adds X-Auth-Token (of
    // `as`), Accept and the microversion headers; a 401 drops the token, logs in again and
    // retries once. Any HTTP status is a success here; transport failures are errors.
    boost::asio::awaitable<Result<http::Response>> Call(Service service,
                                                        http::Method method,
                                                        std::string path,
                                                        nlohmann::json body = nullptr,
                                                        As as = As::Admin(),
                                                        CallOptions options = CallOptions());
    // The same, for JSON APIs: a non-2xx status becomes an Error with its code and the
    // service's message; an empty 2xx body is null.
    boost::asio::awaitable<Result<nlohmann::json>> CallJson(Service service,
                                                            http::Method method,
                                                            std::string path,
                                                            nlohmann::json body = nullptr,
                                                            As as = As::Admin(),
                                                            CallOptions options = CallOptions());

    // The service account's token and the catalog's endpoints (logging in if needed).
    boost::asio::awaitable<Result<Token>> AdminToken();
    boost::asio::awaitable<Result<Endpoints>> GetEndpoints();

    // Makes sure shoal tenant `tenant_id` has, in domain `domain` (a name, or an id) of the
    // cloudlet's Keystone, a project and a shadow user with the member role (and reader when
    // the cloudlet has it) on it. Idempotent: finds what exists by name, and a 409 on create
    // (someone else created it meanwhile) means look it up again. Concurrent calls for one
    // tenant share one run; later calls are answered from memory.
    boost::asio::awaitable<Result<TenantAccount>> EnsureTenant(std::string tenant_id,
                                                               std::string tenant_name,
                                                               std::string domain = "Default");
    // Installs an account persisted from an earlier EnsureTenant (no network).
    void AdoptTenant(TenantAccount account);
    std::optional<TenantAccount> FindTenant(const std::string& tenant_id) const;
    // A project-scoped token for the tenant's shadow user: cached until its refresh point,
    // one login for concurrent callers. kNotFound before EnsureTenant/AdoptTenant. A refused
    // login (password or role assignment changed behind our back) is repaired once by the
    // service account.
    boost::asio::awaitable<Result<Token>> TenantToken(std::string tenant_id);

    // The cloudlet's memory load for the scheduler (memory_load.hpp).
    boost::asio::awaitable<Result<MemoryLoadReport>> MemoryLoad(MemorySource source = MemorySource::kAuto);

    SessionStats Stats() const { return session_.Stats(); }
    // Creates that drew a 409 because someone else created the same project or user first.
    std::uint64_t CreateConflicts() const { return create_conflicts_; }
    const Credentials& credentials() const { return session_.credentials(); }
    http::Client& HttpClient() { return http_; }

private:
    // Where a request goes: a catalog service, or the Keystone v3 root of auth_url.
    boost::asio::awaitable<Result<http::Response>> Exchange(std::optional<Service> service,
                                                            http::Method method,
                                                            std::string path,
                                                            nlohmann::json body,
                                                            As as,
                                                            CallOptions options);
    boost::asio::awaitable<Result<nlohmann::json>> Keystone(http::Method method, std::string path, nlohmann::json body);
    boost::asio::awaitable<Result<TenantAccount>> CreateTenant(std::string tenant_id,
                                                               std::string tenant_name,
                                                               std::string domain);
    openstack::KeystoneCall AdminCall();  // Keystone() as openstack/keystone_admin.hpp calls it
    boost::asio::awaitable<Result<std::string>> DomainId(std::string domain);
    boost::asio::awaitable<Status> Grant(TenantAccount account);
    boost::asio::awaitable<Result<Token>> TenantLogin(std::string tenant_id);
    boost::asio::awaitable<Result<MemoryLoadReport>> PlacementMemory();
    std::string PasswordOf(const std::string& tenant_id) const;

    http::Client http_;
    KeystoneSession session_;
    CloudletClientOptions options_;
    std::map<std::string, TenantAccount, std::less<>> accounts_;
    std::map<std::string, std::string, std::less<>> domain_ids_;
    std::vector<std::pair<std::string, std::string>> role_ids_;  // (name, id) of member/reader
    SingleFlight<Result<TenantAccount>> ensure_flights_;
    std::uint64_t create_conflicts_ = 0;
};

}  // namespace shoal::cloudlet
