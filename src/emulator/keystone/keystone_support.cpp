#include "emulator/keystone/keystone_support.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "common/crypto.hpp"
#include "common/secure_random.hpp"

namespace shoal::emulator::keystone {
namespace {

constexpr int kPbkdf2Iterations = 2000;
constexpr std::size_t kHashBytes = 32;

std::vector<unsigned char> RandomBytes(std::size_t n) {
    std::vector<unsigned char> out(n);
    SecureRandomBytes(out);  // the secrets of a cloudlet must be unguessable too
    return out;
}

std::string Pbkdf2(std::string_view password, std::string_view salt, int iterations) {
    std::array<unsigned char, kHashBytes> out{};
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                          iterations, EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1)
        throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
    return HexEncode(out);
}

std::string TypeList(std::string_view type, bool nullable) {
    std::string s = "'" + std::string(type) + "'";
    if (nullable) s += ", 'null'";
    return s;
}

bool HasType(const json& v, std::string_view type) {
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "integer") return v.is_number_integer();
    return false;
}

}  // namespace

std::string RandomUrlSafe(std::size_t bytes) {
    auto b = RandomBytes(bytes);
    return Base64UrlEncode(b);
}

std::string NewTokenId() {
    return "gAAAAAB" + RandomUrlSafe(135);
}

std::string NewAuditId() {
    return RandomUrlSafe(16);
}

std::string StableHexId(std::string_view seed) {
    return Sha256Hex(seed).substr(0, 32);
}

std::string HashPassword(std::string_view password) {
    std::string salt = RandomUrlSafe(16);
    return "pbkdf2-sha256$" + std::to_string(kPbkdf2Iterations) + "$" + salt + "$" +
           Pbkdf2(password, salt, kPbkdf2Iterations);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
    // pbkdf2-sha256$<iterations>$<salt>$<hex>
    constexpr std::string_view kScheme = "pbkdf2-sha256$";
    if (!encoded.starts_with(kScheme)) return false;
    auto rest = encoded.substr(kScheme.size());
    auto d1 = rest.find('$');
    if (d1 == std::string_view::npos) return false;
    auto d2 = rest.find('$', d1 + 1);
    if (d2 == std::string_view::npos) return false;
    int iterations = 0;
    auto iter_text = rest.substr(0, d1);
    auto [p, ec] = std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), iterations);
    if (ec != std::errc{} || p != iter_text.data() + iter_text.size() || iterations < 1 || iterations > 10'000'000)
        return false;
    auto salt = rest.substr(d1 + 1, d2 - d1 - 1);
    auto expected = rest.substr(d2 + 1);
    auto actual = Pbkdf2(password, salt, iterations);
    return actual.size() == expected.size() && CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

Error SchemaError(std::string_view path, std::string detail) {
    if (path.empty()) return MakeError(ErrorCode::kBadRequest, std::move(detail));
    return MakeError(ErrorCode::kBadRequest, "Invalid input for field '" + std::string(path) + "': " + detail);
}

Error ValidationError(std::string_view attribute, std::string_view target) {
    return MakeError(ErrorCode::kBadRequest,
                     "Expecting to find " + std::string(attribute) + " in " + std::string(target) +
                         ". The server could not comply with the request since it is either malformed or otherwise "
                         "incorrect. The client is assumed to be in error.");
}

Status ExpectType(const json& v, std::string_view path, std::string_view type, bool nullable) {
    if (HasType(v, type) || (nullable && v.is_null())) return Ok{};
    return SchemaError(path, PyRepr(v) + " is not of type " + TypeList(type, nullable));
}

Status ExpectObject(const json& v, std::string_view path) {
    return ExpectType(v, path, "object");
}

Status RequireField(const json& obj, std::string_view path, std::string_view field) {
    if (obj.contains(field)) return Ok{};
    return SchemaError(path, "'" + std::string(field) + "' is a required property");
}

Status ExpectName(const json& v, std::string_view path, std::size_t max_length) {
    if (auto s = ExpectType(v, path, "string"); !s.ok()) return s;
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return SchemaError(path, PyRepr(v) + " is too short");
    // jsonschema counts characters, not bytes.
    std::size_t chars = 0;
    for (unsigned char c : s)
        if ((c & 0xc0) != 0x80) ++chars;
    if (chars > max_length) return SchemaError(path, PyRepr(v) + " is too long");
    bool all_space = true;
    for (unsigned char c : s)
        if (!std::isspace(c)) all_space = false;
    if (all_space) return SchemaError(path, PyRepr(v) + " does not match '[\\\\S]+'");
    return Ok{};
}

Result<json> ParseBody(const http::Request& req) {
    if (auto ct = req.headers.Get("Content-Type"); ct && !ct->empty() && !req.body.empty()) {
        std::string lower(*ct);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!lower.starts_with("application/json")) return ValidationError("application/json", "Content-Type header");
    }
    bool blank = true;
    for (unsigned char c : req.body)
        if (!std::isspace(c)) blank = false;
    if (blank) return json::object();
    auto j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return ValidationError("valid JSON", "request body");
    if (j.is_null()) return json::object();
    if (!j.is_object()) return ValidationError("valid JSON object", "request body");
    return j;
}

bool QueryIsTrue(std::string_view value) {
    std::string lower(value);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return !(lower == "0" || lower == "false");
}

}  // namespace shoal::emulator::keystone
