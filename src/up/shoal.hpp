#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_config.hpp"
#include "common/result.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::up {

// What `shoal up` starts (docs/up.md).
struct UpOptions {
    int agents = 4;
    // Where the agents' state, the cloudlets' state and the openrc files live. Empty: a fresh
    // temporary directory, everything in memory, the directory removed at exit.
    std::string state_dir;
    emulator::CloudletConfig cloudlet;                     // every cloudlet's config (name and port are set per agent)
    std::map<int, emulator::CloudletConfig> cloudlet_for;  // agent number (1-based) -> its own config
    int hypervisors = -1;                                  // >= 0: overrides every cloudlet's hypervisor count
    int base_port = 0;                                     // > 0: agent K's API on base_port + K - 1
    std::chrono::seconds converge_timeout{60};
    std::chrono::milliseconds overlay_period{500};  // the agents' Cyclon period
    // Existing (real OpenStack) cloudlets: one agent in front of each, instead of embedded
    // cloudlets (`agents` is then their number), and the first one's Keystone is the identity
    // provider. Its admin provisions the demo project and user there.
    std::vector<agent::CloudletAccess> real_cloudlets;
};

// One shoal on one event loop: an identity provider (an embedded cloudlet named "idp", or the
// first real cloudlet's Keystone) with a demo project and user, then N agents with embedded
// cloudlets (or in front of the real ones), seeded through agent 1, waiting
// until every agent's member list holds all N. Not thread-safe; no global state.
class Shoal {
public:
    struct AgentInfo {
        std::string id;
        std::string api_url;  // http://127.0.0.1:PORT
        std::string a2a;      // host:port
        std::string cloudlet_auth_url;
        std::string admin_user, admin_password, admin_project;
    };

    Shoal(const boost::asio::any_io_executor& executor, UpOptions options);
    ~Shoal();
    Shoal(const Shoal&) = delete;
    Shoal& operator=(const Shoal&) = delete;

    // Starts everything and waits for the overlay to converge, then writes the files into
    // StateDir(). Errors name what failed. Stop() is safe after a failed or interrupted Start().
    boost::asio::awaitable<Result<Ok>> Start();
    // Stops the agents, then the identity provider. Makes a running Start() give up.
    boost::asio::awaitable<void> Stop();

    const std::string& StateDir() const;
    std::string IdentityProviderUrl() const;  // its Keystone v3 (what the agents check users at)
    const std::vector<AgentInfo>& Agents() const;
    // `export OS_...=...` lines, one per line: the demo user at agent 1.
    std::string DemoOpenrc() const;
    // The identity provider's admin, at agent 1.
    std::string AdminOpenrc() const;
    // The identity provider's admin at the identity provider itself (to provision users).
    identity::PasswordCredentials IdentityAdmin() const;
    // One line per agent: id, API URL, members seen, requests, servers on its cloudlet.
    std::vector<std::string> StatusLines();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::up
