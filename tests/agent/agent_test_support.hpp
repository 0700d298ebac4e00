#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "agent/agent_config.hpp"
#include "async_test.hpp"

namespace shoal::testing {

inline constexpr const char* kClusterSecret = "test-cluster-secret-0123456789";

// An agent config for in-process tests: memory state, no cloudlet of its own unless asked
// (a placeholder URL: these tests never call the cloudlet), a fast overlay.
inline agent::AgentConfig TestAgentConfig(const std::string& id, std::vector<std::string> seeds) {
    agent::AgentConfig c;
    c.id = id;
    c.secret = kClusterSecret;
    c.seeds = std::move(seeds);
    c.cloudlet = agent::CloudletAccess{};
    c.cloudlet->auth_url = "http://127.0.0.1:9/identity/v3";
    c.state.backend = "memory";
    c.overlay.cyclon.view_size = 4;
    c.overlay.cyclon.shuffle_length = 2;
    c.overlay.cyclon.walk_length = 3;
    c.overlay.period = std::chrono::milliseconds(40);
    c.overlay.request_timeout = std::chrono::milliseconds(400);
    c.overlay.membership.suspect_rounds = 4;
    return c;
}

// Runs `io` until `done()` holds, checking every 20 ms; false after `limit`.
inline bool RunUntil(boost::asio::io_context& io,
                     const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        RunFor(io, std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace shoal::testing
