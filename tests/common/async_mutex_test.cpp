#include "common/async_mutex.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace shoal {
namespace {

namespace asio = boost::asio;

TEST(AsyncMutex, OneHolderAtATimeInArrivalOrder) {
    asio::io_context io;
    AsyncMutex mutex;
    int inside = 0, most = 0;
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                auto held = co_await mutex.Lock();
                most = std::max(most, ++inside);
                order.push_back(i);
                asio::steady_timer t(io, std::chrono::milliseconds(2));
                co_await t.async_wait(asio::use_awaitable);
                --inside;
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }
    io.run();
    EXPECT_EQ(most, 1);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_FALSE(mutex.Locked());
}

TEST(AsyncMutex, ReleasedEarlyByMovingTheHoldOut) {
    asio::io_context io;
    AsyncMutex mutex;
    bool second_ran = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto held = co_await mutex.Lock();
            { auto done = std::move(held); }
            EXPECT_FALSE(mutex.Locked());
            auto again = co_await mutex.Lock();
            second_ran = true;
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    io.run();
    EXPECT_TRUE(second_ran);
}

}  // namespace
}  // namespace shoal
