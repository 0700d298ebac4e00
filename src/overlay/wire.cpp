#include "overlay/wire.hpp"

#include <nlohmann/json.hpp>

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

json ToJson(const CyclonMessage& message) {
    struct Encoder {
        json operator()(const ShuffleRequestMessage& m) const {
            return json{{"type", "cyclon.shuffle"}, {"entries", EntriesToJson(m.entries)}};
        }
        json operator()(const ShuffleReplyMessage& m) const {
            return json{
                {"type", "cyclon.shuffle_reply"}, {"from", m.from.str()}, {"entries", EntriesToJson(m.entries)}};
        }
        json operator()(const JoinRequestMessage& m) const {
            return json{{"type", "cyclon.join"}, {"joiner", ToJson(m.joiner)}};
        }
        json operator()(const JoinWalk& m) const {
            return json{{"type", "cyclon.join_walk"}, {"joiner", ToJson(m.joiner)}, {"ttl", m.ttl}};
        }
        json operator()(const JoinReplyMessage& m) const {
            return json{{"type", "cyclon.join_reply"}, {"entries", EntriesToJson(m.entries)}};
        }
    };
    return std::visit(Encoder{}, message);
}

Result<CyclonMessage> CyclonMessageFromJson(const json& j) {
    if (!j.is_object()) return BadRequest("a message must be an object");
    auto type_it = j.find("type");
    if (type_it == j.end() || !type_it->is_string()) return BadRequest("missing \"type\"");
    const auto& type = type_it->get_ref<const std::string&>();

    if (type == "cyclon.shuffle" || type == "cyclon.shuffle_reply" || type == "cyclon.join_reply") {
        auto entries = EntriesFromJson(j);
        if (!entries.ok()) return entries.error();
        if (type == "cyclon.shuffle") {
            if (entries->empty()) return BadRequest("a shuffle carries at least the sender");
            return CyclonMessage{ShuffleRequestMessage{std::move(entries).value()}};
        }
        if (type == "cyclon.join_reply") return CyclonMessage{JoinReplyMessage{std::move(entries).value()}};
        auto from = j.find("from");
        if (from == j.end() || !from->is_string() || from->get_ref<const std::string&>().empty()) {
            return BadRequest("\"from\" must be a non-empty string");
        }
        return CyclonMessage{ShuffleReplyMessage{PeerId(from->get<std::string>()), std::move(entries).value()}};
    }
    if (type == "cyclon.join" || type == "cyclon.join_walk") {
        auto joiner = DescriptorField(j, "joiner");
        if (!joiner.ok()) return joiner.error();
        if (type == "cyclon.join") return CyclonMessage{JoinRequestMessage{std::move(joiner).value()}};
        auto ttl = j.find("ttl");
        if (ttl == j.end() || !ttl->is_number_unsigned() ||
            ttl->get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
            return BadRequest("\"ttl\" must be an unsigned 32-bit integer");
        }
        return CyclonMessage{JoinWalk{std::move(joiner).value(), ttl->get<std::uint32_t>()}};
    }
    return BadRequest("unknown message type \"" + type + "\"");
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
