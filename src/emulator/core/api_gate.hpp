#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <deque>
#include <memory>

#include "common/result.hpp"
#include "emulator/core/cloudlet_config.hpp"

namespace shoal::emulator {

// Admission control of the controller model: at most `workers` holders at once, at most
// `queue` waiters, and a waiter that is not admitted within `timeout` gets Error{kUnavailable}.
// Used for API workers (every request) and for the build pipeline (conductor + scheduler).
class Gate {
public:
    Gate(boost::asio::any_io_executor executor, int workers, int queue, Millis timeout);
    ~Gate();

    class Permit {
    public:
        Permit() = default;
        explicit Permit(Gate* gate) : gate_(gate) {}
        Permit(Permit&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
        Permit& operator=(Permit&& o) noexcept;
        ~Permit();

    private:
        Gate* gate_ = nullptr;
    };

    boost::asio::awaitable<Result<Permit>> Acquire();

    int InUse() const { return in_use_; }
    int Waiting() const { return static_cast<int>(waiters_.size()); }
    std::uint64_t Rejected() const { return rejected_; }
    std::uint64_t TimedOut() const { return timed_out_; }

private:
    struct Waiter;
    void Release();

    boost::asio::any_io_executor executor_;
    int workers_;
    int queue_;
    Millis timeout_;
    int in_use_ = 0;
    std::deque<std::shared_ptr<Waiter>> waiters_;
    std::uint64_t rejected_ = 0;
    std::uint64_t timed_out_ = 0;
};

}  // namespace shoal::emulator
