#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "http/router.hpp"

namespace shoal::http {

struct ServerOptions {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 1024 * 1024;  // routes may raise it (RouteOptions)
    // A request's headers must arrive within header_timeout (first request on a connection)
    // or idle_timeout (later keep-alive requests); its body within body_timeout. A slow
    // client is disconnected, never allowed to hold a connection forever.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds body_timeout{300'000};
    std::chrono::milliseconds write_timeout{300'000};
    std::size_t max_connections = 10'000;
    std::string spool_dir;  // for body_to_file routes; default: the system temp directory
};

// Asynchronous HTTP/1.1 server (Boost.Beast, C++20 coroutines) in front of a Router.
// Runs on the executor it is given; one thread per io_context is the intended use.
class Server {
public:
    Server(boost::asio::any_io_executor executor, const Router& router, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting. Port 0 picks a free port; the bound port is returned.
    Result<std::uint16_t> Listen(const std::string& address, std::uint16_t port);
    std::uint16_t Port() const;

    // Graceful: stop accepting, close idle connections, let requests in flight finish
    // (their responses carry "Connection: close"), then force-close what is left after `grace`.
    boost::asio::awaitable<void> Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

    std::size_t OpenConnections() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::http
