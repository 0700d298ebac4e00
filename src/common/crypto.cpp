#include "common/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace shoal {
namespace {

[[noreturn]] void CryptoFailed(const char* what) {
    std::fprintf(stderr, "shoal: OpenSSL %s failed; refusing to continue\n", what);
    std::abort();
}

template <std::size_t N>
std::array<std::uint8_t, N> Digest(const EVP_MD* md, std::string_view data) {
    std::array<std::uint8_t, N> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N) CryptoFailed("digest");
    return out;
}

std::span<const std::uint8_t> AsBytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

int Base64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

Error NotBase64(std::string_view why) {
    return MakeError(ErrorCode::kBadRequest, "Invalid base64 data: " + std::string(why));
}

}  // namespace

Sha224Digest Sha224(std::string_view data) {
    return Digest<28>(EVP_sha224(), data);
}

Sha256Digest Sha256(std::string_view data) {
    return Digest<32>(EVP_sha256(), data);
}

std::string Sha224Hex(std::string_view data) {
    return HexEncode(Sha224(data));
}

std::string Sha256Hex(std::string_view data) {
    return HexEncode(Sha256(data));
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
    Sha256Digest out{};
    unsigned int len = 0;
    // A non-null pointer even for the empty key: OpenSSL 3 refuses a null key.
    const void* key_data = key.empty() ? static_cast<const void*>("") : key.data();
    if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
             data.size(), out.data(), &len) == nullptr ||
        len != out.size())
        CryptoFailed("HMAC");
    return out;
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * bytes.size());
    for (std::uint8_t b : bytes) {
        s.push_back(kHex[b >> 4]);
        s.push_back(kHex[b & 0xf]);
    }
    return s;
}

std::string HexEncode(std::string_view bytes) {
    return HexEncode(AsBytes(bytes));
}

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    // EVP_EncodeBlock takes an int length: encode in pieces of a multiple of 3 bytes.
    constexpr std::size_t kPiece = 3 << 20;
    out.reserve((bytes.size() + 2) / 3 * 4);
    while (!bytes.empty()) {
        const std::size_t n = std::min(bytes.size(), kPiece);
        const std::size_t at = out.size();
        out.resize(at + (n + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a trailing NUL
        const int written =
            EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), bytes.data(), static_cast<int>(n));
        out.resize(at + static_cast<std::size_t>(written));
        bytes = bytes.subspan(n);
    }
    return out;
}

std::string Base64Encode(std::string_view bytes) {
    return Base64Encode(AsBytes(bytes));
}

Result<std::string> Base64Decode(std::string_view text) {
    // EVP_DecodeBlock skips whitespace and turns padding into zero bytes: the structure is
    // checked here first, so that it only ever sees canonical input.
    if (text.size() % 4 != 0) return NotBase64("the length is not a multiple of 4");
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    for (std::size_t i = 0; i + pad < text.size(); ++i)
        if (Base64Value(text[i]) < 0) return NotBase64("a character outside the alphabet, or misplaced padding");
    std::string out;
    constexpr std::size_t kPiece = 4 << 20;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t at = 0; at < text.size(); at += kPiece) {
        const std::size_t n = std::min(text.size() - at, kPiece);
        const std::size_t base = out.size();
        out.resize(base + n / 4 * 3);
        const int written =
            EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + base),
                            reinterpret_cast<const unsigned char*>(text.data() + at), static_cast<int>(n));
        if (written < 0 || static_cast<std::size_t>(written) != n / 4 * 3) return NotBase64("undecodable");
    }
    out.resize(out.size() - pad);
    return out;
}

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
    std::string s = Base64Encode(bytes);
    while (!s.empty() && s.back() == '=') s.pop_back();
    for (char& c : s) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return s;
}

std::string Base64UrlEncode(std::string_view bytes) {
    return Base64UrlEncode(AsBytes(bytes));
}

Result<std::string> Base64UrlDecode(std::string_view text) {
    std::string s(text);
    for (char& c : s) {
        if (c == '+' || c == '/') return NotBase64("a character outside the base64url alphabet");
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    // Unpadded is canonical; padded text must carry all of its padding (Base64Decode checks).
    if (s.find('=') == std::string::npos) {
        if (s.size() % 4 == 1) return NotBase64("the length is impossible for base64url");
        if (s.size() % 4 != 0) s.append(4 - s.size() % 4, '=');
    }
    return Base64Decode(s);
}

}  // namespace shoal
