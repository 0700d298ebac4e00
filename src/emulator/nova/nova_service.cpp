#include "emulator/nova/nova_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "common/ids.hpp"
#include "emulator/nova/nova_api.hpp"
#include "emulator/nova/nova_keys.hpp"

namespace shoal::emulator {

using nova::Call;
using nova::json;
using Resp = Result<http::Response>;

namespace {

constexpr std::string_view kFlavorsCollection = "nova_flavors";
constexpr std::string_view kKeypairsCollection = "nova_keypairs";
constexpr std::string_view kMetaCollection = "nova_meta";

json FlavorToJson(const nova::Flavor& f) {
    return {{"id", f.id},
            {"name", f.name},
            {"vcpus", f.vcpus},
            {"ram_mb", f.ram_mb},
            {"disk_gb", f.disk_gb},
            {"ephemeral_gb", f.ephemeral_gb},
            {"swap_mb", f.swap_mb},
            {"rxtx_factor", f.rxtx_factor},
            {"is_public", f.is_public},
            {"disabled", f.disabled},
            {"description", f.description ? json(*f.description) : json(nullptr)},
            {"extra_specs", f.extra_specs},
            {"projects", f.projects},
            {"number", f.number}};
}

nova::Flavor FlavorFromJson(const json& j) {
    nova::Flavor f;
    f.id = j.at("id").get<std::string>();
    f.name = j.value("name", f.id);
    f.vcpus = j.value("vcpus", 1);
    f.ram_mb = j.value("ram_mb", 512);
    f.disk_gb = j.value("disk_gb", 0);
    f.ephemeral_gb = j.value("ephemeral_gb", 0);
    f.swap_mb = j.value("swap_mb", 0);
    f.rxtx_factor = j.value("rxtx_factor", 1.0);
    f.is_public = j.value("is_public", true);
    f.disabled = j.value("disabled", false);
    if (j.contains("description") && j["description"].is_string()) f.description = j["description"].get<std::string>();
    if (j.contains("extra_specs")) f.extra_specs = j["extra_specs"].get<std::map<std::string, std::string>>();
    if (j.contains("projects")) f.projects = j["projects"].get<std::vector<std::string>>();
    f.number = j.value("number", std::int64_t{0});
    return f;
}

json KeypairToJson(const nova::Keypair& k) {
    return {{"name", k.name},
            {"user_id", k.user_id},
            {"type", k.type},
            {"public_key", k.public_key},
            {"fingerprint", k.fingerprint},
            {"created_at", FormatIso8601Micro(k.created_at)},
            {"number", k.number}};
}

nova::Keypair KeypairFromJson(const json& j) {
    nova::Keypair k;
    k.name = j.at("name").get<std::string>();
    k.user_id = j.at("user_id").get<std::string>();
    k.type = j.value("type", "ssh");
    k.public_key = j.value("public_key", "");
    k.fingerprint = j.value("fingerprint", "");
    k.created_at = ParseIso8601(j.value("created_at", "")).value_or(std::chrono::system_clock::now());
    k.number = j.value("number", std::int64_t{0});
    return k;
}

std::string KeypairKey(std::string_view user_id, std::string_view name) {
    return std::string(user_id) + "/" + std::string(name);
}

Error FlavorNotFound(std::string_view id) {
    return MakeError(ErrorCode::kNotFound, "Flavor " + std::string(id) + " could not be found.");
}

// rxtx_factor prints as Python prints a float.
json FloatJson(double v) {
    return json(v);
}

std::string PyTime(SystemTime t) {
    return FormatIso8601MicroNoZone(t);
}

json OptionalString(const std::optional<std::string>& v) {
    return v ? json(*v) : json(nullptr);
}

std::string ControllerHost(const ServiceContext& ctx) {
    return ctx.config.name + "-controller";
}

// The services a cloudlet runs: the controller's conductor and scheduler, one nova-compute per
// hypervisor. Integer ids before 2.53, UUIDs from then on. Only the computes' records change
// (Nova refuses to update any other binary); they live with the hypervisors in FakeCompute.
struct ServiceRow {
    int id;
    std::string uuid;
    std::string binary;
    std::string host;
    std::string zone;
    ComputeService record;  // always enabled and up for the controller's services
};

std::vector<ServiceRow> ServiceRows(const ServiceContext& ctx, const FakeCompute& compute) {
    std::vector<ServiceRow> rows;
    auto add = [&](std::string binary, std::string host, std::string zone, ComputeService record) {
        int id = static_cast<int>(rows.size()) + 1;
        std::string uuid = nova::NameUuid(ctx.config.name + "/service/" + binary + "/" + host);
        rows.push_back(
            ServiceRow{id, std::move(uuid), std::move(binary), std::move(host), std::move(zone), std::move(record)});
    };
    add("nova-conductor", ControllerHost(ctx), "internal", {});
    add("nova-scheduler", ControllerHost(ctx), "internal", {});
    for (const auto& h : compute.Hypervisors()) add("nova-compute", h.hostname, "nova", h.service);
    return rows;
}

// servicegroup's is_up: a forced-down service is down whatever its heartbeat says.
std::string_view StateOf(const ComputeService& s) {
    return s.forced_down ? "down" : "up";
}

std::string_view StatusOf(const ComputeService& s) {
    return s.disabled ? "disabled" : "enabled";
}

}  // namespace

// ---- State ----------------------------------------------------------------------------------

const nova::Flavor* nova::ServiceState::VisibleFlavor(const Call& c, std::string_view id) const {
    auto it = flavors.find(id);
    if (it == flavors.end()) return nullptr;
    const auto& f = it->second;
    if (f.is_public || c.Admin()) return &f;
    if (std::find(f.projects.begin(), f.projects.end(), c.who.project_id) != f.projects.end()) return &f;
    return nullptr;
}

const nova::Keypair* nova::ServiceState::FindKeypair(std::string_view user_id, std::string_view name) const {
    auto it = keypairs.find(KeypairKey(user_id, name));
    return it == keypairs.end() ? nullptr : &it->second;
}

nova::Usage nova::ServiceState::UsageOf(std::string_view project_id) const {
    nova::Usage u;
    for (const auto* s : compute.Servers()) {
        if (s->project_id != project_id) continue;
        ++u.instances;
        u.cores += s->flavor.vcpus;
        u.ram += s->flavor.ram_mb;
    }
    return u;
}

void nova::ServiceState::SaveFlavor(const nova::Flavor& f) {
    if (ctx.store.Durable()) ctx.store.Put(kFlavorsCollection, f.id, FlavorToJson(f));
}

void nova::ServiceState::SaveKeypair(const nova::Keypair& k) {
    if (ctx.store.Durable()) ctx.store.Put(kKeypairsCollection, KeypairKey(k.user_id, k.name), KeypairToJson(k));
}

void nova::ServiceState::Route(http::Router& router,
                               http::Method method,
                               std::string_view pattern,
                               Handler handler,
                               int min_minor,
                               int max_minor) {
    std::string full = std::string(kComputePrefix) + "/v2.1" + std::string(pattern);
    router.AddSync(method, full,
                   [this, handler = std::move(handler), min_minor, max_minor](http::Request& req) -> Resp {
                       auto who = Authenticate(ctx, req);
                       if (!who.ok()) return who.error();
                       auto ver = nova::RequestedVersion(req);
                       if (!ver.ok()) return ver.error();
                       if (ver->minor < min_minor || ver->minor > max_minor)
                           return MakeError(ErrorCode::kNotFound, "The resource could not be found.");
                       Call call{req, std::move(who).value(), *ver};
                       auto r = handler(call);
                       if (r.ok()) nova::AddVersionHeaders(r.value(), *ver);
                       return r;
                   });
}

// ---- NovaService ----------------------------------------------------------------------------

struct NovaService::State : nova::ServiceState {
    using ServiceState::ServiceState;
};

NovaService::NovaService(ServiceContext& ctx, const ImageLookup& images, FakeCompute& compute)
    : ctx_(ctx), images_(images), compute_(compute), state_(std::make_unique<State>(ctx, images, compute)) {}

NovaService::~NovaService() = default;

void NovaService::Load() {
    auto& st = *state_;
    st.flavors.clear();
    st.keypairs.clear();
    bool seeded = false;
    if (ctx_.store.Durable()) {
        for (const auto& [id, doc] : ctx_.store.LoadAll(kMetaCollection))
            if (id == "flavors_seeded") seeded = true;
        for (const auto& [id, doc] : ctx_.store.LoadAll(kFlavorsCollection)) {
            try {
                auto f = FlavorFromJson(doc);
                st.next_flavor_number = std::max(st.next_flavor_number, f.number + 1);
                st.flavors[f.id] = std::move(f);
            } catch (const std::exception& e) {
                spdlog::warn("nova: skipping unreadable flavor {}: {}", id, e.what());
            }
        }
        for (const auto& [id, doc] : ctx_.store.LoadAll(kKeypairsCollection)) {
            try {
                auto k = KeypairFromJson(doc);
                st.next_keypair_number = std::max(st.next_keypair_number, k.number + 1);
                st.keypairs[KeypairKey(k.user_id, k.name)] = std::move(k);
            } catch (const std::exception& e) {
                spdlog::warn("nova: skipping unreadable keypair {}: {}", id, e.what());
            }
        }
    }
    if (seeded) return;
    // First start: the configured flavors (a deleted one must stay deleted after a restart).
    auto specs = ctx_.config.flavors.empty() ? CloudletConfig::DefaultFlavors() : ctx_.config.flavors;
    for (const auto& spec : specs) {
        nova::Flavor f;
        f.id = spec.id;
        f.name = spec.name;
        f.vcpus = spec.vcpus;
        f.ram_mb = spec.ram_mb;
        f.disk_gb = spec.disk_gb;
        f.ephemeral_gb = spec.ephemeral_gb;
        f.swap_mb = spec.swap_mb;
        f.rxtx_factor = spec.rxtx_factor;
        f.is_public = spec.is_public;
        if (!spec.description.empty()) f.description = spec.description;
        f.number = st.next_flavor_number++;
        st.SaveFlavor(f);
        st.flavors[f.id] = std::move(f);
    }
    if (ctx_.store.Durable()) ctx_.store.Put(kMetaCollection, "flavors_seeded", json{{"seeded", true}});
}

namespace {

// ---- versions -----------------------------------------------------------------------------

json VersionDoc(const ServiceContext& ctx, bool full) {
    json v = {{"id", "v2.1"},
              {"status", "CURRENT"},
              {"version", nova::MaxVersionString()},
              {"min_version", "2.1"},
              {"updated", "2013-07-23T11:33:21Z"},
              {"links", json::array({{{"rel", "self"}, {"href", ctx.ComputeUrl() + "/"}}})}};
    if (full) {
        v["links"].push_back({{"rel", "describedby"}, {"type", "text/html"}, {"href", "http://docs.openstack.org/"}});
        v["media-types"] = json::array(
            {{{"base", "application/json"}, {"type", "application/vnd.openstack.compute+json;version=2.1"}}});
    }
    return v;
}

// ---- flavors ------------------------------------------------------------------------------

json FlavorBasic(const nova::ServiceState& st, const Call& c, const nova::Flavor& f) {
    json j = {{"id", f.id}, {"name", f.name}, {"links", st.Links("flavors", f.id)}};
    if (c.ver.AtLeast(55)) j["description"] = f.description ? json(*f.description) : json(nullptr);
    return j;
}

json FlavorFull(const nova::ServiceState& st, const Call& c, const nova::Flavor& f) {
    json j = {
        {"id", f.id},
        {"name", f.name},
        {"ram", f.ram_mb},
        {"disk", f.disk_gb},
        {"vcpus", f.vcpus},
        {"swap", f.swap_mb ? json(f.swap_mb) : (c.ver.AtLeast(75) ? json(0) : json(""))},
        {"OS-FLV-EXT-DATA:ephemeral", f.ephemeral_gb},
        {"OS-FLV-DISABLED:disabled", f.disabled},
        {"os-flavor-access:is_public", f.is_public},
        {"rxtx_factor", FloatJson(f.rxtx_factor)},
        {"links", st.Links("flavors", f.id)},
    };
    if (c.ver.AtLeast(55)) j["description"] = f.description ? json(*f.description) : json(nullptr);
    if (c.ver.AtLeast(61)) j["extra_specs"] = f.extra_specs;
    return j;
}

// Nova's sort keys for flavors, and how each compares.
std::optional<std::function<int(const nova::Flavor&, const nova::Flavor&)>> FlavorComparator(std::string_view key) {
    auto cmp = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
    if (key == "flavorid") return [=](const auto& a, const auto& b) { return cmp(a.id, b.id); };
    if (key == "name") return [=](const auto& a, const auto& b) { return cmp(a.name, b.name); };
    if (key == "memory_mb") return [=](const auto& a, const auto& b) { return cmp(a.ram_mb, b.ram_mb); };
    if (key == "vcpus") return [=](const auto& a, const auto& b) { return cmp(a.vcpus, b.vcpus); };
    if (key == "root_gb") return [=](const auto& a, const auto& b) { return cmp(a.disk_gb, b.disk_gb); };
    if (key == "ephemeral_gb") return [=](const auto& a, const auto& b) { return cmp(a.ephemeral_gb, b.ephemeral_gb); };
    if (key == "swap") return [=](const auto& a, const auto& b) { return cmp(a.swap_mb, b.swap_mb); };
    if (key == "rxtx_factor") return [=](const auto& a, const auto& b) { return cmp(a.rxtx_factor, b.rxtx_factor); };
    if (key == "is_public") return [=](const auto& a, const auto& b) { return cmp(a.is_public, b.is_public); };
    if (key == "disabled") return [=](const auto& a, const auto& b) { return cmp(a.disabled, b.disabled); };
    if (key == "description")
        return
            [=](const auto& a, const auto& b) { return cmp(a.description.value_or(""), b.description.value_or("")); };
    if (key == "id" || key == "created_at" || key == "updated_at" || key == "vcpu_weight")
        return [=](const auto& a, const auto& b) { return cmp(a.number, b.number); };
    return std::nullopt;
}

Resp ListFlavors(nova::ServiceState& st, Call& c, bool detail) {
    const auto& req = c.req;
    static const std::vector<std::string_view> kKnown = {"limit",   "marker",   "is_public", "minRam",
                                                         "minDisk", "sort_key", "sort_dir"};
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : req.query)
            if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    std::string sort_key(req.Query("sort_key").value_or("flavorid"));
    std::string sort_dir(req.Query("sort_dir").value_or("asc"));
    auto cmp = FlavorComparator(sort_key);
    if (!cmp)
        return nova::BadQuery("sort_key", sort_key,
                              "'" + sort_key +
                                  "' is not one of ['created_at', 'description', 'disabled', 'ephemeral_gb', "
                                  "'flavorid', 'id', 'is_public', 'memory_mb', 'name', 'root_gb', 'rxtx_factor', "
                                  "'swap', 'updated_at', 'vcpu_weight', 'vcpus']");
    if (sort_dir != "asc" && sort_dir != "desc")
        return nova::BadQuery("sort_dir", sort_dir, "'" + sort_dir + "' is not one of ['asc', 'desc']");
    auto limit = nova::QueryLimit(req);
    if (!limit.ok()) return limit.error();

    // is_public: admins may ask for private ones or for all ("none"); others see public flavors
    // and the private ones their project was given.
    std::optional<bool> is_public = true;
    if (c.Admin()) {
        if (auto v = req.Query("is_public")) {
            std::string l(*v);
            std::transform(l.begin(), l.end(), l.begin(), [](unsigned char ch) { return std::tolower(ch); });
            if (l == "none") {
                is_public.reset();
            } else if (auto b = nova::BoolFromString(*v)) {
                is_public = *b;
            } else {
                return nova::BadRequest("Invalid is_public filter [" + std::string(*v) + "]");
            }
        }
    }
    std::optional<long long> min_ram, min_disk;
    for (auto [name, out] : {std::pair{"minRam", &min_ram}, std::pair{"minDisk", &min_disk}}) {
        auto v = req.Query(name);
        if (!v) continue;
        try {
            std::size_t used = 0;
            long long n = std::stoll(std::string(*v), &used);
            if (used != v->size()) throw std::invalid_argument("trailing");
            *out = n;
        } catch (const std::exception&) {
            return nova::BadRequest("Invalid " + std::string(name) + " filter [" + std::string(*v) + "]");
        }
    }

    std::vector<const nova::Flavor*> rows;
    for (const auto& [id, f] : st.flavors) {
        bool accessible = std::find(f.projects.begin(), f.projects.end(), c.who.project_id) != f.projects.end();
        if (!c.Admin() && f.disabled) continue;
        if (is_public) {
            if (*is_public && !f.is_public && !accessible) continue;
            if (!*is_public && f.is_public) continue;
            if (!*is_public && !c.Admin() && !accessible) continue;
        }
        if (min_ram && f.ram_mb < *min_ram) continue;
        if (min_disk && f.disk_gb < *min_disk) continue;
        rows.push_back(&f);
    }
    bool desc = sort_dir == "desc";
    std::stable_sort(rows.begin(), rows.end(), [&](const nova::Flavor* a, const nova::Flavor* b) {
        int r = (*cmp)(*a, *b);
        if (r == 0) r = a->number < b->number ? -1 : (a->number > b->number ? 1 : 0);
        return desc ? r > 0 : r < 0;
    });
    if (auto marker = req.Query("marker")) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const nova::Flavor* f) { return f->id == *marker; });
        if (it == rows.end()) return nova::BadRequest("marker [" + std::string(*marker) + "] not found");
        rows.erase(rows.begin(), it + 1);
    }
    long long max_items = std::min<long long>(limit->value_or(1000), 1000);
    if (static_cast<long long>(rows.size()) > max_items) rows.resize(static_cast<std::size_t>(max_items));

    json list = json::array();
    for (const auto* f : rows) list.push_back(detail ? FlavorFull(st, c, *f) : FlavorBasic(st, c, *f));
    json body = {{"flavors", list}};
    if (max_items > 0 && static_cast<long long>(rows.size()) == max_items) {
        http::QueryParams q;
        for (const auto& [k, v] : req.query)
            if (k != "marker") q.emplace_back(k, v);
        q.emplace_back("marker", rows.back()->id);
        body["flavors_links"] = json::array(
            {{{"rel", "next"},
              {"href", st.ctx.ComputeUrl() + (detail ? "/flavors/detail?" : "/flavors?") + http::EncodeQuery(q)}}});
    }
    return nova::JsonResponse(200, body);
}

Resp ShowFlavor(nova::ServiceState& st, Call& c) {
    const auto& id = c.req.Param("flavor_id");
    const auto* f = st.VisibleFlavor(c, id);
    if (!f) return FlavorNotFound(id);
    return nova::JsonResponse(200, {{"flavor", FlavorFull(st, c, *f)}});
}

bool ValidFlavorId(std::string_view id) {
    if (id.empty() || id.size() > 255 || id.front() == ' ' || id.back() == ' ') return false;
    return std::all_of(id.begin(), id.end(), [](unsigned char ch) {
        return std::isalnum(ch) || ch == '.' || ch == ' ' || ch == '_' || ch == '-';
    });
}

Resp CreateFlavor(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-manage:create"); !ok) return ok.error();
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    auto fj = nova::RequireObjectMember(*body, "flavor");
    if (!fj.ok()) return fj.error();
    if (auto ok = nova::NoAdditional(*body, {"flavor"}); !ok) return ok.error();
    const json& in = **fj;
    Status fields = c.ver.AtLeast(55)
                        ? nova::NoAdditional(in, {"name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral",
                                                  "swap", "rxtx_factor", "os-flavor-access:is_public", "description"})
                        : nova::NoAdditional(in, {"name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral",
                                                  "swap", "rxtx_factor", "os-flavor-access:is_public"});
    if (!fields) return fields.error();
    for (const char* req_key : {"name", "ram", "vcpus", "disk"})
        if (!in.contains(req_key)) return nova::BadRequest("'" + std::string(req_key) + "' is a required property");

    nova::Flavor f;
    if (auto ok = nova::CheckName("name", in["name"]); !ok) return ok.error();
    f.name = in["name"].get<std::string>();
    auto ram = nova::CheckInteger("ram", in["ram"], 1);
    if (!ram.ok()) return ram.error();
    auto vcpus = nova::CheckInteger("vcpus", in["vcpus"], 1);
    if (!vcpus.ok()) return vcpus.error();
    auto disk = nova::CheckInteger("disk", in["disk"], 0);
    if (!disk.ok()) return disk.error();
    f.ram_mb = static_cast<int>(*ram);
    f.vcpus = static_cast<int>(*vcpus);
    f.disk_gb = static_cast<int>(*disk);
    if (in.contains("OS-FLV-EXT-DATA:ephemeral")) {
        auto v = nova::CheckInteger("OS-FLV-EXT-DATA:ephemeral", in["OS-FLV-EXT-DATA:ephemeral"], 0);
        if (!v.ok()) return v.error();
        f.ephemeral_gb = static_cast<int>(*v);
    }
    if (in.contains("swap")) {
        auto v = nova::CheckInteger("swap", in["swap"], 0);
        if (!v.ok()) return v.error();
        f.swap_mb = static_cast<int>(*v);
    }
    if (in.contains("rxtx_factor")) {
        const auto& v = in["rxtx_factor"];
        double r = 0;
        if (v.is_number()) {
            r = v.get<double>();
        } else if (v.is_string()) {
            try {
                r = std::stod(v.get<std::string>());
            } catch (const std::exception&) {
                return nova::BadField("rxtx_factor", v, nova::PyRepr(v) + " does not match '^[0-9]+(\\.[0-9]+)?$'");
            }
        } else {
            return nova::BadField("rxtx_factor", v, nova::PyRepr(v) + " is not of type 'number', 'string'");
        }
        if (!(r > 0) || r > 3.40282e+38)
            return nova::BadField("rxtx_factor", v, nova::PyRepr(v) + " is less than or equal to the minimum of 0");
        f.rxtx_factor = r;
    }
    if (in.contains("os-flavor-access:is_public")) {
        auto b = nova::CheckBoolean("os-flavor-access:is_public", in["os-flavor-access:is_public"]);
        if (!b.ok()) return b.error();
        f.is_public = *b;
    }
    if (in.contains("description")) {
        const auto& d = in["description"];
        if (!d.is_null() && !d.is_string())
            return nova::BadField("description", d, nova::PyRepr(d) + " is not of type 'string', 'null'");
        if (d.is_string()) {
            if (d.get_ref<const std::string&>().size() > 65535)
                return nova::BadField("description", d, nova::PyRepr(d) + " is too long");
            f.description = d.get<std::string>();
        }
    }
    if (in.contains("id") && !in["id"].is_null()) {
        const auto& idj = in["id"];
        if (idj.is_number()) {
            f.id = idj.is_number_integer() ? std::to_string(idj.get<long long>()) : idj.dump();
        } else if (idj.is_string()) {
            f.id = idj.get<std::string>();
        } else {
            return nova::BadField("id", idj, nova::PyRepr(idj) + " is not of type 'string', 'number', 'null'");
        }
        if (!ValidFlavorId(f.id))
            return nova::BadField("id", idj, nova::PyRepr(idj) + " does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'");
    } else {
        f.id = NewUuid();
    }
    for (const auto& [id, other] : st.flavors) {
        if (other.name == f.name)
            return MakeError(ErrorCode::kConflict, "Flavor with name " + f.name + " already exists.");
    }
    if (st.flavors.count(f.id)) return MakeError(ErrorCode::kConflict, "Flavor with ID " + f.id + " already exists.");
    f.number = st.next_flavor_number++;
    st.SaveFlavor(f);
    auto& stored = st.flavors[f.id] = std::move(f);
    return nova::JsonResponse(200, {{"flavor", FlavorFull(st, c, stored)}});
}

Resp UpdateFlavor(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-manage:update"); !ok) return ok.error();
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    auto fj = nova::RequireObjectMember(*body, "flavor");
    if (!fj.ok()) return fj.error();
    if (auto ok = nova::NoAdditional(*body, {"flavor"}); !ok) return ok.error();
    if (auto ok = nova::NoAdditional(**fj, {"description"}); !ok) return ok.error();
    if (!(*fj)->contains("description")) return nova::BadRequest("'description' is a required property");
    const auto& d = (**fj)["description"];
    if (!d.is_null() && !d.is_string())
        return nova::BadField("description", d, nova::PyRepr(d) + " is not of type 'string', 'null'");
    if (d.is_string() && d.get_ref<const std::string&>().size() > 65535)
        return nova::BadField("description", d, nova::PyRepr(d) + " is too long");
    auto it = st.flavors.find(c.req.Param("flavor_id"));
    if (it == st.flavors.end()) return FlavorNotFound(c.req.Param("flavor_id"));
    if (d.is_string())
        it->second.description = d.get<std::string>();
    else
        it->second.description.reset();
    st.SaveFlavor(it->second);
    return nova::JsonResponse(200, {{"flavor", FlavorFull(st, c, it->second)}});
}

Resp DeleteFlavor(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-manage:delete"); !ok) return ok.error();
    const auto& id = c.req.Param("flavor_id");
    auto it = st.flavors.find(id);
    if (it == st.flavors.end()) return FlavorNotFound(id);
    st.flavors.erase(it);
    if (st.ctx.store.Durable()) st.ctx.store.Erase(kFlavorsCollection, id);
    return http::Response::Empty(202);
}

// os-extra_specs: readable by anyone who sees the flavor, writable by admins.
Result<nova::Flavor*> FlavorForSpecs(nova::ServiceState& st, Call& c) {
    const auto& id = c.req.Param("flavor_id");
    if (!st.VisibleFlavor(c, id)) return FlavorNotFound(id);
    return &st.flavors.find(id)->second;
}

Result<std::map<std::string, std::string>> CheckExtraSpecs(const json& v) {
    if (!v.is_object()) return nova::BadField("extra_specs", v, nova::PyRepr(v) + " is not of type 'object'");
    std::map<std::string, std::string> out;
    for (const auto& [k, val] : v.items()) {
        bool key_ok = !k.empty() && k.size() <= 255 && std::all_of(k.begin(), k.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '-' || ch == '_' || ch == ':' || ch == '.' || ch == ' ';
        });
        if (!key_ok) return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
        if (val.is_string()) {
            if (val.get_ref<const std::string&>().size() > 255)
                return nova::BadField(k, val, nova::PyRepr(val) + " is too long");
            out[k] = val.get<std::string>();
        } else if (val.is_boolean()) {
            out[k] = val.get<bool>() ? "True" : "False";
        } else if (val.is_number()) {
            out[k] = val.dump();
        } else {
            return nova::BadField(k, val, nova::PyRepr(val) + " is not of type 'string', 'number', 'boolean'");
        }
    }
    return out;
}

Error SpecNotFound(std::string_view flavor, std::string_view key) {
    return MakeError(ErrorCode::kNotFound,
                     "Flavor " + std::string(flavor) + " has no extra specs with key " + std::string(key) + ".");
}

// ---- keypairs -----------------------------------------------------------------------------

// The user whose keypairs a request addresses: ?user_id= is for admins only (2.10+).
Result<std::string> KeypairUser(const Call& c, std::string_view action) {
    auto q = c.req.Query("user_id");
    if (!q || !c.ver.AtLeast(10) || *q == c.who.user_id) return c.who.user_id;
    if (!c.Admin()) return nova::PolicyError("os_compute_api:os-keypairs:" + std::string(action));
    return std::string(*q);
}

json KeypairBrief(const Call& c, const nova::Keypair& k) {
    json j = {{"name", k.name}, {"public_key", k.public_key}, {"fingerprint", k.fingerprint}};
    if (c.ver.AtLeast(2)) j["type"] = k.type;
    return j;
}

Resp ListKeypairs(nova::ServiceState& st, Call& c) {
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : c.req.query)
            if (k != "user_id" && k != "limit" && k != "marker")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    auto user = KeypairUser(c, "index");
    if (!user.ok()) return user.error();
    std::vector<const nova::Keypair*> rows;
    for (const auto& [key, k] : st.keypairs)
        if (k.user_id == *user) rows.push_back(&k);
    std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->name < b->name; });
    bool paging = c.ver.AtLeast(35);
    long long max_items = 1000;
    if (paging) {
        auto limit = nova::QueryLimit(c.req);
        if (!limit.ok()) return limit.error();
        max_items = std::min<long long>(limit->value_or(1000), 1000);
        if (auto marker = c.req.Query("marker")) {
            auto it = std::find_if(rows.begin(), rows.end(), [&](auto* k) { return k->name == *marker; });
            if (it == rows.end()) return nova::BadRequest("Marker " + std::string(*marker) + " could not be found.");
            rows.erase(rows.begin(), it + 1);
        }
        if (static_cast<long long>(rows.size()) > max_items) rows.resize(static_cast<std::size_t>(max_items));
    }
    json list = json::array();
    for (const auto* k : rows) list.push_back({{"keypair", KeypairBrief(c, *k)}});
    json body = {{"keypairs", list}};
    if (paging && max_items > 0 && static_cast<long long>(rows.size()) == max_items) {
        http::QueryParams q;
        for (const auto& [k, v] : c.req.query)
            if (k != "marker") q.emplace_back(k, v);
        q.emplace_back("marker", rows.back()->name);
        body["keypairs_links"] =
            json::array({{{"rel", "next"}, {"href", st.ctx.ComputeUrl() + "/os-keypairs?" + http::EncodeQuery(q)}}});
    }
    return nova::JsonResponse(200, body);
}

Resp CreateKeypair(nova::ServiceState& st, Call& c) {
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    auto kj = nova::RequireObjectMember(*body, "keypair");
    if (!kj.ok()) return kj.error();
    if (auto ok = nova::NoAdditional(*body, {"keypair"}); !ok) return ok.error();
    const json& in = **kj;
    Status fields = c.ver.AtLeast(10)  ? nova::NoAdditional(in, {"name", "type", "public_key", "user_id"})
                    : c.ver.AtLeast(2) ? nova::NoAdditional(in, {"name", "type", "public_key"})
                                       : nova::NoAdditional(in, {"name", "public_key"});
    if (!fields) return fields.error();
    if (!in.contains("name")) return nova::BadRequest("'name' is a required property");
    if (auto ok = nova::CheckName("name", in["name"]); !ok) return ok.error();
    std::string name = in["name"].get<std::string>();
    std::string type = "ssh";
    if (in.contains("type")) {
        const auto& t = in["type"];
        if (!t.is_string()) return nova::BadField("type", t, nova::PyRepr(t) + " is not of type 'string'");
        type = t.get<std::string>();
        if (type != "ssh" && type != "x509")
            return nova::BadField("type", t, nova::PyRepr(t) + " is not one of ['ssh', 'x509']");
    }
    if (in.contains("public_key")) {
        if (auto ok = nova::CheckString("public_key", in["public_key"], std::string::npos); !ok) return ok.error();
    }
    std::string user_id = c.who.user_id;
    if (in.contains("user_id")) {
        if (auto ok = nova::CheckString("user_id", in["user_id"], std::string::npos); !ok) return ok.error();
        user_id = in["user_id"].get<std::string>();
        if (user_id != c.who.user_id && !c.Admin()) return nova::PolicyError("os_compute_api:os-keypairs:create");
    }
    // Nova before 2.92 allows only these characters in keypair names.
    bool safe = std::all_of(name.begin(), name.end(),
                            [](unsigned char ch) { return std::isalnum(ch) || ch == '_' || ch == '-' || ch == ' '; });
    if (!safe) return nova::BadRequest("Keypair data is invalid: Keypair name contains unsafe characters");
    int count = 0;
    for (const auto& [key, k] : st.keypairs) count += k.user_id == user_id;
    if (count >= st.quotas.key_pairs) return MakeError(ErrorCode::kForbidden, "Quota exceeded, too many key pairs.");
    if (st.FindKeypair(user_id, name))
        return MakeError(ErrorCode::kConflict, "Key pair '" + name + "' already exists.");

    nova::Keypair k;
    k.name = name;
    k.user_id = user_id;
    k.type = type;
    std::optional<std::string> private_key;
    if (in.contains("public_key")) {
        k.public_key = in["public_key"].get<std::string>();
        auto fp = type == "x509" ? nova::X509Fingerprint(k.public_key) : nova::SshFingerprint(k.public_key);
        if (!fp) return nova::BadRequest("Keypair data is invalid: failed to generate fingerprint");
        k.fingerprint = *fp;
    } else {
        auto generated = type == "x509" ? nova::GenerateX509Keypair(user_id) : nova::GenerateSshKeypair();
        if (!generated.ok()) return generated.error();
        k.public_key = generated->public_key;
        k.fingerprint = generated->fingerprint;
        private_key = generated->private_key;
    }
    k.created_at = std::chrono::system_clock::now();
    k.number = st.next_keypair_number++;
    st.SaveKeypair(k);
    json out = {{"name", k.name}, {"public_key", k.public_key}, {"fingerprint", k.fingerprint}, {"user_id", k.user_id}};
    if (c.ver.AtLeast(2)) out["type"] = k.type;
    if (private_key) out["private_key"] = *private_key;
    st.keypairs[KeypairKey(k.user_id, k.name)] = std::move(k);
    return nova::JsonResponse(c.ver.AtLeast(2) ? 201 : 200, {{"keypair", out}});
}

Error KeypairNotFound(std::string_view name, std::string_view user) {
    return MakeError(ErrorCode::kNotFound, "Keypair " + std::string(name) + " not found for user " + std::string(user));
}

Resp ShowKeypair(nova::ServiceState& st, Call& c) {
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : c.req.query)
            if (k != "user_id")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    auto user = KeypairUser(c, "show");
    if (!user.ok()) return user.error();
    const auto& name = c.req.Param("keypair_name");
    const auto* k = st.FindKeypair(*user, name);
    if (!k) return KeypairNotFound(name, *user);
    json j = {{"name", k->name},
              {"public_key", k->public_key},
              {"fingerprint", k->fingerprint},
              {"user_id", k->user_id},
              {"created_at", PyTime(k->created_at)},
              {"updated_at", nullptr},
              {"deleted_at", nullptr},
              {"deleted", false},
              {"id", k->number}};
    if (c.ver.AtLeast(2)) j["type"] = k->type;
    return nova::JsonResponse(200, {{"keypair", j}});
}

Resp DeleteKeypair(nova::ServiceState& st, Call& c) {
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : c.req.query)
            if (k != "user_id")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    auto user = KeypairUser(c, "delete");
    if (!user.ok()) return user.error();
    const auto& name = c.req.Param("keypair_name");
    auto it = st.keypairs.find(KeypairKey(*user, name));
    if (it == st.keypairs.end()) return KeypairNotFound(name, *user);
    st.keypairs.erase(it);
    if (st.ctx.store.Durable()) st.ctx.store.Erase(kKeypairsCollection, KeypairKey(*user, name));
    return http::Response::Empty(c.ver.AtLeast(2) ? 204 : 202);
}

// ---- limits, availability zones -------------------------------------------------------------

Resp ShowLimits(nova::ServiceState& st, Call& c) {
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : c.req.query)
            if (k != "tenant_id")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    std::string project = c.who.project_id;
    if (auto t = c.req.Query("tenant_id")) {
        if (!c.Admin()) return nova::PolicyError("os_compute_api:limits:other_project");
        project = std::string(*t);
    }
    const auto& q = st.quotas;
    auto u = st.UsageOf(project);
    json a = {
        {"maxServerMeta", q.metadata_items},
        {"maxTotalCores", q.cores},
        {"maxTotalInstances", q.instances},
        {"maxTotalKeypairs", q.key_pairs},
        {"maxTotalRAMSize", q.ram},
        {"maxServerGroups", q.server_groups},
        {"maxServerGroupMembers", q.server_group_members},
        {"totalCoresUsed", u.cores},
        {"totalInstancesUsed", u.instances},
        {"totalRAMUsed", u.ram},
        {"totalServerGroupsUsed", 0},
    };
    if (!c.ver.AtLeast(36)) {
        // The nova-network era limits, gone with the proxy APIs in 2.36.
        a["maxSecurityGroups"] = 10;
        a["maxSecurityGroupRules"] = 20;
        a["maxTotalFloatingIps"] = 10;
        a["totalSecurityGroupsUsed"] = 0;
        a["totalFloatingIpsUsed"] = 0;
    }
    if (!c.ver.AtLeast(39)) a["maxImageMeta"] = q.metadata_items;
    if (!c.ver.AtLeast(57)) {
        a["maxPersonality"] = q.injected_files;
        a["maxPersonalitySize"] = q.injected_file_content_bytes;
    }
    return nova::JsonResponse(200, {{"limits", {{"absolute", a}, {"rate", json::array()}}}});
}

Resp ListZones(nova::ServiceState& st, Call& c, bool detail) {
    if (detail)
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-availability-zone:detail"); !ok) return ok.error();
    json zones = json::array();
    std::string updated = PyTime(std::chrono::system_clock::now());
    // availability_zones.get_availability_zones: a zone is available while one of its services is
    // enabled; a zone whose services are all disabled is listed as unavailable, without hosts.
    const auto& hypervisors = st.compute.Hypervisors();
    bool computes = !hypervisors.empty();
    bool nova_available =
        std::any_of(hypervisors.begin(), hypervisors.end(), [](const Hypervisor& h) { return !h.service.disabled; });
    if (!detail) {
        if (computes)
            zones.push_back({{"zoneName", "nova"}, {"zoneState", {{"available", nova_available}}}, {"hosts", nullptr}});
        return nova::JsonResponse(200, {{"availabilityZoneInfo", zones}});
    }
    json internal_hosts = json::object(), nova_hosts = json::object();
    for (const auto& row : ServiceRows(st.ctx, st.compute)) {
        auto& target = row.zone == "internal" ? internal_hosts : nova_hosts;
        target[row.host][row.binary] = {
            {"available", StateOf(row.record) == "up"}, {"active", !row.record.disabled}, {"updated_at", updated}};
    }
    zones.push_back({{"zoneName", "internal"}, {"zoneState", {{"available", true}}}, {"hosts", internal_hosts}});
    if (computes)
        zones.push_back({{"zoneName", "nova"},
                         {"zoneState", {{"available", nova_available}}},
                         {"hosts", nova_available ? nova_hosts : json(nullptr)}});
    return nova::JsonResponse(200, {{"availabilityZoneInfo", zones}});
}

// ---- hypervisors, services, aggregates ------------------------------------------------------

json CpuInfo(const Hypervisor& h) {
    return {{"arch", "x86_64"},
            {"model", "Broadwell-noTSX-IBRS"},
            {"vendor", "Intel"},
            {"topology", {{"cells", 1}, {"sockets", 1}, {"cores", h.vcpus}, {"threads", 1}}},
            {"features", json::array({"sse4.2", "avx2", "aes", "vmx"})}};
}

const ServiceRow* ComputeServiceOf(const std::vector<ServiceRow>& rows, const Hypervisor& h) {
    for (const auto& r : rows)
        if (r.binary == "nova-compute" && r.host == h.hostname) return &r;
    return nullptr;
}

json HypervisorServers(const nova::ServiceState& st, const Hypervisor& h) {
    json list = json::array();
    for (const auto* s : st.compute.Servers())
        if (s->host == h.hostname) list.push_back({{"name", nova::InstanceName(s->number)}, {"uuid", s->id}});
    return list;
}

json HypervisorView(
    const nova::ServiceState& st, const Call& c, const Hypervisor& h, bool detail, std::optional<bool> with_servers) {
    bool uuids = c.ver.AtLeast(53);
    // The state and status are those of the host's nova-compute service; the resources below stay
    // reported while it is disabled or down, as Nova's compute node record keeps them.
    json j = {{"id", uuids ? json(h.uuid) : json(h.id)},
              {"hypervisor_hostname", h.hostname},
              {"state", StateOf(h.service)},
              {"status", StatusOf(h.service)}};
    if (detail) {
        auto rows = ServiceRows(st.ctx, st.compute);
        const auto* svc = ComputeServiceOf(rows, h);
        int mem_used = h.reserved_memory_mb + h.memory_mb_used;  // Nova counts the host's reservation as used
        j["vcpus"] = h.vcpus;
        j["vcpus_used"] = h.vcpus_used;
        j["memory_mb"] = h.memory_mb;
        j["memory_mb_used"] = mem_used;
        j["free_ram_mb"] = h.memory_mb - mem_used;
        j["local_gb"] = h.disk_gb;
        j["local_gb_used"] = h.disk_gb_used;
        j["free_disk_gb"] = h.disk_gb - h.disk_gb_used;
        j["disk_available_least"] = h.disk_gb - h.disk_gb_used;
        j["current_workload"] = 0;
        j["running_vms"] = h.running_vms;
        j["hypervisor_type"] = "fake";
        j["hypervisor_version"] = 1000;
        j["host_ip"] = st.ctx.config.listen_address;
        j["cpu_info"] = c.ver.AtLeast(28) ? CpuInfo(h) : json(CpuInfo(h).dump());
        j["service"] = {{"host", h.hostname},
                        {"id", uuids ? json(svc ? svc->uuid : "") : json(svc ? svc->id : 0)},
                        {"disabled_reason", OptionalString(h.service.disabled_reason)}};
    }
    if (uuids && with_servers) {
        if (*with_servers) {
            auto servers = HypervisorServers(st, h);
            if (!servers.empty() || c.ver.AtLeast(75)) j["servers"] = servers;
        }
    }
    return j;
}

Resp ListHypervisors(nova::ServiceState& st, Call& c, bool detail) {
    if (auto ok = nova::RequireAdmin(
            c, detail ? "os_compute_api:os-hypervisors:list-detail" : "os_compute_api:os-hypervisors:list");
        !ok)
        return ok.error();
    const auto& req = c.req;
    std::optional<bool> with_servers;
    std::optional<std::string> pattern;
    if (c.ver.AtLeast(53)) {
        for (const auto& [k, v] : req.query)
            if (k != "limit" && k != "marker" && k != "hypervisor_hostname_pattern" && k != "with_servers")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
        if (auto v = req.Query("with_servers")) {
            auto b = nova::CheckBoolean("with_servers", json(std::string(*v)));
            if (!b.ok())
                return nova::BadQuery("with_servers", *v,
                                      "'" + std::string(*v) +
                                          "' is not one of [True, 'True', "
                                          "'TRUE', 'true', '1', 'ON', 'On', "
                                          "'on', 'YES', 'Yes', 'yes', False, "
                                          "'False', 'FALSE', 'false', '0', "
                                          "'OFF', 'Off', 'off', 'NO', 'No', "
                                          "'no']");
            with_servers = *b;
        }
        if (auto v = req.Query("hypervisor_hostname_pattern")) pattern = std::string(*v);
    }
    std::vector<const Hypervisor*> rows;
    for (const auto& h : st.compute.Hypervisors())
        if (!pattern || h.hostname.find(*pattern) != std::string::npos) rows.push_back(&h);
    if (pattern) {
        if (req.Query("limit") || req.Query("marker"))
            return nova::BadRequest("Paging over a list of hypervisors using a hostname pattern is not supported.");
        if (rows.empty())
            return MakeError(ErrorCode::kNotFound, "No hypervisor matching '" + *pattern + "' could be found.");
    }
    bool paging = c.ver.AtLeast(33);
    long long max_items = 1000;
    if (paging) {
        auto limit = nova::QueryLimit(req);
        if (!limit.ok()) return limit.error();
        max_items = std::min<long long>(limit->value_or(1000), 1000);
        if (auto marker = req.Query("marker")) {
            auto it = std::find_if(rows.begin(), rows.end(), [&](const Hypervisor* h) {
                return c.ver.AtLeast(53) ? h->uuid == *marker : std::to_string(h->id) == *marker;
            });
            if (it == rows.end()) return nova::BadRequest("marker [" + std::string(*marker) + "] not found");
            rows.erase(rows.begin(), it + 1);
        }
        if (static_cast<long long>(rows.size()) > max_items) rows.resize(static_cast<std::size_t>(max_items));
    }
    json list = json::array();
    for (const auto* h : rows) list.push_back(HypervisorView(st, c, *h, detail, with_servers));
    json body = {{"hypervisors", list}};
    if (paging && !rows.empty() && req.Query("limit") && static_cast<long long>(rows.size()) == max_items) {
        http::QueryParams q;
        for (const auto& [k, v] : req.query)
            if (k != "marker") q.emplace_back(k, v);
        q.emplace_back("marker", c.ver.AtLeast(53) ? rows.back()->uuid : std::to_string(rows.back()->id));
        body["hypervisors_links"] =
            json::array({{{"rel", "next"},
                          {"href", st.ctx.ComputeUrl() + (detail ? "/os-hypervisors/detail?" : "/os-hypervisors?") +
                                       http::EncodeQuery(q)}}});
    }
    return nova::JsonResponse(200, body);
}

Result<const Hypervisor*> FindHypervisorById(nova::ServiceState& st, const Call& c, const std::string& id) {
    if (c.ver.AtLeast(53) && !nova::IsUuidLike(id)) return nova::BadRequest("Invalid uuid " + id);
    for (const auto& h : st.compute.Hypervisors())
        if (c.ver.AtLeast(53) ? h.uuid == id : std::to_string(h.id) == id) return &h;
    return MakeError(ErrorCode::kNotFound, "Hypervisor with ID '" + id + "' could not be found.");
}

Resp ShowHypervisor(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-hypervisors:show"); !ok) return ok.error();
    std::optional<bool> with_servers;
    if (c.ver.AtLeast(53)) {
        for (const auto& [k, v] : c.req.query)
            if (k != "with_servers")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
        if (auto v = c.req.Query("with_servers")) {
            auto b = nova::BoolFromString(*v);
            if (!b) return nova::BadQuery("with_servers", *v, "'" + std::string(*v) + "' is not a valid boolean");
            with_servers = *b;
        }
    }
    auto h = FindHypervisorById(st, c, c.req.Param("hypervisor_id"));
    if (!h.ok()) return h.error();
    return nova::JsonResponse(200, {{"hypervisor", HypervisorView(st, c, **h, true, with_servers)}});
}

Resp HypervisorUptime(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-hypervisors:uptime"); !ok) return ok.error();
    auto h = FindHypervisorById(st, c, c.req.Param("hypervisor_id"));
    if (!h.ok()) return h.error();
    // The format of uptime(1), which clients parse.
    auto now = std::chrono::system_clock::now();
    auto up = std::chrono::duration_cast<std::chrono::minutes>(now - st.compute.StartedAt()).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[128];
    std::snprintf(buf, sizeof buf,
                  " %02d:%02d:%02d up %lld days, %2lld:%02lld,  0 users,  load average: 0.00, 0.00, 0.00", tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<long long>(up / 1440), static_cast<long long>((up % 1440) / 60),
                  static_cast<long long>(up % 60));
    json j = HypervisorView(st, c, **h, false, std::nullopt);
    j["uptime"] = std::string(buf);
    return nova::JsonResponse(200, {{"hypervisor", j}});
}

Resp HypervisorSearch(nova::ServiceState& st, Call& c, bool servers) {
    if (auto ok = nova::RequireAdmin(
            c, servers ? "os_compute_api:os-hypervisors:servers" : "os_compute_api:os-hypervisors:search");
        !ok)
        return ok.error();
    const auto& pattern = c.req.Param("hypervisor_hostname_pattern");
    json list = json::array();
    for (const auto& h : st.compute.Hypervisors()) {
        if (h.hostname.find(pattern) == std::string::npos) continue;
        json j = HypervisorView(st, c, h, false, std::nullopt);
        if (servers) {
            auto s = HypervisorServers(st, h);
            if (!s.empty()) j["servers"] = s;
        }
        list.push_back(j);
    }
    if (list.empty())
        return MakeError(ErrorCode::kNotFound, "No hypervisor matching '" + pattern + "' could be found.");
    return nova::JsonResponse(200, {{"hypervisors", list}});
}

Resp HypervisorStatistics(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-hypervisors:statistics"); !ok) return ok.error();
    // db.compute_node_statistics joins the compute nodes with their enabled nova-compute services:
    // a disabled host drops out of the sums (a forced-down one does not).
    long long count = 0, vcpus = 0, vcpus_used = 0, mem = 0, mem_used = 0, disk = 0, disk_used = 0, vms = 0;
    for (const auto& h : st.compute.Hypervisors()) {
        if (h.service.disabled) continue;
        ++count;
        vcpus += h.vcpus;
        vcpus_used += h.vcpus_used;
        mem += h.memory_mb;
        mem_used += h.reserved_memory_mb + h.memory_mb_used;
        disk += h.disk_gb;
        disk_used += h.disk_gb_used;
        vms += h.running_vms;
    }
    json s = {{"count", count},
              {"vcpus", vcpus},
              {"vcpus_used", vcpus_used},
              {"memory_mb", mem},
              {"memory_mb_used", mem_used},
              {"free_ram_mb", mem - mem_used},
              {"local_gb", disk},
              {"local_gb_used", disk_used},
              {"free_disk_gb", disk - disk_used},
              {"disk_available_least", disk - disk_used},
              {"current_workload", 0},
              {"running_vms", vms}};
    return nova::JsonResponse(200, {{"hypervisor_statistics", s}});
}

// ServiceController._get_service_detail: forced_down from 2.11, the UUID as id from 2.53.
json ServiceView(const Call& c, const ServiceRow& row, const std::string& updated, bool forced_down) {
    json j = {{"id", c.ver.AtLeast(53) ? json(row.uuid) : json(row.id)},
              {"binary", row.binary},
              {"host", row.host},
              {"zone", row.zone},
              {"status", StatusOf(row.record)},
              {"state", StateOf(row.record)},
              {"updated_at", updated},
              {"disabled_reason", OptionalString(row.record.disabled_reason)}};
    if (forced_down) j["forced_down"] = row.record.forced_down;
    return j;
}

Resp ListServices(nova::ServiceState& st, Call& c) {
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-services:list"); !ok) return ok.error();
    if (c.ver.AtLeast(75))
        for (const auto& [k, v] : c.req.query)
            if (k != "host" && k != "binary")
                return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
    auto host = c.req.Query("host");
    auto binary = c.req.Query("binary");
    std::string updated = PyTime(std::chrono::system_clock::now());
    json list = json::array();
    for (const auto& row : ServiceRows(st.ctx, st.compute)) {
        if (host && !host->empty() && row.host != *host) continue;
        if (binary && !binary->empty() && row.binary != *binary) continue;
        list.push_back(ServiceView(c, row, updated, c.ver.AtLeast(11)));
    }
    return nova::JsonResponse(200, {{"services", list}});
}

// schemas/services.py: the properties in the schema's order (jsonschema reports the first failing
// keyword), then `required`, then additionalProperties.
Status CheckServiceBody(const json& body, bool legacy, bool forced_down_allowed) {
    if (!body.is_object()) return nova::BadRequest(nova::PyRepr(body) + " is not of type 'object'");
    if (legacy) {
        if (body.contains("host")) {
            const auto& h = body["host"];
            if (auto ok = nova::CheckString("host", h, 255, 1); !ok) return ok;
            const auto& s = h.get_ref<const std::string&>();
            bool fqdn = std::all_of(s.begin(), s.end(), [](unsigned char ch) {
                return std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_';
            });
            if (!fqdn) return nova::BadField("host", h, nova::PyRepr(h) + " does not match '^[a-zA-Z0-9-._]*$'");
        }
        if (body.contains("binary"))
            if (auto ok = nova::CheckString("binary", body["binary"], 255, 1); !ok) return ok;
    } else if (body.contains("status")) {
        const auto& v = body["status"];
        if (auto ok = nova::CheckString("status", v, SIZE_MAX); !ok) return ok;
        if (v != "enabled" && v != "disabled")
            return nova::BadField("status", v, nova::PyRepr(v) + " is not one of ['enabled', 'disabled']");
    }
    if (body.contains("disabled_reason"))
        if (auto ok = nova::CheckString("disabled_reason", body["disabled_reason"], 255, 1); !ok) return ok;
    if (forced_down_allowed && body.contains("forced_down"))
        if (auto ok = nova::CheckBoolean("forced_down", body["forced_down"]); !ok.ok()) return ok.error();
    if (legacy) {
        for (const char* key : {"host", "binary"})
            if (!body.contains(key)) return nova::BadRequest("'" + std::string(key) + "' is a required property");
        return forced_down_allowed ? nova::NoAdditional(body, {"host", "binary", "disabled_reason", "forced_down"})
                                   : nova::NoAdditional(body, {"host", "binary", "disabled_reason"});
    }
    return nova::NoAdditional(body, {"status", "disabled_reason", "forced_down"});
}

Error NotComputeService(std::string_view binary) {
    return nova::BadRequest("Updating a " + std::string(binary) +
                            " service is not supported. Only nova-compute services can be updated.");
}

// PUT /os-services/{enable,disable,disable-log-reason,force-down} before 2.53: the body names the
// service by host and binary; the answer echoes what changed.
Resp UpdateServiceLegacy(nova::ServiceState& st, Call& c) {
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    bool v211 = c.ver.AtLeast(11);
    if (auto ok = CheckServiceBody(*body, true, v211); !ok) return ok.error();
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-services:update"); !ok) return ok.error();
    const auto& action = c.req.Param("service_id");
    bool force_down = v211 && action == "force-down";
    if (action != "enable" && action != "disable" && action != "disable-log-reason" && !force_down)
        return MakeError(ErrorCode::kNotFound, "Unknown action");
    if (action == "disable-log-reason" && !body->contains("disabled_reason"))
        return nova::BadRequest("Missing disabled reason field");
    if (force_down && !body->contains("forced_down")) return nova::BadRequest("Missing forced_down field");
    std::string host = (*body)["host"];
    std::string binary = (*body)["binary"];
    if (binary != "nova-compute") return NotComputeService(binary);
    const auto* h = st.compute.FindHypervisor(host);
    if (!h) return MakeError(ErrorCode::kNotFound, "Host '" + host + "' is not mapped to any cell");
    json out = {{"host", host}, {"binary", binary}};
    ComputeService record = h->service;
    if (force_down) {
        record.forced_down = *nova::CheckBoolean("forced_down", (*body)["forced_down"]);
        out["forced_down"] = record.forced_down;
    } else {
        record.disabled = action != "enable";
        record.disabled_reason.reset();
        if (action == "disable-log-reason") record.disabled_reason = (*body)["disabled_reason"].get<std::string>();
        out["status"] = StatusOf(record);
        if (record.disabled_reason) out["disabled_reason"] = *record.disabled_reason;
    }
    st.compute.UpdateComputeService(host, record);
    return nova::JsonResponse(200, {{"service", out}});
}

// PUT /os-services/{service_id} from 2.53: the service by UUID, the full record back.
Resp UpdateService(nova::ServiceState& st, Call& c) {
    if (!c.ver.AtLeast(53)) return UpdateServiceLegacy(st, c);
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    if (auto ok = CheckServiceBody(*body, false, true); !ok) return ok.error();
    const auto& id = c.req.Param("service_id");
    if (!nova::IsUuidLike(id)) return nova::BadRequest("Invalid uuid " + id);
    if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-services:update"); !ok) return ok.error();
    auto rows = ServiceRows(st.ctx, st.compute);
    auto row = std::find_if(rows.begin(), rows.end(), [&](const ServiceRow& r) { return r.uuid == id; });
    if (row == rows.end()) return MakeError(ErrorCode::kNotFound, "Service " + id + " could not be found.");
    if (row->binary != "nova-compute") return NotComputeService(row->binary);
    auto& record = row->record;
    bool changed = false;
    if (body->contains("status")) {
        changed = true;
        if ((*body)["status"] == "enabled") {
            if (body->contains("disabled_reason"))  // the schema has made it a non-empty string
                return nova::BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
            record.disabled = false;
            record.disabled_reason.reset();
        } else {
            record.disabled = true;
            record.disabled_reason.reset();
            if (body->contains("disabled_reason"))
                record.disabled_reason = (*body)["disabled_reason"].get<std::string>();
        }
    }
    if (body->contains("forced_down")) {
        changed = true;
        record.forced_down = *nova::CheckBoolean("forced_down", (*body)["forced_down"]);
    }
    if (!changed)
        return nova::BadRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    st.compute.UpdateComputeService(row->host, record);
    return nova::JsonResponse(200, {{"service", ServiceView(c, *row, PyTime(std::chrono::system_clock::now()), true)}});
}

// ---- flavor access --------------------------------------------------------------------------

json AccessList(const nova::Flavor& f) {
    json list = json::array();
    for (const auto& p : f.projects) list.push_back({{"flavor_id", f.id}, {"tenant_id", p}});
    return list;
}

}  // namespace

void NovaService::AddRoutes(http::Router& router) {
    auto& st = *state_;
    using M = http::Method;
    auto bind = [&st](Resp (*fn)(nova::ServiceState&, Call&)) { return [&st, fn](Call& c) { return fn(st, c); }; };

    // Version discovery is unauthenticated, as keystoneauth expects.
    router.Get(std::string(kComputePrefix), [&st](http::Request&) -> Resp {
        json v2 = {{"id", "v2.0"},
                   {"status", "SUPPORTED"},
                   {"version", ""},
                   {"min_version", ""},
                   {"updated", "2011-01-21T11:33:21Z"},
                   {"links", json::array({{{"rel", "self"}, {"href", st.ComputeBase() + "/v2/"}}})}};
        json v21 = VersionDoc(st.ctx, false);
        return nova::JsonResponse(200, {{"versions", json::array({v2, v21})}});
    });
    router.Get(std::string(kComputePrefix) + "/v2.1", [&st](http::Request& req) -> Resp {
        auto ver = nova::RequestedVersion(req);
        if (!ver.ok()) return ver.error();
        auto r = nova::JsonResponse(200, {{"version", VersionDoc(st.ctx, true)}});
        nova::AddVersionHeaders(r, *ver);
        return r;
    });

    st.Route(router, M::kGet, "/flavors", [&st](Call& c) { return ListFlavors(st, c, false); });
    st.Route(router, M::kGet, "/flavors/detail", [&st](Call& c) { return ListFlavors(st, c, true); });
    st.Route(router, M::kPost, "/flavors", bind(CreateFlavor));
    st.Route(router, M::kGet, "/flavors/{flavor_id}", bind(ShowFlavor));
    st.Route(router, M::kPut, "/flavors/{flavor_id}", bind(UpdateFlavor), 55);
    st.Route(router, M::kDelete, "/flavors/{flavor_id}", bind(DeleteFlavor));
    st.Route(router, M::kGet, "/flavors/{flavor_id}/os-extra_specs", [&st](Call& c) -> Resp {
        auto f = FlavorForSpecs(st, c);
        if (!f.ok()) return f.error();
        return nova::JsonResponse(200, {{"extra_specs", (*f)->extra_specs}});
    });
    st.Route(router, M::kPost, "/flavors/{flavor_id}/os-extra_specs", [&st](Call& c) -> Resp {
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-extra-specs:create"); !ok) return ok.error();
        auto body = c.req.JsonBody();
        if (!body.ok()) return body.error();
        if (!body->is_object()) return nova::BadRequest(nova::PyRepr(*body) + " is not of type 'object'");
        if (!body->contains("extra_specs")) return nova::BadRequest("'extra_specs' is a required property");
        if (auto ok = nova::NoAdditional(*body, {"extra_specs"}); !ok) return ok.error();
        auto specs = CheckExtraSpecs((*body)["extra_specs"]);
        if (!specs.ok()) return specs.error();
        auto f = FlavorForSpecs(st, c);
        if (!f.ok()) return f.error();
        for (const auto& [k, v] : *specs) (*f)->extra_specs[k] = v;
        st.SaveFlavor(**f);
        return nova::JsonResponse(200, {{"extra_specs", *specs}});
    });
    st.Route(router, M::kGet, "/flavors/{flavor_id}/os-extra_specs/{key}", [&st](Call& c) -> Resp {
        auto f = FlavorForSpecs(st, c);
        if (!f.ok()) return f.error();
        const auto& key = c.req.Param("key");
        auto it = (*f)->extra_specs.find(key);
        if (it == (*f)->extra_specs.end()) return SpecNotFound((*f)->id, key);
        return nova::JsonResponse(200, {{key, it->second}});
    });
    st.Route(router, M::kPut, "/flavors/{flavor_id}/os-extra_specs/{key}", [&st](Call& c) -> Resp {
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-extra-specs:update"); !ok) return ok.error();
        auto body = c.req.JsonBody();
        if (!body.ok()) return body.error();
        auto specs = CheckExtraSpecs(*body);
        if (!specs.ok()) return specs.error();
        const auto& key = c.req.Param("key");
        if (specs->size() > 1) return nova::BadRequest("Request body contains too many items");
        if (specs->empty() || specs->begin()->first != key) return nova::BadRequest("Request body and URI mismatch");
        auto f = FlavorForSpecs(st, c);
        if (!f.ok()) return f.error();
        (*f)->extra_specs[key] = specs->begin()->second;
        st.SaveFlavor(**f);
        return nova::JsonResponse(200, {{key, specs->begin()->second}});
    });
    st.Route(router, M::kDelete, "/flavors/{flavor_id}/os-extra_specs/{key}", [&st](Call& c) -> Resp {
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-extra-specs:delete"); !ok) return ok.error();
        auto f = FlavorForSpecs(st, c);
        if (!f.ok()) return f.error();
        const auto& key = c.req.Param("key");
        if (!(*f)->extra_specs.erase(key)) return SpecNotFound((*f)->id, key);
        st.SaveFlavor(**f);
        return http::Response::Empty(202);
    });
    st.Route(router, M::kGet, "/flavors/{flavor_id}/os-flavor-access", [&st](Call& c) -> Resp {
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-flavor-access"); !ok) return ok.error();
        const auto& id = c.req.Param("flavor_id");
        auto it = st.flavors.find(id);
        if (it == st.flavors.end()) return FlavorNotFound(id);
        if (it->second.is_public)
            return MakeError(ErrorCode::kNotFound, "Access list not available for public flavors.");
        return nova::JsonResponse(200, {{"flavor_access", AccessList(it->second)}});
    });
    st.Route(router, M::kPost, "/flavors/{flavor_id}/action", [&st](Call& c) -> Resp {
        auto body = c.req.JsonBody();
        if (!body.ok() || !body->is_object() || body->size() != 1) return nova::BadRequest("Malformed request body");
        std::string action = body->begin().key();
        bool add = action == "addTenantAccess";
        if (!add && action != "removeTenantAccess") return nova::BadRequest("There is no such action: " + action);
        if (auto ok = nova::RequireAdmin(c, add ? "os_compute_api:os-flavor-access:add_tenant_access"
                                                : "os_compute_api:os-flavor-access:remove_tenant_access");
            !ok)
            return ok.error();
        const json& in = body->begin().value();
        if (!in.is_object()) return nova::BadField(action, in, nova::PyRepr(in) + " is not of type 'object'");
        if (auto ok = nova::NoAdditional(in, {"tenant"}); !ok) return ok.error();
        if (!in.contains("tenant")) return nova::BadRequest("'tenant' is a required property");
        if (auto ok = nova::CheckString("tenant", in["tenant"], 255, 1); !ok) return ok.error();
        std::string tenant = in["tenant"].get<std::string>();
        const auto& id = c.req.Param("flavor_id");
        auto it = st.flavors.find(id);
        if (it == st.flavors.end()) return FlavorNotFound(id);
        auto& f = it->second;
        auto pos = std::find(f.projects.begin(), f.projects.end(), tenant);
        if (add) {
            if (f.is_public) return MakeError(ErrorCode::kConflict, "Can not add access to a public flavor.");
            if (pos != f.projects.end())
                return MakeError(ErrorCode::kConflict, "Flavor access already exists for flavor " + id +
                                                           " and project " + tenant + " combination.");
            f.projects.push_back(tenant);
        } else {
            if (pos == f.projects.end())
                return MakeError(ErrorCode::kNotFound,
                                 "Flavor access not found for " + id + " / " + tenant + " combination.");
            f.projects.erase(pos);
        }
        st.SaveFlavor(f);
        return nova::JsonResponse(200, {{"flavor_access", AccessList(f)}});
    });

    st.Route(router, M::kGet, "/os-keypairs", bind(ListKeypairs));
    st.Route(router, M::kPost, "/os-keypairs", bind(CreateKeypair));
    st.Route(router, M::kGet, "/os-keypairs/{keypair_name}", bind(ShowKeypair));
    st.Route(router, M::kDelete, "/os-keypairs/{keypair_name}", bind(DeleteKeypair));

    st.Route(router, M::kGet, "/limits", bind(ShowLimits));
    st.Route(router, M::kGet, "/os-availability-zone", [&st](Call& c) { return ListZones(st, c, false); });
    st.Route(router, M::kGet, "/os-availability-zone/detail", [&st](Call& c) { return ListZones(st, c, true); });

    st.Route(router, M::kGet, "/os-hypervisors", [&st](Call& c) { return ListHypervisors(st, c, false); });
    st.Route(router, M::kGet, "/os-hypervisors/detail", [&st](Call& c) { return ListHypervisors(st, c, true); });
    st.Route(router, M::kGet, "/os-hypervisors/statistics", bind(HypervisorStatistics));
    st.Route(router, M::kGet, "/os-hypervisors/{hypervisor_id}", bind(ShowHypervisor));
    st.Route(router, M::kGet, "/os-hypervisors/{hypervisor_id}/uptime", bind(HypervisorUptime));
    st.Route(
        router, M::kGet, "/os-hypervisors/{hypervisor_hostname_pattern}/search",
        [&st](Call& c) { return HypervisorSearch(st, c, false); }, 1, 52);
    st.Route(
        router, M::kGet, "/os-hypervisors/{hypervisor_hostname_pattern}/servers",
        [&st](Call& c) { return HypervisorSearch(st, c, true); }, 1, 52);
    st.Route(router, M::kGet, "/os-services", bind(ListServices));
    st.Route(router, M::kPut, "/os-services/{service_id}", bind(UpdateService));
    st.Route(router, M::kGet, "/os-aggregates", [](Call& c) -> Resp {
        // No host aggregates exist in a cloudlet; `openstack hypervisor show` lists them.
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-aggregates:index"); !ok) return ok.error();
        return nova::JsonResponse(200, {{"aggregates", json::array()}});
    });

    nova::AddServerRoutes(st, router);
}

}  // namespace shoal::emulator
