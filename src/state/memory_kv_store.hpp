#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "state/kv_store.hpp"

namespace shoal::state {

// An ordered std::map with one global revision counter, for unit tests of callers and for the
// simulator. Not durable: everything is gone with the object. Every call is O(log n) (List:
// O(log n + returned)) and completes without suspending.
class MemoryKvStore final : public KvStore {
public:
    boost::asio::awaitable<Result<std::optional<KvEntry>>> Get(std::string key) override;
    boost::asio::awaitable<Result<std::int64_t>> Put(std::string key, std::string value) override;
    boost::asio::awaitable<Result<std::int64_t>> PutIf(std::string key,
                                                       std::string value,
                                                       std::int64_t expected) override;
    boost::asio::awaitable<Result<bool>> Delete(std::string key) override;
    boost::asio::awaitable<Result<std::vector<KvEntry>>> List(std::string prefix, std::size_t limit = 0) override;
    std::string Describe() const override { return "memory:"; }

private:
    std::int64_t Write(std::string key, std::string value);

    std::map<std::string, KvEntry, std::less<>> entries_;
    std::int64_t revision_ = 0;
};

}  // namespace shoal::state
