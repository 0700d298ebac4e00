#include "state/sqlite_kv_store.hpp"

#include <sqlite3.h>

#include <utility>

#include "state/key_range.hpp"

namespace shoal::state {
namespace {

constexpr int kBusyTimeoutMs = 5'000;
constexpr std::size_t kMaxValueBytes = 512u << 20;  // far above any record; below SQLite's 1 GB limit

// Every statement is prepared once at open and reset (bindings cleared) when a call is done with
// it, so no statement keeps a read transaction open between calls (that would stall checkpoints).
class StatementUse {
public:
    explicit StatementUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~StatementUse() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    StatementUse(const StatementUse&) = delete;
    StatementUse& operator=(const StatementUse&) = delete;
    sqlite3_stmt* get() const { return stmt_; }

private:
    sqlite3_stmt* stmt_;
};

void BindText(sqlite3_stmt* stmt, int index, const std::string& s) {
    // SQLITE_STATIC: the string outlives the step that reads it.
    sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* stmt, int index) {
    const auto* p = sqlite3_column_text(stmt, index);
    int n = sqlite3_column_bytes(stmt, index);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::string ColumnBlob(sqlite3_stmt* stmt, int index) {
    const void* p = sqlite3_column_blob(stmt, index);
    int n = sqlite3_column_bytes(stmt, index);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Error OpenError(sqlite3* db, const std::string& path, const char* what) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    return MakeError(ErrorCode::kInternal, "cannot open state store sqlite:" + path + ": " + what + ": " + msg);
}

}  // namespace

struct SqliteKvStore::Statements {
    sqlite3_stmt* begin = nullptr;
    sqlite3_stmt* commit = nullptr;
    sqlite3_stmt* rollback = nullptr;
    sqlite3_stmt* get = nullptr;
    sqlite3_stmt* get_revision = nullptr;
    sqlite3_stmt* upsert = nullptr;
    sqlite3_stmt* erase = nullptr;
    sqlite3_stmt* bump = nullptr;
    sqlite3_stmt* list_range = nullptr;
    sqlite3_stmt* list_from = nullptr;

    ~Statements() {
        for (auto* s : {begin, commit, rollback, get, get_revision, upsert, erase, bump, list_range, list_from}) {
            sqlite3_finalize(s);  // a no-op for nullptr
        }
    }
};

Result<std::unique_ptr<SqliteKvStore>> SqliteKvStore::Open(std::string path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
        auto err = OpenError(db, path, "open");
        sqlite3_close(db);
        return err;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);

    // journal_mode=WAL answers with the mode now in force; anything else (e.g. a file system
    // without shared memory) would silently lose our durability story, so it is an error.
    std::string mode;
    char* err = nullptr;
    rc = sqlite3_exec(
        db, "PRAGMA journal_mode=WAL",
        [](void* out, int n, char** values, char**) {
            if (n > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
            return 0;
        },
        &mode, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
        auto e = OpenError(db, path, "not a usable SQLite database");
        sqlite3_close(db);
        return e;
    }
    if (mode != "wal") {
        sqlite3_close(db);
        return MakeError(ErrorCode::kInternal, "cannot open state store sqlite:" + path +
                                                   ": WAL mode refused (journal_mode is '" + mode + "')");
    }
    // synchronous=NORMAL in WAL mode: durable against a process kill (the WAL write is in the page
    // cache when the commit returns), not against power loss (that needs FULL). See docs/state.md.
    const char* schema =
        "PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL,"
        " revision INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO meta(name, value) VALUES('revision', 0);";
    if (sqlite3_exec(db, schema, nullptr, nullptr, nullptr) != SQLITE_OK) {
        auto e = OpenError(db, path, "schema");
        sqlite3_close(db);
        return e;
    }

    auto stmts = std::make_unique<Statements>();
    const std::pair<sqlite3_stmt**, const char*> sql[] = {
        {&stmts->begin, "BEGIN IMMEDIATE"},
        {&stmts->commit, "COMMIT"},
        {&stmts->rollback, "ROLLBACK"},
        {&stmts->get, "SELECT value, revision FROM kv WHERE key = ?1"},
        {&stmts->get_revision, "SELECT revision FROM kv WHERE key = ?1"},
        {&stmts->upsert,
         "INSERT INTO kv(key, value, revision) VALUES(?1, ?2, ?3)"
         " ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision"},
        {&stmts->erase, "DELETE FROM kv WHERE key = ?1"},
        {&stmts->bump, "UPDATE meta SET value = value + 1 WHERE name = 'revision' RETURNING value"},
        {&stmts->list_range, "SELECT key, value, revision FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3"},
        {&stmts->list_from, "SELECT key, value, revision FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2"},
    };
    for (const auto& [slot, text] : sql) {
        if (sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, nullptr) != SQLITE_OK) {
            auto e = OpenError(db, path, "prepare");
            stmts.reset();
            sqlite3_close(db);
            return e;
        }
    }
    return std::unique_ptr<SqliteKvStore>(new SqliteKvStore(std::move(path), db, std::move(stmts)));
}

SqliteKvStore::SqliteKvStore(std::string path, sqlite3* db, std::unique_ptr<Statements> stmts)
    : path_(std::move(path)), db_(db), stmts_(std::move(stmts)) {}

SqliteKvStore::~SqliteKvStore() {
    stmts_.reset();      // statements first: sqlite3_close refuses while any is alive
    sqlite3_close(db_);  // also checkpoints the WAL when this is the last connection
}

Error SqliteKvStore::SqlError(const char* what) const {
    int rc = sqlite3_errcode(db_) & 0xff;
    // Another process holding the write lock past busy_timeout: try again later.
    auto code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ErrorCode::kUnavailable : ErrorCode::kInternal;
    return MakeError(code, "sqlite:" + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Result<bool> SqliteKvStore::Exec(sqlite3_stmt* stmt) {
    StatementUse use(stmt);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(sqlite3_sql(stmt));
    return true;
}

void SqliteKvStore::Rollback() {
    if (!sqlite3_get_autocommit(db_)) (void)Exec(stmts_->rollback);
}

Result<std::int64_t> SqliteKvStore::NextRevision() {
    StatementUse use(stmts_->bump);
    if (sqlite3_step(stmts_->bump) != SQLITE_ROW) return SqlError("next revision");
    return static_cast<std::int64_t>(sqlite3_column_int64(stmts_->bump, 0));
}

Result<std::optional<KvEntry>> SqliteKvStore::GetSync(const std::string& key) {
    StatementUse use(stmts_->get);
    BindText(stmts_->get, 1, key);
    int rc = sqlite3_step(stmts_->get);
    if (rc == SQLITE_DONE) return std::optional<KvEntry>();
    if (rc != SQLITE_ROW) return SqlError("get");
    KvEntry entry;
    entry.key = key;
    entry.value = ColumnBlob(stmts_->get, 0);
    entry.revision = sqlite3_column_int64(stmts_->get, 1);
    return std::optional<KvEntry>(std::move(entry));
}

Result<std::int64_t> SqliteKvStore::PutSync(const std::string& key,
                                            const std::string& value,
                                            std::optional<std::int64_t> expected) {
    if (value.size() > kMaxValueBytes) {
        return MakeError(ErrorCode::kBadRequest,
                         "value of " + key + " is larger than " + std::to_string(kMaxValueBytes) + " bytes");
    }
    if (auto r = Exec(stmts_->begin); !r) return r.error();
    auto fail = [this](Error e) -> Result<std::int64_t> {
        Rollback();
        return e;
    };
    if (expected) {
        std::int64_t current = 0;
        {
            StatementUse use(stmts_->get_revision);
            BindText(stmts_->get_revision, 1, key);
            int rc = sqlite3_step(stmts_->get_revision);
            if (rc == SQLITE_ROW) {
                current = sqlite3_column_int64(stmts_->get_revision, 0);
            } else if (rc != SQLITE_DONE) {
                return fail(SqlError("put-if read"));
            }
        }
        if (current != *expected) {
            return fail(MakeError(ErrorCode::kConflict, "revision of " + key + " is " + std::to_string(current) +
                                                            ", expected " + std::to_string(*expected)));
        }
    }
    auto revision = NextRevision();
    if (!revision) return fail(revision.error());
    {
        StatementUse use(stmts_->upsert);
        BindText(stmts_->upsert, 1, key);
        sqlite3_bind_blob(stmts_->upsert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
        sqlite3_bind_int64(stmts_->upsert, 3, *revision);
        if (sqlite3_step(stmts_->upsert) != SQLITE_DONE) return fail(SqlError("put"));
    }
    if (auto r = Exec(stmts_->commit); !r) return fail(r.error());
    return *revision;
}

Result<bool> SqliteKvStore::DeleteSync(const std::string& key) {
    if (auto r = Exec(stmts_->begin); !r) return r.error();
    auto fail = [this](Error e) -> Result<bool> {
        Rollback();
        return e;
    };
    {
        StatementUse use(stmts_->erase);
        BindText(stmts_->erase, 1, key);
        if (sqlite3_step(stmts_->erase) != SQLITE_DONE) return fail(SqlError("delete"));
    }
    bool existed = sqlite3_changes(db_) > 0;
    if (existed) {  // as in etcd, a delete is a write and takes a revision
        if (auto r = NextRevision(); !r) return fail(r.error());
    }
    if (auto r = Exec(stmts_->commit); !r) return fail(r.error());
    return existed;
}

Result<std::vector<KvEntry>> SqliteKvStore::ListSync(const std::string& prefix, std::size_t limit) {
    std::string end = PrefixRangeEnd(prefix);
    sqlite3_stmt* stmt = end.empty() ? stmts_->list_from : stmts_->list_range;
    StatementUse use(stmt);
    int i = 1;
    BindText(stmt, i++, prefix);
    if (!end.empty()) BindText(stmt, i++, end);
    sqlite3_bind_int64(stmt, i, limit == 0 ? -1 : static_cast<sqlite3_int64>(limit));
    std::vector<KvEntry> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        KvEntry entry;
        entry.key = ColumnText(stmt, 0);
        entry.value = ColumnBlob(stmt, 1);
        entry.revision = sqlite3_column_int64(stmt, 2);
        out.push_back(std::move(entry));
    }
    if (rc != SQLITE_DONE) return SqlError("list");
    return out;
}

boost::asio::awaitable<Result<std::optional<KvEntry>>> SqliteKvStore::Get(std::string key) {
    co_return GetSync(key);
}

boost::asio::awaitable<Result<std::int64_t>> SqliteKvStore::Put(std::string key, std::string value) {
    co_return PutSync(key, value, std::nullopt);
}

boost::asio::awaitable<Result<std::int64_t>> SqliteKvStore::PutIf(std::string key,
                                                                  std::string value,
                                                                  std::int64_t expected) {
    co_return PutSync(key, value, expected);
}

boost::asio::awaitable<Result<bool>> SqliteKvStore::Delete(std::string key) {
    co_return DeleteSync(key);
}

boost::asio::awaitable<Result<std::vector<KvEntry>>> SqliteKvStore::List(std::string prefix, std::size_t limit) {
    co_return ListSync(prefix, limit);
}

}  // namespace shoal::state
