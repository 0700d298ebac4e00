#pragma once

#include "emulator/core/py_repr.hpp"

// Building blocks of the emulated Keystone that do not depend on its state: secrets, stable
// ids and Keystone's request-validation messages. Internal to shoal_emulator_keystone.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/message.hpp"

namespace shoal::emulator::keystone {

using nlohmann::json;

// `bytes` cryptographically random bytes as unpadded base64url.
std::string RandomUrlSafe(std::size_t bytes);
// An opaque token id that looks like a Fernet token ("gAAAAAB..."), unguessable.
std::string NewTokenId();
// 22 characters, the form of Keystone's audit ids.
std::string NewAuditId();
// 32 hex digits derived from `seed`: catalog ids that survive restarts.
std::string StableHexId(std::string_view seed);

// Salted PBKDF2-HMAC-SHA256, "pbkdf2-sha256$<iterations>$<salt>$<hash>". Keystone uses bcrypt;
// the iteration count is kept low because hashing runs on the cloudlet's only thread.
std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view password, std::string_view encoded);

// Python's repr() of a JSON value, as jsonschema quotes it in messages ('x', True, None).
using emulator::PyRepr;

// Keystone's schema-violation message (keystone/common/validation/validators.py):
// "Invalid input for field 'a/b': <detail>", or just <detail> at the document root.
Error SchemaError(std::string_view path, std::string detail);
// keystone.exception.ValidationError: "Expecting to find <attribute> in <target>. ..."
Error ValidationError(std::string_view attribute, std::string_view target);

// Type checks in jsonschema's words; `path` is the field path for the message.
Status ExpectType(const json& v, std::string_view path, std::string_view type, bool nullable = false);
Status ExpectObject(const json& v, std::string_view path);
Status RequireField(const json& obj, std::string_view path, std::string_view field);
// A resource name: string of 1..max characters, not only whitespace.
Status ExpectName(const json& v, std::string_view path, std::size_t max_length);

// The request body as Keystone's json_body hook sees it: empty means {}, otherwise a JSON object.
Result<json> ParseBody(const http::Request& req);
// Keystone's reading of boolean query parameters: "0" and "false" are false, anything else true.
bool QueryIsTrue(std::string_view value);

}  // namespace shoal::emulator::keystone
