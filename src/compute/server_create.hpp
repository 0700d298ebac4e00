#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "translate/id_translation.hpp"

namespace shoal::compute {

using json = nlohmann::json;

// A Nova "create server" request body ({"server": {...}, "os:scheduler_hints": {...}}) as the
// agent's NovaProxy reads it, before any flavor or image is looked up. Pure: the fuzz target
// tests/fuzz/nova_server_create calls it with whatever arrives.
struct ServerCreate {
    nlohmann::json server;  // the "server" object, without min_count, max_count, return_reservation_id
    // The body's "os:scheduler_hints" (or its old name "OS-SCH-HNT:scheduler_hints"), null when
    // absent: sent on with the server, translated for the cloudlet (Translator::CreateServerToCloudlet).
    nlohmann::json hints;
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

// Where one server's create goes, and what the shoal's ids are called there.
struct CloudletCreate {
    std::string tenant;
    std::string cloudlet;     // the chosen cloudlet's agent id
    std::string image;        // the shoal image id ...
    std::string image_copy;   // ... and its copy on the cloudlet
    std::string flavor_name;  // the flavor the home resolved (by name or id) ...
    std::string flavor_id;    // ... and its id on the cloudlet
    // The tenant's servers that are on some cloudlet (shoal id, copy), for same_host and
    // different_host hints; empty when the hints name no server (HintsNameServers).
    std::vector<std::pair<std::string, translate::CloudletRef>> servers;
};

// True when `hints` (ServerCreate::hints) name servers, so CloudletCreate::servers is needed.
bool HintsNameServers(const nlohmann::json& hints);

// The POST /servers body the cloudlet receives: {"server": `server`} (ServerCreate::server, one
// instance's name) and the hints, through Translator::CreateServerToCloudlet. Networks, ports,
// volumes, snapshots and server groups are the cloudlet's own (shoal keeps no map of them): their
// ids pass as the user gave them. kNotFound when a same_host server is not on this cloudlet.
Result<nlohmann::json> CloudletCreateBody(const nlohmann::json& server,
                                          const nlohmann::json& hints,
                                          const CloudletCreate& where);

}  // namespace shoal::compute
