#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

// The digests and encodings shoal needs, all from OpenSSL (libcrypto), so that no module carries
// its own copy: Nova's hostId (SHA-224), the A2A and image URL signatures (HMAC-SHA256), the
// shadow users' passwords and Keystone-like token ids (base64url), etcd's bytes (base64).
// Random bytes are in common/secure_random.hpp.
namespace shoal {

using Sha224Digest = std::array<std::uint8_t, 28>;
using Sha256Digest = std::array<std::uint8_t, 32>;

// FIPS 180-4. A digest that fails (only if libcrypto itself is broken) aborts the process:
// a signature or hostId computed wrongly must never be used quietly.
Sha224Digest Sha224(std::string_view data);
Sha256Digest Sha256(std::string_view data);
// The same, as lower-case hex (56 and 64 characters).
std::string Sha224Hex(std::string_view data);
std::string Sha256Hex(std::string_view data);

// RFC 2104 HMAC with SHA-256; any key length, the empty key included.
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// Lower-case hex, two digits per byte.
std::string HexEncode(std::span<const std::uint8_t> bytes);
std::string HexEncode(std::string_view bytes);

// RFC 4648 section 4: "+/" and "=" padding, as etcd's JSON gateway and ssh keys write bytes.
std::string Base64Encode(std::span<const std::uint8_t> bytes);
std::string Base64Encode(std::string_view bytes);
// The decoded bytes, or kBadRequest when `text` is not base64: a length not a multiple of 4,
// a character outside the alphabet (whitespace included), or padding anywhere but at the end.
Result<std::string> Base64Decode(std::string_view text);

// RFC 4648 section 5: "-_", without padding (as JWS and Keystone's ids write it).
std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
std::string Base64UrlEncode(std::string_view bytes);
// Accepts the text with or without its "=" padding; kBadRequest as for Base64Decode.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace shoal
