#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace shoal {

// Logs at error level, as "<what>: <exception message>", the exception that ended a coroutine
// nobody awaits. Nothing for a null `e`.
void LogCoroutineFailure(std::string_view what, const std::exception_ptr& e);

// Starts `task` on `executor` without waiting for it. With asio::detached an exception that
// escapes the coroutine would vanish without a trace; here it is logged as above, after
// `on_failure` (if any) has run, e.g. to reset the flag that says the task is running.
template <class Executor, class T>
void SpawnDetached(const Executor& executor,
                   boost::asio::awaitable<T> task,
                   std::string what,
                   std::function<void()> on_failure = {}) {
    boost::asio::co_spawn(
        executor, std::move(task),
        [what = std::move(what), on_failure = std::move(on_failure)](const std::exception_ptr& e, auto&&...) {
            if (!e) return;
            if (on_failure) on_failure();
            LogCoroutineFailure(what, e);
        });
}

}  // namespace shoal
