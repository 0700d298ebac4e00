#include "state/memory_kv_store.hpp"

namespace shoal::state {

std::int64_t MemoryKvStore::Write(std::string key, std::string value) {
    ++revision_;
    auto& entry = entries_[key];
    entry.key = std::move(key);
    entry.value = std::move(value);
    entry.revision = revision_;
    return revision_;
}

boost::asio::awaitable<Result<std::optional<KvEntry>>> MemoryKvStore::Get(std::string key) {
    Result<std::optional<KvEntry>> out{std::optional<KvEntry>()};
    if (auto it = entries_.find(key); it != entries_.end()) out.value().emplace(it->second);
    co_return out;
}

boost::asio::awaitable<Result<std::int64_t>> MemoryKvStore::Put(std::string key, std::string value) {
    co_return Write(std::move(key), std::move(value));
}

boost::asio::awaitable<Result<std::int64_t>> MemoryKvStore::PutIf(std::string key,
                                                                  std::string value,
                                                                  std::int64_t expected) {
    auto it = entries_.find(key);
    std::int64_t current = it == entries_.end() ? 0 : it->second.revision;
    if (current != expected) {
        co_return MakeError(ErrorCode::kConflict, "revision of " + key + " is " + std::to_string(current) +
                                                      ", expected " + std::to_string(expected));
    }
    co_return Write(std::move(key), std::move(value));
}

boost::asio::awaitable<Result<bool>> MemoryKvStore::Delete(std::string key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) co_return false;
    entries_.erase(it);
    ++revision_;  // as in etcd, a delete is a write and takes a revision
    co_return true;
}

boost::asio::awaitable<Result<std::vector<KvEntry>>> MemoryKvStore::List(std::string prefix, std::size_t limit) {
    std::vector<KvEntry> out;
    for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        if (limit > 0 && out.size() >= limit) break;
        out.push_back(it->second);
    }
    co_return out;
}

}  // namespace shoal::state
