#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <span>
#include <stdexcept>

#include "common/ids.hpp"
#include "common/secure_random.hpp"
#include "emulator/nova/nova_api.hpp"
#include "openstack/microversion.hpp"

namespace shoal::emulator::nova {

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool AllDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Decimal without a leading zero (APIVersionRequest's "^([1-9]\d*)\.([1-9]\d*|0)$").
void Digest(const EVP_MD* md, std::string_view data, unsigned& len, unsigned char* out) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1) {
        EVP_MD_CTX_free(ctx);
        throw std::runtime_error("OpenSSL digest failed");
    }
    EVP_MD_CTX_free(ctx);
}

bool Printable(std::string_view s) {
    // Nova's valid_name_regex allows any printable Unicode; control characters are refused.
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

Result<ApiVersion> RequestedVersion(const http::Request& req) {
    auto minor = openstack::NovaMicroversion(req.headers, kMaxMinor);
    if (!minor.ok()) return minor.error();
    return ApiVersion{*minor};
}

void AddVersionHeaders(http::Response& response, ApiVersion version) {
    openstack::SetNovaVersionHeaders(response, version.minor);
}

Error PolicyError(std::string_view rule) {
    return MakeError(ErrorCode::kForbidden, "Policy doesn't allow " + std::string(rule) + " to be performed.");
}

Status RequireAdmin(const Call& c, std::string_view rule) {
    if (!c.Admin()) return PolicyError(rule);
    return Ok{};
}

std::string PyStr(const json& v) {
    return v.is_string() ? v.get<std::string>() : PyRepr(v);
}

Error BadField(std::string_view field, const json& value, const std::string& reason) {
    return MakeError(ErrorCode::kBadRequest, "Invalid input for field/attribute " + std::string(field) +
                                                 ". Value: " + PyStr(value) + ". " + reason);
}

Error BadQuery(std::string_view param, std::string_view value, const std::string& reason) {
    return MakeError(ErrorCode::kBadRequest, "Invalid input for query parameters " + std::string(param) +
                                                 ". Value: " + std::string(value) + ". " + reason);
}

Error BadRequest(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

Result<const json*> RequireObjectMember(const json& body, std::string_view key) {
    if (!body.is_object()) return BadRequest(PyRepr(body) + " is not of type 'object'");
    auto it = body.find(std::string(key));
    if (it == body.end()) return BadRequest("'" + std::string(key) + "' is a required property");
    if (!it->is_object()) return BadField(key, *it, PyRepr(*it) + " is not of type 'object'");
    return &*it;
}

Status NoAdditional(const json& obj, std::initializer_list<std::string_view> allowed) {
    std::vector<std::string> extra;
    for (const auto& [k, v] : obj.items())
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) extra.push_back(PyRepr(json(k)));
    if (extra.empty()) return Ok{};
    std::string list;
    for (std::size_t i = 0; i < extra.size(); ++i) list += (i ? ", " : "") + extra[i];
    return BadRequest("Additional properties are not allowed (" + list + (extra.size() == 1 ? " was" : " were") +
                      " unexpected)");
}

Status CheckString(std::string_view field, const json& v, std::size_t max_len, std::size_t min_len) {
    if (!v.is_string()) return BadField(field, v, PyRepr(v) + " is not of type 'string'");
    auto n = v.get_ref<const std::string&>().size();
    if (n < min_len) return BadField(field, v, PyRepr(v) + " is too short");
    if (n > max_len) return BadField(field, v, PyRepr(v) + " is too long");
    return Ok{};
}

Status CheckName(std::string_view field, const json& v) {
    if (auto ok = CheckString(field, v, 255, 1); !ok) return ok;
    const auto& s = v.get_ref<const std::string&>();
    if (std::isspace(static_cast<unsigned char>(s.front())) || std::isspace(static_cast<unsigned char>(s.back())) ||
        !Printable(s))
        return BadField(field, v, PyRepr(v) + " is not a 'name'");
    return Ok{};
}

Status CheckDescription(std::string_view field, const json& v) {
    if (v.is_null()) return Ok{};
    if (!v.is_string()) return BadField(field, v, PyRepr(v) + " is not of type 'string', 'null'");
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > 255) return BadField(field, v, PyRepr(v) + " is too long");
    if (!Printable(s)) return BadField(field, v, PyRepr(v) + " does not match '^[\\ -\\~]*$'");
    return Ok{};
}

std::optional<bool> BoolFromString(std::string_view s) {
    auto l = Lower(Trim(s));
    if (l == "1" || l == "t" || l == "true" || l == "on" || l == "y" || l == "yes") return true;
    if (l == "0" || l == "f" || l == "false" || l == "off" || l == "n" || l == "no") return false;
    return std::nullopt;
}

Result<bool> CheckBoolean(std::string_view field, const json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (!v.is_string()) return BadField(field, v, PyRepr(v) + " is not of type 'boolean', 'string'");
    static const std::vector<std::string> kTrue = {"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"};
    static const std::vector<std::string> kFalse = {"False", "FALSE", "false", "0",  "OFF",
                                                    "Off",   "off",   "NO",    "No", "no"};
    const auto& s = v.get_ref<const std::string&>();
    if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) return true;
    if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) return false;
    return BadField(field, v,
                    PyRepr(v) +
                        " is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', "
                        "'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']");
}

Result<long long> CheckInteger(std::string_view field, const json& v, long long minimum) {
    long long n = 0;
    if (v.is_number_integer()) {
        n = v.get<long long>();
    } else if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s.empty()) return BadField(field, v, "'' is too short");
        if (!AllDigits(s)) return BadField(field, v, PyRepr(v) + " does not match '^[0-9]*$'");
        if (s.size() > 12) return BadField(field, v, PyRepr(v) + " is greater than the maximum of 2147483647");
        n = std::stoll(s);
    } else {
        return BadField(field, v, PyRepr(v) + " is not of type 'integer', 'string'");
    }
    if (n < minimum)
        return BadField(field, v, std::to_string(n) + " is less than the minimum of " + std::to_string(minimum));
    if (n > 2147483647) return BadField(field, v, std::to_string(n) + " is greater than the maximum of 2147483647");
    return n;
}

Result<std::map<std::string, std::string>> CheckMetadata(std::string_view field, const json& v) {
    if (!v.is_object()) return BadField(field, v, PyRepr(v) + " is not of type 'object'");
    std::map<std::string, std::string> out;
    for (const auto& [k, val] : v.items()) {
        bool key_ok = !k.empty() && k.size() <= 255 && std::all_of(k.begin(), k.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '-' || c == '_' || c == ':' || c == '.' || c == ' ';
        });
        if (!key_ok)
            return BadRequest("Additional properties are not allowed (" + PyRepr(json(k)) + " was unexpected)");
        if (auto ok = CheckString(k, val, 255); !ok) return ok.error();
        out[k] = val.get<std::string>();
    }
    return out;
}

Result<std::optional<long long>> QueryLimit(const http::Request& req) {
    auto v = req.Query("limit");
    if (!v) return std::optional<long long>{};
    if (v->empty()) return BadQuery("limit", *v, "'' is too short");
    if (!AllDigits(*v)) return BadQuery("limit", *v, "'" + std::string(*v) + "' does not match '^[0-9]*$'");
    if (v->size() > 12) return std::optional<long long>{1000000000000LL};
    return std::optional<long long>{std::stoll(std::string(*v))};
}

bool IsUuidLike(std::string_view s) {
    // oslo uuidutils.is_uuid_like: dashes optional, any case, "urn:uuid:" and braces tolerated.
    std::string t = Lower(s);
    if (t.rfind("urn:", 0) == 0) t = t.substr(4);
    if (t.rfind("uuid:", 0) == 0) t = t.substr(5);
    if (!t.empty() && t.front() == '{' && t.back() == '}') t = t.substr(1, t.size() - 2);
    if (IsUuid(t)) return true;
    std::string hex;
    for (char c : t)
        if (c != '-') hex.push_back(c);
    return hex.size() == 32 && IsUuid(hex, true) && t.size() == 32;
}

std::string NameUuid(std::string_view name) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    // RFC 4122 name-based (v5) in a private namespace.
    Digest(EVP_sha1(), "shoal-cloudlet:" + std::string(name), len, md);
    md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50);
    md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);
    return UuidText(std::span<const std::uint8_t, 16>(md, 16));
}

std::string RandomString(std::size_t n, std::string_view alphabet) {
    return SecureRandomString(n, alphabet);
}

std::string InstanceName(std::int64_t number) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "instance-%08llx", static_cast<unsigned long long>(number));
    return buf;
}

http::Response JsonResponse(int status, const json& body) {
    return http::Response::Json(status, body);
}

}  // namespace shoal::emulator::nova
