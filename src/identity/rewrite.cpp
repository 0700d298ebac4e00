#include "identity/rewrite.hpp"

#include <array>
#include <cstdint>
#include <cstdio>

namespace shoal::identity {

using json = nlohmann::json;

namespace {

constexpr std::array<const char*, 3> kInterfaces = {"public", "internal", "admin"};

std::string_view StripSlashes(std::string_view s) {
    while (!s.empty() && s.back() == '/') s.remove_suffix(1);
    return s;
}

// True when `prefix` ends at a path boundary of `url`.
bool UnderPrefix(std::string_view url, std::string_view prefix) {
    if (prefix.empty() || !url.starts_with(prefix)) return false;
    if (url.size() == prefix.size()) return true;
    char c = url[prefix.size()];
    return c == '/' || c == '?' || c == '#';
}

std::uint64_t Fnv1a(std::string_view s, std::uint64_t h) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void RewriteStrings(json& j, std::string_view idp, std::string_view agent) {
    if (j.is_string()) {
        j = RewriteUrl(j.get_ref<const std::string&>(), idp, agent);
    } else if (j.is_structured()) {
        for (auto& v : j) RewriteStrings(v, idp, agent);
    }
}

}  // namespace

std::string StableId(std::string_view seed) {
    // Two FNV-1a passes with different offsets: not cryptographic, only stable and well spread.
    std::uint64_t a = Fnv1a(seed, 0xcbf29ce484222325ULL);
    std::uint64_t b = Fnv1a(seed, a ^ 0x9e3779b97f4a7c15ULL);
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return buf;
}

std::string IdentityBase(std::string_view auth_url) {
    std::string_view s = StripSlashes(auth_url);
    if (s.ends_with("/v3")) s.remove_suffix(3);
    return std::string(StripSlashes(s));
}

json AgentCatalog(const CatalogOptions& options, std::string_view agent_base, std::string_view region) {
    struct Service {
        const char* type;
        const char* name;
        const char* path;
        bool on;
    };
    const std::array<Service, 4> services = {{
        {"identity", "keystone", "/identity", true},
        {"image", "glance", "/image", options.image},
        {"compute", "nova", "/compute/v2.1", options.compute},
        {"placement", "placement", "/placement", options.placement},
    }};
    std::string base(StripSlashes(agent_base));
    json out = json::array();
    for (const auto& s : services) {
        if (!s.on) continue;
        json endpoints = json::array();
        for (const char* iface : kInterfaces) {
            json ep = {{"id", StableId(options.id_seed + "/endpoint/" + s.type + "/" + iface)},
                       {"interface", iface},
                       {"region", region},
                       {"region_id", region},
                       {"url", base + s.path}};
            endpoints.push_back(std::move(ep));
        }
        json entry = {{"endpoints", std::move(endpoints)},
                      {"id", StableId(options.id_seed + "/service/" + s.type)},
                      {"type", s.type},
                      {"name", s.name}};
        out.push_back(std::move(entry));
    }
    return out;
}

std::string CatalogRegion(const json& catalog) {
    if (!catalog.is_array()) return {};
    for (const auto& service : catalog) {
        if (!service.is_object() || !service.contains("endpoints") || !service["endpoints"].is_array()) continue;
        for (const auto& ep : service["endpoints"]) {
            if (!ep.is_object()) continue;
            for (const char* key : {"region_id", "region"})
                if (auto it = ep.find(key);
                    it != ep.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
                    return it->get<std::string>();
        }
    }
    return {};
}

std::string RewriteUrl(std::string_view url, std::string_view idp_identity, std::string_view agent_identity) {
    idp_identity = StripSlashes(idp_identity);
    if (UnderPrefix(url, idp_identity))
        return std::string(agent_identity) + std::string(url.substr(idp_identity.size()));
    if (!url.starts_with("http://") && !url.starts_with("https://")) return std::string(url);
    // An IdP reached by another name than its public one: its identity URLs all hold "/v3".
    std::size_t from = url.find("://") + 3;
    std::size_t slash = url.find('/', from);
    for (std::size_t pos = url.find("/v3", slash == std::string_view::npos ? url.size() : slash);
         pos != std::string_view::npos; pos = url.find("/v3", pos + 1)) {
        if (UnderPrefix(url.substr(pos), "/v3")) return std::string(agent_identity) + std::string(url.substr(pos));
    }
    return std::string(url);
}

void RewriteLinks(json& doc, std::string_view idp_identity, std::string_view agent_identity) {
    if (doc.is_object()) {
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            if (it.key() == "links")
                RewriteStrings(it.value(), idp_identity, agent_identity);
            else
                RewriteLinks(it.value(), idp_identity, agent_identity);
        }
    } else if (doc.is_array()) {
        for (auto& v : doc) RewriteLinks(v, idp_identity, agent_identity);
    }
}

bool RewriteAnswer(json& doc,
                   CatalogAt at,
                   const CatalogOptions& options,
                   std::string_view agent_base,
                   std::string_view idp_identity,
                   std::string_view agent_identity) {
    json* catalog = nullptr;
    if (doc.is_object()) {
        if (at == CatalogAt::kCatalog && doc.contains("catalog")) catalog = &doc["catalog"];
        if (at == CatalogAt::kToken && doc.contains("token") && doc["token"].is_object() &&
            doc["token"].contains("catalog"))
            catalog = &doc["token"]["catalog"];
    }
    if (catalog) {
        std::string region = options.region;
        if (region.empty()) region = CatalogRegion(*catalog);
        if (region.empty()) region = "RegionOne";
        *catalog = AgentCatalog(options, agent_base, region);
    }
    RewriteLinks(doc, idp_identity, agent_identity);
    return catalog != nullptr;
}

}  // namespace shoal::identity
