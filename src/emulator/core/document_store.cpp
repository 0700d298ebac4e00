#include "emulator/core/document_store.hpp"

#include <sqlite3.h>

namespace shoal::emulator {
namespace {

class MemoryStore final : public DocumentStore {
public:
    void Put(std::string_view, std::string_view, const nlohmann::json&) override {}
    void Erase(std::string_view, std::string_view) override {}
    std::vector<std::pair<std::string, nlohmann::json>> LoadAll(std::string_view) const override { return {}; }
    bool Durable() const override { return false; }
};

class SqliteStore final : public DocumentStore {
public:
    explicit SqliteStore(sqlite3* db) : db_(db) {
        sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO documents(collection, id, body) VALUES (?1, ?2, ?3)", -1, &put_,
                           nullptr);
        sqlite3_prepare_v2(db_, "DELETE FROM documents WHERE collection = ?1 AND id = ?2", -1, &erase_, nullptr);
        sqlite3_prepare_v2(db_, "SELECT id, body FROM documents WHERE collection = ?1 ORDER BY rowid", -1, &load_,
                           nullptr);
    }
    ~SqliteStore() override {
        sqlite3_finalize(put_);
        sqlite3_finalize(erase_);
        sqlite3_finalize(load_);
        sqlite3_close(db_);
    }

    void Put(std::string_view collection, std::string_view id, const nlohmann::json& doc) override {
        auto body = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        sqlite3_reset(put_);
        sqlite3_bind_text(put_, 1, collection.data(), static_cast<int>(collection.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(put_, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(put_, 3, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
        Step(put_);
    }
    void Erase(std::string_view collection, std::string_view id) override {
        sqlite3_reset(erase_);
        sqlite3_bind_text(erase_, 1, collection.data(), static_cast<int>(collection.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(erase_, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        Step(erase_);
    }
    std::vector<std::pair<std::string, nlohmann::json>> LoadAll(std::string_view collection) const override {
        std::vector<std::pair<std::string, nlohmann::json>> out;
        sqlite3_reset(load_);
        sqlite3_bind_text(load_, 1, collection.data(), static_cast<int>(collection.size()), SQLITE_TRANSIENT);
        while (sqlite3_step(load_) == SQLITE_ROW) {
            std::string id(reinterpret_cast<const char*>(sqlite3_column_text(load_, 0)));
            auto body =
                nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(load_, 1)), nullptr, false);
            if (!body.is_discarded()) out.emplace_back(std::move(id), std::move(body));
        }
        return out;
    }
    bool Durable() const override { return true; }

private:
    void Step(sqlite3_stmt* stmt) {
        int rc = sqlite3_step(stmt);
        // A failed write of the emulator's own state is not survivable: stop loudly.
        if (rc != SQLITE_DONE) throw std::runtime_error(std::string("sqlite write failed: ") + sqlite3_errmsg(db_));
    }

    sqlite3* db_;
    sqlite3_stmt* put_ = nullptr;
    sqlite3_stmt* erase_ = nullptr;
    mutable sqlite3_stmt* load_ = nullptr;
};

}  // namespace

std::unique_ptr<DocumentStore> MakeMemoryStore() {
    return std::make_unique<MemoryStore>();
}

Result<std::unique_ptr<DocumentStore>> OpenSqliteStore(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return MakeError(ErrorCode::kInternal, "Cannot open state " + path + ": " + msg);
    }
    const char* schema =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=5000;"
        "CREATE TABLE IF NOT EXISTS documents(collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
        " PRIMARY KEY(collection, id));";
    char* err = nullptr;
    if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        sqlite3_close(db);
        return MakeError(ErrorCode::kInternal, "Cannot initialise state " + path + ": " + msg);
    }
    return std::unique_ptr<DocumentStore>(std::make_unique<SqliteStore>(db));
}

}  // namespace shoal::emulator
