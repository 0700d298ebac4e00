#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace shoal::state {

// One key with its value and the revision of its last write. Revisions only grow; a key that
// does not exist has revision 0.
struct KvEntry {
    std::string key;
    std::string value;
    std::int64_t revision = 0;
};

// The ordered key-value store under all agent state: the one thing both backends (SQLite in WAL
// mode, embedded and durable across kill -9; etcd v3, replicated) provide. Keys are '/'-separated
// paths. An acknowledged write (a returned Result that is ok) is durable: it survives a SIGKILL of
// the agent right after. Errors are typed: kConflict for a failed PutIf, kUnavailable/kTimeout
// when the backend cannot be reached, kInternal for a corrupt store. Never throws.
class KvStore {
public:
    virtual ~KvStore() = default;

    virtual boost::asio::awaitable<Result<std::optional<KvEntry>>> Get(std::string key) = 0;
    // The key's new revision.
    virtual boost::asio::awaitable<Result<std::int64_t>> Put(std::string key, std::string value) = 0;
    // Writes only if the key's current revision is `expected` (0: the key must not exist);
    // kConflict otherwise. The compare-and-set that status transitions and take-overs use.
    virtual boost::asio::awaitable<Result<std::int64_t>> PutIf(std::string key,
                                                               std::string value,
                                                               std::int64_t expected) = 0;
    // True if the key existed.
    virtual boost::asio::awaitable<Result<bool>> Delete(std::string key) = 0;
    // Every key that starts with `prefix`, in key order; at most `limit` when limit > 0.
    virtual boost::asio::awaitable<Result<std::vector<KvEntry>>> List(std::string prefix, std::size_t limit = 0) = 0;

    // "sqlite:/path/state.db", "etcd:http://127.0.0.1:2379", "memory:".
    virtual std::string Describe() const = 0;
};

// Where agent state lives, as an agent's config file says it.
struct StoreConfig {
    std::string backend = "sqlite";      // "sqlite", "etcd" or "memory"
    std::string path;                    // sqlite: the database file
    std::vector<std::string> endpoints;  // etcd: "http://127.0.0.1:2379", tried in turn
    std::string prefix = "/shoal/v1/";   // etcd: every key lives under it (one etcd, many clusters)
};

// Opens the configured backend; kBadRequest for an unknown backend or a missing path/endpoint.
Result<std::unique_ptr<KvStore>> OpenKvStore(const StoreConfig& config, boost::asio::any_io_executor executor);

}  // namespace shoal::state
