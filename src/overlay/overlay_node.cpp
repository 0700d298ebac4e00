#include "overlay/overlay_node.hpp"

namespace shoal::overlay {

namespace {
constexpr std::pair<MessageType, std::string_view> kTypeNames[] = {
    {MessageType::kShuffle, "cyclon.shuffle"},    {MessageType::kShuffleReply, "cyclon.shuffle_reply"},
    {MessageType::kJoin, "cyclon.join"},          {MessageType::kJoinAnswer, "cyclon.join_answer"},
    {MessageType::kJoinWalk, "cyclon.join_walk"}, {MessageType::kJoinReply, "cyclon.join_reply"},
    {MessageType::kPing, "membership.ping"},      {MessageType::kSync, "membership.sync"},
    {MessageType::kList, "membership.list"},      {MessageType::kAck, "membership.ack"},
};
}  // namespace

std::string_view MessageTypeName(MessageType type) {
    for (const auto& [t, name] : kTypeNames) {
        if (t == type) return name;
    }
    return "?";
}

std::optional<MessageType> ParseMessageType(std::string_view name) {
    for (const auto& [t, n] : kTypeNames) {
        if (n == name) return t;
    }
    return std::nullopt;
}

// Compiled once here; every other user of OverlayNode links this instance.
template class BasicOverlayNode<PeerDescriptor>;

}  // namespace shoal::overlay
