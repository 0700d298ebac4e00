#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

// The pure parts of the identity proxy: the catalog an agent hands out and the rewriting of
// the identity provider's URLs into the agent's. No I/O (tested without sockets).
namespace shoal::identity {

// What the agent serves, hence what its catalog lists.
struct CatalogOptions {
    std::string region;             // empty: the IdP's own region (from its catalog), else "RegionOne"
    std::string id_seed = "shoal";  // the agent's id: endpoint and service ids derive from it
    bool image = true;
    bool compute = true;
    bool placement = false;
};

// 32 lower-case hex digits derived from `seed` (Keystone's id shape); the same seed always gives
// the same id, so a client's cached catalog stays valid across agent restarts.
std::string StableId(std::string_view seed);

// "http://h:p/identity/v3/" -> "http://h:p/identity"; "http://h:5000/v3" -> "http://h:5000".
std::string IdentityBase(std::string_view auth_url);

// The catalog of the agent at `agent_base` ("http://agent:port", no trailing slash): identity,
// image, compute (without project id: Nova accepts that from 2.18), placement; three interfaces.
nlohmann::json AgentCatalog(const CatalogOptions& options, std::string_view agent_base, std::string_view region);

// The region of the first endpoint of a Keystone catalog; empty when there is none.
std::string CatalogRegion(const nlohmann::json& catalog);

// A URL of the IdP's identity API becomes the same URL under `agent_identity`
// ("http://agent:port/identity"). Recognised: URLs under `idp_identity`, and any http(s) URL
// with a "/v3" segment (an IdP whose public endpoint differs from the URL we reach it by).
// Anything else is returned unchanged.
std::string RewriteUrl(std::string_view url, std::string_view idp_identity, std::string_view agent_identity);

// Rewrites every string inside a "links" member (links.self/next/previous, version hrefs,
// role-assignment links), the only place Keystone puts its own URLs in bodies.
void RewriteLinks(nlohmann::json& doc, std::string_view idp_identity, std::string_view agent_identity);

// Where a successful Keystone answer carries the catalog the agent replaces: nowhere (most
// answers, and every error), "catalog" (GET /auth/catalog) or "token.catalog" (issue, validate).
enum class CatalogAt { kNone, kCatalog, kToken };

// A Keystone answer body as the agent's identity proxy hands it on: its catalog, where `at` says
// and only if present (never added: nocatalog and unscoped tokens have none), becomes the agent's
// AgentCatalog(options, agent_base, region), the region being options.region, else the IdP's, else
// "RegionOne"; then RewriteLinks. True when a catalog was replaced.
bool RewriteAnswer(nlohmann::json& doc,
                   CatalogAt at,
                   const CatalogOptions& options,
                   std::string_view agent_base,
                   std::string_view idp_identity,
                   std::string_view agent_identity);

}  // namespace shoal::identity
