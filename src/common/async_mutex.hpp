#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <memory>

namespace shoal {

// A first-come first-served lock for coroutines on one io_context thread (no OS locking):
// `auto held = co_await mutex.Lock();` holds it until `held` goes out of scope.
class AsyncMutex {
public:
    class Held {
    public:
        explicit Held(AsyncMutex* m) : m_(m) {}
        Held(Held&& o) noexcept : m_(o.m_) { o.m_ = nullptr; }
        Held(const Held&) = delete;
        Held& operator=(const Held&) = delete;
        Held& operator=(Held&&) = delete;
        ~Held() {
            if (m_) m_->Unlock();
        }

    private:
        AsyncMutex* m_;
    };

    boost::asio::awaitable<Held> Lock() {
        if (locked_) {
            auto t = std::make_shared<boost::asio::steady_timer>(co_await boost::asio::this_coro::executor,
                                                                 boost::asio::steady_timer::time_point::max());
            waiting_.push_back(t);
            boost::system::error_code ec;  // cancel() is the hand-over
            co_await t->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            // Handed over by Unlock: still locked, now ours.
        }
        locked_ = true;
        co_return Held(this);
    }
    bool Locked() const { return locked_; }

private:
    void Unlock() {
        if (waiting_.empty()) {
            locked_ = false;
            return;
        }
        waiting_.front()->cancel();  // stays locked for the next in line
        waiting_.pop_front();
    }

    bool locked_ = false;
    std::deque<std::shared_ptr<boost::asio::steady_timer>> waiting_;
};

}  // namespace shoal
