#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/cloud_user.hpp"

namespace shoal::bench {
namespace {

namespace asio = boost::asio;

TEST(RequestLimiter, NeverMoreInFlightThanTheLimitAndEveryoneGetsATurn) {
    asio::io_context io;
    RequestLimiter limiter(2);
    int in_flight = 0, most = 0, done = 0;
    for (int i = 0; i < 7; ++i) {
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
    EXPECT_EQ(done, 7);
    EXPECT_EQ(most, 2);
}

TEST(RequestLimiter, ZeroMeansNoLimit) {
    asio::io_context io;
    RequestLimiter limiter(0);
    int in_flight = 0, most = 0;
    for (int i = 0; i < 5; ++i) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await limiter.Acquire();
                most = std::max(most, ++in_flight);
                asio::steady_timer t(io, std::chrono::milliseconds(5));
                co_await t.async_wait(asio::use_awaitable);
                --in_flight;
                limiter.Release();
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }
    io.run();
    EXPECT_EQ(most, 5);
}

}  // namespace
}  // namespace shoal::bench
