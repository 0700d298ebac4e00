#pragma once

#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "http/client.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {

// Servers running per compute node, read as each cloud's admin from Nova's
// GET /os-hypervisors/detail (running_vms), every cloud at once. A node is named
// "<cloud index>/<hypervisor_hostname>", so N one-node cloudlets give N entries, as does one
// cloud with N nodes; nodes with no server are there with 0.
class HostCensus {
public:
    HostCensus(http::Client& http, std::vector<identity::PasswordCredentials> admins);
    ~HostCensus();
    boost::asio::awaitable<Result<std::map<std::string, int>>> Count();

private:
    struct Cloud;
    boost::asio::awaitable<Result<Ok>> CountAt(Cloud& cloud, std::size_t index, std::map<std::string, int>& out);
    http::Client& http_;
    std::vector<std::unique_ptr<Cloud>> clouds_;
};

}  // namespace shoal::bench
