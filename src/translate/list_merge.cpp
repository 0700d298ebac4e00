#include "translate/list_merge.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace shoal::translate {
namespace {

Error BadRequest(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

bool IsServers(ListKind kind) {
    return kind != ListKind::kImages;
}

// Nova's sort keys (nova/api/openstack/compute/schemas/servers.py) -> the detailed view's field.
const std::map<std::string, std::string, std::less<>>& ServerSortFields() {
    static const std::map<std::string, std::string, std::less<>> kFields = {
        {"access_ip_v4", "accessIPv4"},
        {"access_ip_v6", "accessIPv6"},
        {"auto_disk_config", "OS-DCF:diskConfig"},
        {"availability_zone", "OS-EXT-AZ:availability_zone"},
        {"config_drive", "config_drive"},
        {"created_at", "created"},
        {"display_description", "description"},
        {"display_name", "name"},
        {"host", "OS-EXT-SRV-ATTR:host"},
        {"hostname", "OS-EXT-SRV-ATTR:hostname"},
        {"image_ref", "image.id"},
        {"instance_type_id", "flavor.id"},
        {"kernel_id", "OS-EXT-SRV-ATTR:kernel_id"},
        {"key_name", "key_name"},
        {"launch_index", "OS-EXT-SRV-ATTR:launch_index"},
        {"launched_at", "OS-SRV-USG:launched_at"},
        {"locked_by", "locked"},
        {"node", "OS-EXT-SRV-ATTR:hypervisor_hostname"},
        {"power_state", "OS-EXT-STS:power_state"},
        {"progress", "progress"},
        {"project_id", "tenant_id"},
        {"ramdisk_id", "OS-EXT-SRV-ATTR:ramdisk_id"},
        {"root_device_name", "OS-EXT-SRV-ATTR:root_device_name"},
        {"task_state", "OS-EXT-STS:task_state"},
        {"terminated_at", "OS-SRV-USG:terminated_at"},
        {"updated_at", "updated"},
        {"user_id", "user_id"},
        {"uuid", "id"},
        {"vm_state", "OS-EXT-STS:vm_state"},
    };
    return kFields;
}

const std::set<std::string, std::less<>>& ImageSortKeys() {
    static const std::set<std::string, std::less<>> kKeys = {
        "name",       "status",   "container_format", "disk_format",  "size",       "id",    "created_at",
        "updated_at", "min_disk", "min_ram",          "virtual_size", "visibility", "owner", "protected"};
    return kKeys;
}

std::vector<std::string> All(const QueryParams& q, std::string_view key) {
    std::vector<std::string> out;
    for (const auto& [k, v] : q)
        if (k == key) out.push_back(v);
    return out;
}

std::optional<std::string> Last(const QueryParams& q, std::string_view key) {
    auto all = All(q, key);
    if (all.empty()) return std::nullopt;
    return all.back();
}

std::vector<std::string> SplitComma(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto end = s.find(',', start);
        out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

struct Sort {
    std::vector<SortKey> keys;
    bool tie_desc = true;
};

Result<bool> ParseDir(const std::string& dir) {
    if (dir == "asc") return false;
    if (dir == "desc") return true;
    return BadRequest("Unknown sort direction, must be 'desc' or 'asc'");
}

// Nova's common.get_sort_params + db process_sort_params: created_at and id appended with the
// first direction given (default desc). Nova's "id" is its internal row id: the tie-break.
Result<Sort> ParseServerSort(const QueryParams& q) {
    auto keys = All(q, "sort_key");
    auto dirs = All(q, "sort_dir");
    if (dirs.size() > keys.size()) return BadRequest("Sort direction size exceeds sort key size");
    Sort s;
    bool default_desc = true;
    if (!dirs.empty()) {
        auto d = ParseDir(dirs.front());
        if (!d) return d.error();
        default_desc = *d;
    }
    bool has_created = false;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto it = ServerSortFields().find(keys[i]);
        if (it == ServerSortFields().end())
            return BadRequest("Invalid input for query parameters sort_key. Value: " + keys[i] + ".");
        bool desc = default_desc;
        if (i < dirs.size()) {
            auto d = ParseDir(dirs[i]);
            if (!d) return d.error();
            desc = *d;
        }
        has_created = has_created || keys[i] == "created_at";
        s.keys.push_back({it->second, desc});
    }
    if (!has_created) s.keys.push_back({"created", default_desc});
    s.tie_desc = default_desc;
    return s;
}

// Glance: sort=k1:d1,k2 or sort_key/sort_dir (not both); created_at and id appended.
Result<Sort> ParseImageSort(const QueryParams& q) {
    std::vector<std::string> keys;
    std::vector<std::string> dirs;
    auto sort = Last(q, "sort");
    if (sort) {
        if (Last(q, "sort_key") || Last(q, "sort_dir"))
            return BadRequest("The 'sort' parameter cannot be used together with 'sort_key' or 'sort_dir'");
        for (auto& part : SplitComma(*sort)) {
            auto colon = part.find(':');
            keys.push_back(part.substr(0, colon));
            dirs.push_back(colon == std::string::npos ? "desc" : part.substr(colon + 1));
        }
    } else {
        keys = All(q, "sort_key");
        dirs = All(q, "sort_dir");
        if (dirs.size() == 1) dirs.resize(std::max<std::size_t>(keys.size(), 1), dirs.front());
        if (!dirs.empty() && dirs.size() != std::max<std::size_t>(keys.size(), 1))
            return BadRequest("Number of sort dirs does not match the number of sort keys");
    }
    bool default_desc = true;
    if (!dirs.empty()) {
        auto d = ParseDir(dirs.front());
        if (!d) return d.error();
        default_desc = *d;
    }
    Sort s;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (!ImageSortKeys().count(keys[i])) return BadRequest("Invalid sort key: " + keys[i]);
        bool desc = default_desc;
        if (i < dirs.size()) {
            auto d = ParseDir(dirs[i]);
            if (!d) return d.error();
            desc = *d;
        }
        s.keys.push_back({keys[i], desc});
    }
    for (const char* key : {"created_at", "id"})
        if (std::none_of(s.keys.begin(), s.keys.end(), [&](const SortKey& k) { return k.field == key; }))
            s.keys.push_back({key, default_desc});
    s.tie_desc = default_desc;
    return s;
}

Result<std::size_t> ParseLimit(const ListRequest& r) {
    std::size_t fallback = r.default_limit ? r.default_limit : r.max_limit;
    auto v = Last(r.query, "limit");
    if (!v) return std::min(fallback, r.max_limit);
    if (v->empty() || v->size() > 18 ||
        !std::all_of(v->begin(), v->end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return BadRequest("Invalid input for query parameters limit. Value: " + *v + ".");
    return std::min<std::size_t>(std::stoull(*v), r.max_limit);
}

// ---- ordering ---------------------------------------------------------------------------------

const json& Field(const json& values, const std::string& path) {
    static const json kNull;
    const json* cur = &values;
    std::size_t start = 0;
    while (true) {
        auto dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!cur->is_object()) return kNull;
        auto it = cur->find(part);
        if (it == cur->end()) return kNull;
        cur = &*it;
        if (dot == std::string::npos) return *cur;
        start = dot + 1;
    }
}

int TypeRank(const json& v) {
    if (v.is_null()) return 0;  // NULL first in ascending order, as MySQL sorts it
    if (v.is_boolean()) return 1;
    if (v.is_number()) return 2;
    if (v.is_string()) return 3;
    return 4;
}

int Sign(int c) {
    return (c > 0) - (c < 0);
}

int CompareValues(const json& a, const json& b) {
    int ra = TypeRank(a), rb = TypeRank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    switch (ra) {
        case 0:
            return 0;
        case 1:
            return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
        case 2: {
            double x = a.get<double>(), y = b.get<double>();
            return (x > y) - (x < y);
        }
        case 3:
            return Sign(a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>()));
        default:
            return Sign(a.dump().compare(b.dump()));
    }
}

// A position in the merged order: a cloudlet's answered item (ranked by where its cloudlet put
// it) or a map entry (unranked).
struct Row {
    const std::string* cloudlet = nullptr;
    const std::string* cloudlet_id = nullptr;
    const json* values = nullptr;
    std::optional<std::size_t> rank;
};

// The merged order: the sort keys on cloudlet-space values, then the cloudlet, then, within
// one cloudlet, the cloudlet's own order (it knows Nova's hidden row id; we do not).
int Compare(const Sort& sort, const Row& a, const Row& b) {
    for (const auto& k : sort.keys) {
        int c = CompareValues(Field(*a.values, k.field), Field(*b.values, k.field));
        if (c) return k.desc ? -c : c;
    }
    int c = Sign(a.cloudlet->compare(*b.cloudlet));
    if (!c) {
        if (a.rank && b.rank) return a.rank < b.rank ? -1 : (a.rank > b.rank ? 1 : 0);
        c = Sign(a.cloudlet_id->compare(*b.cloudlet_id));
    }
    return sort.tie_desc ? -c : c;
}

bool HasSortValues(const Sort& sort, const json& values) {
    if (!values.is_object() || values.empty()) return false;
    return std::all_of(sort.keys.begin(), sort.keys.end(),
                       [&](const SortKey& k) { return values.contains(k.field.substr(0, k.field.find('.'))); });
}

Row KnownRow(const KnownResource& k) {
    return Row{&k.cloudlet, &k.cloudlet_id, &k.values, std::nullopt};
}

Result<Sort> ParseSort(const ListRequest& r) {
    return IsServers(r.kind) ? ParseServerSort(r.query) : ParseImageSort(r.query);
}

// For each shoal image, the cloudlet whose copy is listed: the smallest name among `up`.
std::map<std::string, std::string, std::less<>> CanonicalCopies(const std::vector<KnownResource>& known,
                                                                const std::set<std::string, std::less<>>& up) {
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& k : known) {
        if (!up.count(k.cloudlet)) continue;
        auto [it, fresh] = out.emplace(k.shoal_id, k.cloudlet);
        if (!fresh && k.cloudlet < it->second) it->second = k.cloudlet;
    }
    return out;
}

QueryParams WithMarker(const QueryParams& q, const std::optional<std::string>& marker) {
    QueryParams out;
    for (const auto& p : q)
        if (p.first != "marker") out.push_back(p);
    if (marker) out.emplace_back("marker", *marker);
    return out;
}

bool HasNext(ListKind kind, const json& body) {
    if (!IsServers(kind)) return body.contains("next") && body["next"].is_string();
    if (!body.contains("servers_links") || !body["servers_links"].is_array()) return false;
    return std::any_of(body["servers_links"].begin(), body["servers_links"].end(),
                       [](const json& l) { return l.is_object() && l.value("rel", "") == "next"; });
}

}  // namespace

Result<PagePlan> PlanPage(const ListRequest& request, const ListContext& context) {
    auto sort = ParseSort(request);
    if (!sort) return sort.error();
    auto limit = ParseLimit(request);
    if (!limit) return limit.error();
    PagePlan plan;
    plan.sort = sort->keys;
    plan.tie_desc = sort->tie_desc;
    plan.limit = *limit;
    plan.marker = Last(request.query, "marker");

    // The marker's position: its copy on the smallest cloudlet name (servers have one copy).
    const KnownResource* at = nullptr;
    if (plan.marker) {
        for (const auto& k : context.known)
            if (k.shoal_id == *plan.marker && (!at || k.cloudlet < at->cloudlet)) at = &k;
        if (!at) {
            if (IsServers(request.kind)) return BadRequest("marker [" + *plan.marker + "] not found");
            return BadRequest("No image found with ID " + *plan.marker);
        }
        plan.marker_at = CloudletRef{at->cloudlet, at->cloudlet_id};
        if (!HasSortValues(*sort, at->values)) {
            plan.fetch_marker = plan.marker_at;
            return plan;
        }
    }
    if (plan.limit == 0) return plan;

    // Image copies on a cloudlet that are not its canonical copy take a slot in that cloudlet's
    // answer without being listed: ask for that many more (assuming every cloudlet answers).
    std::set<std::string, std::less<>> all;
    for (const auto& c : context.cloudlets) all.insert(c.cloudlet);
    auto canonical = CanonicalCopies(context.known, all);

    for (const auto& c : context.cloudlets) {
        std::size_t count = 0, slack = 0;
        const KnownResource* local = nullptr;
        for (const auto& k : context.known) {
            if (k.cloudlet != c.cloudlet) continue;
            ++count;
            if (!IsServers(request.kind) && canonical[k.shoal_id] != c.cloudlet) ++slack;
            // The local marker: this cloudlet's last entry before the marker. Any entry at or
            // before it will do (rows before the marker are dropped when merging); the last one
            // wastes the fewest rows.
            if (!at || c.cloudlet == at->cloudlet || !HasSortValues(*sort, k.values)) continue;
            if (Compare(*sort, KnownRow(k), KnownRow(*at)) >= 0) continue;
            if (!local || Compare(*sort, KnownRow(k), KnownRow(*local)) > 0) local = &k;
        }
        if (count == 0) continue;  // nothing of this tenant's there
        auto query = context.translator.ListQueryToCloudlet(c, request.query);
        if (!query) return query.error();
        if (!*query) continue;  // a filter names something with no copy there
        CloudletQuery q{c.cloudlet, IsServers(request.kind) ? "/servers/detail" : "/v2/images", std::move(**query)};
        q.query.emplace_back("limit", std::to_string(std::min(plan.limit + slack, request.max_limit)));
        if (at && c.cloudlet == at->cloudlet)
            q.query.emplace_back("marker", at->cloudlet_id);
        else if (local)
            q.query.emplace_back("marker", local->cloudlet_id);
        plan.queries.push_back(std::move(q));
    }
    return plan;
}

Result<MergeResult> MergePage(const ListRequest& request,
                              const ListContext& context,
                              const PagePlan& plan,
                              const std::vector<CloudletAnswer>& answers,
                              bool final_round) {
    if (plan.fetch_marker) return MakeError(ErrorCode::kInternal, "the plan needs the marker's sort values first");
    const Translator& tr = context.translator;
    const bool servers = IsServers(request.kind);
    const char* items_key = servers ? "servers" : "images";
    Sort sort{plan.sort, plan.tie_desc};

    const KnownResource* at = nullptr;
    if (plan.marker_at)
        for (const auto& k : context.known)
            if (k.cloudlet == plan.marker_at->cloudlet && k.cloudlet_id == plan.marker_at->id) at = &k;
    if (plan.marker_at && !at) return MakeError(ErrorCode::kInternal, "the marker left the map between plan and merge");

    struct Stream {
        const CloudletQuery* query = nullptr;
        const CloudletContext* context = nullptr;
        std::vector<const json*> bodies;
        bool down = true;
        std::vector<Row> rows;
        std::vector<const KnownResource*> minimal;  // down: the map's entries, as rows
        std::size_t pos = 0;
        bool more = false;
        std::optional<std::string> last_raw_id;
    };
    std::vector<Stream> streams;
    std::set<std::string, std::less<>> up;
    for (const auto& q : plan.queries) {
        Stream s;
        s.query = &q;
        for (const auto& c : context.cloudlets)
            if (c.cloudlet == q.cloudlet) s.context = &c;
        if (!s.context) return MakeError(ErrorCode::kInternal, "planned cloudlet " + q.cloudlet + " unknown");
        // Down: no body at all. A refetch that timed out leaves the stream blocked instead.
        for (const auto& a : answers)
            if (a.cloudlet == q.cloudlet && a.body) s.bodies.push_back(&*a.body);
        s.down = s.bodies.empty();
        if (!s.down) up.insert(q.cloudlet);
        streams.push_back(std::move(s));
    }
    auto canonical = CanonicalCopies(context.known, up);

    // Which rows each stream contributes, after the marker.
    for (auto& s : streams) {
        const std::string& cloudlet = s.query->cloudlet;
        if (!s.down) {
            std::size_t rank = 0;
            for (const json* body : s.bodies) {
                if (!body->is_object() || !body->contains(items_key) || !(*body)[items_key].is_array())
                    return MakeError(ErrorCode::kBadGateway, "cloudlet " + cloudlet + " answered no " + items_key);
                for (const auto& item : (*body)[items_key]) {
                    if (!item.is_object() || !item.contains("id") || !item["id"].is_string())
                        return MakeError(ErrorCode::kBadGateway,
                                         "cloudlet " + cloudlet + " answered an item without id");
                    const std::string& id = item["id"].get_ref<const std::string&>();
                    s.last_raw_id = id;
                    Row row{&cloudlet, &id, &item, rank++};
                    if (at && cloudlet == at->cloudlet && id == at->cloudlet_id) continue;
                    if (at && cloudlet != at->cloudlet && Compare(sort, row, KnownRow(*at)) <= 0) continue;
                    s.rows.push_back(row);
                }
            }
            s.more = !s.bodies.empty() && HasNext(request.kind, *s.bodies.back());
        } else if (servers && request.microversion >= 69) {
            // Nova from 2.69 lists a down cell's servers as minimal records from its own
            // mappings; ours come from the map, in the merged order, so paging stays exact.
            for (const auto& k : context.known) {
                if (k.cloudlet != cloudlet) continue;
                if (at && Compare(sort, KnownRow(k), KnownRow(*at)) <= 0) continue;
                s.minimal.push_back(&k);
            }
            std::sort(s.minimal.begin(), s.minimal.end(), [&](const KnownResource* a, const KnownResource* b) {
                return Compare(sort, KnownRow(*a), KnownRow(*b)) < 0;
            });
            for (const auto* k : s.minimal) s.rows.push_back(KnownRow(*k));
        }
    }

    // k-way merge of the sorted streams. A stream whose answer is used up but that has more on
    // its cloudlet blocks the merge: its next row could come before any other head.
    json items = json::array();
    std::optional<std::string> last;
    bool truncated = false;
    std::vector<std::size_t> blocked;
    while (items.size() < plan.limit) {
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < streams.size(); ++i) {
            auto& s = streams[i];
            if (s.pos == s.rows.size()) {
                if (s.more) blocked.push_back(i);
                continue;
            }
            if (!best || Compare(sort, s.rows[s.pos], streams[*best].rows[streams[*best].pos]) < 0) best = i;
        }
        if (!blocked.empty()) {
            truncated = true;
            break;
        }
        if (!best) break;
        auto& s = streams[*best];
        const Row& row = s.rows[s.pos++];
        const CloudletContext& c = *s.context;
        if (s.down) {
            const KnownResource& k = *s.minimal[s.pos - 1];
            json m = {{"id", k.shoal_id}, {"status", "UNKNOWN"}, {"links", tr.Links("servers", k.shoal_id)}};
            if (request.kind == ListKind::kServersDetail) {
                m["tenant_id"] = tr.tenant();
                if (k.values.contains("created")) m["created"] = k.values["created"];
            }
            items.push_back(std::move(m));
            last = k.shoal_id;
            continue;
        }
        auto shoal = tr.map().ToShoal(servers ? Kind::kServer : Kind::kImage, c.cloudlet, *row.cloudlet_id);
        if (!shoal) continue;  // not the tenant's through shoal (or not yet mapped): never listed
        if (!servers && canonical[*shoal] != c.cloudlet) continue;  // another copy is listed
        if (request.kind == ListKind::kServers) {
            items.push_back(
                {{"id", *shoal}, {"name", row.values->value("name", "")}, {"links", tr.Links("servers", *shoal)}});
        } else {
            auto t = servers ? tr.ServerToShoal(c, *row.values) : tr.ImageToShoal(c, *row.values);
            if (!t) return t.error();
            items.push_back(std::move(*t));
        }
        last = *shoal;
    }

    MergeResult result;
    if (truncated && !final_round) {
        for (std::size_t i : blocked) {
            const auto& s = streams[i];
            CloudletQuery q = *s.query;
            q.query = WithMarker(q.query, s.last_raw_id);
            result.refetch.push_back(std::move(q));
        }
        return result;
    }
    if (truncated && items.empty())
        return MakeError(ErrorCode::kUnavailable, "no listable item in the cloudlets' answers; try again");

    // Nova and Glance link a next page whenever the page is full; a short page that was cut
    // (final round) links one too, since it is not the end.
    bool next = last && (items.size() == plan.limit || truncated);
    if (servers) {
        result.body = {{"servers", std::move(items)}};
        if (next) {
            std::string path = request.kind == ListKind::kServersDetail ? "/servers/detail?" : "/servers?";
            result.body["servers_links"] = json::array(
                {{{"rel", "next"},
                  {"href", tr.urls().compute + path + http::EncodeQuery(WithMarker(request.query, last))}}});
        }
    } else {
        std::string first = http::EncodeQuery(WithMarker(request.query, std::nullopt));
        result.body = {{"images", std::move(items)},
                       {"first", "/v2/images" + (first.empty() ? std::string() : "?" + first)},
                       {"schema", "/v2/schemas/images"}};
        if (next) result.body["next"] = "/v2/images?" + http::EncodeQuery(WithMarker(request.query, last));
    }
    return result;
}

}  // namespace shoal::translate
