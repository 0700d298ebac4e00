#include "state/kv_store.hpp"

#include "state/etcd_kv_store.hpp"
#include "state/memory_kv_store.hpp"
#include "state/sqlite_kv_store.hpp"

namespace shoal::state {

Result<std::unique_ptr<KvStore>> OpenKvStore(const StoreConfig& config, boost::asio::any_io_executor executor) {
    if (config.backend == "memory") return std::unique_ptr<KvStore>(std::make_unique<MemoryKvStore>());
    if (config.backend == "sqlite") {
        if (config.path.empty()) return MakeError(ErrorCode::kBadRequest, "state store: sqlite needs a path");
        auto store = SqliteKvStore::Open(config.path);
        if (!store) return store.error();
        return std::unique_ptr<KvStore>(std::move(*store));
    }
    if (config.backend == "etcd") {
        EtcdOptions options;
        options.endpoints = config.endpoints;
        options.prefix = config.prefix;
        auto store = EtcdKvStore::Create(std::move(executor), std::move(options));
        if (!store) return store.error();
        return std::unique_ptr<KvStore>(std::move(*store));
    }
    return MakeError(ErrorCode::kBadRequest,
                     "state store: unknown backend '" + config.backend + "' (expected sqlite, etcd or memory)");
}

}  // namespace shoal::state
