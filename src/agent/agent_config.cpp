#include "agent/agent_config.hpp"

#include <fstream>
#include <sstream>

#include "common/config_reader.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;

Error Bad(std::string message) {
    return MakeError(ErrorCode::kBadRequest, "agent config: " + std::move(message));
}

std::optional<std::string> ReadFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// "127.0.0.1:7001" -> address and port.
bool SplitListen(const std::string& listen, std::string& address, std::uint16_t& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    try {
        const int p = std::stoi(listen.substr(colon + 1));
        if (p < 0 || p > 65535) return false;
        address = listen.substr(0, colon);
        port = static_cast<std::uint16_t>(p);
        return !address.empty();
    } catch (const std::exception&) {
        return false;
    }
}

Result<Ok> ReadOverlay(const json& j, OverlayOptions& o) {
    ConfigReader r(j, "overlay.");
    r.Get("view_size", o.cyclon.view_size);
    r.Get("shuffle_length", o.cyclon.shuffle_length);
    r.Get("walk_length", o.cyclon.walk_length);
    r.GetMillis("period_ms", o.period);
    r.GetMillis("request_timeout_ms", o.request_timeout);
    r.Get("rejoin_after_quiet_rounds", o.rejoin_after_quiet_rounds);
    r.Get("gossip_factor", o.membership.gossip_factor);
    r.Get("max_piggyback", o.membership.max_piggyback);
    r.Get("suspect_rounds", o.membership.suspect_rounds);
    r.Get("tombstone_rounds", o.membership.tombstone_rounds);
    r.Get("sync_every_rounds", o.membership.sync_every_rounds);
    r.Get("sync_after_rounds", o.membership.sync_after_rounds);
    if (auto u = r.Unknown()) return Bad("unknown key '" + *u + "'");
    if (o.cyclon.view_size == 0 || o.cyclon.shuffle_length == 0 || o.cyclon.shuffle_length > o.cyclon.view_size)
        return Bad("overlay: need 1 <= shuffle_length <= view_size");
    if (o.period.count() <= 0 || o.request_timeout.count() <= 0)
        return Bad("overlay: period_ms and request_timeout_ms must be positive");
    return Ok{};
}

}  // namespace

Result<AgentConfig> AgentConfigFromJson(const json& j) {
    if (!j.is_object()) return Bad("the top level must be a JSON object");
    AgentConfig c;
    try {
        ConfigReader r(j, "");
        std::string listen = "127.0.0.1:0";
        std::string secret_file;
        json cloudlet, embedded, api, state = json::object(), overlay = json::object(), mapping = json::object();
        r.Get("id", c.id);
        r.Get("listen", listen);
        r.Get("seeds", c.seeds);
        r.Get("secret", c.secret);
        r.Get("secret_file", secret_file);
        r.Get("previous_secrets", c.previous_secrets);
        r.Get("cloudlet", cloudlet);
        r.Get("embedded_cloudlet", embedded);
        r.Get("state", state);
        r.Get("overlay", overlay);
        r.Get("mapping", mapping);
        r.Get("api", api);
        if (auto u = r.Unknown()) return Bad("unknown key '" + *u + "'");

        if (c.id.empty() || c.id.find_first_of("/ \t\n") != std::string::npos)
            return Bad("'id' is required and may not contain '/' or spaces");
        if (!SplitListen(listen, c.listen_address, c.a2a_port)) return Bad("'listen' must be host:port");
        if (!secret_file.empty()) {
            auto s = ReadFile(secret_file);
            if (!s) return Bad("cannot read secret_file " + secret_file);
            while (!s->empty() && (s->back() == '\n' || s->back() == '\r')) s->pop_back();
            c.secret = *s;
        }
        if (c.secret.size() < 16) return Bad("the cluster secret must be at least 16 characters");
        for (const auto& p : c.previous_secrets)
            if (p.size() < 16) return Bad("every previous_secrets entry must be at least 16 characters");

        if (!cloudlet.is_null() == !embedded.is_null())
            return Bad("give exactly one of 'cloudlet' (an existing cloudlet) or 'embedded_cloudlet'");
        if (!cloudlet.is_null()) {
            CloudletAccess a;
            ConfigReader cr(cloudlet, "cloudlet.");
            cr.Get("auth_url", a.auth_url);
            cr.Get("username", a.username);
            cr.Get("password", a.password);
            cr.Get("project", a.project);
            cr.Get("user_domain", a.user_domain);
            cr.Get("project_domain", a.project_domain);
            cr.Get("region", a.region);
            if (auto u = cr.Unknown()) return Bad("unknown key '" + *u + "'");
            if (a.auth_url.rfind("http://", 0) != 0 && a.auth_url.rfind("https://", 0) != 0)
                return Bad("cloudlet.auth_url must be an http(s) URL");
            c.cloudlet = a;
        } else {
            auto e = emulator::CloudletConfigFromJson(embedded);
            if (!e.ok()) return Bad("embedded_cloudlet: " + e.error().message);
            if (e->name == "cloudlet") e->name = c.id;
            if (e->flavors.empty()) e->flavors = emulator::CloudletConfig::DefaultFlavors();
            c.embedded_cloudlet = std::move(e).value();
        }

        ConfigReader sr(state, "state.");
        sr.Get("backend", c.state.backend);
        sr.Get("path", c.state.path);
        sr.Get("endpoints", c.state.endpoints);
        sr.Get("prefix", c.state.prefix);
        if (auto u = sr.Unknown()) return Bad("unknown key '" + *u + "'");

        if (auto o = ReadOverlay(overlay, c.overlay); !o.ok()) return o.error();

        ConfigReader mr(mapping, "mapping.");
        std::string mode = "dynamic";
        mr.Get("mode", mode);
        mr.Get("table", c.mapping.table);
        if (auto u = mr.Unknown()) return Bad("unknown key '" + *u + "'");
        if (mode == "static") {
            c.mapping.mode = MappingMode::kStatic;
        } else if (mode != "dynamic") {
            return Bad("mapping.mode must be 'static' or 'dynamic'");
        }

        if (!api.is_null()) {
            ApiOptions a;
            ConfigReader ar(api, "api.");
            std::int64_t ttl = a.token_cache_ttl.count();
            ar.Get("port", a.port);
            ar.Get("public_url", a.public_url);
            ar.Get("idp_auth_url", a.idp_auth_url);
            ar.Get("identity_mode", a.identity_mode);
            ar.Get("token_cache_ttl_s", ttl);
            ar.Get("max_build_attempts", a.max_build_attempts);
            ar.GetMillis("build_timeout_ms", a.build_timeout);
            ar.GetMillis("list_timeout_ms", a.list_timeout);
            if (auto u = ar.Unknown()) return Bad("unknown key '" + *u + "'");
            if (a.idp_auth_url.rfind("http://", 0) != 0 && a.idp_auth_url.rfind("https://", 0) != 0)
                return Bad("api.idp_auth_url must be the identity provider's Keystone v3 URL");
            if (a.identity_mode == "federation")
                return Bad(
                    "api.identity_mode 'federation' (Keystone-to-Keystone) is not implemented; use 'service-account'");
            if (a.identity_mode != "service-account") return Bad("api.identity_mode must be 'service-account'");
            if (ttl < 0 || a.max_build_attempts < 1 || a.build_timeout.count() <= 0 || a.list_timeout.count() <= 0)
                return Bad("api: token_cache_ttl_s >= 0, max_build_attempts >= 1, timeouts > 0");
            a.token_cache_ttl = std::chrono::seconds(ttl);
            c.api = std::move(a);
        }
    } catch (const json::exception& e) {
        return Bad(std::string("wrong type: ") + e.what());
    }
    return c;
}

Result<AgentConfig> LoadAgentConfig(const std::string& path) {
    auto text = ReadFile(path);
    if (!text) return Bad("cannot read " + path);
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return Bad(path + " is not valid JSON");
    return AgentConfigFromJson(j);
}

json ToJson(const AgentConfig& c) {
    json j = {
        {"id", c.id},
        {"listen", c.listen_address + ":" + std::to_string(c.a2a_port)},
        {"seeds", c.seeds},
        {"state", {{"backend", c.state.backend}, {"path", c.state.path}, {"endpoints", c.state.endpoints}}},
        {"overlay",
         {{"view_size", c.overlay.cyclon.view_size},
          {"shuffle_length", c.overlay.cyclon.shuffle_length},
          {"walk_length", c.overlay.cyclon.walk_length},
          {"period_ms", c.overlay.period.count()},
          {"request_timeout_ms", c.overlay.request_timeout.count()}}},
        {"mapping",
         {{"mode", c.mapping.mode == MappingMode::kStatic ? "static" : "dynamic"}, {"table", c.mapping.table}}},
    };
    if (c.cloudlet) j["cloudlet"] = {{"auth_url", c.cloudlet->auth_url}, {"region", c.cloudlet->region}};
    if (c.api)
        j["api"] = {{"port", c.api->port},
                    {"public_url", c.api->public_url},
                    {"idp_auth_url", c.api->idp_auth_url},
                    {"identity_mode", c.api->identity_mode}};
    if (c.embedded_cloudlet) j["embedded_cloudlet"] = {{"name", c.embedded_cloudlet->name}};
    return j;
}

}  // namespace shoal::agent
