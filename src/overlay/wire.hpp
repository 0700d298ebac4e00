#pragma once

#include <nlohmann/json_fwd.hpp>

#include <variant>
#include <vector>

#include "common/result.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "overlay/overlay_node.hpp"
#include "overlay/peer.hpp"

namespace shoal::overlay {

// Overlay messages as the A2A layer carries them: one JSON object per message with its "type"
// (docs/overlay.md, "Messages"), the fields the type uses, and the membership envelope:
// "gossip" (an array of updates), "digest" (a decimal string: JSON numbers lose 64-bit
// precision in many parsers) and, when a whole list travels, "members".

// {"id":"...","address":"host:port","age":n}
nlohmann::json ToJson(const PeerDescriptor& peer);
Result<PeerDescriptor> PeerDescriptorFromJson(const nlohmann::json& j);

nlohmann::json ToJson(const OverlayMessage& message);
// kBadRequest for an unknown type, a missing or mistyped field, an empty id, or a malformed
// update in "gossip" or "members".
Result<OverlayMessage> OverlayMessageFromJson(const nlohmann::json& j);

// Membership updates, piggy-backed on messages or sent whole for a sync:
// {"id":"...","address":"host:port","incarnation":n,"state":"alive|suspect|dead"}
nlohmann::json ToJson(const MemberUpdate& update);
Result<MemberUpdate> MemberUpdateFromJson(const nlohmann::json& j);
// A JSON array of updates.
nlohmann::json ToJson(const std::vector<MemberUpdate>& updates);
// kBadRequest when `j` is not an array or an element is malformed.
Result<std::vector<MemberUpdate>> MemberUpdatesFromJson(const nlohmann::json& j);

}  // namespace shoal::overlay
