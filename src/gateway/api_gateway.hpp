#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "a2a/peer_client.hpp"
#include "http/router.hpp"
#include "identity/token_cache.hpp"
#include "overlay/peer.hpp"

namespace shoal::gateway {

// Home routing: the front door of the OpenStack APIs on every agent (paper IV-D). For a Nova or
// Glance request it checks the token (identity::TokenCache), learns the tenant, and routes the
// request to the tenant's home agent, which serves it: here when this agent is the home, else
// forwarded once over signed A2A, caller and all (POST /a2a/v1/api, a2a::ApiForwardCall).
// The home runs the same API router with the caller attached to the request's context (in
// process, never as a header); the answer comes back unchanged. Every X-Shoal-* header a client
// sends on the API port is dropped.
// /identity, the version documents and the signed image-data URLs pass without a token.
class ApiGateway {
public:
    // The tenant's home agent as this agent sees it (agent::Agent::HomeOf).
    using HomeOf = std::function<overlay::PeerDescriptor(const std::string& tenant)>;

    ApiGateway(std::string self_id,
               identity::TokenValidator& tokens,
               a2a::Peers& peers,
               HomeOf home_of,
               std::string public_url);

    // Installs the middleware on the API router (which must outlive this) and the A2A route.
    void Attach(http::Router& api_router, http::Router& a2a_router);

    static constexpr std::size_t kMaxForwardedBody = std::size_t{8} << 30;  // Glance's default image_size_cap is 1 TiB

    std::uint64_t Served() const { return served_; }
    std::uint64_t Forwarded() const { return forwarded_; }
    std::uint64_t Refused() const { return refused_; }

private:
    boost::asio::awaitable<Result<http::Response>> Admit(http::Request& req, const http::Handler& next);
    boost::asio::awaitable<Result<http::Response>> FromPeer(http::Request& req);
    std::string ApiBase(const http::Request& req) const;

    std::string self_id_;
    identity::TokenValidator& tokens_;
    a2a::Peers& peers_;
    HomeOf home_of_;
    std::string public_url_;
    const http::Router* api_router_ = nullptr;
    std::uint64_t served_ = 0;
    std::uint64_t forwarded_ = 0;
    std::uint64_t refused_ = 0;
};

}  // namespace shoal::gateway
