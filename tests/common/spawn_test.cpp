#include "common/spawn.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace shoal {
namespace {

boost::asio::awaitable<void> Throws() {
    throw std::runtime_error("boom");
    co_return;
}

boost::asio::awaitable<int> Returns(bool& ran) {
    ran = true;
    co_return 7;
}

// The point of the helper: a detached coroutine that throws neither takes the io_context (and
// the process) down nor vanishes; the caller's on_failure runs.
TEST(SpawnDetached, AThrowingTaskIsReportedAndTheLoopGoesOn) {
    boost::asio::io_context io;
    int failures = 0;
    SpawnDetached(io.get_executor(), Throws(), "test task", [&] { ++failures; });
    SpawnDetached(io.get_executor(), Throws(), "test task without a callback");
    EXPECT_NO_THROW(io.run());
    EXPECT_EQ(failures, 1);
}

TEST(SpawnDetached, ATaskThatSucceedsDoesNotCallOnFailure) {
    boost::asio::io_context io;
    bool ran = false;
    int failures = 0;
    SpawnDetached(io.get_executor(), Returns(ran), "test task", [&] { ++failures; });
    io.run();
    EXPECT_TRUE(ran);
    EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace shoal
