#include "emulator/core/api_gate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shoal::emulator {

namespace asio = boost::asio;

struct Gate::Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    bool admitted = false;
};

Gate::Gate(asio::any_io_executor executor, int workers, int queue, Millis timeout)
    : executor_(std::move(executor)), workers_(workers), queue_(queue), timeout_(timeout) {}

Gate::~Gate() {
    for (auto& w : waiters_) w->timer.cancel();
}

Gate::Permit& Gate::Permit::operator=(Permit&& o) noexcept {
    if (this != &o) {
        if (gate_) gate_->Release();
        gate_ = std::exchange(o.gate_, nullptr);
    }
    return *this;
}

Gate::Permit::~Permit() {
    if (gate_) gate_->Release();
}

asio::awaitable<Result<Gate::Permit>> Gate::Acquire() {
    if (in_use_ < workers_ && waiters_.empty()) {
        ++in_use_;
        co_return Permit(this);
    }
    if (static_cast<int>(waiters_.size()) >= queue_) {
        ++rejected_;
        co_return MakeError(ErrorCode::kUnavailable,
                            "The server is currently unavailable. Please try again at a later time.");
    }
    auto w = std::make_shared<Waiter>(executor_);
    w->timer.expires_after(timeout_);
    waiters_.push_back(w);
    co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (w->admitted) co_return Permit(this);  // Release() handed its slot to us
    std::erase(waiters_, w);
    ++timed_out_;
    co_return MakeError(ErrorCode::kUnavailable,
                        "The server is currently unavailable. Please try again at a later time.");
}

void Gate::Release() {
    // Hand the slot straight to the oldest waiter so that late arrivals cannot overtake it.
    while (!waiters_.empty()) {
        auto w = waiters_.front();
        waiters_.pop_front();
        if (w->admitted) continue;
        w->admitted = true;
        w->timer.cancel();
        return;
    }
    --in_use_;
}

}  // namespace shoal::emulator
