#include "emulator/keystone/keystone_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/ids.hpp"
#include "common/time_format.hpp"
#include "emulator/keystone/keystone_support.hpp"

namespace shoal::emulator {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;
namespace ks = keystone;

namespace {

constexpr std::string_view kDomainsColl = "keystone_domains";
constexpr std::string_view kProjectsColl = "keystone_projects";
constexpr std::string_view kUsersColl = "keystone_users";
constexpr std::string_view kRolesColl = "keystone_roles";
constexpr std::string_view kAssignmentsColl = "keystone_assignments";
constexpr std::string_view kTokensColl = "keystone_tokens";

constexpr std::string_view kDefaultDomainId = "default";
constexpr std::string_view kAuthRequired = "The request you have made requires authentication.";
constexpr int kMaxProjectDepth = 5;                // keystone.conf [DEFAULT] max_project_tree_depth
constexpr std::size_t kMaxProjectNameLength = 64;  // projects and domains
constexpr std::size_t kMaxNameLength = 255;        // users and roles
constexpr std::chrono::seconds kPurgeInterval{60};

// Every authentication failure looks the same to the client (keystone.exception.Unauthorized
// hides details unless insecure_debug); the reason goes to the log.
Error Unauthorized(std::string_view why) {
    spdlog::debug("keystone: authentication refused: {}", why);
    return MakeError(ErrorCode::kUnauthorized, std::string(kAuthRequired));
}

Error ForbiddenAction(std::string_view action) {
    return MakeError(ErrorCode::kForbidden,
                     "You are not authorized to perform the requested action: " + std::string(action) + ".");
}

Error NotFound(std::string_view kind, std::string_view id) {
    return MakeError(ErrorCode::kNotFound, "Could not find " + std::string(kind) + ": " + std::string(id) + ".");
}

// keystone.common.sql.core.handle_conflicts
Error DuplicateName(std::string_view type, std::string_view name, const std::string* domain_id) {
    std::string details = "Duplicate entry found with name " + std::string(name);
    if (domain_id) details += " at domain ID " + *domain_id;
    return MakeError(ErrorCode::kConflict,
                     "Conflict occurred attempting to store " + std::string(type) + " - " + details + ".");
}

Error Forbidden(std::string message) {
    return MakeError(ErrorCode::kForbidden, std::move(message));
}
Error BadRequest(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

const std::string& Str(const json& doc, const char* key) {
    static const std::string kEmpty;
    auto it = doc.find(key);
    return (it != doc.end() && it->is_string()) ? it->get_ref<const std::string&>() : kEmpty;
}

bool Enabled(const json& doc) {
    auto it = doc.find("enabled");
    return it == doc.end() || !it->is_boolean() || it->get<bool>();
}

bool Immutable(const json& doc) {
    auto opts = doc.find("options");
    if (opts == doc.end() || !opts->is_object()) return false;
    auto it = opts->find("immutable");
    return it != opts->end() && it->is_boolean() && it->get<bool>();
}

// keystone.common.resource_options.check_immutable_update: an immutable resource only accepts
// the update that clears the flag.
Status CheckImmutableUpdate(const json& current, const json& patch, std::string_view type, const std::string& id) {
    if (!Immutable(current)) return Ok{};
    bool only_clear = patch.size() == 1 && patch.contains("options") && patch["options"].is_object() &&
                      patch["options"].contains("immutable") &&
                      (patch["options"]["immutable"].is_null() || patch["options"]["immutable"] == false);
    if (only_clear) return Ok{};
    return Forbidden("Unable to update immutable " + std::string(type) + " resource: `" + id +
                     ". Set resource option \"immutable\" to false first.");
}

Status CheckImmutableDelete(const json& current, std::string_view type, const std::string& id) {
    if (!Immutable(current)) return Ok{};
    return Forbidden("Unable to delete immutable " + std::string(type) + " resource: `" + id +
                     ". Set resource option \"immutable\" to false first.");
}

Response NoContent() {
    return Response::Empty(204);
}

struct Assignment {
    std::string user_id;
    char kind = 'p';  // 'p': on a project, 'd': on a domain
    std::string target_id;
    std::string role_id;

    auto operator<=>(const Assignment&) const = default;
    std::string Key() const { return user_id + ":" + kind + ":" + target_id + ":" + role_id; }
    json ToJson() const {
        return {{"user_id", user_id}, {"kind", std::string(1, kind)}, {"target_id", target_id}, {"role_id", role_id}};
    }
    static std::optional<Assignment> FromJson(const json& j) {
        if (!j.is_object() || !j.contains("user_id") || !j.contains("kind") || !j.contains("target_id") ||
            !j.contains("role_id"))
            return std::nullopt;
        Assignment a;
        a.user_id = j["user_id"].get<std::string>();
        auto kind = j["kind"].get<std::string>();
        if (kind != "p" && kind != "d") return std::nullopt;
        a.kind = kind[0];
        a.target_id = j["target_id"].get<std::string>();
        a.role_id = j["role_id"].get<std::string>();
        return a;
    }
};

struct Token {
    std::string id;
    std::string user_id;
    std::string project_id;  // at most one of project_id and domain_id is set
    std::string domain_id;
    std::vector<std::string> methods;
    std::vector<std::string> audit_ids;
    SystemTime issued_at;
    SystemTime expires_at;

    bool Expired(SystemTime now) const { return now >= expires_at; }
    json ToJson() const {
        return {{"id", id},
                {"user_id", user_id},
                {"project_id", project_id},
                {"domain_id", domain_id},
                {"methods", methods},
                {"audit_ids", audit_ids},
                {"issued_at", FormatIso8601Micro(issued_at)},
                {"expires_at", FormatIso8601Micro(expires_at)}};
    }
    static std::optional<Token> FromJson(const json& j) {
        try {
            Token t;
            t.id = j.at("id").get<std::string>();
            t.user_id = j.at("user_id").get<std::string>();
            t.project_id = j.at("project_id").get<std::string>();
            t.domain_id = j.at("domain_id").get<std::string>();
            t.methods = j.at("methods").get<std::vector<std::string>>();
            t.audit_ids = j.at("audit_ids").get<std::vector<std::string>>();
            auto issued = ParseIso8601(j.at("issued_at").get<std::string>());
            auto expires = ParseIso8601(j.at("expires_at").get<std::string>());
            if (!issued || !expires) return std::nullopt;
            t.issued_at = *issued;
            t.expires_at = *expires;
            return t;
        } catch (const json::exception&) {
            return std::nullopt;
        }
    }
};

// A token checked against the current state: who, on what, with which roles.
struct Resolved {
    const Token* token = nullptr;
    const json* user = nullptr;
    const json* user_domain = nullptr;
    const json* project = nullptr;
    const json* project_domain = nullptr;
    const json* domain = nullptr;
    std::vector<const json*> roles;
};

struct CatalogEntry {
    std::string type;
    std::string name;
    std::string description;
    std::string id;
};

constexpr std::array<std::string_view, 3> kInterfaces = {"public", "internal", "admin"};

}  // namespace

struct KeystoneService::State {
    explicit State(ServiceContext& c) : ctx(c) {
        // Catalog ids derive from the cloudlet's name so they survive restarts.
        const std::array<std::array<std::string_view, 3>, 4> services = {{
            {"identity", "keystone", "Keystone Identity Service"},
            {"image", "glance", "Glance Image Service"},
            {"compute", "nova", "Nova Compute Service"},
            {"placement", "placement", "Placement Service"},
        }};
        for (const auto& s : services)
            catalog.push_back(CatalogEntry{std::string(s[0]), std::string(s[1]), std::string(s[2]),
                                           ks::StableHexId(ctx.config.name + "/service/" + std::string(s[0]))});
    }

    ServiceContext& ctx;
    std::map<std::string, json, std::less<>> domains;
    std::map<std::string, json, std::less<>> projects;
    std::map<std::string, json, std::less<>> users;
    std::map<std::string, std::string, std::less<>> password_hashes;  // user id -> encoded hash
    std::map<std::string, json, std::less<>> roles;
    std::set<Assignment> assignments;
    std::unordered_map<std::string, Token> tokens;
    std::vector<CatalogEntry> catalog;
    SystemTime next_purge{};

    // ---------------------------------------------------------------- persistence

    bool Durable() const { return ctx.store.Durable(); }

    // The Save* functions take documents by value: callers may pass the stored document itself.
    void SaveDomain(json d) {
        std::string id = Str(d, "id");
        if (Durable()) ctx.store.Put(kDomainsColl, id, d);
        domains[id] = std::move(d);
    }
    void SaveProject(json p) {
        std::string id = Str(p, "id");
        if (Durable()) ctx.store.Put(kProjectsColl, id, p);
        projects[id] = std::move(p);
    }
    void SaveRole(json r) {
        std::string id = Str(r, "id");
        if (Durable()) ctx.store.Put(kRolesColl, id, r);
        roles[id] = std::move(r);
    }
    void SaveUser(json u) {
        std::string id = Str(u, "id");
        if (Durable()) {
            json doc = {{"user", u}};
            if (auto it = password_hashes.find(id); it != password_hashes.end()) doc["password_hash"] = it->second;
            ctx.store.Put(kUsersColl, id, doc);
        }
        users[id] = std::move(u);
    }
    void SetPassword(const std::string& user_id, const json& password) {
        if (password.is_string())
            password_hashes[user_id] = ks::HashPassword(password.get<std::string>());
        else
            password_hashes.erase(user_id);  // null: the user cannot authenticate with a password
    }
    void SaveToken(const Token& t) {
        tokens[t.id] = t;
        if (Durable()) ctx.store.Put(kTokensColl, t.id, t.ToJson());
    }
    void EraseToken(std::string id) {  // by value: callers often pass the token's own id
        tokens.erase(id);
        if (Durable()) ctx.store.Erase(kTokensColl, id);
    }
    void AddAssignment(const Assignment& a) {
        if (assignments.insert(a).second && Durable()) ctx.store.Put(kAssignmentsColl, a.Key(), a.ToJson());
    }
    void EraseAssignment(const Assignment& a) {
        if (assignments.erase(a) && Durable()) ctx.store.Erase(kAssignmentsColl, a.Key());
    }
    template <class Pred>
    void EraseAssignmentsIf(Pred pred) {
        std::vector<Assignment> doomed;
        for (const auto& a : assignments)
            if (pred(a)) doomed.push_back(a);
        for (const auto& a : doomed) EraseAssignment(a);
    }
    template <class Pred>
    void RevokeTokensIf(Pred pred) {
        std::vector<std::string> doomed;
        for (const auto& [id, t] : tokens)
            if (pred(t)) doomed.push_back(id);
        for (const auto& id : doomed) EraseToken(id);
    }
    void PurgeExpiredTokens(SystemTime now) {
        RevokeTokensIf([&](const Token& t) { return t.Expired(now); });
        next_purge = now + kPurgeInterval;
    }

    void Load() {
        for (auto& [id, doc] : ctx.store.LoadAll(kDomainsColl))
            if (doc.is_object()) domains[id] = std::move(doc);
        for (auto& [id, doc] : ctx.store.LoadAll(kProjectsColl))
            if (doc.is_object()) projects[id] = std::move(doc);
        for (auto& [id, doc] : ctx.store.LoadAll(kRolesColl))
            if (doc.is_object()) roles[id] = std::move(doc);
        for (auto& [id, doc] : ctx.store.LoadAll(kUsersColl)) {
            if (!doc.is_object() || !doc.contains("user") || !doc["user"].is_object()) continue;
            users[id] = doc["user"];
            if (doc.contains("password_hash") && doc["password_hash"].is_string())
                password_hashes[id] = doc["password_hash"].get<std::string>();
        }
        for (auto& [id, doc] : ctx.store.LoadAll(kAssignmentsColl)) {
            try {
                if (auto a = Assignment::FromJson(doc)) assignments.insert(*a);
            } catch (const json::exception&) {
                spdlog::warn("keystone: ignoring malformed role assignment {}", id);
            }
        }
        auto now = ctx.Now();
        for (auto& [id, doc] : ctx.store.LoadAll(kTokensColl)) {
            auto t = Token::FromJson(doc);
            if (!t || t->Expired(now)) {
                ctx.store.Erase(kTokensColl, id);
                continue;
            }
            tokens[id] = std::move(*t);
        }
        next_purge = now + kPurgeInterval;
    }

    // ---------------------------------------------------------------- lookups

    static const json* Find(const std::map<std::string, json, std::less<>>& m, std::string_view id) {
        auto it = m.find(id);
        return it == m.end() ? nullptr : &it->second;
    }
    const json* FindDomainByName(std::string_view name) const {
        for (const auto& [id, d] : domains)
            if (Str(d, "name") == name) return &d;
        return nullptr;
    }
    const json* FindProjectByName(std::string_view name, std::string_view domain_id) const {
        for (const auto& [id, p] : projects)
            if (Str(p, "name") == name && Str(p, "domain_id") == domain_id) return &p;
        return nullptr;
    }
    const json* FindUserByName(std::string_view name, std::string_view domain_id) const {
        for (const auto& [id, u] : users)
            if (Str(u, "name") == name && Str(u, "domain_id") == domain_id) return &u;
        return nullptr;
    }
    // domain_id "" means a global role.
    const json* FindRoleByName(std::string_view name, std::string_view domain_id) const {
        for (const auto& [id, r] : roles)
            if (Str(r, "name") == name && Str(r, "domain_id") == domain_id) return &r;
        return nullptr;
    }

    // The bootstrap roles imply each other: admin -> member -> reader.
    const json* ImpliedRole(const json& role) const {
        if (!role["domain_id"].is_null()) return nullptr;
        const auto& name = Str(role, "name");
        if (name == "admin") return FindRoleByName("member", "");
        if (name == "member") return FindRoleByName("reader", "");
        return nullptr;
    }

    std::vector<std::string> DirectRoleIds(std::string_view user_id, char kind, std::string_view target) const {
        std::vector<std::string> out;
        Assignment lo{std::string(user_id), kind, std::string(target), ""};
        for (auto it = assignments.lower_bound(lo);
             it != assignments.end() && it->user_id == user_id && it->kind == kind && it->target_id == target; ++it)
            out.push_back(it->role_id);
        return out;
    }

    // Direct roles plus the roles they imply, each once, in that order.
    std::vector<const json*> EffectiveRoles(std::string_view user_id, char kind, std::string_view target) const {
        std::vector<const json*> out;
        auto add = [&](const json* r) {
            if (r && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
        };
        for (const auto& id : DirectRoleIds(user_id, kind, target)) add(Find(roles, id));
        for (std::size_t i = 0; i < out.size(); ++i) add(ImpliedRole(*out[i]));
        return out;
    }

    // Global roles only: domain-specific roles never appear in tokens.
    std::vector<const json*> TokenRoles(std::string_view user_id, char kind, std::string_view target) const {
        auto all = EffectiveRoles(user_id, kind, target);
        std::erase_if(all, [](const json* r) { return !(*r)["domain_id"].is_null(); });
        return all;
    }

    int ProjectDepth(const json& project) const {
        int depth = 1;
        const json* p = &project;
        while (true) {
            const auto& parent = Str(*p, "parent_id");
            const json* next = Find(projects, parent);
            if (!next) break;
            ++depth;
            p = next;
        }
        return depth;
    }

    bool IsDescendant(const std::string& project_id, const std::string& ancestor_id) const {
        const json* p = Find(projects, project_id);
        while (p) {
            const auto& parent = Str(*p, "parent_id");
            if (parent == ancestor_id) return true;
            p = Find(projects, parent);
        }
        return false;
    }

    // ---------------------------------------------------------------- tokens

    Result<Resolved> Resolve(const Token& t) const {
        Resolved r;
        r.token = &t;
        r.user = Find(users, t.user_id);
        if (!r.user) return Unauthorized("user " + t.user_id + " no longer exists");
        if (!Enabled(*r.user)) return Unauthorized("user " + t.user_id + " is disabled");
        r.user_domain = Find(domains, Str(*r.user, "domain_id"));
        if (!r.user_domain || !Enabled(*r.user_domain)) return Unauthorized("the user's domain is disabled");
        if (!t.project_id.empty()) {
            r.project = Find(projects, t.project_id);
            if (!r.project || !Enabled(*r.project))
                return Unauthorized("project " + t.project_id + " is gone or disabled");
            r.project_domain = Find(domains, Str(*r.project, "domain_id"));
            if (!r.project_domain || !Enabled(*r.project_domain))
                return Unauthorized("the project's domain is disabled");
            r.roles = TokenRoles(t.user_id, 'p', t.project_id);
            if (r.roles.empty()) return Unauthorized("user has no role on project " + t.project_id);
        } else if (!t.domain_id.empty()) {
            r.domain = Find(domains, t.domain_id);
            if (!r.domain || !Enabled(*r.domain)) return Unauthorized("domain " + t.domain_id + " is gone or disabled");
            r.roles = TokenRoles(t.user_id, 'd', t.domain_id);
            if (r.roles.empty()) return Unauthorized("user has no role on domain " + t.domain_id);
        }
        return r;
    }

    // A live token: known, unexpired and still backed by enabled entities and roles.
    Result<Resolved> Live(std::string_view token_id) {
        auto it = tokens.find(std::string(token_id));
        if (it == tokens.end()) return Unauthorized("unknown token");
        if (it->second.Expired(ctx.Now())) {
            EraseToken(it->first);  // purged lazily
            return Unauthorized("expired token");
        }
        return Resolve(it->second);
    }

    static TokenInfo Info(const Resolved& r) {
        TokenInfo info;
        const Token& t = *r.token;
        info.token_id = t.id;
        info.user_id = t.user_id;
        info.user_name = Str(*r.user, "name");
        info.user_domain_id = Str(*r.user, "domain_id");
        if (r.project) {
            info.project_id = t.project_id;
            info.project_name = Str(*r.project, "name");
            info.project_domain_id = Str(*r.project, "domain_id");
        }
        info.domain_id = t.domain_id;
        for (const json* role : r.roles) info.roles.push_back(Str(*role, "name"));
        info.issued_at = t.issued_at;
        info.expires_at = t.expires_at;
        return info;
    }

    Token& Issue(const std::string& user_id,
                 const std::string& project_id,
                 const std::string& domain_id,
                 std::vector<std::string> methods,
                 std::vector<std::string> audit_ids,
                 std::optional<SystemTime> expires_at) {
        auto now = ctx.Now();
        if (now >= next_purge) PurgeExpiredTokens(now);
        Token t;
        t.id = ks::NewTokenId();
        t.user_id = user_id;
        t.project_id = project_id;
        t.domain_id = domain_id;
        t.methods = std::move(methods);
        t.audit_ids = std::move(audit_ids);
        t.issued_at = now;
        t.expires_at = now + ctx.config.token_ttl;
        // A rescoped token keeps its parent's expiry, so re-scoping cannot extend a session.
        if (expires_at && *expires_at < t.expires_at) t.expires_at = *expires_at;
        SaveToken(t);
        return tokens[t.id];
    }

    // ---------------------------------------------------------------- rendering

    std::string V3Url() const { return ctx.IdentityUrl() + "/v3"; }

    json Linked(json doc, std::string_view collection) const {
        doc["links"] = {{"self", V3Url() + "/" + std::string(collection) + "/" + Str(doc, "id")}};
        return doc;
    }

    json Collection(const Request& req, std::string_view key, json items) const {
        return {{std::string(key), std::move(items)},
                {"links", {{"self", ctx.base_url() + req.target}, {"previous", nullptr}, {"next", nullptr}}}};
    }

    std::string ServiceUrl(const CatalogEntry& s) const {
        if (s.type == "identity") return ctx.IdentityUrl();
        if (s.type == "image") return ctx.ImageUrl();
        if (s.type == "compute") return ctx.ComputeUrl();
        return ctx.PlacementUrl();
    }

    std::string EndpointId(const CatalogEntry& s, std::string_view iface) const {
        return ks::StableHexId(ctx.config.name + "/endpoint/" + s.type + "/" + std::string(iface));
    }

    json Catalog() const {
        json out = json::array();
        for (const auto& s : catalog) {
            json endpoints = json::array();
            for (auto iface : kInterfaces)
                endpoints.push_back({{"id", EndpointId(s, iface)},
                                     {"interface", iface},
                                     {"region", ctx.config.region},
                                     {"region_id", ctx.config.region},
                                     {"url", ServiceUrl(s)}});
            out.push_back({{"endpoints", endpoints}, {"id", s.id}, {"type", s.type}, {"name", s.name}});
        }
        return out;
    }

    json ServiceRef(const CatalogEntry& s) const {
        return Linked(
            {{"id", s.id}, {"type", s.type}, {"name", s.name}, {"description", s.description}, {"enabled", true}},
            "services");
    }

    json EndpointRef(const CatalogEntry& s, std::string_view iface) const {
        return Linked({{"id", EndpointId(s, iface)},
                       {"interface", iface},
                       {"region", ctx.config.region},
                       {"region_id", ctx.config.region},
                       {"service_id", s.id},
                       {"url", ServiceUrl(s)},
                       {"enabled", true}},
                      "endpoints");
    }

    json RegionRef() const {
        return Linked({{"id", ctx.config.region}, {"description", ""}, {"parent_region_id", nullptr}}, "regions");
    }

    static json NameRef(const json& doc) { return {{"id", Str(doc, "id")}, {"name", Str(doc, "name")}}; }

    // keystone.common.render_token.render_token_response_from_model
    json RenderToken(const Resolved& r, bool include_catalog) const {
        const Token& t = *r.token;
        json token = {
            {"methods", t.methods},
            {"user",
             {{"domain", NameRef(*r.user_domain)},
              {"id", t.user_id},
              {"name", Str(*r.user, "name")},
              {"password_expires_at", nullptr}}},
            {"audit_ids", t.audit_ids},
            {"expires_at", FormatIso8601Micro(t.expires_at)},
            {"issued_at", FormatIso8601Micro(t.issued_at)},
        };
        json roles = json::array();
        for (const json* role : r.roles) roles.push_back(NameRef(*role));
        if (r.project) {
            token["project"] = {
                {"domain", NameRef(*r.project_domain)}, {"id", t.project_id}, {"name", Str(*r.project, "name")}};
            token["is_domain"] = false;
            token["roles"] = roles;
        } else if (r.domain) {
            token["domain"] = NameRef(*r.domain);
            token["roles"] = roles;
        }
        if (include_catalog && (r.project || r.domain)) token["catalog"] = Catalog();
        return {{"token", token}};
    }

    json RenderUser(const json& u) const { return Linked(u, "users"); }

    // ---------------------------------------------------------------- request plumbing

    Result<TokenInfo> Caller(const Request& req) {
        auto header = req.headers.Get("X-Auth-Token");
        if (!header || header->empty()) return Unauthorized("no X-Auth-Token");
        auto r = Live(*header);
        if (!r.ok()) return r.error();
        return Info(*r);
    }

    static Status RequireAdmin(const TokenInfo& caller, std::string_view action) {
        if (caller.IsAdmin()) return Ok{};
        return ForbiddenAction(action);
    }

    // Keystone's _normalize_domain_id: a create without domain_id lands in the token's domain.
    static std::string DefaultDomainFor(const TokenInfo& caller) {
        return caller.domain_id.empty() ? std::string(kDefaultDomainId) : caller.domain_id;
    }

    // Exact-match list filters; booleans read the way Keystone reads them.
    static bool Matches(const json& doc, const Request& req, std::initializer_list<const char*> keys) {
        for (const char* key : keys) {
            auto q = req.Query(key);
            if (!q) continue;
            auto it = doc.find(key);
            if (it == doc.end() || it->is_null()) {
                if (!q->empty()) return false;
            } else if (it->is_boolean()) {
                if (it->get<bool>() != ks::QueryIsTrue(*q)) return false;
            } else if (!it->is_string() || it->get_ref<const std::string&>() != *q) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- validation

    static Status CheckDescription(const json& entity, std::string_view field = "description") {
        if (!entity.contains(field)) return Ok{};
        return ks::ExpectType(entity[std::string(field)], field, "string", /*nullable=*/true);
    }

    static Status CheckEnabled(const json& entity) {
        if (!entity.contains("enabled")) return Ok{};
        return ks::ExpectType(entity["enabled"], "enabled", "boolean");
    }

    static Status CheckTags(const json& entity) {
        if (!entity.contains("tags")) return Ok{};
        const json& tags = entity["tags"];
        if (auto s = ks::ExpectType(tags, "tags", "array"); !s.ok()) return s;
        if (tags.size() > 80) return ks::SchemaError("tags", ks::PyRepr(tags) + " is too long");
        std::set<std::string> seen;
        for (std::size_t i = 0; i < tags.size(); ++i) {
            auto path = "tags/" + std::to_string(i);
            if (auto s = ks::ExpectType(tags[i], path, "string"); !s.ok()) return s;
            const auto& tag = tags[i].get_ref<const std::string&>();
            if (tag.empty()) return ks::SchemaError(path, ks::PyRepr(tags[i]) + " is too short");
            if (tag.size() > 255) return ks::SchemaError(path, ks::PyRepr(tags[i]) + " is too long");
            if (tag.find_first_of(",/") != std::string::npos)
                return ks::SchemaError(path, ks::PyRepr(tags[i]) + " does not match '^[^,/]*$'");
            if (!seen.insert(tag).second) return ks::SchemaError("tags", ks::PyRepr(tags) + " has non-unique elements");
        }
        return Ok{};
    }

    // Resource options: `allowed` names the boolean options; users also have MFA rules.
    static Status CheckOptions(const json& entity, std::initializer_list<std::string_view> allowed) {
        if (!entity.contains("options")) return Ok{};
        const json& opts = entity["options"];
        if (auto s = ks::ExpectType(opts, "options", "object"); !s.ok()) return s;
        for (const auto& [key, value] : opts.items()) {
            auto path = "options/" + key;
            if (key == "multi_factor_auth_rules" && std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
                if (auto s = ks::ExpectType(value, path, "array", true); !s.ok()) return s;
                if (value.is_array())
                    for (const auto& rule : value) {
                        if (auto s = ks::ExpectType(rule, path, "array"); !s.ok()) return s;
                        for (const auto& m : rule)
                            if (auto s = ks::ExpectType(m, path, "string"); !s.ok()) return s;
                    }
                continue;
            }
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
                return ks::SchemaError("options",
                                       "Additional properties are not allowed ('" + key + "' was unexpected)");
            if (auto s = ks::ExpectType(value, path, "boolean", true); !s.ok()) return s;
        }
        return Ok{};
    }

    static void MergeOptions(json& doc, const json& patch) {
        if (!patch.contains("options")) return;
        json& opts = doc["options"];
        if (!opts.is_object()) opts = json::object();
        for (const auto& [key, value] : patch["options"].items()) {
            if (value.is_null())
                opts.erase(key);
            else
                opts[key] = value;
        }
    }

    // The entity object of a request body ({"project": {...}}); absent means {} (as Keystone).
    static Result<json> Entity(const Request& req, const char* key) {
        auto body = ks::ParseBody(req);
        if (!body.ok()) return body.error();
        if (!body->contains(key)) return json::object();
        json entity = (*body)[key];
        if (auto s = ks::ExpectObject(entity, ""); !s.ok()) return s.error();
        return entity;
    }

    static Status CheckNotEmpty(const json& patch) {
        if (patch.empty()) return ks::SchemaError("", "{} does not have enough properties");
        return Ok{};
    }

    // ================================================================ handlers: discovery

    json VersionDoc() const {
        return {
            {"id", "v3.14"},
            {"status", "stable"},
            {"updated", "2020-04-07T00:00:00Z"},
            {"links", json::array({{{"rel", "self"}, {"href", V3Url() + "/"}}})},
            {"media-types",
             json::array({{{"base", "application/json"}, {"type", "application/vnd.openstack.identity-v3+json"}}})}};
    }

    Result<Response> Versions(Request&) {
        auto r = Response::Json(300, {{"versions", {{"values", json::array({VersionDoc()})}}}});
        r.headers.Set("Location", V3Url() + "/");
        return r;
    }

    Result<Response> Version(Request&) { return Response::Json(200, {{"version", VersionDoc()}}); }

    // ================================================================ handlers: auth

    // keystone/auth/schema.py token_issue, plus its id-or-name rules.
    static Status ValidateAuth(const json& auth) {
        if (auto s = ks::ExpectObject(auth, ""); !s.ok()) return s;
        if (auto s = ks::RequireField(auth, "", "identity"); !s.ok()) return s;
        const json& identity = auth["identity"];
        if (auto s = ks::ExpectObject(identity, "identity"); !s.ok()) return s;
        if (auto s = ks::RequireField(identity, "identity", "methods"); !s.ok()) return s;
        if (auto s = ks::ExpectType(identity["methods"], "identity/methods", "array"); !s.ok()) return s;
        for (std::size_t i = 0; i < identity["methods"].size(); ++i)
            if (auto s = ks::ExpectType(identity["methods"][i], "identity/methods/" + std::to_string(i), "string");
                !s.ok())
                return s;
        auto check_strings = [](const json& obj, const std::string& path,
                                std::initializer_list<const char*> keys) -> Status {
            for (const char* k : keys)
                if (obj.contains(k))
                    if (auto s = ks::ExpectType(obj[k], path + "/" + k, "string"); !s.ok()) return s;
            return Ok{};
        };
        auto check_id_or_name = [&](const json& obj, const std::string& path) -> Status {
            if (auto s = ks::ExpectObject(obj, path); !s.ok()) return s;
            if (auto s = check_strings(obj, path, {"id", "name"}); !s.ok()) return s;
            if (!obj.contains("id") && !obj.contains("name"))
                return ks::SchemaError("", "Invalid input for field " + path + ": id or name must be present.");
            return Ok{};
        };
        if (identity.contains("password")) {
            const json& pw = identity["password"];
            if (auto s = ks::ExpectObject(pw, "identity/password"); !s.ok()) return s;
            if (pw.contains("user")) {
                const json& user = pw["user"];
                std::string path = "identity/password/user";
                if (auto s = ks::ExpectObject(user, path); !s.ok()) return s;
                if (auto s = check_strings(user, path, {"id", "name", "password"}); !s.ok()) return s;
                if (user.contains("domain"))
                    if (auto s = check_id_or_name(user["domain"], path + "/domain"); !s.ok()) return s;
                if (!user.contains("id") && !user.contains("name"))
                    return ks::SchemaError("", "Invalid input for field " + path + ": id or name must be present.");
            }
        }
        if (identity.contains("token")) {
            const json& tok = identity["token"];
            if (auto s = ks::ExpectObject(tok, "identity/token"); !s.ok()) return s;
            if (auto s = ks::RequireField(tok, "identity/token", "id"); !s.ok()) return s;
            if (auto s = ks::ExpectType(tok["id"], "identity/token/id", "string"); !s.ok()) return s;
        }
        if (auth.contains("scope")) {
            const json& scope = auth["scope"];
            if (!scope.is_object() && !scope.is_string())
                return ks::SchemaError("scope", ks::PyRepr(scope) + " is not of type 'object', 'string'");
            if (scope.is_object()) {
                if (scope.contains("project")) {
                    if (auto s = check_id_or_name(scope["project"], "scope/project"); !s.ok()) return s;
                    if (scope["project"].contains("domain"))
                        if (auto s = check_id_or_name(scope["project"]["domain"], "scope/project/domain"); !s.ok())
                            return s;
                }
                if (scope.contains("domain"))
                    if (auto s = check_id_or_name(scope["domain"], "scope/domain"); !s.ok()) return s;
            }
        }
        return Ok{};
    }

    Result<const json*> LookupScopeDomain(const json& ref) const {
        const json* d = ref.contains("id") ? Find(domains, ref["id"].get<std::string>())
                                           : FindDomainByName(ref["name"].get<std::string>());
        if (!d) return Unauthorized("unknown domain");
        if (!Enabled(*d)) return Unauthorized("domain is disabled");
        return d;
    }

    Result<const json*> LookupScopeProject(const json& ref) const {
        const json* p = nullptr;
        if (ref.contains("name")) {
            if (!ref.contains("domain")) return ks::ValidationError("domain", "project");
            auto d = LookupScopeDomain(ref["domain"]);
            if (!d.ok()) return d.error();
            p = FindProjectByName(ref["name"].get<std::string>(), Str(**d, "id"));
        } else {
            p = Find(projects, ref["id"].get<std::string>());
            if (p) {
                const json* d = Find(domains, Str(*p, "domain_id"));
                if (!d || !Enabled(*d)) return Unauthorized("the project's domain is disabled");
            }
        }
        if (!p) return Unauthorized("unknown project");
        if (!Enabled(*p)) return Unauthorized("project is disabled");
        return p;
    }

    Result<std::string> PasswordUser(const json& pw) const {
        if (!pw.contains("user")) return ks::ValidationError("user", "password");
        const json& u = pw["user"];
        const json* user = nullptr;
        if (u.contains("id")) {
            user = Find(users, u["id"].get<std::string>());
        } else {
            if (!u.contains("domain")) return ks::ValidationError("domain", "user");
            auto d = LookupScopeDomain(u["domain"]);
            if (!d.ok()) return d.error();
            user = FindUserByName(u["name"].get<std::string>(), Str(**d, "id"));
        }
        if (!user) return Unauthorized("unknown user");
        const auto& id = Str(*user, "id");
        if (!Enabled(*user)) return Unauthorized("user " + id + " is disabled");
        const json* d = Find(domains, Str(*user, "domain_id"));
        if (!d || !Enabled(*d)) return Unauthorized("the user's domain is disabled");
        if (!u.contains("password")) return ks::ValidationError("password", "user");
        auto hash = password_hashes.find(id);
        if (hash == password_hashes.end() || !ks::VerifyPassword(u["password"].get<std::string>(), hash->second))
            return Unauthorized("invalid password for user " + id);
        return id;
    }

    Result<Response> IssueToken(Request& req) {
        auto body = ks::ParseBody(req);
        if (!body.ok()) return body.error();
        if (!body->contains("auth")) return ks::ValidationError("auth", "request body");
        const json& auth = (*body)["auth"];
        if (auto s = ValidateAuth(auth); !s.ok()) return s.error();
        const json& identity = auth["identity"];
        if (identity["methods"].empty()) return ks::ValidationError("methods", "identity");

        std::optional<std::string> user_id;
        std::vector<std::string> methods;
        std::optional<SystemTime> expires;
        std::string parent_audit;
        auto add_method = [&](const std::string& m) {
            if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
        };
        for (const auto& m : identity["methods"]) {
            const auto& name = m.get_ref<const std::string&>();
            if (name != "password" && name != "token")
                return MakeError(ErrorCode::kUnauthorized, "Attempted to authenticate with an unsupported method.");
            if (!identity.contains(name)) return ks::ValidationError(name, "identity");
            std::string who;
            if (name == "password") {
                auto id = PasswordUser(identity["password"]);
                if (!id.ok()) return id.error();
                who = *id;
                add_method("password");
            } else {
                const auto& token_id = identity["token"]["id"].get_ref<const std::string&>();
                auto parent = Live(token_id);
                if (!parent.ok()) return NotFound("token", token_id);
                const Token& pt = *parent->token;
                who = pt.user_id;
                add_method("token");
                for (const auto& pm : pt.methods) add_method(pm);
                expires = pt.expires_at;
                parent_audit = pt.audit_ids.size() > 1 ? pt.audit_ids[1] : pt.audit_ids.front();
            }
            if (user_id && *user_id != who) return Unauthorized("auth methods identify different users");
            user_id = who;
        }

        std::string project_id, domain_id;
        bool explicit_unscoped = false;
        if (auth.contains("scope")) {
            const json& scope = auth["scope"];
            const char* kScopes = "system, project, domain, OS-TRUST:trust or unscoped";
            if (scope.is_string()) {
                if (scope != "unscoped") return ks::ValidationError(kScopes, "scope");
                explicit_unscoped = true;
            } else {
                int n = 0;
                for (const char* k : {"project", "domain", "unscoped", "system", "OS-TRUST:trust"})
                    n += scope.contains(k) ? 1 : 0;
                if (n != 1) return ks::ValidationError(kScopes, "scope");
                if (scope.contains("project")) {
                    auto p = LookupScopeProject(scope["project"]);
                    if (!p.ok()) return p.error();
                    project_id = Str(**p, "id");
                } else if (scope.contains("domain")) {
                    auto d = LookupScopeDomain(scope["domain"]);
                    if (!d.ok()) return d.error();
                    domain_id = Str(**d, "id");
                } else if (scope.contains("unscoped")) {
                    explicit_unscoped = true;
                } else {
                    return Unauthorized("system and trust scopes are not supported by the emulator");
                }
            }
        }
        if (project_id.empty() && domain_id.empty() && !explicit_unscoped) {
            // keystone.api._shared.authentication._check_and_set_default_scoping
            const json* user = Find(users, *user_id);
            const auto& dp = Str(*user, "default_project_id");
            const json* p = Find(projects, dp);
            const json* pd = p ? Find(domains, Str(*p, "domain_id")) : nullptr;
            if (p && Enabled(*p) && pd && Enabled(*pd) && !DirectRoleIds(*user_id, 'p', dp).empty()) project_id = dp;
        }
        if (!project_id.empty() && TokenRoles(*user_id, 'p', project_id).empty())
            return Unauthorized("user " + *user_id + " has no access to project " + project_id);
        if (!domain_id.empty() && TokenRoles(*user_id, 'd', domain_id).empty())
            return Unauthorized("user " + *user_id + " has no access to domain " + domain_id);

        std::vector<std::string> audit_ids = {ks::NewAuditId()};
        if (!parent_audit.empty()) audit_ids.push_back(parent_audit);
        Token& t = Issue(*user_id, project_id, domain_id, methods, std::move(audit_ids), expires);
        auto resolved = Resolve(t);
        if (!resolved.ok()) return resolved.error();
        auto resp = Response::Json(201, RenderToken(*resolved, !req.Query("nocatalog").has_value()));
        resp.headers.Set("X-Subject-Token", t.id);
        return resp;
    }

    // The X-Subject-Token of GET/HEAD/DELETE /v3/auth/tokens; a token may inspect itself.
    Result<Resolved> SubjectToken(const Request& req, const TokenInfo& caller, std::string_view action) {
        auto subject = req.headers.Get("X-Subject-Token");
        if (!subject || subject->empty()) return ks::ValidationError("X-Subject-Token", "header");
        auto r = Live(*subject);
        if (!r.ok()) return NotFound("token", *subject);
        if (!caller.IsAdmin() && r->token->user_id != caller.user_id) return ForbiddenAction(action);
        return r;
    }

    Result<Response> ValidateToken(Request& req, const TokenInfo& caller) {
        auto r = SubjectToken(req, caller, "identity:validate_token");
        if (!r.ok()) return r.error();
        auto resp = Response::Json(200, RenderToken(*r, !req.Query("nocatalog").has_value()));
        resp.headers.Set("X-Subject-Token", r->token->id);
        return resp;
    }

    Result<Response> CheckToken(Request& req, const TokenInfo& caller) {
        auto r = SubjectToken(req, caller, "identity:check_token");
        if (!r.ok()) return r.error();
        auto resp = Response::Empty(200);
        resp.headers.Set("X-Subject-Token", r->token->id);
        return resp;
    }

    Result<Response> RevokeToken(Request& req, const TokenInfo& caller) {
        auto r = SubjectToken(req, caller, "identity:revoke_token");
        if (!r.ok()) return r.error();
        EraseToken(r->token->id);
        return NoContent();
    }

    Result<Response> AuthCatalog(Request& req, const TokenInfo& caller) {
        if (caller.project_id.empty() && caller.domain_id.empty())
            return MakeError(ErrorCode::kForbidden, "You are not authorized to perform the requested action.");
        return Response::Json(200, Collection(req, "catalog", Catalog()));
    }

    // Projects the user holds a role on.
    std::vector<const json*> ProjectsOf(std::string_view user_id) const {
        std::set<std::string> ids;
        for (const auto& a : assignments)
            if (a.user_id == user_id && a.kind == 'p') ids.insert(a.target_id);
        std::vector<const json*> out;
        for (const auto& id : ids)
            if (const json* p = Find(projects, id)) out.push_back(p);
        return out;
    }

    Result<Response> AuthProjects(Request& req, const TokenInfo& caller) {
        json items = json::array();
        for (const json* p : ProjectsOf(caller.user_id)) {
            const json* d = Find(domains, Str(*p, "domain_id"));
            if (Enabled(*p) && d && Enabled(*d)) items.push_back(Linked(*p, "projects"));
        }
        return Response::Json(200, Collection(req, "projects", items));
    }

    Result<Response> AuthDomains(Request& req, const TokenInfo& caller) {
        std::set<std::string> ids;
        for (const auto& a : assignments)
            if (a.user_id == caller.user_id && a.kind == 'd') ids.insert(a.target_id);
        json items = json::array();
        for (const auto& id : ids)
            if (const json* d = Find(domains, id); d && Enabled(*d)) items.push_back(Linked(*d, "domains"));
        return Response::Json(200, Collection(req, "domains", items));
    }

    // ================================================================ handlers: catalog admin

    Result<Response> ListServices(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_services"); !s.ok()) return s.error();
        json items = json::array();
        for (const auto& s : catalog) {
            json ref = ServiceRef(s);
            if (Matches(ref, req, {"type", "name"})) items.push_back(ref);
        }
        return Response::Json(200, Collection(req, "services", items));
    }

    Result<Response> ShowService(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:get_service"); !s.ok()) return s.error();
        for (const auto& s : catalog)
            if (s.id == req.Param("service_id")) return Response::Json(200, {{"service", ServiceRef(s)}});
        return NotFound("service", req.Param("service_id"));
    }

    Result<Response> ListEndpoints(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_endpoints"); !s.ok()) return s.error();
        json items = json::array();
        for (const auto& s : catalog)
            for (auto iface : kInterfaces) {
                json ref = EndpointRef(s, iface);
                if (Matches(ref, req, {"interface", "service_id", "region_id"})) items.push_back(ref);
            }
        return Response::Json(200, Collection(req, "endpoints", items));
    }

    Result<Response> ShowEndpoint(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:get_endpoint"); !s.ok()) return s.error();
        for (const auto& s : catalog)
            for (auto iface : kInterfaces)
                if (EndpointId(s, iface) == req.Param("endpoint_id"))
                    return Response::Json(200, {{"endpoint", EndpointRef(s, iface)}});
        return NotFound("endpoint", req.Param("endpoint_id"));
    }

    Result<Response> ListRegions(Request& req, const TokenInfo&) {
        json items = json::array();
        json ref = RegionRef();
        if (Matches(ref, req, {"parent_region_id"})) items.push_back(ref);
        return Response::Json(200, Collection(req, "regions", items));
    }

    Result<Response> ShowRegion(Request& req, const TokenInfo&) {
        if (req.Param("region_id") != ctx.config.region) return NotFound("region", req.Param("region_id"));
        return Response::Json(200, {{"region", RegionRef()}});
    }

    // ================================================================ handlers: domains

    Result<Response> ListDomains(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_domains"); !s.ok()) return s.error();
        json items = json::array();
        for (const auto& [id, d] : domains)
            if (Matches(d, req, {"name", "enabled"})) items.push_back(Linked(d, "domains"));
        return Response::Json(200, Collection(req, "domains", items));
    }

    static Status CheckDomainFields(const json& e) {
        if (e.contains("name"))
            if (auto s = ks::ExpectName(e["name"], "name", kMaxProjectNameLength); !s.ok()) return s;
        if (auto s = CheckDescription(e); !s.ok()) return s;
        if (auto s = CheckEnabled(e); !s.ok()) return s;
        if (auto s = CheckTags(e); !s.ok()) return s;
        if (auto s = CheckOptions(e, {"immutable"}); !s.ok()) return s;
        for (const auto& [key, value] : e.items())
            if (key != "name" && key != "description" && key != "enabled" && key != "tags" && key != "options" &&
                key != "explicit_domain_id")
                return ks::SchemaError("", "Additional properties are not allowed ('" + key + "' was unexpected)");
        return Ok{};
    }

    Result<Response> CreateDomain(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:create_domain"); !s.ok()) return s.error();
        auto e = Entity(req, "domain");
        if (!e.ok()) return e.error();
        if (auto s = ks::RequireField(*e, "", "name"); !s.ok()) return s.error();
        if (auto s = CheckDomainFields(*e); !s.ok()) return s.error();
        std::string id = NewHexId();
        if (e->contains("explicit_domain_id")) {
            const json& explicit_id = (*e)["explicit_domain_id"];
            if (!explicit_id.is_string() || !IsUuid(explicit_id.get<std::string>(), /*allow_hex32=*/true))
                return BadRequest("Domain ID does not conform to required UUID format.");
            id = explicit_id.get<std::string>();
            std::erase(id, '-');
            if (Find(domains, id) || Find(projects, id))
                return MakeError(ErrorCode::kConflict,
                                 "Conflict occurred attempting to store domain - Duplicate ID, " + id + ".");
        }
        const auto& name = (*e)["name"].get_ref<const std::string&>();
        if (FindDomainByName(name)) return DuplicateName("domain", name, nullptr);
        json d = {{"id", id},
                  {"name", name},
                  {"description", e->value("description", json(""))},
                  {"enabled", e->value("enabled", true)},
                  {"tags", e->value("tags", json::array())},
                  {"options", e->value("options", json::object())}};
        SaveDomain(d);
        return Response::Json(201, {{"domain", Linked(d, "domains")}});
    }

    Result<Response> ShowDomain(Request& req, const TokenInfo& caller) {
        const auto& id = req.Param("domain_id");
        bool own = caller.domain_id == id || caller.project_domain_id == id;
        if (!caller.IsAdmin() && !own) return ForbiddenAction("identity:get_domain");
        const json* d = Find(domains, id);
        if (!d) return NotFound("domain", id);
        return Response::Json(200, {{"domain", Linked(*d, "domains")}});
    }

    Result<Response> UpdateDomain(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:update_domain"); !s.ok()) return s.error();
        const auto& id = req.Param("domain_id");
        const json* current = Find(domains, id);
        if (!current) return NotFound("domain", id);
        auto e = Entity(req, "domain");
        if (!e.ok()) return e.error();
        if (e->contains("id") && (*e)["id"] != id) return BadRequest("Cannot change Domain ID");
        e->erase("id");
        if (auto s = CheckNotEmpty(*e); !s.ok()) return s.error();
        if (e->contains("explicit_domain_id"))
            return ks::SchemaError("", "Additional properties are not allowed ('explicit_domain_id' was unexpected)");
        if (auto s = CheckDomainFields(*e); !s.ok()) return s.error();
        if (auto s = CheckImmutableUpdate(*current, *e, "domain", id); !s.ok()) return s.error();
        if (e->contains("name")) {
            const json* other = FindDomainByName((*e)["name"].get<std::string>());
            if (other && other != current) return DuplicateName("domain", (*e)["name"].get<std::string>(), nullptr);
        }
        json d = *current;
        for (const auto& [key, value] : e->items())
            if (key != "options") d[key] = value;
        MergeOptions(d, *e);
        SaveDomain(d);
        return Response::Json(200, {{"domain", Linked(d, "domains")}});
    }

    Result<Response> DeleteDomain(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:delete_domain"); !s.ok()) return s.error();
        const auto& id = req.Param("domain_id");
        const json* d = Find(domains, id);
        if (!d) return NotFound("domain", id);
        if (Enabled(*d)) return Forbidden("Cannot delete a domain that is enabled, please disable it first.");
        if (auto s = CheckImmutableDelete(*d, "domain", id); !s.ok()) return s.error();
        // Everything in the domain goes with it (keystone.resource.core._delete_domain_contents).
        std::vector<std::string> doomed_projects, doomed_users, doomed_roles;
        for (const auto& [pid, p] : projects)
            if (Str(p, "domain_id") == id) doomed_projects.push_back(pid);
        for (const auto& [uid, u] : users)
            if (Str(u, "domain_id") == id) doomed_users.push_back(uid);
        for (const auto& [rid, r] : roles)
            if (Str(r, "domain_id") == id) doomed_roles.push_back(rid);
        for (const auto& pid : doomed_projects) RemoveProject(pid);
        for (const auto& uid : doomed_users) RemoveUser(uid);
        for (const auto& rid : doomed_roles) RemoveRole(rid);
        EraseAssignmentsIf([&](const Assignment& a) { return a.kind == 'd' && a.target_id == id; });
        RevokeTokensIf([&](const Token& t) { return t.domain_id == id; });
        domains.erase(id);
        if (Durable()) ctx.store.Erase(kDomainsColl, id);
        return NoContent();
    }

    // ================================================================ handlers: projects

    Result<Response> ListProjects(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_projects"); !s.ok()) return s.error();
        json items = json::array();
        for (const auto& [id, p] : projects)
            if (Matches(p, req, {"name", "domain_id", "enabled", "parent_id", "is_domain"}))
                items.push_back(Linked(p, "projects"));
        return Response::Json(200, Collection(req, "projects", items));
    }

    static Status CheckProjectFields(const json& e) {
        if (e.contains("name"))
            if (auto s = ks::ExpectName(e["name"], "name", kMaxProjectNameLength); !s.ok()) return s;
        if (auto s = CheckDescription(e); !s.ok()) return s;
        for (const char* k : {"domain_id", "parent_id"})
            if (e.contains(k))
                if (auto s = ks::ExpectType(e[k], k, "string", /*nullable=*/true); !s.ok()) return s;
        if (auto s = CheckEnabled(e); !s.ok()) return s;
        if (e.contains("is_domain"))
            if (auto s = ks::ExpectType(e["is_domain"], "is_domain", "boolean"); !s.ok()) return s;
        if (auto s = CheckTags(e); !s.ok()) return s;
        return CheckOptions(e, {"immutable"});
    }

    Result<Response> CreateProject(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:create_project"); !s.ok()) return s.error();
        auto e = Entity(req, "project");
        if (!e.ok()) return e.error();
        if (auto s = ks::RequireField(*e, "", "name"); !s.ok()) return s.error();
        if (auto s = CheckProjectFields(*e); !s.ok()) return s.error();
        if (e->value("is_domain", false))
            return BadRequest(
                "Projects acting as domains are not supported here; create a domain with POST "
                "/v3/domains instead.");
        std::string domain_id = e->contains("domain_id") && (*e)["domain_id"].is_string()
                                    ? (*e)["domain_id"].get<std::string>()
                                    : std::string();
        std::string parent_id = e->contains("parent_id") && (*e)["parent_id"].is_string()
                                    ? (*e)["parent_id"].get<std::string>()
                                    : std::string();
        const json* parent = nullptr;
        if (!parent_id.empty() && !Find(domains, parent_id)) {
            parent = Find(projects, parent_id);
            if (!parent) return NotFound("project", parent_id);
            if (domain_id.empty()) domain_id = Str(*parent, "domain_id");
            if (Str(*parent, "domain_id") != domain_id)
                return BadRequest("Cannot create project, since it specifies its domain_id " + domain_id +
                                  ", but specifies a parent in a different domain (" + Str(*parent, "domain_id") +
                                  ").");
            if (ProjectDepth(*parent) + 1 > kMaxProjectDepth)
                return Forbidden("Max hierarchy depth reached for " + parent_id + " branch.");
        } else if (!parent_id.empty()) {
            if (domain_id.empty()) domain_id = parent_id;
            if (domain_id != parent_id)
                return BadRequest("Cannot create project, the parent (" + parent_id +
                                  ") is acting as a domain, but this project's domain id (" + domain_id +
                                  ") does not match the parent's id.");
        }
        if (domain_id.empty()) domain_id = DefaultDomainFor(caller);
        if (!Find(domains, domain_id)) return NotFound("domain", domain_id);
        const auto& name = (*e)["name"].get_ref<const std::string&>();
        if (FindProjectByName(name, domain_id)) return DuplicateName("project", name, &domain_id);
        json p = *e;  // extra attributes are kept, as Keystone does
        p["id"] = NewHexId();
        p["name"] = name;
        p["domain_id"] = domain_id;
        p["parent_id"] = parent ? parent_id : domain_id;
        p["is_domain"] = false;
        if (!p.contains("description")) p["description"] = "";
        if (!p.contains("enabled")) p["enabled"] = true;
        if (!p.contains("tags")) p["tags"] = json::array();
        if (!p.contains("options")) p["options"] = json::object();
        SaveProject(p);
        return Response::Json(201, {{"project", Linked(p, "projects")}});
    }

    Result<Response> ShowProject(Request& req, const TokenInfo& caller) {
        const auto& id = req.Param("project_id");
        if (!caller.IsAdmin() && caller.project_id != id) return ForbiddenAction("identity:get_project");
        const json* p = Find(projects, id);
        if (!p) return NotFound("project", id);
        return Response::Json(200, {{"project", Linked(*p, "projects")}});
    }

    Result<Response> UpdateProject(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:update_project"); !s.ok()) return s.error();
        const auto& id = req.Param("project_id");
        const json* current = Find(projects, id);
        if (!current) return NotFound("project", id);
        auto e = Entity(req, "project");
        if (!e.ok()) return e.error();
        if (e->contains("id") && (*e)["id"] != id) return BadRequest("Cannot change ID");
        e->erase("id");
        if (auto s = CheckNotEmpty(*e); !s.ok()) return s.error();
        if (auto s = CheckProjectFields(*e); !s.ok()) return s.error();
        for (const char* k : {"domain_id", "parent_id", "is_domain"})
            if (e->contains(k) && (*e)[k] != (*current)[k])
                return BadRequest("Update of `" + std::string(k) + "` is not allowed.");
        if (auto s = CheckImmutableUpdate(*current, *e, "project", id); !s.ok()) return s.error();
        if (e->contains("name")) {
            const json* other = FindProjectByName((*e)["name"].get<std::string>(), Str(*current, "domain_id"));
            if (other && other != current)
                return DuplicateName("project", (*e)["name"].get<std::string>(), &Str(*current, "domain_id"));
        }
        if (e->contains("enabled")) {
            bool enable = (*e)["enabled"].get<bool>();
            if (enable && !Enabled(*current)) {
                const json* parent = Find(projects, Str(*current, "parent_id"));
                for (; parent; parent = Find(projects, Str(*parent, "parent_id")))
                    if (!Enabled(*parent))
                        return Forbidden("Cannot enable project " + id + " since it has disabled parents");
            }
            if (!enable && Enabled(*current)) {
                for (const auto& [pid, p] : projects)
                    if (Enabled(p) && IsDescendant(pid, id))
                        return Forbidden("Cannot disable project " + id +
                                         " since its subtree contains enabled projects.");
            }
        }
        json p = *current;
        for (const auto& [key, value] : e->items())
            if (key != "options") p[key] = value;
        MergeOptions(p, *e);
        SaveProject(p);
        if (!Enabled(p)) RevokeTokensIf([&](const Token& t) { return t.project_id == id; });
        return Response::Json(200, {{"project", Linked(p, "projects")}});
    }

    void RemoveProject(const std::string& id) {
        EraseAssignmentsIf([&](const Assignment& a) { return a.kind == 'p' && a.target_id == id; });
        RevokeTokensIf([&](const Token& t) { return t.project_id == id; });
        projects.erase(id);
        if (Durable()) ctx.store.Erase(kProjectsColl, id);
    }

    Result<Response> DeleteProject(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:delete_project"); !s.ok()) return s.error();
        const auto& id = req.Param("project_id");
        const json* p = Find(projects, id);
        if (!p) return NotFound("project", id);
        if (auto s = CheckImmutableDelete(*p, "project", id); !s.ok()) return s.error();
        for (const auto& [pid, other] : projects)
            if (Str(other, "parent_id") == id)
                return Forbidden("Cannot delete project " + id +
                                 " since it is not a leaf in the hierarchy. Use the cascade option if you want to "
                                 "delete a whole subtree.");
        RemoveProject(std::string(id));
        return NoContent();
    }

    // ================================================================ handlers: users

    Result<Response> ListUsers(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_users"); !s.ok()) return s.error();
        json items = json::array();
        for (const auto& [id, u] : users)
            if (Matches(u, req, {"name", "domain_id", "enabled"})) items.push_back(RenderUser(u));
        return Response::Json(200, Collection(req, "users", items));
    }

    static Status CheckUserFields(const json& e) {
        if (e.contains("name"))
            if (auto s = ks::ExpectName(e["name"], "name", kMaxNameLength); !s.ok()) return s;
        if (auto s = CheckDescription(e); !s.ok()) return s;
        if (e.contains("domain_id"))
            if (auto s = ks::ExpectType(e["domain_id"], "domain_id", "string"); !s.ok()) return s;
        if (e.contains("default_project_id"))
            if (auto s = ks::ExpectType(e["default_project_id"], "default_project_id", "string", true); !s.ok())
                return s;
        if (e.contains("password"))
            if (auto s = ks::ExpectType(e["password"], "password", "string", true); !s.ok()) return s;
        if (auto s = CheckEnabled(e); !s.ok()) return s;
        return CheckOptions(
            e, {"ignore_change_password_upon_first_use", "ignore_password_expiry", "ignore_lockout_failure_attempts",
                "lock_password", "multi_factor_auth_enabled", "multi_factor_auth_rules", "ignore_user_inactivity"});
    }

    // keystone.identity.core._assert_default_project_id_is_not_domain (an unknown id is accepted).
    Status CheckDefaultProject(const json& e) const {
        if (!e.contains("default_project_id") || !e["default_project_id"].is_string()) return Ok{};
        const auto& id = e["default_project_id"].get_ref<const std::string&>();
        if (Find(domains, id)) return BadRequest("User's default project ID cannot be a domain ID: " + id);
        return Ok{};
    }

    Result<Response> CreateUser(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:create_user"); !s.ok()) return s.error();
        auto e = Entity(req, "user");
        if (!e.ok()) return e.error();
        if (auto s = ks::RequireField(*e, "", "name"); !s.ok()) return s.error();
        if (auto s = CheckUserFields(*e); !s.ok()) return s.error();
        if (auto s = CheckDefaultProject(*e); !s.ok()) return s.error();
        std::string domain_id =
            e->contains("domain_id") ? (*e)["domain_id"].get<std::string>() : DefaultDomainFor(caller);
        if (!Find(domains, domain_id)) return NotFound("domain", domain_id);
        const auto& name = (*e)["name"].get_ref<const std::string&>();
        if (FindUserByName(name, domain_id)) return DuplicateName("user", name, &domain_id);
        json u = *e;
        u.erase("password");
        u["id"] = NewHexId();
        u["domain_id"] = domain_id;
        if (!u.contains("enabled")) u["enabled"] = true;
        if (!u.contains("options")) u["options"] = json::object();
        u["password_expires_at"] = nullptr;
        for (auto it = u["options"].begin(); it != u["options"].end();) {
            if (it->is_null())
                it = u["options"].erase(it);
            else
                ++it;
        }
        const auto& id = Str(u, "id");
        SetPassword(id, e->value("password", json(nullptr)));
        SaveUser(u);
        return Response::Json(201, {{"user", RenderUser(u)}});
    }

    Result<Response> ShowUser(Request& req, const TokenInfo& caller) {
        const auto& id = req.Param("user_id");
        if (!caller.IsAdmin() && caller.user_id != id) return ForbiddenAction("identity:get_user");
        const json* u = Find(users, id);
        if (!u) return NotFound("user", id);
        return Response::Json(200, {{"user", RenderUser(*u)}});
    }

    Result<Response> UpdateUser(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:update_user"); !s.ok()) return s.error();
        const auto& id = req.Param("user_id");
        const json* current = Find(users, id);
        if (!current) return NotFound("user", id);
        auto e = Entity(req, "user");
        if (!e.ok()) return e.error();
        if (e->contains("id") && (*e)["id"] != id) return BadRequest("Cannot change user ID");
        e->erase("id");
        if (auto s = CheckNotEmpty(*e); !s.ok()) return s.error();
        if (auto s = CheckUserFields(*e); !s.ok()) return s.error();
        if (auto s = CheckDefaultProject(*e); !s.ok()) return s.error();
        if (e->contains("domain_id") && (*e)["domain_id"] != (*current)["domain_id"])
            return BadRequest("Update of `domain_id` is not allowed.");
        if (e->contains("name")) {
            const json* other = FindUserByName((*e)["name"].get<std::string>(), Str(*current, "domain_id"));
            if (other && other != current)
                return DuplicateName("user", (*e)["name"].get<std::string>(), &Str(*current, "domain_id"));
        }
        json u = *current;
        for (const auto& [key, value] : e->items())
            if (key != "options" && key != "password") u[key] = value;
        MergeOptions(u, *e);
        // A new password or a disabled account ends every session of the user.
        bool revoke = e->contains("password") || !Enabled(u);
        if (e->contains("password")) SetPassword(id, (*e)["password"]);
        SaveUser(u);
        if (revoke) RevokeTokensIf([&](const Token& t) { return t.user_id == id; });
        // Keystone's update answers with the row's raw `extra` column too (the attributes it has
        // no column for, description included): seen on keystone 22, tests/real conformance.
        json shown = RenderUser(u);
        json extra = json::object();
        static const std::set<std::string, std::less<>> columns = {
            "id", "name", "domain_id", "enabled", "default_project_id", "options", "password_expires_at", "links"};
        for (const auto& [key, value] : u.items())
            if (!columns.count(key)) extra[key] = value;
        shown["extra"] = std::move(extra);
        return Response::Json(200, {{"user", std::move(shown)}});
    }

    void RemoveUser(const std::string& id) {
        EraseAssignmentsIf([&](const Assignment& a) { return a.user_id == id; });
        RevokeTokensIf([&](const Token& t) { return t.user_id == id; });
        users.erase(id);
        password_hashes.erase(id);
        if (Durable()) ctx.store.Erase(kUsersColl, id);
    }

    Result<Response> DeleteUser(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:delete_user"); !s.ok()) return s.error();
        const auto& id = req.Param("user_id");
        if (!Find(users, id)) return NotFound("user", id);
        RemoveUser(std::string(id));
        return NoContent();
    }

    Result<Response> UserProjects(Request& req, const TokenInfo& caller) {
        const auto& id = req.Param("user_id");
        if (!caller.IsAdmin() && caller.user_id != id) return ForbiddenAction("identity:list_user_projects");
        if (!Find(users, id)) return NotFound("user", id);
        json items = json::array();
        for (const json* p : ProjectsOf(id))
            if (Matches(*p, req, {"name", "domain_id", "enabled"})) items.push_back(Linked(*p, "projects"));
        return Response::Json(200, Collection(req, "projects", items));
    }

    // Self-service password change: the original password is the credential (no token needed,
    // so a user with an expired password can still change it).
    Result<Response> ChangePassword(Request& req) {
        const auto& id = req.Param("user_id");
        auto e = Entity(req, "user");
        if (!e.ok()) return e.error();
        for (const char* k : {"password", "original_password"}) {
            if (auto s = ks::RequireField(*e, "", k); !s.ok()) return s.error();
            if (auto s = ks::ExpectType((*e)[k], k, "string"); !s.ok()) return s.error();
        }
        const json* u = Find(users, id);
        if (!u) return NotFound("user", id);
        auto hash = password_hashes.find(id);
        if (!Enabled(*u) || hash == password_hashes.end() ||
            !ks::VerifyPassword((*e)["original_password"].get<std::string>(), hash->second))
            return Unauthorized("wrong original password for user " + std::string(id));
        SetPassword(id, (*e)["password"]);
        SaveUser(*u);
        RevokeTokensIf([&](const Token& t) { return t.user_id == id; });
        return NoContent();
    }

    // ================================================================ handlers: roles

    Result<Response> ListRoles(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_roles"); !s.ok()) return s.error();
        auto domain = req.Query("domain_id");
        json items = json::array();
        for (const auto& [id, r] : roles) {
            // Without a domain_id filter only global roles are listed.
            if (domain ? Str(r, "domain_id") != *domain : !r["domain_id"].is_null()) continue;
            if (Matches(r, req, {"name"})) items.push_back(Linked(r, "roles"));
        }
        return Response::Json(200, Collection(req, "roles", items));
    }

    static Status CheckRoleFields(const json& e) {
        if (e.contains("name"))
            if (auto s = ks::ExpectName(e["name"], "name", kMaxNameLength); !s.ok()) return s;
        if (auto s = CheckDescription(e); !s.ok()) return s;
        if (e.contains("domain_id"))
            if (auto s = ks::ExpectType(e["domain_id"], "domain_id", "string", true); !s.ok()) return s;
        return CheckOptions(e, {"immutable"});
    }

    Result<Response> CreateRole(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:create_role"); !s.ok()) return s.error();
        auto e = Entity(req, "role");
        if (!e.ok()) return e.error();
        if (auto s = ks::RequireField(*e, "", "name"); !s.ok()) return s.error();
        if (auto s = CheckRoleFields(*e); !s.ok()) return s.error();
        json domain_id = e->value("domain_id", json(nullptr));
        if (domain_id.is_string() && !Find(domains, domain_id.get<std::string>()))
            return NotFound("domain", domain_id.get<std::string>());
        const auto& name = (*e)["name"].get_ref<const std::string&>();
        std::string dom = domain_id.is_string() ? domain_id.get<std::string>() : std::string();
        if (FindRoleByName(name, dom)) return DuplicateName("role", name, domain_id.is_string() ? &dom : nullptr);
        json r = *e;
        r["id"] = NewHexId();
        r["domain_id"] = domain_id;
        if (!r.contains("description")) r["description"] = nullptr;
        if (!r.contains("options")) r["options"] = json::object();
        SaveRole(r);
        return Response::Json(201, {{"role", Linked(r, "roles")}});
    }

    Result<Response> ShowRole(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:get_role"); !s.ok()) return s.error();
        const json* r = Find(roles, req.Param("role_id"));
        if (!r) return NotFound("role", req.Param("role_id"));
        return Response::Json(200, {{"role", Linked(*r, "roles")}});
    }

    Result<Response> UpdateRole(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:update_role"); !s.ok()) return s.error();
        const auto& id = req.Param("role_id");
        const json* current = Find(roles, id);
        if (!current) return NotFound("role", id);
        auto e = Entity(req, "role");
        if (!e.ok()) return e.error();
        if (e->contains("id") && (*e)["id"] != id) return BadRequest("Cannot change role ID");
        e->erase("id");
        if (auto s = CheckNotEmpty(*e); !s.ok()) return s.error();
        if (auto s = CheckRoleFields(*e); !s.ok()) return s.error();
        if (e->contains("domain_id") && (*e)["domain_id"] != (*current)["domain_id"])
            return BadRequest("Update of `domain_id` is not allowed.");
        if (auto s = CheckImmutableUpdate(*current, *e, "role", id); !s.ok()) return s.error();
        if (e->contains("name")) {
            const auto& dom = Str(*current, "domain_id");
            const json* other = FindRoleByName((*e)["name"].get<std::string>(), dom);
            if (other && other != current)
                return DuplicateName("role", (*e)["name"].get<std::string>(), dom.empty() ? nullptr : &dom);
        }
        json r = *current;
        for (const auto& [key, value] : e->items())
            if (key != "options") r[key] = value;
        MergeOptions(r, *e);
        SaveRole(r);
        return Response::Json(200, {{"role", Linked(r, "roles")}});
    }

    void RemoveRole(const std::string& id) {
        EraseAssignmentsIf([&](const Assignment& a) { return a.role_id == id; });
        roles.erase(id);
        if (Durable()) ctx.store.Erase(kRolesColl, id);
    }

    Result<Response> DeleteRole(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:delete_role"); !s.ok()) return s.error();
        const auto& id = req.Param("role_id");
        const json* r = Find(roles, id);
        if (!r) return NotFound("role", id);
        if (auto s = CheckImmutableDelete(*r, "role", id); !s.ok()) return s.error();
        RemoveRole(std::string(id));
        return NoContent();
    }

    // ================================================================ handlers: grants

    // The assignment named by /{projects|domains}/{target}/users/{user}/roles/{role}.
    Result<Assignment> GrantTarget(const Request& req, char kind, bool with_role) const {
        Assignment a;
        a.kind = kind;
        a.target_id = req.Param(kind == 'p' ? "project_id" : "domain_id");
        a.user_id = req.Param("user_id");
        if (kind == 'p' && !Find(projects, a.target_id)) return NotFound("project", a.target_id);
        if (kind == 'd' && !Find(domains, a.target_id)) return NotFound("domain", a.target_id);
        if (!Find(users, a.user_id)) return NotFound("user", a.user_id);
        if (with_role) {
            a.role_id = req.Param("role_id");
            if (!Find(roles, a.role_id)) return NotFound("role", a.role_id);
        }
        return a;
    }

    Error AssignmentNotFound(const Assignment& a) const {
        return MakeError(ErrorCode::kNotFound, "Could not find role assignment with role: " + a.role_id +
                                                   ", user or group: " + a.user_id +
                                                   ", project, domain, or system: " + a.target_id + ".");
    }

    Result<Response> Grant(Request& req, const TokenInfo& caller, char kind) {
        if (auto s = RequireAdmin(caller, "identity:create_grant"); !s.ok()) return s.error();
        auto a = GrantTarget(req, kind, true);
        if (!a.ok()) return a.error();
        const json& role = roles[a->role_id];
        if (role["domain_id"].is_string()) {
            const auto& target_domain = kind == 'p' ? Str(projects[a->target_id], "domain_id") : a->target_id;
            if (Str(role, "domain_id") != target_domain)
                return MakeError(ErrorCode::kForbidden, "Project " + a->target_id +
                                                            " must be in the same domain as the role " + a->role_id +
                                                            " being assigned.");
        }
        AddAssignment(*a);
        return NoContent();
    }

    Result<Response> CheckGrant(Request& req, const TokenInfo& caller, char kind) {
        if (auto s = RequireAdmin(caller, "identity:check_grant"); !s.ok()) return s.error();
        auto a = GrantTarget(req, kind, true);
        if (!a.ok()) return a.error();
        if (!assignments.contains(*a)) return AssignmentNotFound(*a);
        return NoContent();
    }

    Result<Response> Revoke(Request& req, const TokenInfo& caller, char kind) {
        if (auto s = RequireAdmin(caller, "identity:revoke_grant"); !s.ok()) return s.error();
        auto a = GrantTarget(req, kind, true);
        if (!a.ok()) return a.error();
        if (!assignments.contains(*a)) return AssignmentNotFound(*a);
        EraseAssignment(*a);
        return NoContent();
    }

    Result<Response> ListGrants(Request& req, const TokenInfo& caller, char kind) {
        if (auto s = RequireAdmin(caller, "identity:list_grants"); !s.ok()) return s.error();
        auto a = GrantTarget(req, kind, false);
        if (!a.ok()) return a.error();
        json items = json::array();
        for (const auto& rid : DirectRoleIds(a->user_id, kind, a->target_id))
            if (const json* r = Find(roles, rid)) items.push_back(Linked(*r, "roles"));
        return Response::Json(200, Collection(req, "roles", items));
    }

    // ================================================================ handlers: role assignments

    json DomainNameRef(const std::string& domain_id) const {
        const json* d = Find(domains, domain_id);
        return {{"id", domain_id}, {"name", d ? Str(*d, "name") : std::string()}};
    }

    json AssignmentRef(const Assignment& a, const json& role, const json* prior, bool names) const {
        const char* collection = a.kind == 'p' ? "projects" : "domains";
        json link = V3Url() + "/" + collection + "/" + a.target_id + "/users/" + a.user_id + "/roles/" +
                    (prior ? Str(*prior, "id") : Str(role, "id"));
        json entry = {{"links", {{"assignment", link}}}};
        if (prior) entry["links"]["prior_role"] = V3Url() + "/roles/" + Str(*prior, "id");
        json role_ref = {{"id", Str(role, "id")}};
        json user_ref = {{"id", a.user_id}};
        json target_ref = {{"id", a.target_id}};
        if (names) {
            role_ref["name"] = Str(role, "name");
            if (role["domain_id"].is_string()) role_ref["domain"] = DomainNameRef(Str(role, "domain_id"));
            if (const json* u = Find(users, a.user_id)) {
                user_ref["name"] = Str(*u, "name");
                user_ref["domain"] = DomainNameRef(Str(*u, "domain_id"));
            }
            if (a.kind == 'p') {
                if (const json* p = Find(projects, a.target_id)) {
                    target_ref["name"] = Str(*p, "name");
                    target_ref["domain"] = DomainNameRef(Str(*p, "domain_id"));
                }
            } else {
                target_ref = DomainNameRef(a.target_id);
            }
        }
        entry["role"] = role_ref;
        entry["user"] = user_ref;
        entry["scope"] = {{a.kind == 'p' ? "project" : "domain", target_ref}};
        return entry;
    }

    Result<Response> ListRoleAssignments(Request& req, const TokenInfo& caller) {
        if (auto s = RequireAdmin(caller, "identity:list_role_assignments"); !s.ok()) return s.error();
        bool effective = req.Query("effective") && ks::QueryIsTrue(*req.Query("effective"));
        bool names = req.Query("include_names") && ks::QueryIsTrue(*req.Query("include_names"));
        bool subtree = req.Query("include_subtree") && ks::QueryIsTrue(*req.Query("include_subtree"));
        auto user = req.Query("user.id");
        auto role = req.Query("role.id");
        auto project = req.Query("scope.project.id");
        auto domain = req.Query("scope.domain.id");
        if (subtree && !project)
            return ks::ValidationError("scope.project.id", "query parameters when include_subtree is specified");
        if (effective && req.Query("group.id"))
            return BadRequest("Combining effective and group filter will always result in an empty list.");
        json items = json::array();
        // This cloudlet has no groups, system grants or inherited grants: those filters match nothing.
        if (req.Query("group.id") || req.Query("scope.system") || req.Query("scope.OS-INHERIT:inherited_to"))
            return Response::Json(200, Collection(req, "role_assignments", items));
        for (const auto& a : assignments) {
            if (user && a.user_id != *user) continue;
            if (domain && !(a.kind == 'd' && a.target_id == *domain)) continue;
            if (project) {
                if (a.kind != 'p') continue;
                if (a.target_id != *project && !(subtree && IsDescendant(a.target_id, std::string(*project)))) continue;
            }
            const json* direct = Find(roles, a.role_id);
            if (!direct) continue;
            // Effective listings add the implied roles, each pointing at the role that implied it.
            std::vector<std::pair<const json*, const json*>> granted = {{direct, nullptr}};
            if (effective) {
                const json* prior = direct;
                while (const json* implied = ImpliedRole(*prior)) {
                    granted.emplace_back(implied, prior);
                    prior = implied;
                }
            }
            for (const auto& [r, prior] : granted)
                if (!role || Str(*r, "id") == *role) items.push_back(AssignmentRef(a, *r, prior, names));
        }
        return Response::Json(200, Collection(req, "role_assignments", items));
    }

    // ================================================================ bootstrap

    void Bootstrap() {
        Load();
        if (!Find(domains, kDefaultDomainId))
            SaveDomain({{"id", kDefaultDomainId},
                        {"name", "Default"},
                        {"description", "The default domain"},
                        {"enabled", true},
                        {"tags", json::array()},
                        {"options", json::object()}});
        std::map<std::string, std::string> role_ids;
        for (const char* name : {"admin", "member", "reader"}) {
            const json* r = FindRoleByName(name, "");
            if (!r) {
                SaveRole({{"id", NewHexId()},
                          {"name", name},
                          {"domain_id", nullptr},
                          {"description", nullptr},
                          {"options", {{"immutable", true}}}});
                r = FindRoleByName(name, "");
            }
            role_ids[name] = Str(*r, "id");
        }
        const auto& cfg = ctx.config;
        const json* project = FindProjectByName(cfg.admin_project, kDefaultDomainId);
        if (!project) {
            SaveProject({{"id", NewHexId()},
                         {"name", cfg.admin_project},
                         {"domain_id", kDefaultDomainId},
                         {"description", "Bootstrap project for initializing the cloud."},
                         {"enabled", true},
                         {"parent_id", kDefaultDomainId},
                         {"is_domain", false},
                         {"tags", json::array()},
                         {"options", json::object()}});
            project = FindProjectByName(cfg.admin_project, kDefaultDomainId);
        }
        const json* user = FindUserByName(cfg.admin_user, kDefaultDomainId);
        if (!user) {
            std::string id = NewHexId();
            SetPassword(id, cfg.admin_password);
            SaveUser({{"id", id},
                      {"name", cfg.admin_user},
                      {"domain_id", kDefaultDomainId},
                      {"enabled", true},
                      {"password_expires_at", nullptr},
                      {"options", json::object()}});
            user = Find(users, id);
        } else {
            // Like keystone-manage bootstrap: the configured password wins over a stored one.
            const auto& id = Str(*user, "id");
            auto hash = password_hashes.find(id);
            if (hash == password_hashes.end() || !ks::VerifyPassword(cfg.admin_password, hash->second)) {
                SetPassword(id, cfg.admin_password);
                SaveUser(*user);
            }
        }
        AddAssignment(Assignment{Str(*user, "id"), 'p', Str(*project, "id"), role_ids["admin"]});
        spdlog::debug("keystone: {} domains, {} projects, {} users, {} roles, {} tokens", domains.size(),
                      projects.size(), users.size(), roles.size(), tokens.size());
    }
};

KeystoneService::KeystoneService(ServiceContext& ctx) : ctx_(ctx), state_(std::make_unique<State>(ctx)) {}
KeystoneService::~KeystoneService() = default;

void KeystoneService::Bootstrap() {
    state_->Bootstrap();
}

Result<TokenInfo> KeystoneService::Validate(std::string_view token) const {
    auto r = state_->Live(token);
    if (!r.ok()) return r.error();
    return State::Info(*r);
}

void KeystoneService::AddRoutes(http::Router& router) {
    State* st = state_.get();
    using Plain = Result<Response> (State::*)(Request&);
    using Authed = Result<Response> (State::*)(Request&, const TokenInfo&);
    using PerKind = Result<Response> (State::*)(Request&, const TokenInfo&, char);
    auto plain = [st](Plain fn) { return [st, fn](Request& req) { return (st->*fn)(req); }; };
    auto authed = [st](Authed fn) {
        return [st, fn](Request& req) -> Result<Response> {
            auto caller = st->Caller(req);
            if (!caller.ok()) return caller.error();
            return (st->*fn)(req, *caller);
        };
    };
    auto per_kind = [st](PerKind fn, char kind) {
        return [st, fn, kind](Request& req) -> Result<Response> {
            auto caller = st->Caller(req);
            if (!caller.ok()) return caller.error();
            return (st->*fn)(req, *caller, kind);
        };
    };

    const std::string root(kIdentityPrefix);
    const std::string v3 = root + "/v3";
    router.Get(root, plain(&State::Versions));
    router.Get(v3, plain(&State::Version));

    router.Post(v3 + "/auth/tokens", plain(&State::IssueToken));
    router.Get(v3 + "/auth/tokens", authed(&State::ValidateToken));
    router.Head(v3 + "/auth/tokens", authed(&State::CheckToken));
    router.Delete(v3 + "/auth/tokens", authed(&State::RevokeToken));
    router.Get(v3 + "/auth/catalog", authed(&State::AuthCatalog));
    router.Get(v3 + "/auth/projects", authed(&State::AuthProjects));
    router.Get(v3 + "/auth/domains", authed(&State::AuthDomains));

    router.Get(v3 + "/services", authed(&State::ListServices));
    router.Get(v3 + "/services/{service_id}", authed(&State::ShowService));
    router.Get(v3 + "/endpoints", authed(&State::ListEndpoints));
    router.Get(v3 + "/endpoints/{endpoint_id}", authed(&State::ShowEndpoint));
    router.Get(v3 + "/regions", authed(&State::ListRegions));
    router.Get(v3 + "/regions/{region_id}", authed(&State::ShowRegion));

    router.Get(v3 + "/domains", authed(&State::ListDomains));
    router.Post(v3 + "/domains", authed(&State::CreateDomain));
    router.Get(v3 + "/domains/{domain_id}", authed(&State::ShowDomain));
    router.Patch(v3 + "/domains/{domain_id}", authed(&State::UpdateDomain));
    router.Delete(v3 + "/domains/{domain_id}", authed(&State::DeleteDomain));

    router.Get(v3 + "/projects", authed(&State::ListProjects));
    router.Post(v3 + "/projects", authed(&State::CreateProject));
    router.Get(v3 + "/projects/{project_id}", authed(&State::ShowProject));
    router.Patch(v3 + "/projects/{project_id}", authed(&State::UpdateProject));
    router.Delete(v3 + "/projects/{project_id}", authed(&State::DeleteProject));

    router.Get(v3 + "/users", authed(&State::ListUsers));
    router.Post(v3 + "/users", authed(&State::CreateUser));
    router.Get(v3 + "/users/{user_id}", authed(&State::ShowUser));
    router.Patch(v3 + "/users/{user_id}", authed(&State::UpdateUser));
    router.Delete(v3 + "/users/{user_id}", authed(&State::DeleteUser));
    router.Get(v3 + "/users/{user_id}/projects", authed(&State::UserProjects));
    router.Post(v3 + "/users/{user_id}/password", plain(&State::ChangePassword));

    router.Get(v3 + "/roles", authed(&State::ListRoles));
    router.Post(v3 + "/roles", authed(&State::CreateRole));
    router.Get(v3 + "/roles/{role_id}", authed(&State::ShowRole));
    router.Patch(v3 + "/roles/{role_id}", authed(&State::UpdateRole));
    router.Delete(v3 + "/roles/{role_id}", authed(&State::DeleteRole));

    for (auto [kind, collection] : {std::pair{'p', "/projects/{project_id}"}, std::pair{'d', "/domains/{domain_id}"}}) {
        const std::string grants = v3 + collection + "/users/{user_id}/roles";
        router.Get(grants, per_kind(&State::ListGrants, kind));
        router.Put(grants + "/{role_id}", per_kind(&State::Grant, kind));
        router.Get(grants + "/{role_id}", per_kind(&State::CheckGrant, kind));
        router.Head(grants + "/{role_id}", per_kind(&State::CheckGrant, kind));
        router.Delete(grants + "/{role_id}", per_kind(&State::Revoke, kind));
    }
    router.Get(v3 + "/role_assignments", authed(&State::ListRoleAssignments));
}

}  // namespace shoal::emulator
