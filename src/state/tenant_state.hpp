#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "state/kv_store.hpp"

namespace shoal::state {

// One row of a tenant's resource map (paper IV-D): which cloudlet holds a shoal resource and
// under which id the cloudlet knows it.
struct ResourceRecord {
    std::string id;               // shoal id (what the user sees)
    std::string tenant;           // project id at the identity provider
    std::string kind;             // "server", "image", "keypair", ...
    std::string cloudlet;         // the agent id responsible for the cloudlet holding it
    std::string cloudlet_id;      // the cloudlet's own id for it
    std::string status;           // last known, e.g. "BUILD", "ACTIVE", "ERROR", "DELETED"
    std::int64_t created_at = 0;  // unix milliseconds
    std::int64_t updated_at = 0;
    nlohmann::json extra = nlohmann::json::object();  // kind-specific (name, flavor, ...)
    std::int64_t revision = 0;                        // store revision it was read at; 0 if new
};

// The record as JSON (without its revision): what the store keeps and what A2A answers carry.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    ResourceRecord, id, tenant, kind, cloudlet, cloudlet_id, status, created_at, updated_at, extra)
nlohmann::json ToJson(const ResourceRecord& r);

// Where copies of a shoal image live: one per cloudlet that imported it.
struct ImageLocation {
    std::string image_id;  // shoal id
    std::string tenant;
    std::string cloudlet;     // agent id
    std::string cloudlet_id;  // the cloudlet's image id
    std::string status;       // "importing", "active", "failed"
    std::int64_t updated_at = 0;
    std::int64_t revision = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    ImageLocation, image_id, tenant, cloudlet, cloudlet_id, status, updated_at)

// Work started but not finished (a server create being scheduled, an image import): what a
// restarted or take-over agent must resume or clean up so nothing is orphaned.
struct Operation {
    std::string id;
    std::string tenant;
    std::string kind;   // "server.create", "image.import", ...
    std::string owner;  // the agent that runs it
    nlohmann::json state = nlohmann::json::object();
    std::int64_t started_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t revision = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Operation, id, tenant, kind, owner, state, started_at, updated_at)

// The typed state an agent keeps, over any KvStore. Key layout (docs/state.md):
//   tenants/<tenant>/resources/<id>
//   tenants/<tenant>/images/<image>/locations/<cloudlet>
//   tenants/<tenant>/operations/<id>
//   index/tenants/<tenant>          marker, written (create-if-absent) before a tenant's first record
// Values are JSON objects with the record's fields except `revision`, which is the key's store
// revision. Tenants, ids, image ids and cloudlets must be non-empty and contain no '/'
// (kBadRequest otherwise). Writes with a record's `revision` set are compare-and-set (kConflict if someone wrote
// first); revision 0 means "create; kConflict if it exists" for Create*, "overwrite" for Put*.
class TenantState {
public:
    explicit TenantState(KvStore& store) : store_(store) {}

    KvStore& Store() { return store_; }

    boost::asio::awaitable<Result<ResourceRecord>> CreateResource(ResourceRecord record);
    boost::asio::awaitable<Result<ResourceRecord>> PutResource(ResourceRecord record);
    boost::asio::awaitable<Result<ResourceRecord>> GetResource(std::string tenant, std::string id);  // kNotFound
    // Every resource of the tenant, of `kind` if not empty, in id order.
    boost::asio::awaitable<Result<std::vector<ResourceRecord>>> ListResources(std::string tenant,
                                                                              std::string kind = {});
    boost::asio::awaitable<Result<bool>> DeleteResource(std::string tenant, std::string id);

    boost::asio::awaitable<Result<ImageLocation>> PutImageLocation(ImageLocation location);
    boost::asio::awaitable<Result<std::vector<ImageLocation>>> ListImageLocations(std::string tenant,
                                                                                  std::string image_id);
    boost::asio::awaitable<Result<bool>> DeleteImageLocation(std::string tenant,
                                                             std::string image_id,
                                                             std::string cloudlet);

    boost::asio::awaitable<Result<Operation>> PutOperation(Operation op);
    boost::asio::awaitable<Result<std::vector<Operation>>> ListOperations(std::string tenant);
    boost::asio::awaitable<Result<bool>> FinishOperation(std::string tenant, std::string id);
    // Every tenant that has any state, for a take-over agent's scan, in order. One List of the
    // marker keys: O(tenants), not O(records). A tenant whose records were all deleted stays
    // listed (its marker is never removed).
    boost::asio::awaitable<Result<std::vector<std::string>>> ListTenants();

private:
    // Writes the tenant's marker unless this object already did (or saw it): one extra PutIf per
    // tenant per process.
    boost::asio::awaitable<Status> EnsureTenant(std::string tenant);
    // Put (expected nullopt) or PutIf of one record's JSON; the new revision.
    boost::asio::awaitable<Result<std::int64_t>> Write(std::string tenant,
                                                       std::string key,
                                                       std::string value,
                                                       std::optional<std::int64_t> expected);

    KvStore& store_;
    std::set<std::string, std::less<>> known_tenants_;
};

}  // namespace shoal::state
