#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "http/message.hpp"

// Rewriting Nova v2.1 and Glance v2 bodies between cloudlet space (the cloudlet's ids and
// URLs) and shoal space (shoal ids and the agent's URLs). Pure functions over JSON: the agent's
// handlers fetch, call these, and answer. Rules and rationale: docs/compute.md.
namespace shoal::translate {

using json = nlohmann::json;
// Decoded query parameters in request order (repeated keys allowed, as Nova's sort_key).
using QueryParams = http::QueryParams;  // one query type: the HTTP core's

// The metadata key that tags a server at its cloudlet with its shoal id, so that a home that
// crashed after sending a create finds it again before sending anything twice. Never shown to
// users: ServerToShoal removes it.
inline constexpr const char* kServerTagKey = "shoal:server";

// What an id names. The names are state::ResourceRecord::kind values.
enum class Kind { kServer, kImage, kFlavor, kNetwork, kPort, kVolume, kSnapshot, kServerGroup };

// One cloudlet's copy of a shoal resource.
struct CloudletRef {
    std::string cloudlet;  // the agent id responsible for the cloudlet
    std::string id;        // the cloudlet's id for it
};

// The tenant's resource map as two lookups. A server has one copy; an image one per cloudlet
// that imported it.
class IdMap {
public:
    virtual ~IdMap() = default;
    // The shoal id of `cloudlet`'s resource, nullopt if the map does not know it.
    virtual std::optional<std::string> ToShoal(Kind kind,
                                               std::string_view cloudlet,
                                               std::string_view cloudlet_id) const = 0;
    // The id under which `cloudlet` knows the shoal resource, nullopt if it has no copy there.
    virtual std::optional<std::string> ToCloudlet(Kind kind,
                                                  std::string_view shoal_id,
                                                  std::string_view cloudlet) const = 0;
    // Every copy of a shoal resource (empty if unknown), in a stable order.
    virtual std::vector<CloudletRef> Copies(Kind kind, std::string_view shoal_id) const = 0;
};

// An IdMap in memory (tests; an agent builds one per request from the tenant's records).
class MemoryIdMap final : public IdMap {
public:
    void Add(Kind kind, std::string shoal_id, std::string cloudlet, std::string cloudlet_id);
    // Ids of `kind` are the same in every space (e.g. flavors when every cloudlet shares the
    // shoal's flavor catalogue).
    void PassThrough(Kind kind) { pass_through_[static_cast<int>(kind)] = true; }

    std::optional<std::string> ToShoal(Kind kind,
                                       std::string_view cloudlet,
                                       std::string_view cloudlet_id) const override;
    std::optional<std::string> ToCloudlet(Kind kind,
                                          std::string_view shoal_id,
                                          std::string_view cloudlet) const override;
    std::vector<CloudletRef> Copies(Kind kind, std::string_view shoal_id) const override;

private:
    std::map<std::tuple<int, std::string, std::string>, std::string> to_shoal_;  // (kind, cloudlet, id)
    std::map<std::pair<int, std::string>, std::vector<CloudletRef>> copies_;     // (kind, shoal id)
    bool pass_through_[8] = {};
};

// Where this agent serves the APIs, without a trailing slash.
struct AgentUrls {
    std::string compute;  // "http://127.0.0.1:8774/compute/v2.1" (self links); bookmarks drop the version
    std::string image;    // "http://127.0.0.1:9292" (Glance root, for absolute Location headers)
};

// An agent's URLs from its base as the client used it ("http://host:port").
inline AgentUrls AgentUrlsAt(const std::string& api_base) {
    return AgentUrls{api_base + "/compute/v2.1", api_base + "/image"};
}

// The cloudlet a body came from or goes to.
struct CloudletContext {
    std::string cloudlet;    // agent id (the map's key)
    std::string project_id;  // the tenant's project id on that cloudlet (equal to the tenant if Keystone is shared)
};

struct TranslatorOptions {
    // Admin-only fields (OS-EXT-SRV-ATTR:*, host_status) name the cloudlet's hosts: hidden
    // unless set; when set, host names are prefixed with "<cloudlet>/" and image ids mapped.
    bool show_admin_fields = false;
};

class Translator {
public:
    Translator(const IdMap& map, std::string tenant, AgentUrls urls, TranslatorOptions options = {});

    const std::string& tenant() const { return tenant_; }
    const AgentUrls& urls() const { return urls_; }
    const IdMap& map() const { return map_; }

    // ---- ids ----------------------------------------------------------------------------
    // kNotFound "<Kind> <id> could not be found." when the map does not know the id.
    Result<std::string> IdToShoal(Kind kind, std::string_view cloudlet, std::string_view cloudlet_id) const;
    Result<std::string> IdToCloudlet(Kind kind, std::string_view shoal_id, std::string_view cloudlet) const;
    // hostId: Nova's sha224(project + host) is per cloudlet; the shoal value is
    // sha224(tenant, cloudlet, cloudlet hostId), so servers on one host still share it and
    // cloudlets never collide. "" (no host yet) stays "".
    std::string HostIdToShoal(std::string_view cloudlet, std::string_view host_id) const;

    // ---- links --------------------------------------------------------------------------
    std::string ComputeBookmarkBase() const;  // urls.compute without its version segment
    std::string SelfLink(std::string_view collection, std::string_view id) const;
    std::string BookmarkLink(std::string_view collection, std::string_view id) const;
    json Links(std::string_view collection, std::string_view id) const;  // [self, bookmark]
    // A Nova href on the cloudlet (self or bookmark, with or without a project segment, e.g.
    // http://10.0.0.5:8774/v2.1/<project>/servers/<id>/action) -> the agent's, id translated.
    Result<std::string> ComputeHrefToShoal(std::string_view cloudlet, std::string_view href) const;
    // A Glance href: relative "/v2/images/<id>[/file]" stays relative; absolute gets urls.image.
    Result<std::string> ImageHrefToShoal(std::string_view cloudlet, std::string_view href) const;

    // ---- cloudlet -> shoal (responses) ---------------------------------------------------
    // One server object in any view: create ({id, links, adminPass, ...}), basic
    // ({id, name, links}) or detailed, any microversion 2.1-2.79.
    Result<json> ServerToShoal(const CloudletContext& c, const json& server) const;
    // {"server": {...}} bodies (show, create, update, rebuild).
    Result<json> ServerBodyToShoal(const CloudletContext& c, const json& body) const;
    // One Glance v2 image (show, create, update, a list item).
    Result<json> ImageToShoal(const CloudletContext& c, const json& image) const;

    // ---- shoal -> cloudlet (requests) ----------------------------------------------------
    // POST /servers, as NovaProxy::Place sends it to the chosen cloudlet: imageRef, flavorRef
    // (ids or hrefs), networks[].uuid/port, block_device_mapping_v2[].uuid by source_type,
    // legacy block_device_mapping, scheduler hints that name servers or groups. A different_host
    // server with no copy on this cloudlet is dropped (every host here is different from it).
    Result<json> CreateServerToCloudlet(const CloudletContext& c, const json& body) const;
    // POST /servers/{id}/action: rebuild.imageRef, resize.flavorRef, rescue.rescue_image_ref;
    // other actions carry no ids and pass unchanged.
    Result<json> ActionToCloudlet(const CloudletContext& c, const json& body) const;
    // A list query's id filters (image=, flavor= as id or href, uuid=) for one cloudlet;
    // marker and limit are dropped (list_merge plans them). nullopt: a filter names a resource
    // with no copy there, so the cloudlet cannot match and need not be asked.
    Result<std::optional<QueryParams>> ListQueryToCloudlet(const CloudletContext& c, const QueryParams& query) const;

private:
    Result<json> LinksToShoal(std::string_view cloudlet, const json& links) const;
    Result<std::string> RefToCloudlet(Kind kind, const json& ref, std::string_view cloudlet) const;

    const IdMap& map_;
    std::string tenant_;
    AgentUrls urls_;
    TranslatorOptions options_;
};

// The last path segment of an id-or-href ("http://h/images/abc?x" -> "abc", "abc" -> "abc").
std::string IdFromHref(std::string_view ref);

}  // namespace shoal::translate
