#pragma once

#include <nlohmann/json_fwd.hpp>

#include <variant>
#include <vector>

#include "common/result.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "overlay/peer.hpp"

namespace shoal::overlay {

// Cyclon messages as the A2A layer carries them (JSON objects with a "type"; docs/overlay.md).

// {"type":"cyclon.shuffle","entries":[...]}: entries[0] is the sender with age 0.
struct ShuffleRequestMessage {
    std::vector<PeerDescriptor> entries;
};
// {"type":"cyclon.shuffle_reply","from":"<id>","entries":[...]}
struct ShuffleReplyMessage {
    PeerId from;
    std::vector<PeerDescriptor> entries;
};
// {"type":"cyclon.join","joiner":{...}}
struct JoinRequestMessage {
    PeerDescriptor joiner;
};
// {"type":"cyclon.join_walk","joiner":{...},"ttl":n}: JoinWalk itself.
// {"type":"cyclon.join_reply","entries":[...]}
struct JoinReplyMessage {
    std::vector<PeerDescriptor> entries;
};

using CyclonMessage =
    std::variant<ShuffleRequestMessage, ShuffleReplyMessage, JoinRequestMessage, JoinWalk, JoinReplyMessage>;

// {"id":"...","address":"host:port","age":n}
nlohmann::json ToJson(const PeerDescriptor& peer);
Result<PeerDescriptor> PeerDescriptorFromJson(const nlohmann::json& j);

nlohmann::json ToJson(const CyclonMessage& message);
// kBadRequest for an unknown type, a missing or mistyped field, or an empty id.
Result<CyclonMessage> CyclonMessageFromJson(const nlohmann::json& j);

// Membership updates, piggy-backed on messages or sent whole for a sync:
// {"id":"...","address":"host:port","incarnation":n,"state":"alive|suspect|dead"}
nlohmann::json ToJson(const MemberUpdate& update);
Result<MemberUpdate> MemberUpdateFromJson(const nlohmann::json& j);
// A JSON array of updates.
nlohmann::json ToJson(const std::vector<MemberUpdate>& updates);
// kBadRequest when `j` is not an array or an element is malformed.
Result<std::vector<MemberUpdate>> MemberUpdatesFromJson(const nlohmann::json& j);

}  // namespace shoal::overlay
