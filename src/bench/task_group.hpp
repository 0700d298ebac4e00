#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>

#include "common/log.hpp"
#include "common/spawn.hpp"

namespace shoal::bench {

// Runs coroutines concurrently and waits for all of them. A task that throws is a programmer
// error: it is logged, and counted as finished so that Wait() still returns.
class TaskGroup {
public:
    explicit TaskGroup(const boost::asio::any_io_executor& ex)
        : ex_(ex), done_(std::make_shared<boost::asio::steady_timer>(ex)) {}

    void Spawn(boost::asio::awaitable<void> task) {
        ++*pending_;
        boost::asio::co_spawn(ex_, std::move(task), [pending = pending_, done = done_](const std::exception_ptr& e) {
            LogCoroutineFailure("bench: a task threw", e);
            if (--*pending == 0) done->cancel();
        });
    }

    boost::asio::awaitable<void> Wait() {
        while (*pending_ > 0) {
            done_->expires_at(boost::asio::steady_timer::time_point::max());
            boost::system::error_code ec;
            co_await done_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        }
    }

private:
    boost::asio::any_io_executor ex_;
    std::shared_ptr<int> pending_ = std::make_shared<int>(0);
    std::shared_ptr<boost::asio::steady_timer> done_;
};

}  // namespace shoal::bench
