// The servers part of the emulated Nova API: create, list, show, update, delete, actions,
// metadata, tags and ips.

#include <arpa/inet.h>
#include <regex.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <memory>
#include <set>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "emulator/nova/nova_api.hpp"

namespace shoal::emulator {

namespace {

using nova::Call;
using nova::json;
using Resp = Result<http::Response>;
using Server = FakeCompute::Server;
using State = nova::ServiceState;

constexpr int kMaxLimit = 1000;  // [api] max_limit

// ---- status ------------------------------------------------------------------------------

// nova.api.openstack.common._STATE_MAP, for the states a cloudlet's servers go through plus the
// rest of the table so that every status Nova accepts as a filter is recognised.
struct StateRow {
    std::string_view vm_state;
    std::string_view task_state;  // "" is the default for that vm_state
    std::string_view status;
};
constexpr StateRow kStateMap[] = {
    {"active", "", "ACTIVE"},
    {"active", "rebooting", "REBOOT"},
    {"active", "reboot_pending", "REBOOT"},
    {"active", "reboot_started", "REBOOT"},
    {"active", "rebooting_hard", "HARD_REBOOT"},
    {"active", "reboot_pending_hard", "HARD_REBOOT"},
    {"active", "reboot_started_hard", "HARD_REBOOT"},
    {"active", "updating_password", "PASSWORD"},
    {"active", "rebuilding", "REBUILD"},
    {"active", "rebuild_block_device_mapping", "REBUILD"},
    {"active", "rebuild_spawning", "REBUILD"},
    {"active", "migrating", "MIGRATING"},
    {"active", "resize_prep", "RESIZE"},
    {"active", "resize_migrating", "RESIZE"},
    {"active", "resize_migrated", "RESIZE"},
    {"active", "resize_finish", "RESIZE"},
    {"building", "", "BUILD"},
    {"stopped", "", "SHUTOFF"},
    {"stopped", "resize_prep", "RESIZE"},
    {"stopped", "resize_migrating", "RESIZE"},
    {"stopped", "resize_migrated", "RESIZE"},
    {"stopped", "resize_finish", "RESIZE"},
    {"stopped", "rebuilding", "REBUILD"},
    {"stopped", "rebuild_block_device_mapping", "REBUILD"},
    {"stopped", "rebuild_spawning", "REBUILD"},
    {"resized", "", "VERIFY_RESIZE"},
    {"resized", "resize_reverting", "REVERT_RESIZE"},
    {"paused", "", "PAUSED"},
    {"paused", "migrating", "MIGRATING"},
    {"suspended", "", "SUSPENDED"},
    {"rescued", "", "RESCUE"},
    {"error", "", "ERROR"},
    {"error", "rebuilding", "REBUILD"},
    {"deleted", "", "DELETED"},
    {"soft-delete", "", "SOFT_DELETED"},
    {"shelved", "", "SHELVED"},
    {"shelved_offloaded", "", "SHELVED_OFFLOADED"},
};

std::string StatusOf(const Server& s) {
    std::string_view task = s.task_state ? std::string_view(*s.task_state) : std::string_view();
    std::string_view fallback;
    for (const auto& row : kStateMap) {
        if (row.vm_state != s.vm_state) continue;
        if (!task.empty() && row.task_state == task) return std::string(row.status);
        if (row.task_state.empty()) fallback = row.status;
    }
    return fallback.empty() ? "UNKNOWN" : std::string(fallback);
}

// common.task_and_vm_state_from_status: which (vm_state, task_state) pairs a status filter selects.
struct StatusFilter {
    std::set<std::string> vm_states;
    std::set<std::string> task_states;  // empty together with any_task
    bool any_task = false;
    bool Matches(const Server& s) const {
        if (!vm_states.count(s.vm_state)) return false;
        return any_task || (s.task_state && task_states.count(*s.task_state));
    }
};

std::optional<StatusFilter> StatusFilterFor(const std::vector<std::string_view>& statuses) {
    StatusFilter f;
    for (auto status : statuses) {
        std::string upper(status);
        std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
        for (const auto& row : kStateMap) {
            if (row.status != upper) continue;
            f.vm_states.insert(std::string(row.vm_state));
            if (row.task_state.empty())
                f.any_task = true;
            else
                f.task_states.insert(std::string(row.task_state));
        }
    }
    if (f.vm_states.empty()) return std::nullopt;
    return f;
}

// ---- views --------------------------------------------------------------------------------

enum class View { kShow, kDetail, kUpdate };

bool InProgressStatus(const std::string& status) {
    return status == "ACTIVE" || status == "BUILD" || status == "REBUILD" || status == "RESIZE" ||
           status == "VERIFY_RESIZE" || status == "MIGRATING";
}

json ServerView(const State& st, const Call& c, const Server& s, View view) {
    // Before 2.75 a PUT answers with a reduced representation; from 2.75 on it is the full one.
    bool full = view != View::kUpdate || c.ver.AtLeast(75);
    std::string status = StatusOf(s);
    json j = {
        {"id", s.id},
        {"name", s.name},
        {"status", status},
        {"tenant_id", s.project_id},
        {"user_id", s.user_id},
        {"metadata", s.metadata},
        {"hostId", s.host.empty() ? std::string() : Sha224Hex(s.project_id + s.host)},
        {"created", FormatIso8601(s.created)},
        {"updated", FormatIso8601(s.updated)},
        // No Neutron in a cloudlet: servers have no ports, hence no addresses.
        {"addresses", json::object()},
        {"accessIPv4", s.access_ipv4},
        {"accessIPv6", s.access_ipv6},
        {"links", st.Links("servers", s.id)},
        {"OS-DCF:diskConfig", s.auto_disk_config ? "AUTO" : "MANUAL"},
    };
    if (s.image_id.empty()) {
        j["image"] = "";
    } else {
        j["image"] = {{"id", s.image_id},
                      {"links", json::array({{{"rel", "bookmark"}, {"href", st.BookmarkLink("images", s.image_id)}}})}};
    }
    const auto& f = s.flavor;
    if (c.ver.AtLeast(47)) {
        j["flavor"] = {{"vcpus", f.vcpus},
                       {"ram", f.ram_mb},
                       {"disk", f.disk_gb},
                       {"ephemeral", f.ephemeral_gb},
                       {"swap", f.swap_mb},
                       {"original_name", f.name},
                       {"extra_specs", f.extra_specs}};
    } else {
        j["flavor"] = {{"id", f.id},
                       {"links", json::array({{{"rel", "bookmark"}, {"href", st.BookmarkLink("flavors", f.id)}}})}};
    }
    if ((status == "ERROR" || status == "DELETED") && s.fault)
        j["fault"] = {
            {"code", s.fault->code}, {"created", FormatIso8601(s.fault->created)}, {"message", s.fault->message}};
    if (InProgressStatus(status)) j["progress"] = 0;  // the fake driver never reports progress

    if (full) {
        j["OS-EXT-AZ:availability_zone"] = s.availability_zone;
        j["config_drive"] = s.config_drive ? "True" : "";
        j["key_name"] = s.key_name ? json(*s.key_name) : json(nullptr);
        j["OS-SRV-USG:launched_at"] = s.launched_at ? json(FormatIso8601MicroNoZone(*s.launched_at)) : json(nullptr);
        j["OS-SRV-USG:terminated_at"] = nullptr;
        if (c.Admin()) {
            j["OS-EXT-SRV-ATTR:host"] = s.host.empty() ? json(nullptr) : json(s.host);
            j["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s.host.empty() ? json(nullptr) : json(s.host);
            j["OS-EXT-SRV-ATTR:instance_name"] = nova::InstanceName(s.number);
            if (c.ver.AtLeast(3)) {
                j["OS-EXT-SRV-ATTR:reservation_id"] = s.reservation_id;
                j["OS-EXT-SRV-ATTR:launch_index"] = s.launch_index;
                j["OS-EXT-SRV-ATTR:hostname"] = s.hostname;
                j["OS-EXT-SRV-ATTR:kernel_id"] = "";
                j["OS-EXT-SRV-ATTR:ramdisk_id"] = "";
                j["OS-EXT-SRV-ATTR:root_device_name"] = s.launched_at ? json("/dev/vda") : json(nullptr);
                j["OS-EXT-SRV-ATTR:user_data"] = s.user_data ? json(*s.user_data) : json(nullptr);
            }
        }
        j["OS-EXT-STS:task_state"] = s.task_state ? json(*s.task_state) : json(nullptr);
        j["OS-EXT-STS:vm_state"] = s.vm_state;
        j["OS-EXT-STS:power_state"] = s.power_state;
        j["os-extended-volumes:volumes_attached"] = json::array();
        if (c.ver.AtLeast(16) && c.Admin()) j["host_status"] = s.host.empty() ? "" : "UP";
    }
    if (c.ver.AtLeast(9)) j["locked"] = s.locked;
    if (c.ver.AtLeast(19)) j["description"] = s.description ? json(*s.description) : json(nullptr);
    if (c.ver.AtLeast(26)) j["tags"] = s.tags;
    if (c.ver.AtLeast(63))
        j["trusted_image_certificates"] =
            s.trusted_image_certificates ? json(*s.trusted_image_certificates) : json(nullptr);
    // server_groups is in show and update, not in the detailed list (as in Nova).
    if (c.ver.AtLeast(71) && view != View::kDetail) j["server_groups"] = json::array();
    if (c.ver.AtLeast(73)) j["locked_reason"] = s.locked_reason ? json(*s.locked_reason) : json(nullptr);
    return j;
}

// ---- lookups ------------------------------------------------------------------------------

Error InstanceNotFound(std::string_view id) {
    return MakeError(ErrorCode::kNotFound, "Instance " + std::string(id) + " could not be found.");
}

// common.get_instance: an invalid UUID or another project's server is simply not found.
Result<const Server*> GetServer(State& st, const Call& c, const std::string& id) {
    if (!nova::IsUuidLike(id)) return InstanceNotFound(id);
    const Server* s = st.compute.Find(id);
    if (!s || (s->project_id != c.who.project_id && !c.Admin())) return InstanceNotFound(id);
    return s;
}

Status CheckLock(const Call& c, const Server& s) {
    if (s.locked && !c.Admin()) return MakeError(ErrorCode::kConflict, "Instance " + s.id + " is locked");
    return Ok{};
}

// check_instance_state for API-side operations (metadata, tags).
Status CheckMutable(const Server& s, std::string_view action) {
    static const std::set<std::string, std::less<>> kOk = {"active", "paused", "suspended", "stopped"};
    if (!kOk.count(s.vm_state))
        return MakeError(ErrorCode::kConflict, "Cannot '" + std::string(action) + "' instance " + s.id +
                                                   " while it is in vm_state " + s.vm_state);
    if (s.task_state)
        return MakeError(ErrorCode::kConflict, "Cannot '" + std::string(action) + "' instance " + s.id +
                                                   " while it is in task_state " + *s.task_state);
    return Ok{};
}

std::string IdFromHref(const std::string& href) {
    auto q = href.find_first_of("?#");
    std::string path = href.substr(0, q);
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// nova.utils.sanitize_hostname
std::string SanitizeHostname(const std::string& name, const std::string& id) {
    std::string h;
    for (char ch : name) {
        unsigned char u = static_cast<unsigned char>(ch);
        if (ch == ' ' || ch == '_')
            h.push_back('-');
        else if (std::isalnum(u) || ch == '.' || ch == '-')
            h.push_back(static_cast<char>(std::tolower(u)));
    }
    if (h.size() > 63) h.resize(63);
    while (!h.empty() && (h.front() == '.' || h.front() == '-')) h.erase(h.begin());
    while (!h.empty() && (h.back() == '.' || h.back() == '-')) h.pop_back();
    return h.empty() ? "server-" + id : h;
}

bool IsIp(const std::string& s, int family) {
    unsigned char buf[16];
    return inet_pton(family, s.c_str(), buf) == 1;
}

bool IsBase64(const std::string& s) {
    return Base64Decode(s).ok();
}

// parameter_types.tag: 1-60 characters without '/' or ','.
Status CheckTag(std::string_view field, const json& t) {
    if (auto ok = nova::CheckString(field, t, 60, 1); !ok) return ok;
    const auto& s = t.get_ref<const std::string&>();
    if (s.find('/') != std::string::npos || s.find(',') != std::string::npos)
        return nova::BadField(field, t, nova::PyRepr(t) + " does not match '^[^,/]*$'");
    return Ok{};
}

Result<std::vector<std::string>> CheckTags(const json& v) {
    if (!v.is_array()) return nova::BadField("tags", v, nova::PyRepr(v) + " is not of type 'array'");
    if (v.size() > 50) return nova::BadField("tags", v, nova::PyRepr(v) + " is too long");
    std::vector<std::string> out;
    for (const auto& t : v) {
        if (auto ok = CheckTag("tags", t); !ok) return ok.error();
        if (std::find(out.begin(), out.end(), t.get<std::string>()) == out.end()) out.push_back(t.get<std::string>());
    }
    return out;
}

// ---- create -------------------------------------------------------------------------------

struct CreateRequest {
    std::string name;
    std::string image_ref;
    std::string flavor_ref;
    std::optional<std::string> admin_pass;
    std::map<std::string, std::string> metadata;
    std::optional<std::string> description;
    std::optional<std::string> key_name;
    std::optional<std::string> availability_zone;
    std::optional<std::string> user_data;
    std::vector<std::string> tags;
    std::optional<std::vector<std::string>> trusted_certs;
    std::string host;
    std::string node;
    std::string access_ipv4;
    std::string access_ipv6;
    bool auto_disk_config = false;
    bool config_drive = false;
    bool return_reservation_id = false;
    long long min_count = 1;
    long long max_count = 1;
    json security_groups = json::array();
    bool boot_from_volume = false;
};

Status CheckNetworks(const Call& c, const json& server) {
    if (!server.contains("networks")) {
        if (c.ver.AtLeast(37)) return nova::BadRequest("'networks' is a required property");
        return Ok{};
    }
    const json& nets = server["networks"];
    if (nets.is_string() && c.ver.AtLeast(37)) {
        if (nets == "none" || nets == "auto") return Ok{};  // no ports either way: there is no Neutron
        return nova::BadField("networks", nets, nova::PyRepr(nets) + " is not valid under any of the given schemas");
    }
    if (!nets.is_array()) {
        return nova::BadField("networks", nets,
                              nova::PyRepr(nets) + (c.ver.AtLeast(37) ? " is not valid under any of the given schemas"
                                                                      : " is not of type 'array'"));
    }
    bool tagged = c.ver.minor == 32 || c.ver.AtLeast(42);
    for (const auto& n : nets) {
        if (!n.is_object())
            return nova::BadField("networks", n,
                                  nova::PyRepr(n) + (c.ver.AtLeast(37) ? " is not valid under any of the given schemas"
                                                                       : " is not of type 'object'"));
        if (auto ok = tagged ? nova::NoAdditional(n, {"fixed_ip", "port", "uuid", "tag"})
                             : nova::NoAdditional(n, {"fixed_ip", "port", "uuid"});
            !ok)
            return ok;
        if (n.contains("port") && !n["port"].is_null()) {
            const auto& p = n["port"];
            if (!p.is_string() || !nova::IsUuidLike(p.get<std::string>()))
                return nova::BadField("port", p, nova::PyRepr(p) + " is not a 'uuid'");
            return nova::BadRequest("Port " + p.get<std::string>() + " could not be found.");
        }
        if (!n.contains("uuid")) return nova::BadRequest("Bad network format: missing 'uuid'");
        const auto& u = n["uuid"];
        if (!u.is_string()) return nova::BadField("uuid", u, nova::PyRepr(u) + " is not of type 'string'");
        if (!nova::IsUuidLike(u.get<std::string>())) {
            if (c.ver.AtLeast(37)) return nova::BadField("uuid", u, nova::PyRepr(u) + " is not a 'uuid'");
            return nova::BadRequest("Bad networks format: network uuid is not in proper format (" +
                                    u.get<std::string>() + ")");
        }
        if (n.contains("fixed_ip")) {
            const auto& ip = n["fixed_ip"];
            if (!ip.is_string() || !(IsIp(ip.get<std::string>(), AF_INET) || IsIp(ip.get<std::string>(), AF_INET6)))
                return nova::BadField("fixed_ip", ip,
                                      nova::PyRepr(ip) + " is not valid under any of the given schemas");
        }
        // A cloudlet has no networking service, so no network can be found.
        return nova::BadRequest("Network " + u.get<std::string>() + " could not be found.");
    }
    return Ok{};
}

Status CheckBlockDevices(const json& server, CreateRequest& r) {
    for (const char* key : {"block_device_mapping", "block_device_mapping_v2"}) {
        if (!server.contains(key)) continue;
        const auto& list = server[key];
        if (!list.is_array()) return nova::BadField(key, list, nova::PyRepr(list) + " is not of type 'array'");
        for (const auto& bdm : list) {
            if (!bdm.is_object()) return nova::BadField(key, bdm, nova::PyRepr(bdm) + " is not of type 'object'");
            std::string source = bdm.value("source_type", std::string());
            std::string dest = bdm.value("destination_type", std::string());
            bool volume = dest == "volume" || source == "volume" || source == "snapshot" || bdm.contains("volume_id") ||
                          bdm.contains("snapshot_id");
            if (volume) {
                r.boot_from_volume = true;
                return nova::BadRequest(
                    "Block Device Mapping is Invalid: this cloudlet has no block storage service, so volumes cannot "
                    "be attached.");
            }
        }
    }
    return Ok{};
}

Result<CreateRequest> ParseCreate(const Call& c, const json& body) {
    auto sj = nova::RequireObjectMember(body, "server");
    if (!sj.ok()) return sj.error();
    if (auto ok = nova::NoAdditional(body, {"server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"}); !ok)
        return ok.error();
    for (const char* hints : {"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"})
        if (body.contains(hints) && !body[hints].is_object())
            return nova::BadField(hints, body[hints], nova::PyRepr(body[hints]) + " is not of type 'object'");
    const json& s = **sj;

    std::vector<std::string_view> allowed = {"name",
                                             "imageRef",
                                             "flavorRef",
                                             "adminPass",
                                             "metadata",
                                             "networks",
                                             "OS-DCF:diskConfig",
                                             "accessIPv4",
                                             "accessIPv6",
                                             "availability_zone",
                                             "block_device_mapping",
                                             "block_device_mapping_v2",
                                             "config_drive",
                                             "key_name",
                                             "min_count",
                                             "max_count",
                                             "return_reservation_id",
                                             "security_groups",
                                             "user_data"};
    if (!c.ver.AtLeast(57)) allowed.push_back("personality");
    if (c.ver.AtLeast(19)) allowed.push_back("description");
    if (c.ver.AtLeast(52)) allowed.push_back("tags");
    if (c.ver.AtLeast(63)) allowed.push_back("trusted_image_certificates");
    if (c.ver.AtLeast(74)) {
        allowed.push_back("host");
        allowed.push_back("hypervisor_hostname");
    }
    std::vector<std::string> extra;
    for (const auto& [k, v] : s.items())
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) extra.push_back(nova::PyRepr(json(k)));
    if (!extra.empty()) {
        std::string list;
        for (std::size_t i = 0; i < extra.size(); ++i) list += (i ? ", " : "") + extra[i];
        return nova::BadRequest("Additional properties are not allowed (" + list +
                                (extra.size() == 1 ? " was" : " were") + " unexpected)");
    }
    for (const char* req : {"name", "flavorRef"})
        if (!s.contains(req)) return nova::BadRequest("'" + std::string(req) + "' is a required property");
    if (auto ok = CheckNetworks(c, s); !ok) return ok.error();

    CreateRequest r;
    if (auto ok = nova::CheckName("name", s["name"]); !ok) return ok.error();
    r.name = s["name"].get<std::string>();
    if (s.contains("imageRef")) {
        const auto& v = s["imageRef"];
        if (!v.is_string() || (!v.get_ref<const std::string&>().empty() && !nova::IsUuidLike(v.get<std::string>())))
            return nova::BadField("imageRef", v, nova::PyRepr(v) + " is not valid under any of the given schemas");
        r.image_ref = v.get<std::string>();
    }
    {
        const auto& v = s["flavorRef"];
        if (v.is_number_integer()) {
            r.flavor_ref = std::to_string(v.get<long long>());
        } else if (v.is_string()) {
            if (v.get_ref<const std::string&>().empty()) return nova::BadField("flavorRef", v, "'' is too short");
            r.flavor_ref = IdFromHref(v.get<std::string>());
        } else {
            return nova::BadField("flavorRef", v, nova::PyRepr(v) + " is not of type 'string', 'integer'");
        }
    }
    if (s.contains("adminPass")) {
        if (auto ok = nova::CheckString("adminPass", s["adminPass"], std::string::npos); !ok) return ok.error();
        r.admin_pass = s["adminPass"].get<std::string>();
    }
    if (s.contains("metadata")) {
        auto m = nova::CheckMetadata("metadata", s["metadata"]);
        if (!m.ok()) return m.error();
        r.metadata = std::move(m).value();
    }
    if (s.contains("OS-DCF:diskConfig")) {
        const auto& v = s["OS-DCF:diskConfig"];
        if (v != "AUTO" && v != "MANUAL")
            return nova::BadField("OS-DCF:diskConfig", v, nova::PyRepr(v) + " is not one of ['AUTO', 'MANUAL']");
        r.auto_disk_config = v == "AUTO";
    }
    for (auto [key, family, out] :
         {std::tuple{"accessIPv4", AF_INET, &r.access_ipv4}, std::tuple{"accessIPv6", AF_INET6, &r.access_ipv6}}) {
        if (!s.contains(key)) continue;
        const auto& v = s[key];
        if (!v.is_string() || !IsIp(v.get<std::string>(), family))
            return nova::BadField(key, v,
                                  nova::PyRepr(v) + " is not a '" + (family == AF_INET ? "ipv4" : "ipv6") + "'");
        *out = v.get<std::string>();
    }
    if (s.contains("personality")) {
        const auto& p = s["personality"];
        if (!p.is_array()) return nova::BadField("personality", p, nova::PyRepr(p) + " is not of type 'array'");
        for (const auto& file : p) {
            if (!file.is_object() || !file.contains("path") || !file.contains("contents"))
                return nova::BadField("personality", file, nova::PyRepr(file) + " is not valid");
        }
        if (p.size() > 5) return MakeError(ErrorCode::kForbidden, "Personality file limit exceeded");
    }
    if (s.contains("availability_zone")) {
        if (auto ok = nova::CheckName("availability_zone", s["availability_zone"]); !ok) return ok.error();
        r.availability_zone = s["availability_zone"].get<std::string>();
    }
    if (auto ok = CheckBlockDevices(s, r); !ok) return ok.error();
    if (s.contains("config_drive")) {
        auto b = nova::CheckBoolean("config_drive", s["config_drive"]);
        if (!b.ok()) return b.error();
        r.config_drive = *b;
    }
    if (s.contains("key_name")) {
        if (auto ok = nova::CheckName("key_name", s["key_name"]); !ok) return ok.error();
        r.key_name = s["key_name"].get<std::string>();
    }
    for (auto [key, out] : {std::pair{"min_count", &r.min_count}, std::pair{"max_count", &r.max_count}}) {
        if (!s.contains(key)) continue;
        auto n = nova::CheckInteger(key, s[key], 1);
        if (!n.ok()) return n.error();
        *out = *n;
    }
    if (!s.contains("max_count")) r.max_count = r.min_count;
    if (r.min_count > r.max_count) return nova::BadRequest("min_count must be <= max_count");
    if (s.contains("return_reservation_id")) {
        auto b = nova::CheckBoolean("return_reservation_id", s["return_reservation_id"]);
        if (!b.ok()) return b.error();
        r.return_reservation_id = *b;
    }
    if (s.contains("security_groups")) {
        const auto& g = s["security_groups"];
        if (!g.is_array()) return nova::BadField("security_groups", g, nova::PyRepr(g) + " is not of type 'array'");
        for (const auto& item : g) {
            if (!item.is_object())
                return nova::BadField("security_groups", item, nova::PyRepr(item) + " is not of type 'object'");
            if (auto ok = nova::NoAdditional(item, {"name"}); !ok) return ok.error();
            if (item.contains("name")) {
                if (auto ok = nova::CheckName("name", item["name"]); !ok) return ok.error();
                // A fresh project has only its default group, and there is no Neutron to make others.
                if (item["name"] != "default")
                    return nova::BadRequest("Security group " + item["name"].get<std::string>() + " not found.");
            }
        }
        r.security_groups = g;
    }
    if (s.contains("user_data")) {
        const auto& v = s["user_data"];
        if (auto ok = nova::CheckString("user_data", v, 65535); !ok) return ok.error();
        if (!IsBase64(v.get<std::string>()))
            return nova::BadField("user_data", v, nova::PyRepr(v) + " is not a 'base64'");
        r.user_data = v.get<std::string>();
    }
    if (s.contains("description")) {
        if (auto ok = nova::CheckDescription("description", s["description"]); !ok) return ok.error();
        if (s["description"].is_string()) r.description = s["description"].get<std::string>();
    }
    if (s.contains("tags")) {
        auto t = CheckTags(s["tags"]);
        if (!t.ok()) return t.error();
        r.tags = std::move(t).value();
    }
    if (s.contains("trusted_image_certificates")) {
        const auto& v = s["trusted_image_certificates"];
        if (!v.is_null()) {
            if (!v.is_array())
                return nova::BadField("trusted_image_certificates", v,
                                      nova::PyRepr(v) + " is not of type 'array', 'null'");
            if (v.empty()) return nova::BadField("trusted_image_certificates", v, nova::PyRepr(v) + " is too short");
            if (v.size() > 50) return nova::BadField("trusted_image_certificates", v, nova::PyRepr(v) + " is too long");
            std::vector<std::string> certs;
            for (const auto& cert : v) {
                if (auto ok = nova::CheckString("trusted_image_certificates", cert, std::string::npos, 1); !ok)
                    return ok.error();
                if (std::find(certs.begin(), certs.end(), cert.get<std::string>()) != certs.end())
                    return nova::BadField("trusted_image_certificates", v,
                                          nova::PyRepr(v) + " has non-unique elements");
                certs.push_back(cert.get<std::string>());
            }
            r.trusted_certs = std::move(certs);
        }
    }
    for (auto [key, out] : {std::pair{"host", &r.host}, std::pair{"hypervisor_hostname", &r.node}}) {
        if (!s.contains(key)) continue;
        if (auto ok = nova::CheckString(key, s[key], 255, 1); !ok) return ok.error();
        *out = s[key].get<std::string>();
    }
    return r;
}

// compute.API._check_num_instances_quota: as many as fit between min_count and max_count, or
// 403 "Quota exceeded for instances: Requested 5, but already used 8 of 10 instances".
Result<long long> CheckQuota(
    const State& st, const Call& c, const nova::Flavor& f, long long min_count, long long max_count) {
    const auto& q = st.quotas;
    auto used = st.UsageOf(c.who.project_id);
    // -1: unlimited, as in nova.conf.
    auto room = [](int limit, int in_use) -> long long {
        return limit < 0 ? std::numeric_limits<int>::max() : static_cast<long long>(limit) - in_use;
    };
    long long room_instances = room(q.instances, used.instances);
    long long room_cores = room(q.cores, used.cores);
    long long room_ram = room(q.ram, used.ram);
    long long allowed = room_instances;
    if (f.vcpus) allowed = std::min(allowed, room_cores / f.vcpus);
    if (f.ram_mb) allowed = std::min(allowed, room_ram / f.ram_mb);
    if (allowed >= max_count) return max_count;
    if (allowed >= min_count) return allowed;
    std::vector<std::string> overs, reqs, useds, limits;
    std::string count = min_count == max_count ? std::to_string(min_count)
                                               : std::to_string(min_count) + "-" + std::to_string(max_count);
    // Sorted like Nova's overs: cores, instances, ram.
    if (max_count * f.vcpus > room_cores) {
        overs.push_back("cores");
        reqs.push_back(std::to_string(max_count * f.vcpus));
        useds.push_back(std::to_string(used.cores));
        limits.push_back(std::to_string(q.cores));
    }
    if (max_count > room_instances) {
        overs.push_back("instances");
        reqs.push_back(count);
        useds.push_back(std::to_string(used.instances));
        limits.push_back(std::to_string(q.instances));
    }
    if (max_count * f.ram_mb > room_ram) {
        overs.push_back("ram");
        reqs.push_back(std::to_string(max_count * f.ram_mb));
        useds.push_back(std::to_string(used.ram));
        limits.push_back(std::to_string(q.ram));
    }
    auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
        return out;
    };
    return MakeError(ErrorCode::kForbidden, "Quota exceeded for " + join(overs) + ": Requested " + join(reqs) +
                                                ", but already used " + join(useds) + " of " + join(limits) + " " +
                                                join(overs));
}

Resp CreateServer(State& st, Call& c) {
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    auto parsed = ParseCreate(c, *body);
    if (!parsed.ok()) return parsed.error();
    auto& r = *parsed;

    // Where to build: "zone", "zone:host[:node]" (admins), or the 2.74 host/hypervisor_hostname.
    std::string requested_host;
    if (r.availability_zone) {
        std::string az = *r.availability_zone;
        auto colon = az.find(':');
        if (colon != std::string::npos) {
            std::string host = az.substr(colon + 1);
            az = az.substr(0, colon);
            auto node_colon = host.find(':');
            std::string node = node_colon == std::string::npos ? "" : host.substr(node_colon + 1);
            host = host.substr(0, node_colon);
            if (!host.empty() || !node.empty()) {
                if (!c.Admin()) return nova::PolicyError("os_compute_api:servers:create:forced_host");
                requested_host = host.empty() ? node : host;
                if (!st.compute.FindHypervisor(requested_host))
                    return nova::BadRequest("No valid host was found. Host " + requested_host + " not found.");
            }
        }
        if (az != "nova" && !az.empty()) return nova::BadRequest("The requested availability zone is not available");
    }
    if (!r.host.empty() || !r.node.empty()) {
        if (!c.Admin()) return nova::PolicyError("compute:servers:create:requested_destination");
        if (!requested_host.empty())
            return nova::BadRequest(
                "The requested availability zone contains ':'. Specifying host and hypervisor_hostname is not "
                "compatible with the forced host/node syntax of availability_zone.");
        if (!r.host.empty() && !st.compute.FindHypervisor(r.host))
            return nova::BadRequest("Compute host " + r.host + " could not be found.");
        if (!r.node.empty() && (!st.compute.FindHypervisor(r.node) || (!r.host.empty() && r.node != r.host)))
            return nova::BadRequest("Compute host " + (r.host.empty() ? r.node : r.host) + " could not be found.");
        requested_host = r.host.empty() ? r.node : r.host;
    }

    const nova::Flavor* flavor = st.VisibleFlavor(c, r.flavor_ref);
    if (!flavor) return nova::BadRequest("Flavor " + r.flavor_ref + " could not be found.");
    if (flavor->disabled) return nova::BadRequest("Flavor " + r.flavor_ref + " could not be found.");

    if (r.image_ref.empty()) return nova::BadRequest("Missing imageRef attribute");
    auto image = st.images.FindImage(c.who, r.image_ref);
    if (!image.ok()) {
        if (image.error().code == ErrorCode::kNotFound) return nova::BadRequest("Can not find requested image");
        return image.error();
    }
    if (image->status != "active") return nova::BadRequest("Image " + image->id + " is not active.");
    if (flavor->ram_mb < image->min_ram_mb)
        return nova::BadRequest("Flavor's memory is too small for requested image.");
    if (flavor->disk_gb > 0) {
        std::uint64_t flavor_bytes = static_cast<std::uint64_t>(flavor->disk_gb) << 30;
        std::uint64_t min_bytes = static_cast<std::uint64_t>(image->min_disk_gb) << 30;
        if (flavor_bytes < min_bytes)
            return nova::BadRequest(
                "Flavor's disk is smaller than the minimum size specified in image metadata. "
                "Flavor disk is " +
                std::to_string(flavor_bytes) + " bytes, minimum size is " + std::to_string(min_bytes) + " bytes.");
        if (image->size > flavor_bytes)
            return nova::BadRequest("Flavor's disk is too small for requested image. Flavor disk is " +
                                    std::to_string(flavor_bytes) + " bytes, image is " + std::to_string(image->size) +
                                    " bytes.");
    }
    if (r.key_name && !st.FindKeypair(c.who.user_id, *r.key_name))
        return nova::BadRequest("Invalid key_name provided.");
    if (static_cast<int>(r.metadata.size()) > st.quotas.metadata_items)
        return MakeError(ErrorCode::kForbidden, "Quota exceeded for metadata_items: Requested " +
                                                    std::to_string(r.metadata.size()) + ", but already used 0 of " +
                                                    std::to_string(st.quotas.metadata_items) + " metadata_items");
    auto count = CheckQuota(st, c, *flavor, r.min_count, r.max_count);
    if (!count.ok()) return count.error();

    auto now = std::chrono::system_clock::now();
    std::string reservation = "r-" + nova::RandomString(8, "abcdefghijklmnopqrstuvwxyz0123456789");
    std::string password =
        r.admin_pass.value_or(nova::RandomString(12, "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"));
    std::vector<Server> servers;
    for (long long i = 0; i < *count; ++i) {
        Server s;
        s.id = NewUuid();
        s.number = st.compute.NextServerNumber();
        s.name = *count > 1 ? r.name + "-" + std::to_string(i + 1) : r.name;
        s.hostname = SanitizeHostname(s.name, s.id);
        s.description = r.description;
        s.project_id = c.who.project_id;
        s.user_id = c.who.user_id;
        s.image_id = image->id;
        s.flavor =
            FakeCompute::FlavorSnapshot{flavor->id,      flavor->name,         flavor->vcpus,   flavor->ram_mb,
                                        flavor->disk_gb, flavor->ephemeral_gb, flavor->swap_mb, flavor->extra_specs};
        s.key_name = r.key_name;
        s.metadata = r.metadata;
        s.tags = r.tags;
        s.trusted_image_certificates = r.trusted_certs;
        s.user_data = r.user_data;
        s.access_ipv4 = r.access_ipv4;
        s.access_ipv6 = r.access_ipv6;
        s.config_drive = r.config_drive;
        s.auto_disk_config = r.auto_disk_config;
        s.reservation_id = reservation;
        s.launch_index = static_cast<int>(i);
        s.requested_host = requested_host;
        s.created = s.updated = now;
        servers.push_back(std::move(s));
    }
    std::string first_id = servers.front().id;
    bool auto_disk = servers.front().auto_disk_config;
    st.compute.Create(std::move(servers));

    if (r.return_reservation_id) return nova::JsonResponse(202, {{"reservation_id", reservation}});
    json sg = r.security_groups.empty() ? json::array({{{"name", "default"}}}) : r.security_groups;
    json out = {{"id", first_id},
                {"links", st.Links("servers", first_id)},
                {"OS-DCF:diskConfig", auto_disk ? "AUTO" : "MANUAL"},
                {"security_groups", sg},
                {"adminPass", password}};
    auto resp = nova::JsonResponse(202, {{"server", out}});
    resp.headers.Set("Location", st.SelfLink("servers", first_id));
    return resp;
}

// ---- list ---------------------------------------------------------------------------------

// Query parameters of GET /servers by microversion (the schema refuses others from 2.75).
bool KnownListParam(const Call& c, std::string_view k) {
    static const std::set<std::string, std::less<>> kBase = {"user_id",
                                                             "project_id",
                                                             "tenant_id",
                                                             "launch_index",
                                                             "image_ref",
                                                             "image",
                                                             "kernel_id",
                                                             "ramdisk_id",
                                                             "hostname",
                                                             "key_name",
                                                             "power_state",
                                                             "vm_state",
                                                             "task_state",
                                                             "host",
                                                             "node",
                                                             "flavor",
                                                             "reservation_id",
                                                             "launched_at",
                                                             "terminated_at",
                                                             "availability_zone",
                                                             "name",
                                                             "display_name",
                                                             "description",
                                                             "display_description",
                                                             "locked_by",
                                                             "uuid",
                                                             "root_device_name",
                                                             "config_drive",
                                                             "access_ip_v4",
                                                             "access_ip_v6",
                                                             "auto_disk_config",
                                                             "progress",
                                                             "sort_key",
                                                             "sort_dir",
                                                             "all_tenants",
                                                             "soft_deleted",
                                                             "deleted",
                                                             "status",
                                                             "changes-since",
                                                             "ip",
                                                             "ip6",
                                                             "created_at",
                                                             "limit",
                                                             "marker",
                                                             "block_device_mapping",
                                                             "services",
                                                             "metadata",
                                                             "system_metadata",
                                                             "info_cache",
                                                             "security_groups",
                                                             "pci_devices"};
    if (kBase.count(k)) return true;
    if (c.ver.AtLeast(26) && (k == "tags" || k == "tags-any" || k == "not-tags" || k == "not-tags-any")) return true;
    if (c.ver.AtLeast(66) && k == "changes-before") return true;
    if (c.ver.AtLeast(73) && k == "locked") return true;
    return false;
}

bool NonAdminListParam(const Call& c, std::string_view k) {
    static const std::set<std::string, std::less<>> kBase = {"reservation_id", "name",   "status",        "image",
                                                             "flavor",         "ip",     "changes-since", "all_tenants",
                                                             "limit",          "marker", "sort_key",      "sort_dir"};
    if (kBase.count(k)) return true;
    if (c.ver.AtLeast(5) && k == "ip6") return true;
    if (c.ver.AtLeast(26) && (k == "tags" || k == "tags-any" || k == "not-tags" || k == "not-tags-any")) return true;
    if (c.ver.AtLeast(66) && k == "changes-before") return true;
    if (c.ver.AtLeast(73) && k == "locked") return true;
    return false;
}

// A filter value that Nova matches as a regular expression (the database's REGEXP); POSIX
// extended syntax, or a plain substring when the pattern does not compile.
class Pattern {
public:
    explicit Pattern(const std::string& text) : text_(text) {
        ok_ = regcomp(&re_, text.c_str(), REG_EXTENDED | REG_NOSUB) == 0;
    }
    ~Pattern() {
        if (ok_) regfree(&re_);
    }
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    bool Matches(const std::string& value) const {
        if (!ok_) return value.find(text_) != std::string::npos;
        return regexec(&re_, value.c_str(), 0, nullptr, 0) == 0;
    }

private:
    std::string text_;
    regex_t re_{};
    bool ok_ = false;
};

std::vector<std::string> SplitComma(std::string_view s) {
    std::vector<std::string> out;
    while (true) {
        auto comma = s.find(',');
        out.emplace_back(s.substr(0, comma));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

// The value of a sort key, as a string that orders like the database column.
std::string SortValue(const Server& s, std::string_view key) {
    auto num = [](long long v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%020lld", v);
        return std::string(buf);
    };
    auto time = [](const std::optional<SystemTime>& t) { return t ? FormatIso8601Micro(*t) : std::string(); };
    if (key == "display_name") return s.name;
    if (key == "created_at") return FormatIso8601Micro(s.created);
    if (key == "updated_at") return FormatIso8601Micro(s.updated);
    if (key == "uuid") return s.id;
    if (key == "vm_state") return s.vm_state;
    if (key == "task_state") return s.task_state.value_or("");
    if (key == "power_state") return num(s.power_state);
    if (key == "host" || key == "node") return s.host;
    if (key == "project_id") return s.project_id;
    if (key == "user_id") return s.user_id;
    if (key == "launched_at") return time(s.launched_at);
    if (key == "key_name") return s.key_name.value_or("");
    if (key == "availability_zone") return s.availability_zone;
    if (key == "display_description") return s.description.value_or("");
    if (key == "progress") return num(0);
    if (key == "image_ref") return s.image_id;
    if (key == "instance_type_id") return s.flavor.id;
    if (key == "hostname") return s.hostname;
    if (key == "launch_index") return num(s.launch_index);
    if (key == "locked_by" || key == "locked") return s.locked ? (s.locked_by_admin ? "admin" : "owner") : "";
    if (key == "access_ip_v4") return s.access_ipv4;
    if (key == "access_ip_v6") return s.access_ipv6;
    if (key == "config_drive") return s.config_drive ? "True" : "";
    if (key == "auto_disk_config") return s.auto_disk_config ? "1" : "0";
    if (key == "id") return num(s.number);
    if (key == "reservation_id") return s.reservation_id;
    return "";
}

const std::vector<std::string>& IgnoredSortKeys() {
    static const std::vector<std::string> kKeys = {"architecture",
                                                   "cell_name",
                                                   "cleaned",
                                                   "default_ephemeral_device",
                                                   "default_swap_device",
                                                   "deleted",
                                                   "deleted_at",
                                                   "disable_terminate",
                                                   "ephemeral_gb",
                                                   "ephemeral_key_uuid",
                                                   "id",
                                                   "key_data",
                                                   "launched_on",
                                                   "locked",
                                                   "memory_mb",
                                                   "os_type",
                                                   "reservation_id",
                                                   "root_gb",
                                                   "shutdown_terminate",
                                                   "user_data",
                                                   "vcpus",
                                                   "vm_mode"};
    return kKeys;
}

const std::vector<std::string>& ValidSortKeys() {
    static const std::vector<std::string> kKeys = {"access_ip_v4",
                                                   "access_ip_v6",
                                                   "auto_disk_config",
                                                   "availability_zone",
                                                   "config_drive",
                                                   "created_at",
                                                   "display_description",
                                                   "display_name",
                                                   "host",
                                                   "hostname",
                                                   "image_ref",
                                                   "instance_type_id",
                                                   "kernel_id",
                                                   "key_name",
                                                   "launch_index",
                                                   "launched_at",
                                                   "locked_by",
                                                   "node",
                                                   "power_state",
                                                   "progress",
                                                   "project_id",
                                                   "ramdisk_id",
                                                   "root_device_name",
                                                   "task_state",
                                                   "terminated_at",
                                                   "updated_at",
                                                   "user_id",
                                                   "uuid",
                                                   "vm_state"};
    return kKeys;
}

Resp ListServers(State& st, Call& c, bool detail) {
    const auto& req = c.req;
    for (const auto& [k, v] : req.query) {
        if (c.ver.AtLeast(75) && !KnownListParam(c, k) && !(k.size() > 0 && k[0] == '_'))
            return nova::BadRequest("Additional properties are not allowed ('" + k + "' was unexpected)");
        if (k == "changes-since" || k == "changes-before") {
            if (!ParseIso8601(v)) return nova::BadQuery(k, v, "'" + v + "' is not a 'date-time'");
        }
    }
    auto limit = nova::QueryLimit(req);
    if (!limit.ok()) return limit.error();

    // Filters a non-admin may not use are silently dropped, as Nova's remove_invalid_options does.
    auto allowed = [&](std::string_view k) { return c.Admin() || NonAdminListParam(c, k); };
    auto param = [&](std::string_view k) -> std::optional<std::string> {
        if (!allowed(k)) return std::nullopt;
        auto v = req.Query(k);
        return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    if (c.Admin()) {
        for (const char* joined : {"block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
                                   "security_groups", "pci_devices"})
            if (req.Query(joined)) return nova::BadRequest("Invalid filter field: " + std::string(joined) + ".");
        for (const auto& [k, v] : req.query)
            if (!k.empty() && k[0] == '_') return nova::BadRequest("Invalid filter field: " + k + ".");
    }

    bool all_tenants = false;
    if (auto v = req.Query("all_tenants")) {
        auto b = v->empty() ? std::optional<bool>(true) : nova::BoolFromString(*v);
        if (!b)
            return nova::BadRequest("Invalid input received: Unrecognized value '" + std::string(*v) +
                                    "', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                                    "'true', 'y', 'yes'");
        all_tenants = *b;
    }
    if (all_tenants && !c.Admin())
        return nova::PolicyError(detail ? "os_compute_api:servers:detail:get_all_tenants"
                                        : "os_compute_api:servers:index:get_all_tenants");
    std::optional<std::string> project = c.who.project_id;
    if (all_tenants) {
        project.reset();
        if (auto p = param("project_id")) project = *p;
        if (auto p = param("tenant_id")) project = *p;
    }

    std::optional<StatusFilter> status;
    auto statuses = req.QueryAll("status");
    if (!statuses.empty()) {
        status = StatusFilterFor(statuses);
        if (!status) {
            if (c.ver.AtLeast(38)) return nova::BadRequest("Invalid status value");
            json empty = {{"servers", json::array()}};
            return nova::JsonResponse(200, empty);
        }
    }
    auto since = param("changes-since");
    auto before = c.ver.AtLeast(66) ? param("changes-before") : std::nullopt;
    std::optional<SystemTime> since_t = since ? ParseIso8601(*since) : std::nullopt;
    std::optional<SystemTime> before_t = before ? ParseIso8601(*before) : std::nullopt;
    if (since_t && before_t && *since_t > *before_t)
        return nova::BadRequest("The value of changes-since must be less than or equal to changes-before.");
    std::optional<bool> locked;
    if (auto v = c.ver.AtLeast(73) ? param("locked") : std::nullopt) {
        locked = nova::BoolFromString(*v);
        if (!locked)
            return nova::BadRequest("Unrecognized value '" + *v +
                                    "', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                                    "'true', 'y', 'yes'");
    }
    if (c.Admin() && req.Query("deleted") && nova::BoolFromString(*req.Query("deleted")).value_or(false))
        return nova::JsonResponse(200, {{"servers", json::array()}});  // deleted servers are not kept

    // Sorting: Nova's defaults (created_at desc, then id) and its rules for keys and directions.
    std::vector<std::string> keys, dirs;
    for (auto k : req.QueryAll("sort_key")) keys.emplace_back(k);
    for (auto d : req.QueryAll("sort_dir")) dirs.emplace_back(d);
    for (std::size_t i = 0; i < keys.size();) {
        const auto& valid = ValidSortKeys();
        bool ok =
            std::find(valid.begin(), valid.end(), keys[i]) != valid.end() || (c.ver.AtLeast(73) && keys[i] == "locked");
        bool ignored =
            std::find(IgnoredSortKeys().begin(), IgnoredSortKeys().end(), keys[i]) != IgnoredSortKeys().end();
        if (c.ver.AtLeast(73) && keys[i] == "locked") ignored = false;
        if (!ok && !(ignored && !c.ver.AtLeast(75))) {
            std::string enum_list;
            for (const auto& v : valid) enum_list += (enum_list.empty() ? "'" : ", '") + v + "'";
            return nova::BadQuery("sort_key", keys[i], "'" + keys[i] + "' is not one of [" + enum_list + "]");
        }
        if (ignored && !ok) {
            keys.erase(keys.begin() + static_cast<long>(i));
            if (i < dirs.size()) dirs.erase(dirs.begin() + static_cast<long>(i));
            continue;
        }
        if ((keys[i] == "host" || keys[i] == "node") && !c.Admin())
            return MakeError(ErrorCode::kForbidden, "Only administrators can sort servers by " + keys[i]);
        ++i;
    }
    for (const auto& d : dirs)
        if (d != "asc" && d != "desc")
            return nova::BadRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
    if (keys.empty()) keys.push_back("created_at");
    if (dirs.empty()) dirs.push_back("desc");
    if (dirs.size() > keys.size())
        return nova::BadRequest("Invalid input received: Sort direction size exceeds sort key size");
    std::string default_dir = dirs.front();
    while (dirs.size() < keys.size()) dirs.push_back(default_dir);
    for (const char* k : {"created_at", "id"})
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
            keys.emplace_back(k);
            dirs.push_back(default_dir);
        }

    auto name_text = param("name");
    if (!name_text) name_text = param("display_name");
    auto image = param("image");
    if (!image) image = param("image_ref");
    auto flavor = param("flavor");
    auto host = param("host");
    auto node = param("node");
    auto reservation = param("reservation_id");
    auto user = param("user_id");
    auto vm_state = param("vm_state");
    auto task_state = param("task_state");
    auto power_state = param("power_state");
    auto key_text = param("key_name");
    auto az_text = param("availability_zone");
    auto uuid = param("uuid");
    auto description_text = param("description");
    if (!description_text) description_text = param("display_description");
    // Regular-expression filters, compiled once for the whole listing.
    auto compile = [](const std::optional<std::string>& t) {
        return t ? std::make_unique<Pattern>(*t) : std::unique_ptr<Pattern>();
    };
    auto name_re = compile(name_text);
    auto key_name = compile(key_text);
    auto az = compile(az_text);
    auto description = compile(description_text);
    auto ip = param("ip");
    auto ip6 = c.ver.AtLeast(5) || c.Admin() ? param("ip6") : std::nullopt;
    std::optional<std::vector<std::string>> tags, tags_any, not_tags, not_tags_any;
    if (c.ver.AtLeast(26)) {
        if (auto v = param("tags")) tags = SplitComma(*v);
        if (auto v = param("tags-any")) tags_any = SplitComma(*v);
        if (auto v = param("not-tags")) not_tags = SplitComma(*v);
        if (auto v = param("not-tags-any")) not_tags_any = SplitComma(*v);
    }
    auto has_tag = [](const Server& s, const std::string& t) {
        return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end();
    };

    std::vector<const Server*> rows;
    for (const auto* s : st.compute.Servers()) {
        if (project && s->project_id != *project) continue;
        if (status && !status->Matches(*s)) continue;
        if (name_re && !name_re->Matches(s->name)) continue;
        if (image && s->image_id != IdFromHref(*image)) continue;
        if (flavor && s->flavor.id != IdFromHref(*flavor)) continue;
        if (host && s->host != *host) continue;
        if (node && s->host != *node) continue;
        if (reservation && s->reservation_id != *reservation) continue;
        if (user && s->user_id != *user) continue;
        if (vm_state && s->vm_state != *vm_state) continue;
        if (task_state && s->task_state.value_or("") != *task_state) continue;
        if (power_state && std::to_string(s->power_state) != *power_state) continue;
        if (key_name && !key_name->Matches(s->key_name.value_or(""))) continue;
        if (az && !az->Matches(s->availability_zone)) continue;
        if (uuid && s->id != *uuid) continue;
        if (description && !description->Matches(s->description.value_or(""))) continue;
        if (ip || ip6) continue;  // servers have no addresses to match
        if (since_t && s->updated < *since_t) continue;
        if (before_t && s->updated > *before_t) continue;
        if (locked && s->locked != *locked) continue;
        if (tags && !std::all_of(tags->begin(), tags->end(), [&](const auto& t) { return has_tag(*s, t); })) continue;
        if (tags_any && std::none_of(tags_any->begin(), tags_any->end(), [&](const auto& t) { return has_tag(*s, t); }))
            continue;
        if (not_tags && std::all_of(not_tags->begin(), not_tags->end(), [&](const auto& t) { return has_tag(*s, t); }))
            continue;
        if (not_tags_any &&
            std::any_of(not_tags_any->begin(), not_tags_any->end(), [&](const auto& t) { return has_tag(*s, t); }))
            continue;
        rows.push_back(s);
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const Server* a, const Server* b) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            auto va = SortValue(*a, keys[i]);
            auto vb = SortValue(*b, keys[i]);
            if (va == vb) continue;
            return dirs[i] == "asc" ? va < vb : va > vb;
        }
        return false;
    });
    if (auto marker = req.Query("marker")) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const Server* s) { return s->id == *marker; });
        if (it == rows.end()) return nova::BadRequest("marker [" + std::string(*marker) + "] not found");
        rows.erase(rows.begin(), it + 1);
    }
    long long max_items = std::min<long long>(limit->value_or(kMaxLimit), kMaxLimit);
    if (static_cast<long long>(rows.size()) > max_items) rows.resize(static_cast<std::size_t>(max_items));

    json list = json::array();
    for (const auto* s : rows) {
        if (detail)
            list.push_back(ServerView(st, c, *s, View::kDetail));
        else
            list.push_back({{"id", s->id}, {"name", s->name}, {"links", st.Links("servers", s->id)}});
    }
    json body = {{"servers", list}};
    if (max_items > 0 && static_cast<long long>(rows.size()) == max_items) {
        http::QueryParams q;
        for (const auto& [k, v] : req.query)
            if (k != "marker") q.emplace_back(k, v);
        q.emplace_back("marker", rows.back()->id);
        body["servers_links"] = json::array(
            {{{"rel", "next"},
              {"href", st.ctx.ComputeUrl() + (detail ? "/servers/detail?" : "/servers?") + http::EncodeQuery(q)}}});
    }
    return nova::JsonResponse(200, body);
}

// ---- show, update, delete -----------------------------------------------------------------

Resp ShowServer(State& st, Call& c) {
    auto s = GetServer(st, c, c.req.Param("server_id"));
    if (!s.ok()) return s.error();
    return nova::JsonResponse(200, {{"server", ServerView(st, c, **s, View::kShow)}});
}

Resp UpdateServer(State& st, Call& c) {
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    auto sj = nova::RequireObjectMember(*body, "server");
    if (!sj.ok()) return sj.error();
    if (auto ok = nova::NoAdditional(*body, {"server"}); !ok) return ok.error();
    const json& in = **sj;
    Status fields =
        c.ver.AtLeast(19)
            ? nova::NoAdditional(in, {"name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "description"})
            : nova::NoAdditional(in, {"name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"});
    if (!fields) return fields.error();
    if (in.contains("name"))
        if (auto ok = nova::CheckName("name", in["name"]); !ok) return ok.error();
    if (in.contains("description"))
        if (auto ok = nova::CheckDescription("description", in["description"]); !ok) return ok.error();
    if (in.contains("OS-DCF:diskConfig") && in["OS-DCF:diskConfig"] != "AUTO" && in["OS-DCF:diskConfig"] != "MANUAL")
        return nova::BadField("OS-DCF:diskConfig", in["OS-DCF:diskConfig"],
                              nova::PyRepr(in["OS-DCF:diskConfig"]) + " is not one of ['AUTO', 'MANUAL']");
    for (auto [key, family] : {std::pair{"accessIPv4", AF_INET}, std::pair{"accessIPv6", AF_INET6}}) {
        if (!in.contains(key)) continue;
        const auto& v = in[key];
        if (!v.is_string() || !IsIp(v.get<std::string>(), family))
            return nova::BadField(key, v,
                                  nova::PyRepr(v) + " is not a '" + (family == AF_INET ? "ipv4" : "ipv6") + "'");
    }
    const auto& id = c.req.Param("server_id");
    auto s = GetServer(st, c, id);
    if (!s.ok()) return s.error();
    auto ok = st.compute.UpdateServer((*s)->id, [&](Server& srv) {
        if (in.contains("name")) {
            srv.name = in["name"].get<std::string>();
            srv.hostname = SanitizeHostname(srv.name, srv.id);
        }
        if (in.contains("description")) {
            if (in["description"].is_string())
                srv.description = in["description"].get<std::string>();
            else
                srv.description.reset();
        }
        if (in.contains("OS-DCF:diskConfig")) srv.auto_disk_config = in["OS-DCF:diskConfig"] == "AUTO";
        if (in.contains("accessIPv4")) srv.access_ipv4 = in["accessIPv4"].get<std::string>();
        if (in.contains("accessIPv6")) srv.access_ipv6 = in["accessIPv6"].get<std::string>();
    });
    if (!ok) return ok.error();
    return nova::JsonResponse(200, {{"server", ServerView(st, c, *st.compute.Find(id), View::kUpdate)}});
}

Resp DeleteServer(State& st, Call& c) {
    auto s = GetServer(st, c, c.req.Param("server_id"));
    if (!s.ok()) return s.error();
    if (auto ok = CheckLock(c, **s); !ok) return ok.error();
    if (auto ok = st.compute.DeleteServer((*s)->id); !ok) return ok.error();
    return http::Response::Empty(204);
}

// ---- actions ------------------------------------------------------------------------------

Resp ServerAction(State& st, Call& c) {
    auto body = c.req.JsonBody();
    // wsgi.action_peek: exactly one key names the action.
    if (!body.ok() || !body->is_object() || body->size() != 1) return nova::BadRequest("Malformed request body");
    std::string action = body->begin().key();
    const json& arg = body->begin().value();
    static const std::set<std::string, std::less<>> kActions = {
        "os-stop", "os-start", "reboot", "lock", "unlock", "pause", "unpause", "suspend", "resume", "os-resetState"};
    if (!kActions.count(action)) return nova::BadRequest("There is no such action: " + action);

    std::optional<bool> hard;
    std::optional<std::string> reason;
    if (action == "reboot") {
        if (!arg.is_object()) return nova::BadField("reboot", arg, nova::PyRepr(arg) + " is not of type 'object'");
        if (auto ok = nova::NoAdditional(arg, {"type"}); !ok) return ok.error();
        if (!arg.contains("type")) return nova::BadRequest("'type' is a required property");
        static const std::vector<std::string> kTypes = {"HARD", "Hard", "hard", "SOFT", "Soft", "soft"};
        const auto& t = arg["type"];
        if (!t.is_string()) return nova::BadField("type", t, nova::PyRepr(t) + " is not of type 'string'");
        if (std::find(kTypes.begin(), kTypes.end(), t.get<std::string>()) == kTypes.end())
            return nova::BadField("type", t,
                                  nova::PyRepr(t) + " is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']");
        hard = t.get<std::string>()[0] == 'H' || t.get<std::string>()[0] == 'h';
    }
    if (action == "lock" && !arg.is_null()) {
        if (!c.ver.AtLeast(73)) {
            // Before 2.73 the body of lock is ignored.
        } else {
            if (!arg.is_object())
                return nova::BadField("lock", arg, nova::PyRepr(arg) + " is not of type 'object', 'null'");
            if (auto ok = nova::NoAdditional(arg, {"locked_reason"}); !ok) return ok.error();
            if (arg.contains("locked_reason")) {
                if (auto ok = nova::CheckString("locked_reason", arg["locked_reason"], 255); !ok) return ok.error();
                reason = arg["locked_reason"].get<std::string>();
            }
        }
    }

    std::optional<bool> reset_active;
    if (action == "os-resetState") {
        if (!arg.is_object())
            return nova::BadField("os-resetState", arg, nova::PyRepr(arg) + " is not of type 'object'");
        if (auto ok = nova::NoAdditional(arg, {"state"}); !ok) return ok.error();
        if (!arg.contains("state")) return nova::BadRequest("'state' is a required property");
        const auto& v = arg["state"];
        if (v != "active" && v != "error")
            return nova::BadField("state", v, nova::PyRepr(v) + " is not one of ['active', 'error']");
        if (auto ok = nova::RequireAdmin(c, "os_compute_api:os-admin-actions:reset_state"); !ok) return ok.error();
        reset_active = v == "active";
    }

    auto found = GetServer(st, c, c.req.Param("server_id"));
    if (!found.ok()) return found.error();
    const Server& s = **found;
    Status result = Ok{};
    if (action == "lock" || action == "unlock") {
        bool lock = action == "lock";
        bool expected = s.locked_by_admin == (s.project_id != c.who.project_id);
        if (!lock && s.locked && !expected && !c.Admin())
            return nova::PolicyError("os_compute_api:os-lock-server:unlock:unlock_override");
        // Nova's locked_by: "owner" when the server's project locks it, "admin" otherwise.
        bool by_other = s.project_id != c.who.project_id;
        result = st.compute.UpdateServer(s.id, [&](Server& srv) {
            srv.locked = lock;
            srv.locked_by_admin = lock && by_other;
            if (lock)
                srv.locked_reason = reason;
            else
                srv.locked_reason.reset();
        });
    } else if (reset_active) {
        result = st.compute.ResetState(s.id, *reset_active);
    } else {
        if (auto ok = CheckLock(c, s); !ok) return ok.error();
        if (action == "os-stop")
            result = st.compute.StopServer(s.id);
        else if (action == "os-start")
            result = st.compute.StartServer(s.id);
        else if (action == "pause")
            result = st.compute.PauseServer(s.id);
        else if (action == "unpause")
            result = st.compute.UnpauseServer(s.id);
        else if (action == "suspend")
            result = st.compute.SuspendServer(s.id);
        else if (action == "resume")
            result = st.compute.ResumeServer(s.id);
        else
            result = st.compute.RebootServer(s.id, *hard);
    }
    if (!result) return result.error();
    return http::Response::Empty(202);
}

// ---- metadata, tags, ips ------------------------------------------------------------------

Error MetaNotFound() {
    return MakeError(ErrorCode::kNotFound, "Metadata item was not found");
}

Resp MetadataWrite(State& st, Call& c, bool replace) {
    auto body = c.req.JsonBody();
    if (!body.ok()) return body.error();
    if (!body->is_object()) return nova::BadRequest(nova::PyRepr(*body) + " is not of type 'object'");
    if (!body->contains("metadata")) return nova::BadRequest("'metadata' is a required property");
    if (auto ok = nova::NoAdditional(*body, {"metadata"}); !ok) return ok.error();
    auto meta = nova::CheckMetadata("metadata", (*body)["metadata"]);
    if (!meta.ok()) return meta.error();
    auto s = GetServer(st, c, c.req.Param("server_id"));
    if (!s.ok()) return s.error();
    if (auto ok = CheckLock(c, **s); !ok) return ok.error();
    if (auto ok = CheckMutable(**s, "update metadata"); !ok) return ok.error();
    auto merged = replace ? *meta : (*s)->metadata;
    for (const auto& [k, v] : *meta) merged[k] = v;
    if (static_cast<int>(merged.size()) > st.quotas.metadata_items)
        return MakeError(ErrorCode::kForbidden, "Quota exceeded for metadata_items: Requested " +
                                                    std::to_string(merged.size()) + ", but already used 0 of " +
                                                    std::to_string(st.quotas.metadata_items) + " metadata_items");
    auto ok = st.compute.UpdateServer((*s)->id, [&](Server& srv) { srv.metadata = merged; });
    if (!ok) return ok.error();
    return nova::JsonResponse(200, {{"metadata", merged}});
}

Resp TagsWrite(State& st, Call& c, std::optional<std::vector<std::string>> tags, const std::string* one, bool remove) {
    auto s = GetServer(st, c, c.req.Param("server_id"));
    if (!s.ok()) return s.error();
    if (auto ok = CheckMutable(**s, "update tags"); !ok) return ok.error();
    std::vector<std::string> next = (*s)->tags;
    int status = 204;
    if (tags) {
        next = *tags;
        status = 200;
    } else if (one && remove) {
        auto it = std::find(next.begin(), next.end(), *one);
        if (it == next.end()) return MakeError(ErrorCode::kNotFound, "Tag " + *one + " could not be found.");
        next.erase(it);
    } else if (one) {
        if (std::find(next.begin(), next.end(), *one) == next.end()) {
            if (next.size() >= 50) return nova::BadRequest("The number of tags exceeded the per-server limit 50");
            next.push_back(*one);
            status = 201;
        }
    } else {
        next.clear();
    }
    auto ok = st.compute.UpdateServer((*s)->id, [&](Server& srv) { srv.tags = next; });
    if (!ok) return ok.error();
    if (status == 200) return nova::JsonResponse(200, {{"tags", next}});
    auto resp = http::Response::Empty(status);
    if (status == 201)
        resp.headers.Set("Location", st.SelfLink("servers", (*s)->id) + "/tags/" + http::UrlEncode(*one));
    return resp;
}

}  // namespace

namespace nova {

void AddServerRoutes(ServiceState& st, http::Router& router) {
    using M = http::Method;
    st.Route(router, M::kPost, "/servers", [&st](Call& c) { return CreateServer(st, c); });
    st.Route(router, M::kGet, "/servers", [&st](Call& c) { return ListServers(st, c, false); });
    st.Route(router, M::kGet, "/servers/detail", [&st](Call& c) { return ListServers(st, c, true); });
    st.Route(router, M::kGet, "/servers/{server_id}", [&st](Call& c) { return ShowServer(st, c); });
    st.Route(router, M::kPut, "/servers/{server_id}", [&st](Call& c) { return UpdateServer(st, c); });
    st.Route(router, M::kDelete, "/servers/{server_id}", [&st](Call& c) { return DeleteServer(st, c); });
    st.Route(router, M::kPost, "/servers/{server_id}/action", [&st](Call& c) { return ServerAction(st, c); });

    st.Route(router, M::kGet, "/servers/{server_id}/ips", [&st](Call& c) -> Resp {
        auto s = GetServer(st, c, c.req.Param("server_id"));
        if (!s.ok()) return s.error();
        return nova::JsonResponse(200, {{"addresses", json::object()}});
    });

    st.Route(router, M::kGet, "/servers/{server_id}/metadata", [&st](Call& c) -> Resp {
        auto s = GetServer(st, c, c.req.Param("server_id"));
        if (!s.ok()) return s.error();
        return nova::JsonResponse(200, {{"metadata", (*s)->metadata}});
    });
    st.Route(router, M::kPost, "/servers/{server_id}/metadata", [&st](Call& c) { return MetadataWrite(st, c, false); });
    st.Route(router, M::kPut, "/servers/{server_id}/metadata", [&st](Call& c) { return MetadataWrite(st, c, true); });
    st.Route(router, M::kGet, "/servers/{server_id}/metadata/{key}", [&st](Call& c) -> Resp {
        auto s = GetServer(st, c, c.req.Param("server_id"));
        if (!s.ok()) return s.error();
        auto it = (*s)->metadata.find(c.req.Param("key"));
        if (it == (*s)->metadata.end()) return MetaNotFound();
        return nova::JsonResponse(200, {{"meta", {{it->first, it->second}}}});
    });
    st.Route(router, M::kPut, "/servers/{server_id}/metadata/{key}", [&st](Call& c) -> Resp {
        auto body = c.req.JsonBody();
        if (!body.ok()) return body.error();
        if (!body->is_object()) return nova::BadRequest(nova::PyRepr(*body) + " is not of type 'object'");
        if (!body->contains("meta")) return nova::BadRequest("'meta' is a required property");
        if (auto ok = nova::NoAdditional(*body, {"meta"}); !ok) return ok.error();
        auto meta = nova::CheckMetadata("meta", (*body)["meta"]);
        if (!meta.ok()) return meta.error();
        const auto& key = c.req.Param("key");
        if (meta->size() > 1) return nova::BadRequest("Request body contains too many items");
        if (meta->empty() || meta->begin()->first != key) return nova::BadRequest("Request body and URI mismatch");
        auto s = GetServer(st, c, c.req.Param("server_id"));
        if (!s.ok()) return s.error();
        if (auto ok = CheckLock(c, **s); !ok) return ok.error();
        if (auto ok = CheckMutable(**s, "update metadata"); !ok) return ok.error();
        if (!(*s)->metadata.count(key) && static_cast<int>((*s)->metadata.size()) >= st.quotas.metadata_items)
            return MakeError(ErrorCode::kForbidden, "Quota exceeded for metadata_items: Requested " +
                                                        std::to_string((*s)->metadata.size() + 1) +
                                                        ", but already used 0 of " +
                                                        std::to_string(st.quotas.metadata_items) + " metadata_items");
        std::string value = meta->begin()->second;
        auto ok = st.compute.UpdateServer((*s)->id, [&](Server& srv) { srv.metadata[key] = value; });
        if (!ok) return ok.error();
        return nova::JsonResponse(200, {{"meta", {{key, value}}}});
    });
    st.Route(router, M::kDelete, "/servers/{server_id}/metadata/{key}", [&st](Call& c) -> Resp {
        auto s = GetServer(st, c, c.req.Param("server_id"));
        if (!s.ok()) return s.error();
        const auto& key = c.req.Param("key");
        if (!(*s)->metadata.count(key)) return MetaNotFound();
        if (auto ok = CheckLock(c, **s); !ok) return ok.error();
        if (auto ok = CheckMutable(**s, "delete metadata"); !ok) return ok.error();
        auto ok = st.compute.UpdateServer((*s)->id, [&](Server& srv) { srv.metadata.erase(key); });
        if (!ok) return ok.error();
        return http::Response::Empty(204);
    });

    // Server tags (2.26).
    st.Route(
        router, M::kGet, "/servers/{server_id}/tags",
        [&st](Call& c) -> Resp {
            auto s = GetServer(st, c, c.req.Param("server_id"));
            if (!s.ok()) return s.error();
            return nova::JsonResponse(200, {{"tags", (*s)->tags}});
        },
        26);
    st.Route(
        router, M::kPut, "/servers/{server_id}/tags",
        [&st](Call& c) -> Resp {
            auto body = c.req.JsonBody();
            if (!body.ok()) return body.error();
            if (!body->is_object()) return nova::BadRequest(nova::PyRepr(*body) + " is not of type 'object'");
            if (!body->contains("tags")) return nova::BadRequest("'tags' is a required property");
            if (auto ok = nova::NoAdditional(*body, {"tags"}); !ok) return ok.error();
            auto tags = CheckTags((*body)["tags"]);
            if (!tags.ok()) return tags.error();
            return TagsWrite(st, c, std::move(tags).value(), nullptr, false);
        },
        26);
    st.Route(
        router, M::kDelete, "/servers/{server_id}/tags",
        [&st](Call& c) { return TagsWrite(st, c, std::nullopt, nullptr, false); }, 26);
    st.Route(
        router, M::kGet, "/servers/{server_id}/tags/{tag}",
        [&st](Call& c) -> Resp {
            auto s = GetServer(st, c, c.req.Param("server_id"));
            if (!s.ok()) return s.error();
            const auto& tag = c.req.Param("tag");
            if (std::find((*s)->tags.begin(), (*s)->tags.end(), tag) == (*s)->tags.end())
                return MakeError(ErrorCode::kNotFound, "Tag " + tag + " could not be found.");
            return http::Response::Empty(204);
        },
        26);
    st.Route(
        router, M::kPut, "/servers/{server_id}/tags/{tag}",
        [&st](Call& c) -> Resp {
            const auto& tag = c.req.Param("tag");
            if (auto ok = CheckTag("tag", json(tag)); !ok) return ok.error();
            return TagsWrite(st, c, std::nullopt, &tag, false);
        },
        26);
    st.Route(
        router, M::kDelete, "/servers/{server_id}/tags/{tag}",
        [&st](Call& c) { return TagsWrite(st, c, std::nullopt, &c.req.Param("tag"), true); }, 26);
}

}  // namespace nova

}  // namespace shoal::emulator
