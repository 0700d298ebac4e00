#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "http/client.hpp"
#include "http/message.hpp"

namespace shoal::a2a {

// The A2A protocol version: every path starts with it, so an agent can serve two versions
// during a rolling upgrade and an old agent answers 404 to a newer one, not garbage.
inline constexpr std::string_view kPathPrefix = "/a2a/v1";

// How an agent reaches its peers ("host:port" of a peer's A2A listener): signed HTTP in
// production (PeerClient), an in-process dispatch to the peer's A2A router in tests
// (testing::FakePeers).
class Peers {
public:
    virtual ~Peers() = default;

    // A JSON call. A non-2xx answer comes back as an Error carrying the peer's message and the
    // status's code.
    virtual boost::asio::awaitable<Result<nlohmann::json>> Call(std::string address,
                                                                http::Method method,
                                                                std::string target,
                                                                nlohmann::json body,
                                                                std::chrono::milliseconds timeout) = 0;

    // Any request (method, target, headers and body as given); every HTTP status comes back as
    // a response, only transport failures are errors. For proxied OpenStack calls, whose bodies
    // may not be JSON (image data) and whose errors the caller passes on as they are.
    virtual boost::asio::awaitable<Result<http::Response>> Send(std::string address,
                                                                http::Request request,
                                                                std::chrono::milliseconds timeout) = 0;

    virtual const std::string& SelfId() const = 0;
};

// Signed calls from one agent to another (a2a::RequestSigner; the peer checks them with
// a2a::Authenticate).
class PeerClient final : public Peers {
public:
    PeerClient(http::Client& http, std::string secret, std::string self_id)
        : http_(http), secret_(std::move(secret)), self_id_(std::move(self_id)) {}

    boost::asio::awaitable<Result<nlohmann::json>> Call(std::string address,
                                                        http::Method method,
                                                        std::string target,
                                                        nlohmann::json body,
                                                        std::chrono::milliseconds timeout) override;
    boost::asio::awaitable<Result<http::Response>> Send(std::string address,
                                                        http::Request request,
                                                        std::chrono::milliseconds timeout) override;
    const std::string& SelfId() const override { return self_id_; }

private:
    http::Client& http_;
    std::string secret_;
    std::string self_id_;
};

// "host:port" -> Endpoint; kBadRequest when malformed.
Result<http::Endpoint> ParseAddress(std::string_view address);

}  // namespace shoal::a2a
