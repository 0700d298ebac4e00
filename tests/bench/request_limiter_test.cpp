#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/cloud_user.hpp"

namespace shoal::bench {
namespace {

namespace asio = boost::asio;

// Runs `tasks` coroutines through a limiter of `limit`; returns the most ever in flight and how
// many finished.
std::pair<int, int> RunThrough(int limit, int tasks) {
    asio::io_context io;
    RequestLimiter limiter(limit);
    int in_flight = 0, most = 0, done = 0;
    for (int i = 0; i < tasks; ++i) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await limiter.Acquire();
                most = std::max(most, ++in_flight);
                asio::steady_timer t(io, std::chrono::milliseconds(5));
                co_await t.async_wait(asio::use_awaitable);
                --in_flight;
                limiter.Release();
                ++done;
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }
    io.run();
    return {most, done};
}

TEST(RequestLimiter, NeverMoreInFlightThanTheLimitAndEveryoneGetsATurn) {
    const auto [most, done] = RunThrough(2, 7);
    EXPECT_EQ(most, 2);
    EXPECT_EQ(done, 7);
}

TEST(RequestLimiter, ZeroMeansNoLimit) {
    const auto [most, done] = RunThrough(0, 5);
    EXPECT_EQ(most, 5);
    EXPECT_EQ(done, 5);
}

}  // namespace
}  // namespace shoal::bench
