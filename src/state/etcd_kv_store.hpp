#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.hpp"
#include "http/message.hpp"
#include "state/kv_store.hpp"

namespace shoal::state {

struct EtcdOptions {
    std::vector<std::string> endpoints;        // "http://127.0.0.1:2379", tried in turn
    std::string prefix = "/shoal/v1/";         // prepended to every key; stripped from listed keys
    std::chrono::milliseconds timeout{5'000};  // per call (one HTTP exchange) -> kTimeout
};

// KvStore over etcd v3 (tested with 3.4) through its JSON gRPC gateway (/v3/kv/*), on our own
// HTTP client: base64 keys and values, int64 fields as JSON strings. Revisions are etcd's
// mod_revision / header.revision, so they are global and only grow. A write is acknowledged
// after etcd committed it to a quorum of members' WALs (fsync'd): it survives the agent's death
// and, with 3+ members, a member's loss.
//
// Endpoints are tried in turn from the last one that answered: a network failure (kUnavailable)
// or a gRPC Unavailable answer moves on to the next; a timeout (kTimeout) is returned and the next
// call starts at the next endpoint. A PutIf retried on another endpoint after a connection broke
// mid-request may report kConflict for a write that was in fact applied: callers re-read on conflict.
class EtcdKvStore final : public KvStore {
public:
    // kBadRequest when there is no endpoint or one is not an http:// URL.
    static Result<std::unique_ptr<EtcdKvStore>> Create(boost::asio::any_io_executor executor, EtcdOptions options);

    boost::asio::awaitable<Result<std::optional<KvEntry>>> Get(std::string key) override;
    boost::asio::awaitable<Result<std::int64_t>> Put(std::string key, std::string value) override;
    boost::asio::awaitable<Result<std::int64_t>> PutIf(std::string key,
                                                       std::string value,
                                                       std::int64_t expected) override;
    boost::asio::awaitable<Result<bool>> Delete(std::string key) override;
    boost::asio::awaitable<Result<std::vector<KvEntry>>> List(std::string prefix, std::size_t limit = 0) override;
    std::string Describe() const override;

private:
    EtcdKvStore(boost::asio::any_io_executor executor, EtcdOptions options, std::vector<http::Url> urls);

    // POSTs `body` to `path` ("/v3/kv/range") and returns the parsed JSON answer.
    boost::asio::awaitable<Result<nlohmann::json>> Call(std::string path, nlohmann::json body);

    EtcdOptions options_;
    std::vector<http::Url> urls_;
    std::size_t current_ = 0;  // the endpoint to try first
    http::Client client_;
};

}  // namespace shoal::state
