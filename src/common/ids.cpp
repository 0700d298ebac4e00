#include "common/ids.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include "common/crypto.hpp"
#include "common/secure_random.hpp"

namespace shoal {
namespace {

// Ids are capabilities in practice (a guessed id is a resource found, a guessed request id
// correlates another tenant's calls): 122 random bits from the CSPRNG, as uuid4 in Python does.
std::array<std::uint8_t, 16> RandomBytes() {
    std::array<std::uint8_t, 16> b{};
    SecureRandomBytes(b);
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
    return b;
}

}  // namespace

std::string UuidText(std::span<const std::uint8_t, 16> bytes) {
    std::string hex = HexEncode(bytes);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

std::string NewUuid() {
    return UuidText(RandomBytes());
}

std::string NewHexId() {
    return HexEncode(RandomBytes());
}

bool IsUuid(std::string_view s, bool allow_hex32) {
    auto all_hex = [](std::string_view v) {
        for (char c : v)
            if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
        return true;
    };
    if (allow_hex32 && s.size() == 32) return all_hex(s);
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

std::string NewRequestId() {
    return "req-" + NewUuid();
}

}  // namespace shoal
