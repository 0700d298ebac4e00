#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace shoal::compute {

// A Nova "create server" request body ({"server": {...}}) as the agent's NovaProxy reads it,
// before any flavor or image is looked up. Pure: the fuzz target tests/fuzz/nova_server_create
// calls it with whatever arrives.
struct ServerCreate {
    nlohmann::json server;   // the "server" object, without min_count, max_count, return_reservation_id
    std::string name;        // server.name (instances are "<name>-<i>" when max_count > 1)
    std::string flavor_ref;  // the flavorRef's id (an href's last segment; a non-string dumped)
    std::string image;       // the imageRef's id (shoal space)
    std::int64_t min_count = 1;
    std::int64_t max_count = 1;
    bool return_reservation_id = false;  // answer {"reservation_id"} instead of the first server
};

inline constexpr std::int64_t kMaxInstancesPerCreate = 1000;

// kBadRequest with Nova's messages for a missing or malformed field, kForbidden beyond
// kMaxInstancesPerCreate instances. `microversion` is the minor of 2.x (networks required from 2.37).
Result<ServerCreate> ParseServerCreate(const nlohmann::json& body, int microversion);

}  // namespace shoal::compute
