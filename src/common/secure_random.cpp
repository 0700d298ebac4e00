#include "common/secure_random.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/crypto.hpp"

namespace shoal {

void SecureRandomBytes(std::span<std::uint8_t> out) {
    // RAND_bytes takes an int: draw in pieces for (unlikely) huge requests.
    while (!out.empty()) {
        const std::size_t n = std::min<std::size_t>(out.size(), 1 << 20);
        if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
            std::fputs("shoal: the CSPRNG (OpenSSL RAND_bytes) failed; refusing to continue\n", stderr);
            std::abort();
        }
        out = out.subspan(n);
    }
}

std::string SecureRandomHex(std::size_t bytes) {
    std::vector<std::uint8_t> raw(bytes);
    SecureRandomBytes(raw);
    return HexEncode(raw);
}

std::string SecureRandomString(std::size_t length, std::string_view alphabet) {
    const std::size_t n = alphabet.size();
    if (n < 2 || n > 256) std::abort();
    // Rejection sampling: bytes at or above the largest multiple of n are drawn again.
    const unsigned limit = 256 - (256 % static_cast<unsigned>(n));
    std::string s;
    s.reserve(length);
    std::uint8_t buf[64];
    while (s.size() < length) {
        SecureRandomBytes(buf);
        for (std::uint8_t b : buf) {
            if (b >= limit) continue;
            s.push_back(alphabet[b % n]);
            if (s.size() == length) break;
        }
    }
    return s;
}

std::uint64_t SecureRandomSeed() {
    std::uint8_t b[8];
    SecureRandomBytes(b);
    std::uint64_t seed = 0;
    for (std::uint8_t x : b) seed = (seed << 8) | x;
    return seed;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace shoal
