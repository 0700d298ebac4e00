#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "agent/agent_config.hpp"
#include "common/result.hpp"
#include "overlay/peer.hpp"

namespace shoal::emulator {
class Cloudlet;
}
namespace shoal::a2a {
class RequestVerifier;
}
namespace shoal::http {
class Router;
}
namespace shoal::state {
class TenantState;
}

namespace shoal::overlay::node {
class PeerSampler;
}

namespace shoal::agent {

using overlay::node::PeerSampler;

// One shoal agent (paper IV-B): it stands beside one cloudlet, joins the overlay through its
// seeds, and serves the agent-to-agent interface on its own port. An object, not a process: many
// agents (and their embedded cloudlets) share one event loop, with no global state. Not
// thread-safe: everything runs on the executor it is given.
class Agent {
public:
    Agent(const boost::asio::any_io_executor& executor, AgentConfig config);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    // Starts the embedded cloudlet (if configured), opens the state store, listens on the A2A
    // port and joins the overlay.
    Result<Ok> Start();
    // Leaves quietly: the overlay forgets this agent by the protocol itself.
    boost::asio::awaitable<void> Stop();

    const AgentConfig& Config() const;
    const std::string& Id() const;
    std::string Address() const;  // "host:port" of the A2A listener
    // "http://host:port" of the OpenStack APIs (Keystone at /identity/v3, Glance at /image, Nova at
    // /compute/v2.1); empty when the config has no "api".
    std::string ApiUrl() const;
    const CloudletAccess& Cloudlet() const;
    emulator::Cloudlet* EmbeddedCloudlet();  // null when the cloudlet is external
    PeerSampler& Overlay();
    state::TenantState& State();
    a2a::RequestVerifier& Verifier();
    // The routes of the A2A port and of the API port (empty without "api"), as served.
    const http::Router& A2aRouter() const;
    const http::Router& ApiRouter() const;

    // The tenant's home agent as this agent sees it (overlay::HomeMapping's rule over its member
    // list), as the ApiGateway routes the tenant's requests; in static mode, a configured home
    // that is not a member comes back with an empty address.
    overlay::PeerDescriptor HomeOf(const std::string& tenant);
    nlohmann::json Status();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::agent
