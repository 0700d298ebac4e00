#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace shoal::emulator {

// Where an emulated service keeps its records: a document per (collection, id).
// In-memory by default (writes are dropped, the services hold the state); SQLite when the
// cloudlet is configured with a state_path. Writes are synchronous: SQLite in WAL mode with
// synchronous=NORMAL costs tens of microseconds per write and survives kill -9 of the process.
class DocumentStore {
public:
    virtual ~DocumentStore() = default;
    virtual void Put(std::string_view collection, std::string_view id, const nlohmann::json& doc) = 0;
    virtual void Erase(std::string_view collection, std::string_view id) = 0;
    virtual std::vector<std::pair<std::string, nlohmann::json>> LoadAll(std::string_view collection) const = 0;
    virtual bool Durable() const = 0;
};

std::unique_ptr<DocumentStore> MakeMemoryStore();
Result<std::unique_ptr<DocumentStore>> OpenSqliteStore(const std::string& path);

}  // namespace shoal::emulator
