// SQLite durability across kill -9: every Put the writer saw acknowledged is there after the
// writer is SIGKILLed mid-write and the database reopened.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include "async_test.hpp"
#include "crash_value.hpp"
#include "process.hpp"
#include "state/sqlite_kv_store.hpp"

namespace shoal::state {
namespace {

using testing::CrashKey;
using testing::CrashValue;

// The writer, its stdout on a pipe.
class Writer {
public:
    explicit Writer(const std::string& db) { process_.Start({SHOAL_STATE_CRASH_WRITER, db}); }

    // Reads "acked <n>" lines until n >= target (or EOF / timeout when target is 0 / reached);
    // returns the last n seen.
    int ReadAcks(int target, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (target == 0 || acked_ < target) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            auto line = process_.ReadLine(left);
            if (!line) break;  // EOF (the writer is gone) or timeout
            if (line->rfind("acked ", 0) == 0) acked_ = std::stoi(line->substr(6));
        }
        return acked_;
    }

    // SIGKILL; returns the wait status. What the writer printed before stays readable.
    int KillNow() {
        process_.Kill(SIGKILL);
        return process_.ExitStatus();
    }

private:
    shoal::testing::ChildProcess process_;
    int acked_ = 0;
};

// One round: a fresh database, the writer killed after a random number of acks in [100, 400].
void KillAndCheck(const std::filesystem::path& dir, std::mt19937& rng) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string db = (dir / "state.db").string();
    int target = std::uniform_int_distribution<int>(100, 400)(rng);
    SCOPED_TRACE("kill after " + std::to_string(target) + " acks");

    int acked = 0;
    {
        Writer writer(db);
        ASSERT_GE(writer.ReadAcks(target, std::chrono::seconds(120)), target) << "writer too slow or died";
        int status = writer.KillNow();
        // Killed while still writing, not finished on its own.
        ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
        EXPECT_EQ(WTERMSIG(status), SIGKILL);
        // Acks printed before the kill are still in the pipe: each is a promise too.
        acked = writer.ReadAcks(0, std::chrono::seconds(10));
    }
    ASSERT_GE(acked, target);

    boost::asio::io_context io;
    auto store = SqliteKvStore::Open(db);
    ASSERT_TRUE(store) << store.error().message;
    for (int i = 0; i < acked; ++i) {
        auto got = shoal::testing::Run(io, (*store)->Get(CrashKey(i)));
        ASSERT_TRUE(got) << got.error().message;
        ASSERT_TRUE(got->has_value()) << "acknowledged key " << CrashKey(i) << " of " << acked << " lost";
        ASSERT_EQ((*got)->value, CrashValue(i)) << CrashKey(i);
    }
    auto all = shoal::testing::Run(io, (*store)->List("k"));
    ASSERT_TRUE(all);
    EXPECT_GE(all->size(), static_cast<std::size_t>(acked));
    EXPECT_LE(all->size(), static_cast<std::size_t>(acked) + 1);  // at most one put was in flight
    // The store still takes writes, and the revision counter did not go back.
    auto next = shoal::testing::Run(io, (*store)->Put("after-crash", "ok"));
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_GT(*next, static_cast<std::int64_t>(acked));
}

TEST(SqliteCrashTest, AcknowledgedPutsSurviveSigkill) {
    auto dir = std::filesystem::temp_directory_path() / ("shoal-state-crash-" + std::to_string(getpid()));
    unsigned seed = std::random_device()();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    for (int round = 0; round < 3 && !HasFatalFailure(); ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        KillAndCheck(dir, rng);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shoal::state
