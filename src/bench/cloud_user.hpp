#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>

#include <string>

#include "common/result.hpp"
#include "http/client.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {

// Bounds the requests in flight of many CloudUsers together (a connection pool's size).
class RequestLimiter {
public:
    explicit RequestLimiter(int limit) : limit_(limit) {}
    boost::asio::awaitable<void> Acquire();
    void Release();

private:
    int limit_;
    int in_flight_ = 0;
    std::deque<std::shared_ptr<boost::asio::steady_timer>> waiting_;
};

// A server as its owner sees it while waiting for it.
struct ServerState {
    std::string status;  // BUILD, ACTIVE, ERROR, ...; "" when the server is gone (404)
    std::string fault;   // the fault's message for ERROR
};

// One tenant's user speaking the OpenStack APIs with the HTTP calls the `openstack` CLI and
// Rally make: a password token with its catalog, then Glance v2 and Nova v2.1 at the catalog's
// public endpoints. Any answer that is not what the API promises is an Error whose message
// names the call and the HTTP status (the failure reasons of the benchmark's results).
class CloudUser {
public:
    CloudUser(http::Client& http, identity::PasswordCredentials credentials, RequestLimiter* limiter = nullptr)
        : http_(http), credentials_(std::move(credentials)), limiter_(limiter) {}

    boost::asio::awaitable<Result<Ok>> Login();
    // Creates an image, uploads `bytes` and returns its id (Glance v2: POST, then PUT /file).
    boost::asio::awaitable<Result<std::string>> UploadImage(std::string name, std::string bytes);
    boost::asio::awaitable<Result<Ok>> DeleteImage(std::string id);
    // The id of the flavor called `name` (GET /flavors).
    boost::asio::awaitable<Result<std::string>> FlavorId(std::string name);
    // POST /servers (one instance); the new server's id.
    boost::asio::awaitable<Result<std::string>> CreateServer(std::string name, std::string image, std::string flavor);
    boost::asio::awaitable<Result<ServerState>> GetServer(std::string id);
    boost::asio::awaitable<Result<Ok>> DeleteServer(std::string id);
    // Any compute API GET (path under the compute endpoint, e.g. "/servers/detail"); for the
    // overhead scenario.
    boost::asio::awaitable<Result<http::Response>> ComputeGet(std::string path);

    const std::string& ComputeUrl() const { return compute_; }

private:
    boost::asio::awaitable<Result<http::Response>> Call(http::Method method,
                                                        std::string url,
                                                        std::string body,
                                                        std::string content_type);

    http::Client& http_;
    identity::PasswordCredentials credentials_;
    RequestLimiter* limiter_;
    std::string token_;
    std::string compute_;
    std::string image_;
};

}  // namespace shoal::bench
