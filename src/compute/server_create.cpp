#include "compute/server_create.hpp"

#include <charconv>

namespace shoal::compute {
namespace {

Result<std::int64_t> CountField(const json& s, const char* key) {
    if (!s.contains(key)) return std::int64_t{1};
    const auto& v = s[key];
    std::int64_t n = 0;
    if (v.is_number_integer()) {
        n = v.get<std::int64_t>();
    } else if (v.is_string()) {
        auto t = v.get<std::string>();
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        if (ec != std::errc() || end != t.data() + t.size()) n = 0;
    }
    if (n < 1)
        return MakeError(ErrorCode::kBadRequest,
                         std::string("Invalid input for field/attribute ") + key + ". Value: " + v.dump() + ".");
    return n;
}

// Nova's parameter_types.boolean: a JSON boolean, or one of its strings.
Result<bool> BooleanField(const json& s, const char* key) {
    auto it = s.find(key);
    if (it == s.end()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) {
        const auto& v = it->get_ref<const std::string&>();
        for (const char* t : {"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"})
            if (v == t) return true;
        for (const char* f : {"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"})
            if (v == f) return false;
    }
    return MakeError(ErrorCode::kBadRequest, std::string("Invalid input for field/attribute ") + key +
                                                 ". Value: " + it->dump() + ". It is not of type 'boolean'");
}

}  // namespace

Result<ServerCreate> ParseServerCreate(const json& body, int microversion) {
    if (!body.is_object() || !body.contains("server") || !body["server"].is_object())
        return MakeError(ErrorCode::kBadRequest, "Invalid input for field/attribute server. Value: missing.");
    ServerCreate c;
    c.server = body["server"];
    json& server = c.server;
    if (!server.contains("name") || !server["name"].is_string() || server["name"].get<std::string>().empty())
        return MakeError(ErrorCode::kBadRequest,
                         "Invalid input for field/attribute name. 'name' is a required property");
    if (!server.contains("flavorRef"))
        return MakeError(ErrorCode::kBadRequest,
                         "Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
    if (!server.contains("imageRef") || !server["imageRef"].is_string() ||
        server["imageRef"].get<std::string>().empty())
        return MakeError(ErrorCode::kBadRequest, "Booting from volume is not supported by shoal; imageRef is required");
    if (microversion >= 37 && !server.contains("networks"))
        return MakeError(ErrorCode::kBadRequest,
                         "Invalid input for field/attribute server. 'networks' is a required property");
    auto min_count = CountField(server, "min_count");
    if (!min_count.ok()) return min_count.error();
    auto max_count = CountField(server, "max_count");
    if (!max_count.ok()) return max_count.error();
    if (!server.contains("max_count")) *max_count = *min_count;
    if (*min_count > *max_count) return MakeError(ErrorCode::kBadRequest, "min_count must be <= max_count");
    if (*max_count > kMaxInstancesPerCreate)
        return MakeError(ErrorCode::kForbidden, "Quota exceeded: at most 1000 instances per request");
    c.min_count = *min_count;
    c.max_count = *max_count;

    c.name = server["name"].get<std::string>();
    c.flavor_ref = server["flavorRef"].is_string() ? translate::IdFromHref(server["flavorRef"].get<std::string>())
                                                   : server["flavorRef"].dump();
    c.image = translate::IdFromHref(server["imageRef"].get<std::string>());
    // A non-boolean used to escape as json::type_error (a 500); found by tests/fuzz.
    auto outer = BooleanField(body, "return_reservation_id");
    if (!outer.ok()) return outer.error();
    auto inner = BooleanField(server, "return_reservation_id");
    if (!inner.ok()) return inner.error();
    c.return_reservation_id = *outer || *inner;
    for (const char* key : {"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"}) {
        auto it = body.find(key);
        if (it == body.end()) continue;
        if (!it->is_object())
            return MakeError(ErrorCode::kBadRequest, std::string("Invalid input for field/attribute ") + key +
                                                         ". Value: " + it->dump() + ". It is not of type 'object'");
        c.hints = *it;
    }
    server.erase("min_count");
    server.erase("max_count");
    server.erase("return_reservation_id");
    return c;
}

bool HintsNameServers(const json& hints) {
    return hints.is_object() && (hints.contains("same_host") || hints.contains("different_host"));
}

Result<json> CloudletCreateBody(const json& server, const json& hints, const CloudletCreate& where) {
    json body = {{"server", server}};
    if (hints.is_object()) body["os:scheduler_hints"] = hints;
    translate::MemoryIdMap map;
    map.Add(translate::Kind::kImage, where.image, where.cloudlet, where.image_copy);
    // The flavor under the ref the user gave (id, href or integer, as the translator reads it)
    // and under its name.
    if (server.is_object() && server.contains("flavorRef")) {
        const json& ref = server["flavorRef"];
        map.Add(translate::Kind::kFlavor, ref.is_string() ? translate::IdFromHref(ref.get<std::string>()) : ref.dump(),
                where.cloudlet, where.flavor_id);
    }
    map.Add(translate::Kind::kFlavor, where.flavor_name, where.cloudlet, where.flavor_id);
    for (translate::Kind k : {translate::Kind::kNetwork, translate::Kind::kPort, translate::Kind::kVolume,
                              translate::Kind::kSnapshot, translate::Kind::kServerGroup})
        map.PassThrough(k);
    for (const auto& [shoal_id, copy] : where.servers)
        map.Add(translate::Kind::kServer, shoal_id, copy.cloudlet, copy.id);
    translate::Translator t(map, where.tenant, translate::AgentUrls{});
    return t.CreateServerToCloudlet(translate::CloudletContext{where.cloudlet, ""}, body);
}

}  // namespace shoal::compute
