#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace shoal::cloudlet {

// At most one run of an operation per key at a time: the first caller runs it, callers that
// arrive while it runs wait for its result instead of starting their own (a Keystone login
// under 20 concurrent requests is one login, not 20). One io_context thread, so no locks.
// T must be copyable and default-constructible (Result<X> is: its default is an error, which
// is what waiters get if the leader's coroutine is destroyed or throws).
// The SingleFlight must outlive every Do() in progress.
template <class T>
class SingleFlight {
public:
    using Start = std::function<boost::asio::awaitable<T>()>;

    boost::asio::awaitable<T> Do(std::string key, Start start) {
        if (auto it = flights_->find(key); it != flights_->end()) {
            auto flight = it->second;
            ++joined_;
            while (!flight->result) {
                boost::system::error_code ec;  // cancel() is the wake-up, so an error is expected
                co_await flight->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            }
            co_return *flight->result;
        }
        auto flight = std::make_shared<Flight>(co_await boost::asio::this_coro::executor);
        flights_->emplace(key, flight);
        ++started_;
        Landing landing(flights_, std::move(key), flight);
        T value = co_await start();
        landing.Land(value);
        co_return value;
    }

    bool InFlight(const std::string& key) const { return flights_->contains(key); }
    std::uint64_t Started() const { return started_; }  // runs started
    std::uint64_t Joined() const { return joined_; }    // callers that waited for another's run

private:
    struct Flight {
        explicit Flight(const boost::asio::any_io_executor& ex)
            : done(ex, boost::asio::steady_timer::time_point::max()) {}
        boost::asio::steady_timer done;  // never expires; cancel() wakes the waiters
        std::optional<T> result;
    };

    using FlightMap = std::map<std::string, std::shared_ptr<Flight>, std::less<>>;

    // Ends the flight on every path out of Do(), including an exception or a destroyed frame.
    class Landing {
    public:
        Landing(std::shared_ptr<FlightMap> flights, std::string key, std::shared_ptr<Flight> flight)
            : flights_(std::move(flights)), key_(std::move(key)), flight_(std::move(flight)) {}
        Landing(const Landing&) = delete;
        Landing& operator=(const Landing&) = delete;
        ~Landing() {
            if (!flight_->result) flight_->result.emplace();
            Finish();
        }
        void Land(const T& value) {
            flight_->result = value;
            Finish();
        }

    private:
        void Finish() {
            if (done_) return;
            done_ = true;
            if (auto it = flights_->find(key_); it != flights_->end() && it->second == flight_) flights_->erase(it);
            flight_->done.cancel();
        }
        std::shared_ptr<FlightMap> flights_;
        std::string key_;
        std::shared_ptr<Flight> flight_;
        bool done_ = false;
    };

    // Shared with the leaders' frames: a frame destroyed after the SingleFlight (an io_context
    // torn down with calls in flight) still finds the map.
    std::shared_ptr<FlightMap> flights_ = std::make_shared<FlightMap>();
    std::uint64_t started_ = 0;
    std::uint64_t joined_ = 0;
};

}  // namespace shoal::cloudlet
