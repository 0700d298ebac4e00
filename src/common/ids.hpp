#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace shoal {

// Ids come from the CSPRNG (common/secure_random.hpp): users must not be able to predict them.
// Random RFC 4122 version-4 UUID, lower case with dashes (what OpenStack returns).
std::string NewUuid();
// The same without dashes (Keystone's project/user/domain IDs look like this).
std::string NewHexId();
// 16 bytes in the 8-4-4-4-12 lower-case form (the version and variant bits are the caller's).
std::string UuidText(std::span<const std::uint8_t, 16> bytes);
// True for the 8-4-4-4-12 hex form, and for 32 hex digits when allow_hex32.
bool IsUuid(std::string_view s, bool allow_hex32 = false);
// "req-<uuid>", the form of x-openstack-request-id.
std::string NewRequestId();

}  // namespace shoal
