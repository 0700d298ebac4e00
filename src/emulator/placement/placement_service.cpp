#include "emulator/placement/placement_service.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "http/errors.hpp"
#include "openstack/microversion.hpp"

namespace shoal::emulator {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

// Placement 8.0 (Zed) speaks microversions 1.0 to 1.39.
constexpr int kMaxMinor = 39;
constexpr std::string_view kUndefinedCode = "placement.undefined_code";
constexpr std::string_view kDuplicateKeyCode = "placement.query.duplicate_key";
constexpr std::string_view kBadValueCode = "placement.query.bad_value";
constexpr std::string_view kMissingValueCode = "placement.query.missing_value";
// Nova writes its instances' allocations with this consumer type; a consumer's generation is
// 1 once Nova has written its allocations the one time our fake compute does.
constexpr std::string_view kConsumerType = "INSTANCE";
constexpr int kConsumerGeneration = 1;

// os-resource-classes 1.1 (Zed), in its order.
constexpr std::string_view kResourceClasses[] = {
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
};

// A subset of os-traits, sorted.
constexpr std::string_view kTraits[] = {
    "COMPUTE_ACCELERATORS",
    "COMPUTE_ARCH_AARCH64",
    "COMPUTE_ARCH_X86_64",
    "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_GRAPHICS_MODEL_VGA",
    "COMPUTE_GRAPHICS_MODEL_VIRTIO",
    "COMPUTE_IMAGE_TYPE_AKI",
    "COMPUTE_IMAGE_TYPE_AMI",
    "COMPUTE_IMAGE_TYPE_ARI",
    "COMPUTE_IMAGE_TYPE_ISO",
    "COMPUTE_IMAGE_TYPE_QCOW2",
    "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_IMAGE_TYPE_VHD",
    "COMPUTE_IMAGE_TYPE_VMDK",
    "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NET_VIF_MODEL_E1000",
    "COMPUTE_NET_VIF_MODEL_VIRTIO",
    "COMPUTE_NODE",
    "COMPUTE_REMOTE_MANAGED_PORTS",
    "COMPUTE_RESCUE_BFV",
    "COMPUTE_SAME_HOST_COLD_MIGRATE",
    "COMPUTE_SECURITY_TPM_1_2",
    "COMPUTE_SECURITY_TPM_2_0",
    "COMPUTE_SECURITY_UEFI_SECURE_BOOT",
    "COMPUTE_STATUS_DISABLED",
    "COMPUTE_STORAGE_BUS_IDE",
    "COMPUTE_STORAGE_BUS_SCSI",
    "COMPUTE_STORAGE_BUS_VIRTIO",
    "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG",
    "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH",
    "HW_ARCH_X86_64",
    "HW_CPU_HYPERTHREADING",
    "HW_CPU_X86_AVX",
    "HW_CPU_X86_AVX2",
    "HW_CPU_X86_SSE",
    "HW_CPU_X86_SSE2",
    "HW_CPU_X86_SSE41",
    "HW_CPU_X86_SSE42",
    "HW_CPU_X86_SVM",
    "HW_CPU_X86_VMX",
    "HW_NIC_SRIOV",
    "MISC_SHARES_VIA_AGGREGATE",
    "STORAGE_DISK_HDD",
    "STORAGE_DISK_SSD",
};

// What nova-compute with the fake virt driver reports for its node (its capabilities), sorted.
constexpr std::string_view kComputeNodeTraits[] = {
    "COMPUTE_ACCELERATORS",
    "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NODE",
    "COMPUTE_REMOTE_MANAGED_PORTS",
    "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG",
    "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH",
};

template <std::size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view s) {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

constexpr std::string_view kStatusDisabled = "COMPUTE_STATUS_DISABLED";

// A provider's traits, sorted: its node's capabilities, plus COMPUTE_STATUS_DISABLED while its
// nova-compute service is disabled (Nova sets and clears it from the os-services API since Train).
std::vector<std::string_view> TraitsOf(const Hypervisor& h) {
    std::vector<std::string_view> out(std::begin(kComputeNodeTraits), std::end(kComputeNodeTraits));
    if (h.service.disabled) out.insert(std::upper_bound(out.begin(), out.end(), kStatusDisabled), kStatusDisabled);
    return out;
}

bool HasTrait(const Hypervisor& h, std::string_view t) {
    return Contains(kComputeNodeTraits, t) || (t == kStatusDisabled && h.service.disabled);
}

// ---------------------------------------------------------------- strings, Python-style

bool IEquals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// str.split(sep): "" gives [""], "a," gives ["a", ""].
std::vector<std::string> Split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto pos = s.find(sep, start);
        if (pos == std::string_view::npos) {
            out.emplace_back(s.substr(start));
            return out;
        }
        out.emplace_back(s.substr(start, pos - start));
        start = pos + 1;
    }
}

template <class Range>
std::string Join(const Range& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

std::string Quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// int(s) in Python: surrounding blanks and a sign allowed. Saturates instead of growing.
std::optional<long long> PyInt(std::string_view s) {
    s = Trim(s);
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return std::nullopt;
    long long v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range) v = LLONG_MAX;
    return negative ? -v : v;
}

// "Tue, 20 Nov 2018 14:31:40 GMT", webob's Last-Modified.
std::string HttpDate(SystemTime t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

// ---------------------------------------------------------------- errors, as webob frames them

// webob puts its status explanation before the detail; clients (osc-placement) show the last line.
std::string_view Explanation(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return "The server could not comply with the request since it is either malformed or otherwise "
                   "incorrect.";
        case ErrorCode::kForbidden:
            return "Access was denied to this resource.";
        case ErrorCode::kNotFound:
            return "The resource could not be found.";
        case ErrorCode::kConflict:
            return "There was a conflict when trying to complete your request.";
        default:
            return "";
    }
}

Error Fail(ErrorCode code, std::string_view detail) {
    return Error{code, std::string(Explanation(code)) + "\n\n " + std::string(detail) + "  "};
}
Error BadRequest(std::string_view detail) {
    return Fail(ErrorCode::kBadRequest, detail);
}
Error NotFound(std::string_view detail) {
    return Fail(ErrorCode::kNotFound, detail);
}
Error Forbidden(std::string_view detail) {
    return Fail(ErrorCode::kForbidden, detail);
}

// HTTPNotAcceptable has its own template around the client's Accept header.
Error NotAcceptable(const Request& req, std::string_view detail) {
    std::string accept(req.headers.Get("Accept").value_or("${HTTP_ACCEPT}"));
    return Error{ErrorCode::kNotAcceptable,
                 "The resource could not be generated that was acceptable to your browser (content of type " + accept +
                     ". \n\n " + std::string(detail)};
}

Error InvalidQuery(std::string_view detail) {
    return BadRequest("Invalid query string parameters: " + std::string(detail));
}

// ---------------------------------------------------------------- microversions

Result<int> ParseMicroversion(const Request& req) {
    std::string s = openstack::RequestedMicroversion(req.headers, "placement").value_or("1.0");
    if (s == "latest") return kMaxMinor;
    auto invalid = [&](std::string_view why) {
        return BadRequest("Invalid microversion: invalid version string: " + s + "; " + std::string(why));
    };
    auto dot = s.find('.');
    auto major = PyInt(std::string_view(s).substr(0, dot));
    if (!major) return invalid("invalid literal for int() with base 10: " + Quoted(std::string_view(s).substr(0, dot)));
    if (dot == std::string::npos) return invalid("Version.__new__() missing 1 required positional argument: 'minor'");
    auto minor = PyInt(std::string_view(s).substr(dot + 1));
    if (!minor)
        return invalid("invalid literal for int() with base 10: " + Quoted(std::string_view(s).substr(dot + 1)));
    if (*major != 1 || *minor < 0 || *minor > kMaxMinor)
        return Error{ErrorCode::kNotAcceptable, "Invalid microversion: Unacceptable version header: " + s};
    return static_cast<int>(*minor);
}

// ---------------------------------------------------------------- the model behind the API

struct Inventory {
    std::string_view rc;
    long long total = 0;
    long long reserved = 0;
    long long min_unit = 1;
    long long max_unit = 0;
    long long step_size = 1;
    double allocation_ratio = 1.0;

    long long Capacity() const {
        return static_cast<long long>(static_cast<double>(total - reserved) * allocation_ratio);
    }
    // Placement's test for one amount of one class on one provider.
    bool Fits(long long used, long long amount) const {
        return amount >= min_unit && amount <= max_unit && amount % step_size == 0 &&
               static_cast<double>(used) + static_cast<double>(amount) <=
                   static_cast<double>(total - reserved) * allocation_ratio;
    }
    json ToJson() const {
        return {{"total", total},       {"reserved", reserved},   {"min_unit", min_unit},
                {"max_unit", max_unit}, {"step_size", step_size}, {"allocation_ratio", allocation_ratio}};
    }
};

// What nova-compute's resource tracker reports for a node (max_unit is the total, as Nova sets it).
std::vector<Inventory> InventoriesOf(const Hypervisor& h) {
    std::vector<Inventory> out;
    auto add = [&](std::string_view rc, long long total, long long reserved, double ratio) {
        if (total > 0) out.push_back(Inventory{rc, total, reserved, 1, total, 1, ratio});
    };
    add("VCPU", h.vcpus, 0, h.cpu_allocation_ratio);
    add("MEMORY_MB", h.memory_mb, h.reserved_memory_mb, h.ram_allocation_ratio);
    add("DISK_GB", h.disk_gb, 0, h.disk_allocation_ratio);
    return out;
}

const Inventory* FindInventory(const std::vector<Inventory>& invs, std::string_view rc) {
    for (const auto& inv : invs)
        if (inv.rc == rc) return &inv;
    return nullptr;
}

using Amounts = std::map<std::string, long long, std::less<>>;

// Placement keeps no zero-amount allocation rows.
Amounts ResourcesOf(const Allocation& a) {
    Amounts out;
    if (a.vcpus > 0) out["VCPU"] = a.vcpus;
    if (a.memory_mb > 0) out["MEMORY_MB"] = a.memory_mb;
    if (a.disk_gb > 0) out["DISK_GB"] = a.disk_gb;
    return out;
}

Amounts UsedOn(std::string_view provider, const std::vector<Allocation>& allocations) {
    Amounts used;
    for (const auto& a : allocations)
        if (a.provider_uuid == provider)
            for (const auto& [rc, amount] : ResourcesOf(a)) used[rc] += amount;
    return used;
}

// One consumer may hold several allocation records on one provider: they add up.
void AddAmounts(json& into, const Amounts& amounts) {
    if (!into.is_object()) into = json::object();
    for (const auto& [rc, amount] : amounts) into[rc] = into.value(rc, 0LL) + amount;
}

long long Get(const Amounts& a, std::string_view rc) {
    auto it = a.find(rc);
    return it == a.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- query strings

// webob's req.GET[name] is the last value of a repeated parameter.
std::optional<std::string_view> Last(const Request& req, std::string_view name) {
    auto all = req.QueryAll(name);
    if (all.empty()) return std::nullopt;
    return all.back();
}

// Placement validates query strings with JSON schemas that forbid unknown properties.
Status CheckKnownParams(const Request& req, const std::function<bool(std::string_view)>& known) {
    std::vector<std::string> extra;
    for (const auto& [key, value] : req.query)
        if (!known(key) && std::find(extra.begin(), extra.end(), Quoted(key)) == extra.end())
            extra.push_back(Quoted(key));
    if (extra.empty()) return Ok{};
    return InvalidQuery("Additional properties are not allowed (" + Join(extra, ", ") +
                        (extra.size() == 1 ? " was unexpected)" : " were unexpected)"));
}

Status CheckUuidFormat(const Request& req, std::string_view name) {
    if (auto v = Last(req, name); v && !IsUuid(*v)) return InvalidQuery(Quoted(*v) + " is not a 'uuid'");
    return Ok{};
}

// util.normalize_resources_qs_param
Result<Amounts> ParseResources(std::string_view qs) {
    if (Trim(qs).empty())
        return BadRequest(
            "Badly formed resources parameter. Expected resources query string parameter in form: "
            "?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.");
    Amounts out;
    for (const auto& rt : Split(qs, ',')) {
        auto parts = Split(rt, ':');
        if (parts.size() != 2)
            return BadRequest(
                "Badly formed resources parameter. Expected resources query string parameter in form: "
                "?resources=VCPU:2,MEMORY_MB:1024. Got: " +
                rt + ".");
        auto amount = PyInt(parts[1]);
        if (!amount)
            return BadRequest("Requested resource " + parts[0] + " expected positive integer amount. Got: " + parts[1] +
                              ".");
        if (*amount < 1)
            return BadRequest("Requested resource " + parts[0] +
                              " requires amount >= 1. Got: " + std::to_string(*amount) + ".");
        out[parts[0]] = *amount;
    }
    return out;
}

Status CheckResourceClasses(const Amounts& resources) {
    for (const auto& [rc, amount] : resources)
        if (!Contains(kResourceClasses, rc))
            return BadRequest("Invalid resource class in resources parameter: No such resource class " + rc + ".");
    return Ok{};
}

struct TraitQuery {
    std::vector<std::set<std::string>> required;  // AND of ORs
    std::set<std::string> forbidden;
};

// util.normalize_traits_qs_param
Result<TraitQuery> ParseTraitValue(std::string_view val, bool allow_forbidden, bool allow_any) {
    TraitQuery q;
    std::string v(val);
    if (val.starts_with("in:")) {
        if (!allow_any)
            return InvalidQuery(
                "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: " + v);
        std::set<std::string> any;
        for (const auto& t : Split(val.substr(3), ',')) any.emplace(Trim(t));
        if (any.contains(""))
            return InvalidQuery(
                "Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait "
                "in: " +
                v);
        for (const auto& t : any)
            if (t.starts_with('!'))
                return InvalidQuery(
                    "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: " + v);
        q.required.push_back(std::move(any));
        return q;
    }
    bool empty = false;
    for (const auto& raw : Split(val, ',')) {
        auto t = Trim(raw);
        if (t.starts_with('!')) {
            auto name =
                t.substr(t.find_first_not_of('!') == std::string_view::npos ? t.size() : t.find_first_not_of('!'));
            if (name.empty()) empty = true;
            q.forbidden.emplace(name);
        } else {
            if (t.empty()) empty = true;
            q.required.push_back({std::string(t)});
        }
    }
    if (empty)
        return InvalidQuery(std::string("Expected 'required' parameter value of the form: ") +
                            (allow_forbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC") +
                            ". Got an empty trait in: " + v);
    if (!q.forbidden.empty() && !allow_forbidden)
        return InvalidQuery("Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: " + v);
    return q;
}

// util.normalize_traits_qs_params: before 1.39 only the last `required` counts.
Result<TraitQuery> ParseRequired(const Request& req, int minor, std::string_view key) {
    auto values = req.QueryAll(key);
    if (minor < 39 && values.size() > 1) values.erase(values.begin(), values.end() - 1);
    TraitQuery out;
    for (auto v : values) {
        auto q = ParseTraitValue(v, minor >= 22, minor >= 39);
        if (!q.ok()) return q.error();
        out.required.insert(out.required.end(), q->required.begin(), q->required.end());
        out.forbidden.insert(q->forbidden.begin(), q->forbidden.end());
    }
    return out;
}

std::vector<std::string> UnknownTraits(const TraitQuery& q) {
    std::set<std::string> unknown;
    for (const auto& any : q.required)
        for (const auto& t : any)
            if (!Contains(kTraits, t)) unknown.insert(t);
    for (const auto& t : q.forbidden)
        if (!Contains(kTraits, t)) unknown.insert(t);
    return {unknown.begin(), unknown.end()};
}

bool HasTraits(const TraitQuery& q, const Hypervisor& h) {
    auto has = [&h](const std::string& t) { return HasTrait(h, t); };
    for (const auto& any : q.required)
        if (std::none_of(any.begin(), any.end(), has)) return false;
    return std::none_of(q.forbidden.begin(), q.forbidden.end(), has);
}

struct MemberOf {
    std::vector<std::set<std::string>> required;
    std::set<std::string> forbidden;
};

// util.normalize_member_of_qs_params
Result<MemberOf> ParseMemberOf(const Request& req, int minor, std::string_view suffix) {
    std::string key = "member_of" + std::string(suffix);
    auto values = req.QueryAll(key);
    if (minor < 24 && values.size() > 1)
        return BadRequest("Multiple member_of" + std::string(suffix) + " parameters are not supported");
    MemberOf out;
    for (auto value : values) {
        if (value.find(',') != std::string_view::npos && !value.starts_with("in:") && !value.starts_with("!in:"))
            return BadRequest(
                "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid "
                "microversion. Got: " +
                std::string(value));
        std::set<std::string> required, forbidden;
        if (value.starts_with("!in:")) {
            for (auto& u : Split(value.substr(4), ',')) forbidden.insert(u);
        } else if (value.starts_with("!")) {
            forbidden.emplace(value.substr(1));
        } else if (value.starts_with("in:")) {
            for (auto& u : Split(value.substr(3), ',')) required.insert(u);
        } else {
            required.emplace(value);
        }
        for (const auto& sets : {required, forbidden})
            for (const auto& u : sets)
                if (!IsUuid(u, /*allow_hex32=*/true))
                    return InvalidQuery("Expected 'member_of' parameter to contain valid UUID(s). Got: " + u);
        if (!required.empty()) out.required.push_back(std::move(required));
        if (!forbidden.empty()) {
            if (minor < 32)
                return BadRequest("Forbidden member_of" + std::string(suffix) +
                                  " parameters are not supported in the specified microversion");
            out.forbidden.insert(forbidden.begin(), forbidden.end());
        }
    }
    return out;
}

// The request groups of GET /allocation_candidates (lib.RequestGroup).
struct RequestGroup {
    Amounts resources;
    TraitQuery traits;
    MemberOf member_of;
    std::string in_tree;
};

bool IsGroupSuffix(std::string_view s, int minor) {
    if (s.empty()) return true;
    if (minor >= 33)
        return s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
                   return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
               });
    return s.front() >= '1' && s.front() <= '9' &&
           std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Splits "resources1" into ("resources", "1") when it names a request group parameter.
std::optional<std::pair<std::string_view, std::string_view>> GroupKey(std::string_view key, int minor) {
    for (std::string_view prefix : {"resources", "required", "member_of", "in_tree"}) {
        if (!key.starts_with(prefix)) continue;
        auto suffix = key.substr(prefix.size());
        if (prefix == "in_tree" && minor < 31) return std::nullopt;
        if (!suffix.empty() && minor < 25) return std::nullopt;
        if (IsGroupSuffix(suffix, minor)) return std::pair{prefix, suffix};
    }
    return std::nullopt;
}

bool AcceptsJson(const Request& req) {
    auto accept = req.headers.Get("Accept");
    if (!accept || Trim(*accept).empty()) return true;
    for (const auto& range : Split(*accept, ',')) {
        auto parts = Split(range, ';');
        auto type = Trim(parts[0]);
        bool refused = false;
        for (std::size_t i = 1; i < parts.size(); ++i) {
            auto p = Trim(parts[i]);
            if (p.starts_with("q=") &&
                std::all_of(p.begin() + 2, p.end(), [](char ch) { return ch == '0' || ch == '.'; }))
                refused = true;
        }
        if (!refused && (IEquals(type, "application/json") || type == "application/*" || type == "*/*")) return true;
    }
    return false;
}

std::string ProviderUrl(std::string_view uuid) {
    return std::string(kPlacementPrefix) + "/resource_providers/" + std::string(uuid);
}

json ProviderJson(int minor, const Hypervisor& h) {
    std::string url = ProviderUrl(h.uuid);
    json links = json::array({{{"rel", "self"}, {"href", url}}});
    std::vector<std::string_view> rels = {"inventories", "usages"};
    if (minor >= 1) rels.push_back("aggregates");
    if (minor >= 6) rels.push_back("traits");
    if (minor >= 11) rels.push_back("allocations");
    for (auto rel : rels) links.push_back({{"rel", rel}, {"href", url + "/" + std::string(rel)}});
    json j = {{"uuid", h.uuid}, {"name", h.hostname}, {"generation", h.generation}, {"links", std::move(links)}};
    if (minor >= 14) {
        j["parent_provider_uuid"] = nullptr;
        j["root_provider_uuid"] = h.uuid;
    }
    return j;
}

}  // namespace

// ---------------------------------------------------------------- routing

struct PlacementService::Call {
    Request& req;
    int minor = 0;
    TokenInfo token;

    bool AtLeast(int m) const { return minor >= m; }
};

struct PlacementService::Route {
    bool auth = true;
    int min_minor = 0;
    bool old_is_405 = false;  // below min_minor: 405 instead of 404 (DELETE inventories)
    bool json_out = true;     // util.check_accept('application/json')
    std::string_view policy;  // empty: the handler decides
};

namespace {

// The one error body, plus the `code` field placement adds from 1.23.
Response ErrorReply(const Request& req, int minor, const Error& error, std::string_view code = kUndefinedCode) {
    auto r = http::ErrorResponse(http::ErrorStyle::kPlacement, error, req.request_id);
    if (minor >= 23) {
        auto body = json::parse(r.body);
        body["errors"][0]["code"] = code;
        r.body = http::DumpJson(body);
    }
    return r;
}

Status Authorize(const TokenInfo& token, std::string_view rule) {
    if (token.IsAdmin()) return Ok{};
    return Forbidden("Policy does not allow " + std::string(rule) + " to be performed.");
}

void CacheHeaders(int minor, Response& r, SystemTime modified) {
    if (minor < 15) return;
    r.headers.Set("Last-Modified", HttpDate(modified));
    r.headers.Set("Cache-Control", "no-cache");
}

SystemTime Now() {
    return std::chrono::system_clock::now();
}

}  // namespace

PlacementService::PlacementService(ServiceContext& ctx, FakeCompute& compute)
    : ctx_(ctx), compute_(compute), started_(Now()) {}

void PlacementService::Add(
    http::Router& router, Method method, std::string_view pattern, Route route, Handler handler) {
    router.AddSync(method, std::string(kPlacementPrefix) + std::string(pattern),
                   [this, route, handler](Request& req) -> Result<Response> { return Serve(route, handler, req); });
}

// The middleware stack of placement: keystonemiddleware, then microversions, then the handler's
// version, accept and policy checks.
Response PlacementService::Serve(const Route& route, Handler handler, Request& req) {
    Call c{req};
    if (route.auth) {
        auto token = Authenticate(ctx_, req);
        if (!token.ok()) {
            auto r = http::ErrorResponse(http::ErrorStyle::kKeystone, token.error(), req.request_id);
            r.headers.Set("WWW-Authenticate", "Keystone uri=\"" + ctx_.IdentityUrl() + "\"");
            return r;
        }
        c.token = std::move(token).value();
    }
    auto minor = ParseMicroversion(req);
    if (!minor.ok()) {
        const auto& e = minor.error();
        if (e.code != ErrorCode::kNotAcceptable) return ErrorReply(req, 0, e);
        auto r = ErrorReply(req, 0, NotAcceptable(req, e.message));
        // osc-placement negotiates from these two.
        auto body = json::parse(r.body);
        body["errors"][0]["max_version"] = "1." + std::to_string(kMaxMinor);
        body["errors"][0]["min_version"] = "1.0";
        r.body = http::DumpJson(body);
        return r;
    }
    c.minor = *minor;

    auto result = [&]() -> Result<Response> {
        if (c.minor < route.min_minor) {
            if (route.old_is_405)
                return Error{ErrorCode::kMethodNotAllowed, "The method " + std::string(http::MethodName(req.method)) +
                                                               " is not allowed for this resource. \n\n "};
            return NotFound("");
        }
        if (route.json_out && !AcceptsJson(req)) return NotAcceptable(req, "Only application/json is provided");
        if (!route.policy.empty())
            if (auto allowed = Authorize(c.token, route.policy); !allowed.ok()) return allowed.error();
        return (this->*handler)(c);
    }();
    Response r = result.ok() ? std::move(result).value() : ErrorReply(req, c.minor, result.error());
    r.headers.Set("OpenStack-API-Version", "placement 1." + std::to_string(c.minor));
    if (r.status < 400) r.headers.Set("Vary", "openstack-api-version");
    return r;
}

void PlacementService::AddRoutes(http::Router& router) {
    using M = Method;
    auto read = [](std::string_view policy, int min_minor = 0) {
        Route r;
        r.policy = policy;
        r.min_minor = min_minor;
        return r;
    };
    auto write = [](std::string_view policy, int min_minor = 0) {
        Route r;
        r.policy = policy;
        r.min_minor = min_minor;
        r.json_out = false;
        return r;
    };
    Route root;
    root.auth = false;
    root.json_out = false;
    Add(router, M::kGet, "/", root, &PlacementService::Root);

    Add(router, M::kGet, "/resource_providers", read("placement:resource_providers:list"),
        &PlacementService::ListProviders);
    Add(router, M::kGet, "/resource_providers/{uuid}", read("placement:resource_providers:show"),
        &PlacementService::ShowProvider);
    Add(router, M::kGet, "/resource_providers/{uuid}/inventories",
        read("placement:resource_providers:inventories:list"), &PlacementService::ListInventories);
    Add(router, M::kGet, "/resource_providers/{uuid}/inventories/{resource_class}",
        read("placement:resource_providers:inventories:show"), &PlacementService::ShowInventory);
    Add(router, M::kGet, "/resource_providers/{uuid}/usages", read("placement:resource_providers:usages"),
        &PlacementService::ProviderUsages);
    Add(router, M::kGet, "/resource_providers/{uuid}/allocations",
        read("placement:resource_providers:allocations:list"), &PlacementService::ProviderAllocations);
    Add(router, M::kGet, "/resource_providers/{uuid}/aggregates",
        read("placement:resource_providers:aggregates:list", 1), &PlacementService::ProviderAggregates);
    Add(router, M::kGet, "/resource_providers/{uuid}/traits", read("placement:resource_providers:traits:list", 6),
        &PlacementService::ProviderTraits);
    Add(router, M::kGet, "/usages", read("", 9), &PlacementService::TotalUsages);
    Add(router, M::kGet, "/allocations/{consumer_uuid}", read("placement:allocations:list"),
        &PlacementService::ConsumerAllocations);
    Add(router, M::kGet, "/resource_classes", read("placement:resource_classes:list", 2),
        &PlacementService::ListResourceClasses);
    Add(router, M::kGet, "/resource_classes/{name}", read("placement:resource_classes:show", 2),
        &PlacementService::ShowResourceClass);
    Add(router, M::kGet, "/traits", read("placement:traits:list", 6), &PlacementService::ListTraits);
    Route show_trait = read("placement:traits:show", 6);
    show_trait.json_out = false;
    Add(router, M::kGet, "/traits/{name}", show_trait, &PlacementService::ShowTrait);
    Add(router, M::kGet, "/allocation_candidates", read("placement:allocation_candidates:list", 10),
        &PlacementService::AllocationCandidates);

    // Placement's write API. The fake compute owns every provider, inventory and allocation here.
    const auto ro = &PlacementService::ReadOnly;
    Add(router, M::kPost, "/resource_providers", write("placement:resource_providers:create"), ro);
    Add(router, M::kPut, "/resource_providers/{uuid}", write("placement:resource_providers:update"), ro);
    Add(router, M::kDelete, "/resource_providers/{uuid}", write("placement:resource_providers:delete"), ro);
    Add(router, M::kPost, "/resource_providers/{uuid}/inventories",
        write("placement:resource_providers:inventories:create"), ro);
    Add(router, M::kPut, "/resource_providers/{uuid}/inventories",
        write("placement:resource_providers:inventories:update"), ro);
    Route delete_inventories = write("placement:resource_providers:inventories:delete", 5);
    delete_inventories.old_is_405 = true;
    Add(router, M::kDelete, "/resource_providers/{uuid}/inventories", delete_inventories, ro);
    Add(router, M::kPut, "/resource_providers/{uuid}/inventories/{resource_class}",
        write("placement:resource_providers:inventories:update"), ro);
    Add(router, M::kDelete, "/resource_providers/{uuid}/inventories/{resource_class}",
        write("placement:resource_providers:inventories:delete"), ro);
    Add(router, M::kPut, "/resource_providers/{uuid}/aggregates",
        write("placement:resource_providers:aggregates:update", 1), ro);
    Add(router, M::kPut, "/resource_providers/{uuid}/traits", write("placement:resource_providers:traits:update", 6),
        ro);
    Add(router, M::kDelete, "/resource_providers/{uuid}/traits", write("placement:resource_providers:traits:delete", 6),
        ro);
    Add(router, M::kPost, "/allocations", write("placement:allocations:manage", 13), ro);
    Add(router, M::kPut, "/allocations/{consumer_uuid}", write("placement:allocations:update"), ro);
    Add(router, M::kDelete, "/allocations/{consumer_uuid}", write("placement:allocations:delete"), ro);
    Add(router, M::kPost, "/resource_classes", write("placement:resource_classes:create", 2), ro);
    Add(router, M::kPut, "/resource_classes/{name}", write("placement:resource_classes:update", 2), ro);
    Add(router, M::kDelete, "/resource_classes/{name}", write("placement:resource_classes:delete", 2), ro);
    Add(router, M::kPut, "/traits/{name}", write("placement:traits:update", 6), ro);
    Add(router, M::kDelete, "/traits/{name}", write("placement:traits:delete", 6), ro);
    Add(router, M::kPost, "/reshaper", write("placement:reshaper:reshape", 30), ro);
}

SystemTime PlacementService::ProviderModified(const Hypervisor& h) {
    auto [it, inserted] = generation_seen_.try_emplace(h.uuid, h.generation, started_);
    if (!inserted && it->second.first != h.generation) it->second = {h.generation, Now()};
    return it->second.second;
}

// ---------------------------------------------------------------- handlers

namespace {

const Hypervisor* FindProvider(const FakeCompute& compute, std::string_view uuid) {
    for (const auto& h : compute.Hypervisors())
        if (h.uuid == uuid) return &h;
    return nullptr;
}

std::string NoProvider(std::string_view uuid) {
    return "No resource provider with uuid " + std::string(uuid) + " found";
}

}  // namespace

Result<Response> PlacementService::Root(Call& c) {
    json version = {{"id", "v1.0"},
                    {"max_version", "1." + std::to_string(kMaxMinor)},
                    {"min_version", "1.0"},
                    {"status", "CURRENT"},
                    {"links", json::array({{{"rel", "self"}, {"href", ""}}})}};
    auto r = Response::Json(200, {{"versions", json::array({version})}});
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ListProviders(Call& c) {
    const auto& req = c.req;
    auto known = [&](std::string_view k) {
        return k == "name" || k == "uuid" || (k == "member_of" && c.AtLeast(3)) || (k == "resources" && c.AtLeast(4)) ||
               (k == "in_tree" && c.AtLeast(14)) || (k == "required" && c.AtLeast(18));
    };
    if (auto s = CheckKnownParams(req, known); !s.ok()) return s.error();
    if (auto s = CheckUuidFormat(req, "uuid"); !s.ok()) return s.error();
    if (auto s = CheckUuidFormat(req, "in_tree"); !s.ok()) return s.error();
    MemberOf member_of;
    if (Last(req, "member_of")) {
        auto m = ParseMemberOf(req, c.minor, "");
        if (!m.ok()) return m.error();
        member_of = std::move(m).value();
    }
    Amounts resources;
    if (auto v = Last(req, "resources")) {
        auto parsed = ParseResources(*v);
        if (!parsed.ok()) return parsed.error();
        resources = std::move(parsed).value();
    }
    TraitQuery traits;
    if (Last(req, "required")) {
        auto parsed = ParseRequired(req, c.minor, "required");
        if (!parsed.ok()) return parsed.error();
        traits = std::move(parsed).value();
    }
    if (auto s = CheckResourceClasses(resources); !s.ok()) return s.error();
    if (auto unknown = UnknownTraits(traits); !unknown.empty())
        return BadRequest("Invalid trait(s) in \"required\" parameter: No such trait(s): " + Join(unknown, ", ") + ".");

    auto name = Last(req, "name");
    auto uuid = Last(req, "uuid");
    auto in_tree = Last(req, "in_tree");
    auto allocations = compute_.Allocations();
    json out = json::array();
    std::optional<SystemTime> modified;
    for (const auto& h : compute_.Hypervisors()) {
        if (name && h.hostname != *name) continue;
        if (uuid && h.uuid != *uuid) continue;
        if (in_tree && h.uuid != *in_tree) continue;  // every provider here is the root of its own tree
        if (!member_of.required.empty()) continue;    // and belongs to no aggregate
        if (!HasTraits(traits, h)) continue;
        if (!resources.empty()) {
            auto invs = InventoriesOf(h);
            auto used = UsedOn(h.uuid, allocations);
            bool fits = std::all_of(resources.begin(), resources.end(), [&](const auto& kv) {
                const auto* inv = FindInventory(invs, kv.first);
                return inv && inv->Fits(Get(used, kv.first), kv.second);
            });
            if (!fits) continue;
        }
        out.push_back(ProviderJson(c.minor, h));
        auto m = ProviderModified(h);
        modified = modified ? std::max(*modified, m) : m;
    }
    auto r = Response::Json(200, {{"resource_providers", std::move(out)}});
    CacheHeaders(c.minor, r, modified.value_or(Now()));
    return r;
}

Result<Response> PlacementService::ShowProvider(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid));
    auto r = Response::Json(200, ProviderJson(c.minor, *h));
    CacheHeaders(c.minor, r, ProviderModified(*h));
    return r;
}

Result<Response> PlacementService::ListInventories(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid) + " : " + NoProvider(uuid));
    json inventories = json::object();
    for (const auto& inv : InventoriesOf(*h)) inventories[std::string(inv.rc)] = inv.ToJson();
    auto r =
        Response::Json(200, {{"inventories", std::move(inventories)}, {"resource_provider_generation", h->generation}});
    CacheHeaders(c.minor, r, ProviderModified(*h));
    return r;
}

Result<Response> PlacementService::ShowInventory(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto& rc = c.req.Param("resource_class");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid) + " : " + NoProvider(uuid));
    auto invs = InventoriesOf(*h);
    const auto* inv = FindInventory(invs, rc);
    if (!inv) return NotFound("No inventory of class " + rc + " for " + uuid);
    json j = inv->ToJson();
    if (h->generation != 0) j["resource_provider_generation"] = h->generation;  // placement tests truthiness
    auto r = Response::Json(200, j);
    CacheHeaders(c.minor, r, ProviderModified(*h));
    return r;
}

Result<Response> PlacementService::ProviderUsages(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid) + ": " + NoProvider(uuid));
    auto used = UsedOn(h->uuid, compute_.Allocations());
    json usages = json::object();
    for (const auto& inv : InventoriesOf(*h)) usages[std::string(inv.rc)] = Get(used, inv.rc);
    auto r = Response::Json(200, {{"resource_provider_generation", h->generation}, {"usages", std::move(usages)}});
    CacheHeaders(c.minor, r, Now());  // "what is the usage, now?"
    return r;
}

Result<Response> PlacementService::ProviderAllocations(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound("Resource provider '" + uuid + "' not found: " + NoProvider(uuid));
    json allocations = json::object();
    for (const auto& a : compute_.Allocations()) {
        if (a.provider_uuid != h->uuid) continue;
        auto resources = ResourcesOf(a);
        if (resources.empty()) continue;
        auto& entry = allocations[a.consumer_id];
        AddAmounts(entry["resources"], resources);
        if (c.AtLeast(28)) entry["consumer_generation"] = kConsumerGeneration;
    }
    auto r =
        Response::Json(200, {{"allocations", std::move(allocations)}, {"resource_provider_generation", h->generation}});
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ProviderAggregates(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid));
    json j = {{"aggregates", json::array()}};
    if (c.AtLeast(19)) j["resource_provider_generation"] = h->generation;
    auto r = Response::Json(200, j);
    CacheHeaders(c.minor, r, ProviderModified(*h));
    return r;
}

Result<Response> PlacementService::ProviderTraits(Call& c) {
    const auto& uuid = c.req.Param("uuid");
    const auto* h = FindProvider(compute_, uuid);
    if (!h) return NotFound(NoProvider(uuid) + ": " + NoProvider(uuid));
    json traits = json::array();
    for (auto t : TraitsOf(*h)) traits.push_back(t);
    auto r = Response::Json(200, {{"traits", std::move(traits)}, {"resource_provider_generation", h->generation}});
    CacheHeaders(c.minor, r, ProviderModified(*h));
    return r;
}

Result<Response> PlacementService::TotalUsages(Call& c) {
    const auto& req = c.req;
    auto project = Last(req, "project_id");
    auto user = Last(req, "user_id");
    auto consumer_type = Last(req, "consumer_type");
    // placement:usages is "admin, or a reader of that project" in Zed's defaults.
    const auto& t = c.token;
    bool reader = project && t.project_id == *project && (t.HasRole("reader") || t.HasRole("member"));
    if (!reader)
        if (auto allowed = Authorize(t, "placement:usages"); !allowed.ok()) return allowed.error();
    bool by_type = c.AtLeast(38);
    auto known = [&](std::string_view k) {
        return k == "project_id" || k == "user_id" || (k == "consumer_type" && by_type);
    };
    if (auto s = CheckKnownParams(req, known); !s.ok()) return s.error();
    if (!project) return InvalidQuery("'project_id' is a required property");
    for (auto v : {project, user, consumer_type}) {
        if (!v) continue;
        if (v->empty()) return InvalidQuery("'' is too short");
        if (v->size() > 255) return InvalidQuery(Quoted(*v) + " is too long");
    }
    if (consumer_type) {
        auto ct = *consumer_type;
        bool upper = std::all_of(ct.begin(), ct.end(), [](char ch) {
            return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        });
        if (!upper && !ct.starts_with("all") && ct != "unknown")
            return InvalidQuery(Quoted(ct) + " does not match '^[A-Z0-9_]+$|^all|^unknown$'");
    }

    Amounts sums;
    std::set<std::string> consumers;
    for (const auto& a : compute_.Allocations()) {
        if (a.project_id != *project || (user && a.user_id != *user)) continue;
        auto resources = ResourcesOf(a);
        if (resources.empty()) continue;
        consumers.insert(a.consumer_id);
        for (const auto& [rc, amount] : resources) sums[rc] += amount;
    }
    json usages = json::object();
    if (!by_type) {
        for (const auto& [rc, amount] : sums) usages[rc] = amount;
    } else {
        // Every consumer here has Nova's INSTANCE type, none is untyped ("unknown").
        std::string group;
        if (!consumer_type || *consumer_type == kConsumerType)
            group = kConsumerType;
        else if (*consumer_type == "all")
            group = "all";
        if (!group.empty() && !sums.empty()) {
            json g = {{"consumer_count", consumers.size()}};
            for (const auto& [rc, amount] : sums) g[rc] = amount;
            usages[group] = std::move(g);
        }
    }
    auto r = Response::Json(200, {{"usages", std::move(usages)}});
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ConsumerAllocations(Call& c) {
    const auto& consumer = c.req.Param("consumer_uuid");
    json allocations = json::object();
    const auto all = compute_.Allocations();
    const Allocation* any = nullptr;
    for (const auto& a : all) {
        if (a.consumer_id != consumer) continue;
        auto resources = ResourcesOf(a);
        if (resources.empty()) continue;
        const auto* h = FindProvider(compute_, a.provider_uuid);
        auto& entry = allocations[a.provider_uuid];
        AddAmounts(entry["resources"], resources);
        entry["generation"] = h ? h->generation : 0;
        any = &a;
    }
    json j = {{"allocations", std::move(allocations)}};
    if (any && c.AtLeast(12)) {
        j["project_id"] = any->project_id;
        j["user_id"] = any->user_id;
        if (c.AtLeast(28)) j["consumer_generation"] = kConsumerGeneration;
        if (c.AtLeast(38)) j["consumer_type"] = kConsumerType;
    }
    auto r = Response::Json(200, j);
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ListResourceClasses(Call& c) {
    json out = json::array();
    for (auto rc : kResourceClasses)
        out.push_back(
            {{"name", rc},
             {"links",
              json::array({{{"rel", "self"},
                            {"href", std::string(kPlacementPrefix) + "/resource_classes/" + std::string(rc)}}})}});
    auto r = Response::Json(200, {{"resource_classes", std::move(out)}});
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ShowResourceClass(Call& c) {
    const auto& name = c.req.Param("name");
    if (!Contains(kResourceClasses, name)) return NotFound("No such resource class " + name + ".");
    auto r = Response::Json(
        200,
        {{"name", name},
         {"links",
          json::array({{{"rel", "self"}, {"href", std::string(kPlacementPrefix) + "/resource_classes/" + name}}})}});
    CacheHeaders(c.minor, r, Now());
    return r;
}

Result<Response> PlacementService::ListTraits(Call& c) {
    const auto& req = c.req;
    if (auto s = CheckKnownParams(req, [](std::string_view k) { return k == "name" || k == "associated"; }); !s.ok())
        return s.error();
    std::optional<std::vector<std::string>> name_in;
    std::optional<std::string> prefix;
    if (auto name = Last(req, "name")) {
        auto colon = name->find(':');
        if (colon == std::string_view::npos)
            return BadRequest(
                "Badly formatted name parameter. Expected name query string parameter in form: "
                "?name=[in|startswith]:[name1,name2|prefix]. Got: \"" +
                std::string(*name) + "\"");
        auto op = name->substr(0, colon);
        auto value = name->substr(colon + 1);
        if (op == "in") name_in = Split(value, ',');
        if (op == "startswith") prefix = std::string(value);
    }
    std::optional<bool> associated;
    if (auto a = Last(req, "associated")) {
        if (IEquals(*a, "true"))
            associated = true;
        else if (IEquals(*a, "false"))
            associated = false;
        else
            return BadRequest("The query parameter \"associated\" only accepts \"true\" or \"false\"");
    }
    const auto& providers = compute_.Hypervisors();
    json out = json::array();
    for (auto t : kTraits) {
        if (name_in && std::find(name_in->begin(), name_in->end(), t) == name_in->end()) continue;
        if (prefix && !t.starts_with(*prefix)) continue;
        bool used =
            std::any_of(providers.begin(), providers.end(), [t](const Hypervisor& h) { return HasTrait(h, t); });
        if (associated && *associated != used) continue;
        out.push_back(t);
    }
    auto r = Response::Json(200, {{"traits", std::move(out)}});
    CacheHeaders(c.minor, r, started_);
    return r;
}

Result<Response> PlacementService::ShowTrait(Call& c) {
    const auto& name = c.req.Param("name");
    if (!Contains(kTraits, name)) return NotFound("No such trait(s): " + name + ".");
    auto r = Response::Empty(204);
    CacheHeaders(c.minor, r, started_);
    return r;
}

Result<Response> PlacementService::ReadOnly(Call&) {
    return Forbidden(
        "This cloudlet's Placement is read-only: its compute service owns every resource provider, inventory, "
        "trait, aggregate and allocation.");
}

Result<Response> PlacementService::AllocationCandidates(Call& c) {
    const auto& req = c.req;
    const int minor = c.minor;
    // The query schema of each microversion (schemas/allocation_candidate.py).
    auto known = [&](std::string_view k) {
        if (k == "limit") return minor >= 16;
        if (k == "group_policy") return minor >= 25;
        if (k == "root_required") return minor >= 35;
        if (k == "same_subtree") return minor >= 36;
        auto group = GroupKey(k, minor);
        if (!group) return false;
        if (group->first == "required") return minor >= 17;
        if (group->first == "member_of") return minor >= 21;
        return true;
    };
    if (auto s = CheckKnownParams(req, known); !s.ok()) return s.error();
    if (minor < 25 && !Last(req, "resources")) return InvalidQuery("'resources' is a required property");
    std::optional<std::size_t> limit;
    if (auto v = Last(req, "limit")) {
        bool digits = !v->empty() && v->front() != '0' &&
                      std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        if (!digits) return InvalidQuery(Quoted(*v) + " does not match '^[1-9][0-9]*$'");
        limit = static_cast<std::size_t>(PyInt(*v).value_or(0));
    }
    std::string group_policy;
    if (auto v = Last(req, "group_policy")) {
        if (*v != "none" && *v != "isolate") return InvalidQuery(Quoted(*v) + " is not one of ['none', 'isolate']");
        group_policy = std::string(*v);
    }
    TraitQuery root_traits;
    if (auto values = req.QueryAll("root_required"); !values.empty()) {
        if (values.size() > 1)
            return ErrorReply(req, minor, BadRequest("Query parameter 'root_required' may be specified only once."),
                              kDuplicateKeyCode);
        auto parsed = ParseTraitValue(values.front(), true, false);
        if (!parsed.ok()) return parsed.error();
        for (const auto& any : parsed->required) root_traits.required.push_back(any);
        root_traits.forbidden = parsed->forbidden;
        std::vector<std::string> conflicts;
        for (const auto& any : root_traits.required)
            for (const auto& t : any)
                if (root_traits.forbidden.contains(t)) conflicts.push_back(t);
        if (!conflicts.empty())
            return ErrorReply(req, minor,
                              BadRequest("Conflicting required and forbidden traits found in root_required: " +
                                         Join(conflicts, ", ")),
                              kBadValueCode);
    }
    std::set<std::string> subtree_suffixes;
    for (auto v : req.QueryAll("same_subtree"))
        for (auto& s : Split(v, ',')) subtree_suffixes.insert(s);

    // The request groups, keyed by suffix ("" is the unsuffixed group).
    std::map<std::string, RequestGroup, std::less<>> groups;
    for (const auto& [key, value] : req.query) {
        auto gk = GroupKey(key, minor);
        if (!gk) continue;
        auto [prefix, suffix] = *gk;
        auto& group = groups[std::string(suffix)];
        if (prefix == "resources") {
            auto parsed = ParseResources(value);
            if (!parsed.ok()) return parsed.error();
            group.resources = std::move(parsed).value();
        } else if (prefix == "required") {
            auto parsed = ParseRequired(req, minor, key);
            if (!parsed.ok()) return parsed.error();
            group.traits = std::move(parsed).value();
        } else if (prefix == "member_of") {
            auto parsed = ParseMemberOf(req, minor, suffix);
            if (!parsed.ok()) return parsed.error();
            group.member_of = std::move(parsed).value();
        } else {
            auto tree = Trim(value);
            if (!IsUuid(tree, /*allow_hex32=*/true))
                return InvalidQuery("Expected 'in_tree' parameter to be a format of uuid. Got: " + value);
            group.in_tree = std::string(tree);
        }
    }
    if (minor >= 36) {
        std::vector<std::string> resourceless;
        for (const auto& [suffix, g] : groups)
            if (g.resources.empty()) resourceless.push_back(suffix);
        if (resourceless.size() == groups.size())
            return ErrorReply(req, minor,
                              BadRequest("There must be at least one resources or resources[$S] parameter."),
                              kMissingValueCode);
        std::vector<std::string> bad;
        for (const auto& s : resourceless)
            if (!subtree_suffixes.contains(s)) bad.push_back(Quoted(s));
        if (!bad.empty())
            return ErrorReply(req, minor,
                              BadRequest("Resourceless suffixed group request should be specified in `same_subtree` "
                                         "query param: bad group(s) - [" +
                                         Join(bad, ", ") + "]."),
                              kBadValueCode);
        std::vector<std::string> missing, all;
        for (const auto& s : subtree_suffixes)
            if (!groups.contains(s)) missing.push_back(Quoted(s));
        for (const auto& [s, g] : groups) all.push_back(Quoted(s));
        if (!missing.empty())
            return ErrorReply(req, minor,
                              BadRequest("Real suffixes should be specified in `same_subtree`: [" +
                                         Join(missing, ", ") + "] not found in [" + Join(all, ", ") + "]."),
                              kBadValueCode);
    } else {
        std::vector<std::string> orphans;
        for (const auto& [s, g] : groups)
            if (!g.traits.required.empty() && g.resources.empty()) orphans.push_back("required" + s);
        if (!orphans.empty())
            return BadRequest(
                "All traits parameters must be associated with resources.  Found the following orphaned traits keys: " +
                Join(orphans, ", "));
        for (const auto& [s, g] : groups)
            if (g.resources.empty() && (!g.member_of.required.empty() || !g.member_of.forbidden.empty()))
                orphans.push_back("member_of" + s);
        if (!orphans.empty())
            return BadRequest(
                "All member_of parameters must be associated with resources. Found the following orphaned member_of "
                "keys: " +
                Join(orphans, ", "));
        for (const auto& [s, g] : groups)
            if (g.resources.empty()) return BadRequest("All request groups must specify resources.");
        if (groups.empty())
            return BadRequest("At least one request group (`resources` or `resources{$S}`) is required.");
    }
    if (minor >= 22) {
        std::vector<std::string> conflicting;
        for (const auto& [s, g] : groups)
            for (const auto& any : g.traits.required)
                if (std::all_of(any.begin(), any.end(), [&](const auto& t) { return g.traits.forbidden.contains(t); }))
                    conflicting.push_back("required" + s + ": (" + Join(any, ", ") + ")");
        if (!conflicting.empty()) {
            std::sort(conflicting.begin(), conflicting.end());
            return BadRequest("Conflicting required and forbidden traits found in the following traits keys: " +
                              Join(conflicting, ", "));
        }
    }
    std::size_t numbered = 0;
    for (const auto& [s, g] : groups)
        if (!s.empty()) ++numbered;
    if (group_policy.empty() && numbered > 1)
        return BadRequest(
            "The \"group_policy\" parameter is required when specifying more than one \"resources{N}\" parameter.");
    for (const auto& [s, g] : groups)
        if (auto ok = CheckResourceClasses(g.resources); !ok.ok()) return ok.error();
    std::set<std::string> unknown;
    for (const auto& [s, g] : groups)
        for (const auto& t : UnknownTraits(g.traits)) unknown.insert(t);
    for (const auto& t : UnknownTraits(root_traits)) unknown.insert(t);
    if (!unknown.empty()) return BadRequest("No such trait(s): " + Join(unknown, ", ") + ".");

    // Every provider is a compute node alone in its tree: no children, no sharing providers,
    // no aggregates. So each candidate is one provider satisfying every group at once.
    Amounts requested;
    for (const auto& [s, g] : groups)
        for (const auto& [rc, amount] : g.resources) requested[rc] += 0;
    auto allocations = compute_.Allocations();
    json requests = json::array();
    json summaries = json::object();
    for (const auto& h : compute_.Hypervisors()) {
        if (limit && requests.size() >= *limit) break;
        if (group_policy == "isolate" && numbered > 1) break;  // isolated groups need distinct providers
        if (!HasTraits(root_traits, h)) continue;
        auto invs = InventoriesOf(h);
        auto used = UsedOn(h.uuid, allocations);
        Amounts merged;
        bool ok = true;
        for (const auto& [s, g] : groups) {
            if (!g.in_tree.empty() && g.in_tree != h.uuid) ok = false;
            if (!g.member_of.required.empty() || !HasTraits(g.traits, h)) ok = false;
            for (const auto& [rc, amount] : g.resources) {
                const auto* inv = FindInventory(invs, rc);
                if (!inv || !inv->Fits(Get(used, rc), amount)) ok = false;
                merged[rc] = amount > LLONG_MAX - merged[rc] ? LLONG_MAX : merged[rc] + amount;
            }
        }
        for (const auto& [rc, amount] : merged) {
            const auto* inv = FindInventory(invs, rc);
            if (!inv || amount > inv->max_unit ||
                static_cast<double>(Get(used, rc)) + static_cast<double>(amount) >
                    static_cast<double>(inv->total - inv->reserved) * inv->allocation_ratio)
                ok = false;
        }
        if (!ok) continue;

        json resources = json::object();
        for (const auto& [rc, amount] : merged) resources[rc] = amount;
        json request;
        if (minor >= 12) {
            request["allocations"][h.uuid]["resources"] = resources;
            if (minor >= 34) {
                request["mappings"] = json::object();
                for (const auto& [s, g] : groups) request["mappings"][s] = json::array({h.uuid});
            }
        } else {
            request["allocations"] =
                json::array({{{"resource_provider", {{"uuid", h.uuid}}}, {"resources", std::move(resources)}}});
        }
        requests.push_back(std::move(request));

        json summary_resources = json::object();
        for (const auto& inv : invs)
            if (minor >= 27 || requested.contains(inv.rc))
                summary_resources[std::string(inv.rc)] = {{"capacity", inv.Capacity()}, {"used", Get(used, inv.rc)}};
        json summary = {{"resources", std::move(summary_resources)}};
        if (minor >= 17) {
            summary["traits"] = json::array();
            for (auto t : TraitsOf(h)) summary["traits"].push_back(t);
        }
        if (minor >= 29) {
            summary["parent_provider_uuid"] = nullptr;
            summary["root_provider_uuid"] = h.uuid;
        }
        summaries[h.uuid] = std::move(summary);
    }
    auto r = Response::Json(
        200, {{"allocation_requests", std::move(requests)}, {"provider_summaries", std::move(summaries)}});
    CacheHeaders(minor, r, Now());
    return r;
}

}  // namespace shoal::emulator
