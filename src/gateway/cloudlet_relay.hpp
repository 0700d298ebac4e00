#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "cloudlet/cloudlet_client.hpp"
#include "cloudlet/cloudlet_gateway.hpp"
#include "gateway/build_watch.hpp"
#include "gateway/load_service.hpp"
#include "http/router.hpp"

namespace shoal::gateway {

// One call to this agent's own cloudlet as the tenant's shadow user (project and user created
// on first use), for a home anywhere in the shoal: the server side of POST /a2a/v1/cloudlet
// (a2a::CloudletRelayCall), and what ShoalCloudlets runs for calls to its own cloudlet. A server
// create takes over the decision's hold (CloudletCall::reservation) or makes one
// (reserve_ram_mb); the BuildWatch then keeps it until the build ends.
class CloudletRelay {
public:
    CloudletRelay(cloudlet::CloudletClient& client, LoadService& loads, BuildWatch& builds);

    void AddRoutes(http::Router& a2a_router);  // POST /a2a/v1/cloudlet

    // The cloudlet's answer as it is, plus cloudlet::kCloudletProjectHeader.
    boost::asio::awaitable<Result<http::Response>> Call(std::string tenant, cloudlet::CloudletCall call);

private:
    cloudlet::CloudletClient& client_;
    LoadService& loads_;
    BuildWatch& builds_;
};

}  // namespace shoal::gateway
