#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "http/message.hpp"

namespace shoal::http {

struct ClientOptions {
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds request_timeout{60'000};  // whole exchange, unless a call says otherwise
    std::size_t max_idle_per_endpoint = 32;
    std::chrono::milliseconds max_idle_age{30'000};  // older pooled connections are not reused
    std::size_t max_response_bytes = 64 * 1024 * 1024;
};

struct Endpoint {
    // A constructor, not an aggregate: g++ 12 destroys brace-initialised aggregate temporaries
    // passed by value to a coroutine twice (reproduced; see docs/architecture.md, "Coroutine rules").
    Endpoint() = default;
    Endpoint(std::string h, std::uint16_t p) : host(std::move(h)), port(p) {}
    std::string host;
    std::uint16_t port = 0;
};

// Pooled keep-alive HTTP/1.1 client (Boost.Beast, C++20 coroutines).
// Any HTTP status is a successful Result; network failures are Error{kUnavailable} and
// timeouts Error{kTimeout}. Never throws for network conditions.
class Client {
public:
    explicit Client(boost::asio::any_io_executor executor, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends `request` (its target, method, headers and body; or body_file, streamed from disk).
    // With `download_to`, the response body is streamed into that file instead of memory.
    boost::asio::awaitable<Result<Response>> Send(Endpoint endpoint,
                                                  Request request,
                                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                                  std::string download_to = {});

    // Convenience for an absolute URL ("http://127.0.0.1:5000/v3"): its path and query replace
    // request.target.
    boost::asio::awaitable<Result<Response>> Send(std::string url,
                                                  Request request,
                                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                                  std::string download_to = {});

    std::size_t IdleConnections() const;
    std::size_t ConnectionsOpened() const;  // how many TCP connections were ever opened

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::http
