#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

// Everything an attacker must not predict: secrets, keys, passwords, nonces, and the ids and
// request ids users see (an id predicted is a resource found). Drawn from the operating system's
// CSPRNG through OpenSSL's RAND_bytes, never from the seeded shoal::Rng (common/rng.hpp), which
// exists so that protocols and simulations replay from a seed: nothing here takes a generator,
// and Rng has no way to produce bytes or text, so neither can be drawn from the other by mistake.
namespace shoal {

// Fills `out`; aborts the process if the CSPRNG fails (a secret must never be weak quietly).
void SecureRandomBytes(std::span<std::uint8_t> out);
// `bytes` random bytes as 2 * bytes lower-case hex digits.
std::string SecureRandomHex(std::size_t bytes);
// `length` characters drawn uniformly (no modulo bias) from `alphabet` (2..256 characters).
std::string SecureRandomString(
    std::size_t length, std::string_view alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

// A seed for a protocol's shoal::Rng (P2C sampling, shuffle partners) in product code: drawn
// here so that one agent's choices cannot be predicted from another's start time; simulations
// and tests pass their own seed instead.
std::uint64_t SecureRandomSeed();

// Equality whose time depends only on the lengths: for comparing signatures, keys and tokens,
// so that timing does not tell an attacker how much of a guess was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace shoal
