#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

#include "a2a/peer_client.hpp"
#include "http/router.hpp"
#include "overlay/peer.hpp"
#include "state/tenant_state.hpp"

namespace shoal::agent {

// The home-agent role (paper IV-D): each tenant's resource map is kept by one agent, its home.
// A request for a tenant may reach any agent; that agent forwards it once, signed, to the home it
// computes, and the home serves it from its state store. A forwarded request is served where it
// lands even if the receiver would pick another home (memberships converge, but not at the same
// instant everywhere), so a request never loops.
//
// A2A routes (JSON, under /a2a/v1/tenants/{tenant}):
//   GET    /home                 -> {"tenant", "home": {id, address}}  (this agent's opinion)
//   POST   /resources            {"resource": {...}} -> 201 {"resource", "served_by"}
//   GET    /resources[?kind=K]   -> {"resources": [...], "served_by"}
//   GET    /resources/{id}       -> {"resource", "served_by"}
//   DELETE /resources/{id}       -> {"deleted": bool, "served_by"}
class HomeAgent {
public:
    using HomeOf = std::function<overlay::PeerDescriptor(const std::string& tenant)>;

    HomeAgent(std::string self_id, HomeOf home_of, a2a::PeerClient& peers, state::TenantState& state)
        : self_id_(std::move(self_id)), home_of_(std::move(home_of)), peers_(peers), state_(state) {}

    void AddRoutes(http::Router& router);

    std::uint64_t Forwarded() const { return forwarded_; }
    std::uint64_t Served() const { return served_; }

private:
    using Local = std::function<boost::asio::awaitable<Result<http::Response>>(http::Request&)>;
    // Serves here if this agent is the tenant's home (or the request was already forwarded),
    // else forwards to the home.
    boost::asio::awaitable<Result<http::Response>> Route(http::Request& request, Local local);

    boost::asio::awaitable<Result<http::Response>> Create(http::Request& request);
    boost::asio::awaitable<Result<http::Response>> List(http::Request& request);
    boost::asio::awaitable<Result<http::Response>> Show(http::Request& request);
    boost::asio::awaitable<Result<http::Response>> Remove(http::Request& request);

    std::string self_id_;
    HomeOf home_of_;
    a2a::PeerClient& peers_;
    state::TenantState& state_;
    std::uint64_t forwarded_ = 0;
    std::uint64_t served_ = 0;
};

}  // namespace shoal::agent
