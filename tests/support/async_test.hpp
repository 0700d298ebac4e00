#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace shoal::testing {

// Runs `aw` on `io` until it completes (or `limit` passes) and returns its value.
// Exceptions thrown inside the coroutine are rethrown here, so a test sees them.
template <class T>
T Run(boost::asio::io_context& io,
      boost::asio::awaitable<T> aw,
      std::chrono::milliseconds limit = std::chrono::milliseconds(30'000)) {
    auto fut = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
    auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("test coroutine timed out");
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return fut.get();
}

// Runs all of `aws` concurrently on `io` to completion (or `limit`); their values in order.
template <class T>
std::vector<T> RunAll(boost::asio::io_context& io,
                      std::vector<boost::asio::awaitable<T>> aws,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
    std::vector<std::future<T>> futures;
    for (auto& aw : aws) futures.push_back(boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future));
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    for (auto& f : futures) {
        while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("RunAll timed out");
            io.run_one_for(std::chrono::milliseconds(10));
        }
    }
    std::vector<T> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
}

// Lets timers and background coroutines on `io` run for `d` of wall time.
inline void RunFor(boost::asio::io_context& io, std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
}

inline http::Request MakeRequest(http::Method method,
                                 std::string target,
                                 std::string body = {},
                                 std::string token = {}) {
    http::Request r;
    r.method = method;
    r.SetTarget(std::move(target));
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.Set("Content-Type", "application/json");
    if (!token.empty()) r.headers.Set("X-Auth-Token", std::move(token));
    r.request_id = "req-test";
    return r;
}

}  // namespace shoal::testing
