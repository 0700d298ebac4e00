#include "overlay/wire.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>
#include <string>

namespace shoal::overlay {
namespace {

using nlohmann::json;

Error BadRequest(std::string message) {
    return MakeError(ErrorCode::kBadRequest, "cyclon: " + std::move(message));
}

Error BadMemberUpdate(std::string message) {
    return MakeError(ErrorCode::kBadRequest, "membership: " + std::move(message));
}

json EntriesToJson(const std::vector<PeerDescriptor>& entries) {
    json out = json::array();
    for (const auto& e : entries) out.push_back(ToJson(e));
    return out;
}

Result<std::vector<PeerDescriptor>> EntriesFromJson(const json& j) {
    auto it = j.find("entries");
    if (it == j.end() || !it->is_array()) return BadRequest("\"entries\" must be an array");
    std::vector<PeerDescriptor> entries;
    entries.reserve(it->size());
    for (const auto& item : *it) {
        auto peer = PeerDescriptorFromJson(item);
        if (!peer.ok()) return peer.error();
        entries.push_back(std::move(peer).value());
    }
    return entries;
}

Result<PeerDescriptor> DescriptorField(const json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end()) return BadRequest(std::string("missing \"") + name + "\"");
    return PeerDescriptorFromJson(*it);
}

}  // namespace

json ToJson(const PeerDescriptor& peer) {
    return json{{"id", peer.id.str()}, {"address", peer.address}, {"age", peer.age}};
}

Result<PeerDescriptor> PeerDescriptorFromJson(const json& j) {
    if (!j.is_object()) return BadRequest("a peer descriptor must be an object");
    auto id = j.find("id");
    auto address = j.find("address");
    auto age = j.find("age");
    if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        return BadRequest("peer \"id\" must be a non-empty string");
    }
    if (address == j.end() || !address->is_string()) return BadRequest("peer \"address\" must be a string");
    if (age == j.end() || !age->is_number_unsigned() ||
        age->get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
        return BadRequest("peer \"age\" must be an unsigned 32-bit integer");
    }
    return PeerDescriptor{PeerId(id->get<std::string>()), address->get<std::string>(), age->get<std::uint32_t>()};
}

json ToJson(const OverlayMessage& message) {
    json out{{"type", std::string(MessageTypeName(message.type))}};
    switch (message.type) {
        case MessageType::kShuffle:
        case MessageType::kJoinReply:
            out["entries"] = EntriesToJson(message.entries);
            break;
        case MessageType::kShuffleReply:
            out["from"] = message.peer.id.str();
            out["entries"] = EntriesToJson(message.entries);
            break;
        case MessageType::kJoin:
            out["joiner"] = ToJson(message.peer);
            break;
        case MessageType::kJoinWalk:
            out["joiner"] = ToJson(message.peer);
            out["ttl"] = message.ttl;
            break;
        case MessageType::kJoinAnswer:
            out["introducer"] = ToJson(message.peer);
            break;
        case MessageType::kPing:
        case MessageType::kSync:
        case MessageType::kList:
        case MessageType::kAck:
            break;
    }
    if (!message.gossip.empty()) out["gossip"] = ToJson(message.gossip);
    if (message.digest) out["digest"] = std::to_string(*message.digest);
    if (message.members) out["members"] = ToJson(*message.members);
    return out;
}

Result<OverlayMessage> OverlayMessageFromJson(const json& j) {
    if (!j.is_object()) return BadRequest("a message must be an object");
    auto type_it = j.find("type");
    if (type_it == j.end() || !type_it->is_string()) return BadRequest("missing \"type\"");
    const auto& type_name = type_it->get_ref<const std::string&>();
    const auto type = ParseMessageType(type_name);
    if (!type) return BadRequest("unknown message type \"" + type_name + "\"");
    OverlayMessage m;
    m.type = *type;
    switch (*type) {
        case MessageType::kShuffle:
        case MessageType::kShuffleReply:
        case MessageType::kJoinReply: {
            auto entries = EntriesFromJson(j);
            if (!entries.ok()) return entries.error();
            m.entries = std::move(entries).value();
            if (*type == MessageType::kShuffle && m.entries.empty()) {
                return BadRequest("a shuffle carries at least the sender");
            }
            if (*type == MessageType::kShuffleReply) {
                auto from = j.find("from");
                if (from == j.end() || !from->is_string() || from->get_ref<const std::string&>().empty()) {
                    return BadRequest("\"from\" must be a non-empty string");
                }
                m.peer.id = PeerId(from->get<std::string>());
            }
            break;
        }
        case MessageType::kJoin:
        case MessageType::kJoinWalk:
        case MessageType::kJoinAnswer: {
            auto peer = DescriptorField(j, *type == MessageType::kJoinAnswer ? "introducer" : "joiner");
            if (!peer.ok()) return peer.error();
            m.peer = std::move(peer).value();
            if (*type != MessageType::kJoinWalk) break;
            auto ttl = j.find("ttl");
            if (ttl == j.end() || !ttl->is_number_unsigned() ||
                ttl->get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
                return BadRequest("\"ttl\" must be an unsigned 32-bit integer");
            }
            m.ttl = ttl->get<std::uint32_t>();
            break;
        }
        case MessageType::kPing:
        case MessageType::kSync:
        case MessageType::kList:
        case MessageType::kAck:
            break;
    }
    if (auto it = j.find("gossip"); it != j.end()) {
        auto gossip = MemberUpdatesFromJson(*it);
        if (!gossip.ok()) return gossip.error();
        m.gossip = std::move(gossip).value();
    }
    if (auto it = j.find("digest"); it != j.end()) {
        const auto* text = it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
        std::uint64_t digest = 0;
        const auto [end, ec] = text ? std::from_chars(text->data(), text->data() + text->size(), digest)
                                    : std::from_chars_result{nullptr, std::errc::invalid_argument};
        if (!text || text->empty() || ec != std::errc() || end != text->data() + text->size()) {
            return BadRequest("\"digest\" must be an unsigned 64-bit integer as a decimal string");
        }
        m.digest = digest;
    }
    if (auto it = j.find("members"); it != j.end()) {
        auto members = MemberUpdatesFromJson(*it);
        if (!members.ok()) return members.error();
        m.members = std::move(members).value();
    }
    return m;
}

json ToJson(const MemberUpdate& update) {
    return json{{"id", update.peer.id.str()},
                {"address", update.peer.address},
                {"incarnation", update.incarnation},
                {"state", MemberStateName(update.state)}};
}

Result<MemberUpdate> MemberUpdateFromJson(const json& j) {
    if (!j.is_object()) return BadMemberUpdate("an update must be an object");
    auto id = j.find("id");
    auto address = j.find("address");
    auto incarnation = j.find("incarnation");
    auto state = j.find("state");
    if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        return BadMemberUpdate("\"id\" must be a non-empty string");
    }
    if (address == j.end() || !address->is_string()) return BadMemberUpdate("\"address\" must be a string");
    if (incarnation == j.end() || !incarnation->is_number_unsigned()) {
        return BadMemberUpdate("\"incarnation\" must be an unsigned 64-bit integer");
    }
    if (state == j.end() || !state->is_string()) return BadMemberUpdate("\"state\" must be a string");
    const auto parsed = ParseMemberState(state->get_ref<const std::string&>());
    if (!parsed) return BadMemberUpdate("\"state\" must be alive, suspect or dead");
    return MemberUpdate{PeerDescriptor{PeerId(id->get<std::string>()), address->get<std::string>(), 0},
                        incarnation->get<std::uint64_t>(), *parsed};
}

json ToJson(const std::vector<MemberUpdate>& updates) {
    json out = json::array();
    for (const auto& u : updates) out.push_back(ToJson(u));
    return out;
}

Result<std::vector<MemberUpdate>> MemberUpdatesFromJson(const json& j) {
    if (!j.is_array()) return BadMemberUpdate("updates must be an array");
    std::vector<MemberUpdate> updates;
    updates.reserve(j.size());
    for (const auto& item : j) {
        auto u = MemberUpdateFromJson(item);
        if (!u.ok()) return u.error();
        updates.push_back(std::move(u).value());
    }
    return updates;
}

}  // namespace shoal::overlay
