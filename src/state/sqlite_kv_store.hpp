#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "state/kv_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace shoal::state {

// KvStore in one SQLite file: table kv(key TEXT PRIMARY KEY, value BLOB, revision INTEGER) and a
// one-row table holding the global revision counter (monotonic across keys, like etcd's).
//
// Durability: WAL mode with synchronous=NORMAL. A commit appends its frames to the WAL with
// write(2) before the call returns, so the data is in the kernel's page cache and survives a
// kill -9 of the process (tested: tests/state/crash_test.cpp). It does NOT survive a power loss
// or kernel crash (the WAL is only fsync'd at checkpoints); that would need synchronous=FULL.
//
// Calls run synchronously inside the coroutine, on the caller's thread: SQLite on the local disk
// answers in microseconds (no fsync per commit), less than handing the call to another thread.
// One connection, prepared statements cached, busy_timeout 5 s (another process holding the write
// lock longer gives kUnavailable).
class SqliteKvStore final : public KvStore {
public:
    // Opens or creates the database; kInternal with SQLite's message when the file cannot be
    // opened or is not a database.
    static Result<std::unique_ptr<SqliteKvStore>> Open(std::string path);
    ~SqliteKvStore() override;
    SqliteKvStore(const SqliteKvStore&) = delete;
    SqliteKvStore& operator=(const SqliteKvStore&) = delete;

    boost::asio::awaitable<Result<std::optional<KvEntry>>> Get(std::string key) override;
    boost::asio::awaitable<Result<std::int64_t>> Put(std::string key, std::string value) override;
    boost::asio::awaitable<Result<std::int64_t>> PutIf(std::string key,
                                                       std::string value,
                                                       std::int64_t expected) override;
    boost::asio::awaitable<Result<bool>> Delete(std::string key) override;
    boost::asio::awaitable<Result<std::vector<KvEntry>>> List(std::string prefix, std::size_t limit = 0) override;
    std::string Describe() const override { return "sqlite:" + path_; }

private:
    struct Statements;
    SqliteKvStore(std::string path, sqlite3* db, std::unique_ptr<Statements> stmts);

    // The synchronous operations behind the coroutines.
    Result<std::optional<KvEntry>> GetSync(const std::string& key);
    // expected: nullopt for an unconditional put.
    Result<std::int64_t> PutSync(const std::string& key,
                                 const std::string& value,
                                 std::optional<std::int64_t> expected);
    Result<bool> DeleteSync(const std::string& key);
    Result<std::vector<KvEntry>> ListSync(const std::string& prefix, std::size_t limit);

    Error SqlError(const char* what) const;
    Result<std::int64_t> NextRevision();
    Result<bool> Exec(sqlite3_stmt* stmt);  // steps a statement that returns no rows
    void Rollback();

    std::string path_;
    sqlite3* db_;
    std::unique_ptr<Statements> stmts_;
};

}  // namespace shoal::state
