#include "translate/id_translation.hpp"

#include <algorithm>
#include <cctype>

#include "common/crypto.hpp"

namespace shoal::translate {
namespace {

constexpr std::string_view kSrvAttrPrefix = "OS-EXT-SRV-ATTR:";

Error NotFound(Kind kind, std::string_view id) {
    std::string what;
    switch (kind) {
        case Kind::kServer:
            what = "Instance ";
            break;
        case Kind::kImage:
            what = "Image ";
            break;
        case Kind::kFlavor:
            what = "Flavor ";
            break;
        case Kind::kNetwork:
            what = "Network ";
            break;
        case Kind::kPort:
            what = "Port id ";
            break;
        case Kind::kVolume:
            what = "Volume ";
            break;
        case Kind::kSnapshot:
            what = "Snapshot ";
            break;
        case Kind::kServerGroup:
            what = "Instance group ";
            break;
    }
    return MakeError(ErrorCode::kNotFound, what + std::string(id) + " could not be found.");
}

Error BadUpstream(std::string message) {
    return MakeError(ErrorCode::kBadGateway, std::move(message));
}

struct Url {
    std::string origin;  // "http://host:port", or "" for a relative href
    std::vector<std::string> segments;
    std::string tail;  // "?query#fragment", verbatim
};

Url ParseUrl(std::string_view href) {
    Url u;
    auto scheme = href.find("://");
    std::string_view rest = href;
    if (scheme != std::string_view::npos) {
        auto slash = href.find('/', scheme + 3);
        u.origin = std::string(href.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : href.substr(slash);
    }
    auto q = rest.find_first_of("?#");
    if (q != std::string_view::npos) {
        u.tail = std::string(rest.substr(q));
        rest = rest.substr(0, q);
    }
    std::size_t start = 0;
    while (start <= rest.size()) {
        auto end = rest.find('/', start);
        if (end == std::string_view::npos) end = rest.size();
        if (end > start) u.segments.emplace_back(rest.substr(start, end - start));
        start = end + 1;
    }
    return u;
}

std::string Join(const std::vector<std::string>& segs, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < segs.size(); ++i) out += "/" + segs[i];
    return out;
}

// "v2", "v2.1": an API version segment.
bool IsVersion(std::string_view s) {
    if (s.size() < 2 || s[0] != 'v' || !std::isdigit(static_cast<unsigned char>(s[1]))) return false;
    return std::all_of(s.begin() + 1, s.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

std::optional<Kind> ComputeCollection(std::string_view seg) {
    if (seg == "servers") return Kind::kServer;
    if (seg == "images") return Kind::kImage;
    if (seg == "flavors") return Kind::kFlavor;
    if (seg == "os-server-groups") return Kind::kServerGroup;
    return std::nullopt;
}

bool IsString(const json& j, std::string_view key) {
    return j.is_object() && j.contains(key) && j[std::string(key)].is_string();
}

}  // namespace

std::string IdFromHref(std::string_view ref) {
    auto q = ref.find_first_of("?#");
    std::string_view path = ref.substr(0, q);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// ---- MemoryIdMap ------------------------------------------------------------------------------

void MemoryIdMap::Add(Kind kind, std::string shoal_id, std::string cloudlet, std::string cloudlet_id) {
    int k = static_cast<int>(kind);
    to_shoal_[{k, cloudlet, cloudlet_id}] = shoal_id;
    copies_[{k, std::move(shoal_id)}].push_back(CloudletRef{std::move(cloudlet), std::move(cloudlet_id)});
}

std::optional<std::string> MemoryIdMap::ToShoal(Kind kind,
                                                std::string_view cloudlet,
                                                std::string_view cloudlet_id) const {
    int k = static_cast<int>(kind);
    auto it = to_shoal_.find({k, std::string(cloudlet), std::string(cloudlet_id)});
    if (it != to_shoal_.end()) return it->second;
    if (pass_through_[k]) return std::string(cloudlet_id);
    return std::nullopt;
}

std::optional<std::string> MemoryIdMap::ToCloudlet(Kind kind,
                                                   std::string_view shoal_id,
                                                   std::string_view cloudlet) const {
    int k = static_cast<int>(kind);
    auto it = copies_.find({k, std::string(shoal_id)});
    if (it != copies_.end())
        for (const auto& ref : it->second)
            if (ref.cloudlet == cloudlet) return ref.id;
    if (pass_through_[k]) return std::string(shoal_id);
    return std::nullopt;
}

std::vector<CloudletRef> MemoryIdMap::Copies(Kind kind, std::string_view shoal_id) const {
    auto it = copies_.find({static_cast<int>(kind), std::string(shoal_id)});
    return it == copies_.end() ? std::vector<CloudletRef>{} : it->second;
}

// ---- Translator: ids and links ----------------------------------------------------------------

Translator::Translator(const IdMap& map, std::string tenant, AgentUrls urls, TranslatorOptions options)
    : map_(map), tenant_(std::move(tenant)), urls_(std::move(urls)), options_(options) {}

Result<std::string> Translator::IdToShoal(Kind kind, std::string_view cloudlet, std::string_view cloudlet_id) const {
    if (auto id = map_.ToShoal(kind, cloudlet, cloudlet_id)) return *id;
    return NotFound(kind, cloudlet_id);
}

Result<std::string> Translator::IdToCloudlet(Kind kind, std::string_view shoal_id, std::string_view cloudlet) const {
    if (auto id = map_.ToCloudlet(kind, shoal_id, cloudlet)) return *id;
    return NotFound(kind, shoal_id);
}

std::string Translator::HostIdToShoal(std::string_view cloudlet, std::string_view host_id) const {
    if (host_id.empty()) return {};
    // Newlines cannot occur in tenant or agent ids, so the three parts cannot run together.
    return Sha224Hex("shoal-host-id\n" + tenant_ + "\n" + std::string(cloudlet) + "\n" + std::string(host_id));
}

std::string Translator::ComputeBookmarkBase() const {
    // Nova's bookmark links are the self links without the version segment.
    auto slash = urls_.compute.rfind('/');
    if (slash != std::string::npos && IsVersion(std::string_view(urls_.compute).substr(slash + 1)))
        return urls_.compute.substr(0, slash);
    return urls_.compute;
}

std::string Translator::SelfLink(std::string_view collection, std::string_view id) const {
    return urls_.compute + "/" + std::string(collection) + "/" + std::string(id);
}

std::string Translator::BookmarkLink(std::string_view collection, std::string_view id) const {
    return ComputeBookmarkBase() + "/" + std::string(collection) + "/" + std::string(id);
}

json Translator::Links(std::string_view collection, std::string_view id) const {
    return json::array({{{"rel", "self"}, {"href", SelfLink(collection, id)}},
                        {{"rel", "bookmark"}, {"href", BookmarkLink(collection, id)}}});
}

Result<std::string> Translator::ComputeHrefToShoal(std::string_view cloudlet, std::string_view href) const {
    Url u = ParseUrl(href);
    // The last collection segment decides; anything before it (version, project id, the
    // cloudlet's own path prefix) is the cloudlet's and is replaced.
    std::optional<std::size_t> at;
    for (std::size_t i = 0; i < u.segments.size(); ++i)
        if (ComputeCollection(u.segments[i])) at = i;
    if (!at) return BadUpstream("cannot rewrite compute link " + std::string(href));
    bool versioned = std::any_of(u.segments.begin(), u.segments.begin() + static_cast<long>(*at),
                                 [](const std::string& s) { return IsVersion(s); });
    std::vector<std::string> segs(u.segments.begin() + static_cast<long>(*at), u.segments.end());
    if (segs.size() > 1 && segs[1] != "detail") {
        auto id = IdToShoal(*ComputeCollection(segs[0]), cloudlet, segs[1]);
        if (!id) return id.error();
        segs[1] = *id;
    }
    return (versioned ? urls_.compute : ComputeBookmarkBase()) + Join(segs, 0) + u.tail;
}

Result<std::string> Translator::ImageHrefToShoal(std::string_view cloudlet, std::string_view href) const {
    Url u = ParseUrl(href);
    std::optional<std::size_t> at;
    for (std::size_t i = 0; i + 1 < u.segments.size(); ++i)
        if (u.segments[i] == "images") at = i;
    if (!at) return BadUpstream("cannot rewrite image link " + std::string(href));
    auto id = IdToShoal(Kind::kImage, cloudlet, u.segments[*at + 1]);
    if (!id) return id.error();
    u.segments[*at + 1] = *id;
    // Keep Glance's "/v2" (or its absence: Nova's createImage Location is unversioned).
    std::size_t from = *at > 0 && IsVersion(u.segments[*at - 1]) ? *at - 1 : *at;
    std::string path = Join(u.segments, from) + u.tail;
    return u.origin.empty() ? path : urls_.image + path;
}

Result<json> Translator::LinksToShoal(std::string_view cloudlet, const json& links) const {
    if (!links.is_array()) return BadUpstream("links is not a list");
    json out = json::array();
    for (const auto& link : links) {
        json l = link;
        if (IsString(link, "href")) {
            auto href = ComputeHrefToShoal(cloudlet, link["href"].get<std::string>());
            if (!href) return href.error();
            l["href"] = *href;
        }
        out.push_back(std::move(l));
    }
    return out;
}

// ---- cloudlet -> shoal --------------------------------------------------------------------------

Result<json> Translator::ServerToShoal(const CloudletContext& c, const json& server) const {
    if (!IsString(server, "id")) return BadUpstream("server without an id");
    json s = server;
    auto id = IdToShoal(Kind::kServer, c.cloudlet, server["id"].get<std::string>());
    if (!id) return id.error();
    s["id"] = *id;
    if (s.contains("links")) {
        auto links = LinksToShoal(c.cloudlet, s["links"]);
        if (!links) return links.error();
        s["links"] = std::move(*links);
    }
    if (IsString(s, "tenant_id") && s["tenant_id"] == c.project_id) s["tenant_id"] = tenant_;
    if (s.contains("metadata") && s["metadata"].is_object()) s["metadata"].erase(kServerTagKey);
    if (IsString(s, "hostId")) s["hostId"] = HostIdToShoal(c.cloudlet, s["hostId"].get<std::string>());
    // image is "" for a volume-backed server, else {id, links}.
    if (s.contains("image") && IsString(s["image"], "id")) {
        auto image = IdToShoal(Kind::kImage, c.cloudlet, s["image"]["id"].get<std::string>());
        if (!image) return image.error();
        s["image"]["id"] = *image;
        if (s["image"].contains("links")) {
            auto links = LinksToShoal(c.cloudlet, s["image"]["links"]);
            if (!links) return links.error();
            s["image"]["links"] = std::move(*links);
        }
    }
    // Before 2.47 the flavor is {id, links}; from 2.47 it is embedded (original_name, no id).
    if (s.contains("flavor") && s["flavor"].is_object() && s["flavor"].contains("id")) {
        const json& fid = s["flavor"]["id"];
        std::string raw = fid.is_string() ? fid.get<std::string>() : fid.dump();
        auto flavor = IdToShoal(Kind::kFlavor, c.cloudlet, raw);
        if (!flavor) return flavor.error();
        s["flavor"]["id"] = *flavor;
        if (s["flavor"].contains("links")) {
            auto links = LinksToShoal(c.cloudlet, s["flavor"]["links"]);
            if (!links) return links.error();
            s["flavor"]["links"] = std::move(*links);
        }
    }
    if (!options_.show_admin_fields) {
        for (auto it = s.begin(); it != s.end();) {
            if (it.key().rfind(kSrvAttrPrefix, 0) == 0 || it.key() == "host_status")
                it = s.erase(it);
            else
                ++it;
        }
    } else {
        for (const char* key : {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname"})
            if (IsString(s, key)) s[key] = c.cloudlet + "/" + s[key].get<std::string>();
        for (const char* key : {"OS-EXT-SRV-ATTR:kernel_id", "OS-EXT-SRV-ATTR:ramdisk_id"}) {
            if (!IsString(s, key) || s[key].get<std::string>().empty()) continue;
            auto image = map_.ToShoal(Kind::kImage, c.cloudlet, s[key].get<std::string>());
            s[key] = image ? *image : "";
        }
    }
    if (s.contains("os-extended-volumes:volumes_attached") && s["os-extended-volumes:volumes_attached"].is_array()) {
        for (auto& v : s["os-extended-volumes:volumes_attached"]) {
            if (!IsString(v, "id")) continue;
            auto vol = IdToShoal(Kind::kVolume, c.cloudlet, v["id"].get<std::string>());
            if (!vol) return vol.error();
            v["id"] = *vol;
        }
    }
    if (s.contains("server_groups") && s["server_groups"].is_array()) {
        for (auto& g : s["server_groups"]) {
            if (!g.is_string()) continue;
            auto group = IdToShoal(Kind::kServerGroup, c.cloudlet, g.get<std::string>());
            if (!group) return group.error();
            g = *group;
        }
    }
    return s;
}

Result<json> Translator::ServerBodyToShoal(const CloudletContext& c, const json& body) const {
    if (!body.is_object() || !body.contains("server")) return BadUpstream("body without a server");
    auto s = ServerToShoal(c, body["server"]);
    if (!s) return s.error();
    json out = body;
    out["server"] = std::move(*s);
    return out;
}

Result<json> Translator::ImageToShoal(const CloudletContext& c, const json& image) const {
    if (!IsString(image, "id")) return BadUpstream("image without an id");
    json i = image;
    auto id = IdToShoal(Kind::kImage, c.cloudlet, image["id"].get<std::string>());
    if (!id) return id.error();
    i["id"] = *id;
    for (const char* key : {"self", "file"}) {
        if (!IsString(i, key)) continue;
        auto href = ImageHrefToShoal(c.cloudlet, i[key].get<std::string>());
        if (!href) return href.error();
        i[key] = *href;
    }
    if (IsString(i, "owner") && i["owner"] == c.project_id) i["owner"] = tenant_;
    // Where the cloudlet stores the bits is its own business.
    i.erase("direct_url");
    i.erase("locations");
    // Free-form properties Nova writes on snapshots: mapped when known, dropped otherwise
    // (a cloudlet id the user could not use anywhere is worse than none).
    for (auto [key, kind] : {std::pair{"instance_uuid", Kind::kServer}, std::pair{"base_image_ref", Kind::kImage},
                             std::pair{"kernel_id", Kind::kImage}, std::pair{"ramdisk_id", Kind::kImage}}) {
        if (!IsString(i, key) || i[key].get<std::string>().empty()) continue;
        auto mapped = map_.ToShoal(kind, c.cloudlet, i[key].get<std::string>());
        if (mapped)
            i[key] = *mapped;
        else
            i.erase(key);
    }
    return i;
}

// ---- shoal -> cloudlet --------------------------------------------------------------------------

Result<std::string> Translator::RefToCloudlet(Kind kind, const json& ref, std::string_view cloudlet) const {
    // Nova takes imageRef/flavorRef as an id or an href; the cloudlet gets a bare id.
    std::string raw = ref.is_string() ? ref.get<std::string>() : ref.dump();
    return IdToCloudlet(kind, IdFromHref(raw), cloudlet);
}

Result<json> Translator::CreateServerToCloudlet(const CloudletContext& c, const json& body) const {
    // Only well-typed fields are rewritten; anything else reaches the cloudlet unchanged so that
    // its own validation answers in its own words.
    json out = body;
    if (!out.is_object() || !out.contains("server") || !out["server"].is_object()) return out;
    json& s = out["server"];
    auto rewrite = [&](json& holder, const char* key, Kind kind) -> Status {
        if (!holder.is_object() || !holder.contains(key)) return Ok{};
        json& v = holder[key];
        // Only flavorRef may be an integer (Nova's flavor_ref schema); "" is a volume-backed boot.
        bool number = v.is_number_integer() && kind == Kind::kFlavor;
        if (!(v.is_string() || number) || (v.is_string() && v.get<std::string>().empty())) return Ok{};
        auto id = RefToCloudlet(kind, v, c.cloudlet);
        if (!id) return id.error();
        v = *id;
        return Ok{};
    };
    if (auto ok = rewrite(s, "imageRef", Kind::kImage); !ok) return ok.error();
    if (auto ok = rewrite(s, "flavorRef", Kind::kFlavor); !ok) return ok.error();
    if (s.contains("networks") && s["networks"].is_array()) {
        for (auto& n : s["networks"]) {
            if (auto ok = rewrite(n, "uuid", Kind::kNetwork); !ok) return ok.error();
            if (auto ok = rewrite(n, "port", Kind::kPort); !ok) return ok.error();
        }
    }
    if (s.contains("block_device_mapping_v2") && s["block_device_mapping_v2"].is_array()) {
        for (auto& b : s["block_device_mapping_v2"]) {
            if (!IsString(b, "source_type")) continue;
            std::string source = b["source_type"].get<std::string>();
            std::optional<Kind> kind = source == "image"      ? std::optional(Kind::kImage)
                                       : source == "volume"   ? std::optional(Kind::kVolume)
                                       : source == "snapshot" ? std::optional(Kind::kSnapshot)
                                                              : std::nullopt;
            if (kind)
                if (auto ok = rewrite(b, "uuid", *kind); !ok) return ok.error();
        }
    }
    if (s.contains("block_device_mapping") && s["block_device_mapping"].is_array()) {
        for (auto& b : s["block_device_mapping"]) {
            if (auto ok = rewrite(b, "volume_id", Kind::kVolume); !ok) return ok.error();
            if (auto ok = rewrite(b, "snapshot_id", Kind::kSnapshot); !ok) return ok.error();
        }
    }
    for (const char* hints_key : {"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"}) {
        if (!out.contains(hints_key) || !out[hints_key].is_object()) continue;
        json& h = out[hints_key];
        if (auto ok = rewrite(h, "group", Kind::kServerGroup); !ok) return ok.error();
        for (const char* key : {"same_host", "different_host"}) {
            if (!h.contains(key)) continue;
            const bool different = std::string_view(key) == "different_host";
            json& list = h[key];
            if (!list.is_array() && !list.is_string()) continue;
            json out_ids = json::array();
            for (const json& v : list.is_array() ? list : json::array({list})) {
                if (!v.is_string()) {
                    out_ids.push_back(v);
                    continue;
                }
                auto id = IdToCloudlet(Kind::kServer, v.get<std::string>(), c.cloudlet);
                if (id) {
                    out_ids.push_back(*id);
                } else if (!different) {
                    return id.error();  // same_host cannot hold on this cloudlet
                }
            }
            if (out_ids.empty())
                h.erase(key);
            else
                list = list.is_array() ? out_ids : out_ids.front();
        }
    }
    return out;
}

Result<json> Translator::ActionToCloudlet(const CloudletContext& c, const json& body) const {
    json out = body;
    if (!out.is_object()) return out;
    auto rewrite = [&](const char* action, const char* key, Kind kind) -> Status {
        if (!out.contains(action) || !out[action].is_object()) return Ok{};
        json& a = out[action];
        if (!a.contains(key) || !(a[key].is_string() || a[key].is_number_integer())) return Ok{};
        if (a[key].is_string() && a[key].get<std::string>().empty()) return Ok{};
        auto id = RefToCloudlet(kind, a[key], c.cloudlet);
        if (!id) return id.error();
        a[key] = *id;
        return Ok{};
    };
    if (auto ok = rewrite("rebuild", "imageRef", Kind::kImage); !ok) return ok.error();
    if (auto ok = rewrite("resize", "flavorRef", Kind::kFlavor); !ok) return ok.error();
    if (auto ok = rewrite("rescue", "rescue_image_ref", Kind::kImage); !ok) return ok.error();
    return out;
}

Result<std::optional<QueryParams>> Translator::ListQueryToCloudlet(const CloudletContext& c,
                                                                   const QueryParams& query) const {
    QueryParams out;
    for (const auto& [key, value] : query) {
        if (key == "marker" || key == "limit") continue;
        std::optional<Kind> kind = key == "image" || key == "image_ref" ? std::optional(Kind::kImage)
                                   : key == "flavor"                    ? std::optional(Kind::kFlavor)
                                   : key == "uuid"                      ? std::optional(Kind::kServer)
                                                                        : std::nullopt;
        if (!kind) {
            out.emplace_back(key, value);
            continue;
        }
        // No copy there (or none anywhere, where Nova answers an empty list): nothing can match.
        auto id = map_.ToCloudlet(*kind, IdFromHref(value), c.cloudlet);
        if (!id) return std::optional<QueryParams>{};
        out.emplace_back(key, *id);
    }
    return std::optional<QueryParams>{std::move(out)};
}

}  // namespace shoal::translate
