#pragma once

#include "emulator/core/py_repr.hpp"

// Internals of the emulated Nova API shared by nova_service.cpp, nova_servers.cpp and
// nova_util.cpp. Not part of any other service's contract.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time_format.hpp"
#include "emulator/core/identity.hpp"
#include "emulator/core/image_lookup.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "http/router.hpp"

namespace shoal::emulator::nova {

using nlohmann::json;

// ---- microversions -------------------------------------------------------------------------

// The highest microversion whose behaviour is implemented for every route served (Train's 2.79).
inline constexpr int kMaxMinor = 79;

struct ApiVersion {
    int minor = 1;  // the major version is always 2
    bool AtLeast(int m) const { return minor >= m; }
    std::string String() const { return "2." + std::to_string(minor); }
};

inline std::string MaxVersionString() {
    return "2." + std::to_string(kMaxMinor);
}

// From OpenStack-API-Version ("compute 2.37") or the legacy X-OpenStack-Nova-API-Version:
// absent means 2.1, "latest" the maximum, malformed 400, outside [2.1, max] 406.
Result<ApiVersion> RequestedVersion(const http::Request& req);
void AddVersionHeaders(http::Response& response, ApiVersion version);

// One authenticated API request at a microversion.
struct Call {
    http::Request& req;
    TokenInfo who;
    ApiVersion ver;
    bool Admin() const { return who.IsAdmin(); }
};

// ---- errors in Nova's words ------------------------------------------------------------------

// 403 from oslo.policy: "Policy doesn't allow os_compute_api:... to be performed."
Error PolicyError(std::string_view rule);
Status RequireAdmin(const Call& c, std::string_view rule);

// Python's repr()/str() of a JSON value, as jsonschema messages print them.
using emulator::PyRepr;
std::string PyStr(const json& v);
// "Invalid input for field/attribute <field>. Value: <value>. <reason>" (jsonschema body error).
Error BadField(std::string_view field, const json& value, const std::string& reason);
// "Invalid input for query parameters <param>. Value: <value>. <reason>".
Error BadQuery(std::string_view param, std::string_view value, const std::string& reason);
Error BadRequest(std::string message);

// ---- small JSON-schema checks with jsonschema's messages -------------------------------------

// The body must be an object holding `key` (itself an object); returns that inner object.
Result<const json*> RequireObjectMember(const json& body, std::string_view key);
// "Additional properties are not allowed ('x' was unexpected)".
Status NoAdditional(const json& obj, std::initializer_list<std::string_view> allowed);
// parameter_types.name: 1-255 printable characters, no leading or trailing whitespace.
Status CheckName(std::string_view field, const json& v);
// parameter_types.description: null or up to 255 printable characters.
Status CheckDescription(std::string_view field, const json& v);
// "Invalid input for field/attribute x. Value: y. y is not of type 'string'".
Status CheckString(std::string_view field, const json& v, std::size_t max_len = 255, std::size_t min_len = 0);
// parameter_types.boolean: true/false or their usual string forms.
Result<bool> CheckBoolean(std::string_view field, const json& v);
// parameter_types.positive_integer / non_negative_integer: an integer or a string of digits.
Result<long long> CheckInteger(std::string_view field, const json& v, long long minimum);
// parameter_types.metadata: string keys 1-255 of [a-zA-Z0-9-_:. ] and string values up to 255.
Result<std::map<std::string, std::string>> CheckMetadata(std::string_view field, const json& v);
// Query values: the non-negative integer `limit`.
Result<std::optional<long long>> QueryLimit(const http::Request& req);
// oslo's bool_from_string(strict=True); nullopt for anything else.
std::optional<bool> BoolFromString(std::string_view s);
bool IsUuidLike(std::string_view s);

// ---- helpers ----------------------------------------------------------------------------------

std::string NameUuid(std::string_view name);  // stable UUID derived from a name (SHA-1, RFC 4122 v5 layout)
std::string RandomString(std::size_t n, std::string_view alphabet);
std::string InstanceName(std::int64_t number);  // "instance-0000002a"
http::Response JsonResponse(int status, const json& body);

// Nova's quota defaults (nova.conf [quota]).
struct Quotas {
    int instances = 10;
    int cores = 20;
    int ram = 51200;
    int key_pairs = 100;
    int metadata_items = 128;
    int server_groups = 10;
    int server_group_members = 10;
    int injected_files = 5;
    int injected_file_content_bytes = 10240;
};

struct Usage {
    int instances = 0;
    int cores = 0;
    int ram = 0;
};

struct Flavor {
    std::string id;
    std::string name;
    int vcpus = 1;
    int ram_mb = 512;
    int disk_gb = 0;
    int ephemeral_gb = 0;
    int swap_mb = 0;
    double rxtx_factor = 1.0;
    bool is_public = true;
    bool disabled = false;
    std::optional<std::string> description;
    std::map<std::string, std::string> extra_specs;
    std::vector<std::string> projects;  // os-flavor-access, for private flavors
    std::int64_t number = 0;            // creation order (Nova's integer primary key)
};

struct Keypair {
    std::string name;
    std::string user_id;
    std::string type = "ssh";
    std::string public_key;
    std::string fingerprint;
    SystemTime created_at;
    std::int64_t number = 0;
};

// Everything the Nova API keeps: the service's State (nova_service.cpp) is this.
struct ServiceState {
    ServiceState(ServiceContext& c, const ImageLookup& i, FakeCompute& f) : ctx(c), images(i), compute(f) {
        quotas.instances = c.config.quota.instances;
        quotas.cores = c.config.quota.cores;
        quotas.ram = c.config.quota.ram_mb;
    }

    ServiceContext& ctx;
    const ImageLookup& images;
    FakeCompute& compute;
    nova::Quotas quotas;
    std::map<std::string, nova::Flavor, std::less<>> flavors;    // by flavor id
    std::map<std::string, nova::Keypair, std::less<>> keypairs;  // by "<user_id>/<name>"
    std::int64_t next_flavor_number = 1;
    std::int64_t next_keypair_number = 1;

    // Links as Nova builds them from the request URL (no project id in our catalog endpoint).
    std::string ComputeBase() const { return ctx.base_url() + std::string(kComputePrefix); }  // bookmark base
    std::string SelfLink(std::string_view collection, std::string_view id) const {
        return ctx.ComputeUrl() + "/" + std::string(collection) + "/" + std::string(id);
    }
    std::string BookmarkLink(std::string_view collection, std::string_view id) const {
        return ComputeBase() + "/" + std::string(collection) + "/" + std::string(id);
    }
    nova::json Links(std::string_view collection, std::string_view id) const {
        return nova::json::array({{{"rel", "self"}, {"href", SelfLink(collection, id)}},
                                  {{"rel", "bookmark"}, {"href", BookmarkLink(collection, id)}}});
    }

    // A flavor the caller may see (private flavors: admins and projects given access).
    const nova::Flavor* VisibleFlavor(const nova::Call& c, std::string_view id) const;
    const nova::Keypair* FindKeypair(std::string_view user_id, std::string_view name) const;
    nova::Usage UsageOf(std::string_view project_id) const;

    void SaveFlavor(const nova::Flavor& f);
    void SaveKeypair(const nova::Keypair& k);

    // Registers `handler` under /compute/v2.1 behind authentication and the microversion check;
    // outside [min_minor, max_minor] the route answers 404 like Nova's versioned methods.
    using Handler = std::function<Result<http::Response>(nova::Call&)>;
    void Route(http::Router& router,
               http::Method method,
               std::string_view pattern,
               Handler handler,
               int min_minor = 1,
               int max_minor = nova::kMaxMinor);
};

// nova_servers.cpp
void AddServerRoutes(ServiceState& st, http::Router& router);

}  // namespace shoal::emulator::nova
