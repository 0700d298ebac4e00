#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "openstack/credentials.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "state/kv_store.hpp"

namespace shoal::agent {

// How an agent reaches the cloudlet it stands beside: its Keystone and admin credentials.
using CloudletAccess = openstack::Credentials;  // the agent's service account at its cloudlet

struct OverlayOptions {
    overlay::CyclonConfig cyclon;
    overlay::MembershipConfig membership;
    std::chrono::milliseconds period{1'000};           // T: one shuffle per period
    std::chrono::milliseconds request_timeout{2'000};  // a shuffle unanswered by then has failed
    // Join again through a seed after this many rounds in which nobody contacted us (0: 2c).
    std::uint32_t rejoin_after_quiet_rounds = 0;
};

enum class MappingMode { kStatic, kDynamic };

struct MappingOptions {
    MappingMode mode = MappingMode::kDynamic;
    // The paper's configured mapping: tenant -> agent id. In dynamic mode it still wins for the
    // tenants it names while their agent is alive.
    std::map<std::string, std::string> table;
};

// The OpenStack-facing side (paper IV-E/F): Keystone, Glance and Nova served on one port for
// users, their identity checked at the identity provider.
struct ApiOptions {
    std::uint16_t port = 0;  // 0: a free port
    // The URL clients reach this port by ("http://agent.example:8080"); empty: taken from each
    // request's Host header.
    std::string public_url;
    std::string idp_auth_url;                       // the identity provider's Keystone v3 (required)
    std::string identity_mode = "service-account";  // or "federation" (not implemented: refused)
    std::chrono::seconds token_cache_ttl{60};
    // Builds allowed per server create before the create fails (Nova's max_attempts).
    int max_build_attempts = 3;
    // A build not ACTIVE after this is treated as failed and re-scheduled.
    std::chrono::milliseconds build_timeout{180'000};
    // A cloudlet's agent that does not answer a list in time is reported as a down cell.
    std::chrono::milliseconds list_timeout{10'000};
};

// An agent's config file (docs/agent.md). Unknown keys are refused.
struct AgentConfig {
    std::string id;  // stable across restarts; the overlay's peer id
    std::string listen_address = "127.0.0.1";
    std::uint16_t a2a_port = 0;      // 0: a free port
    std::vector<std::string> seeds;  // "host:port" of other agents' A2A listeners
    std::string secret;              // the cluster secret (or read from secret_file)
    // Rotation: secrets that signatures are still accepted by (never signed with) while the new
    // `secret` reaches every agent; removed once it has (docs/security.md).
    std::vector<std::string> previous_secrets;
    // Exactly one of: the endpoints of an existing cloudlet, or an embedded cloudlet that the
    // agent's process starts beside it.
    std::optional<CloudletAccess> cloudlet;
    std::optional<emulator::CloudletConfig> embedded_cloudlet;
    state::StoreConfig state;
    OverlayOptions overlay;
    MappingOptions mapping;
    std::optional<ApiOptions> api;  // absent: A2A only (no OpenStack APIs on this agent)
};

Result<AgentConfig> AgentConfigFromJson(const nlohmann::json& j);
Result<AgentConfig> LoadAgentConfig(const std::string& path);
nlohmann::json ToJson(const AgentConfig& config);  // secret left out

}  // namespace shoal::agent
