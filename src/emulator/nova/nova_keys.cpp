#include "emulator/nova/nova_keys.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/crypto.hpp"

namespace shoal::emulator::nova {

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

Error CryptoError(std::string_view what) {
    return MakeError(ErrorCode::kInternal, "Keypair generation failed: " + std::string(what));
}

std::string BioText(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// "aa:bb:...", how Nova writes fingerprints.
std::string ColonHex(const unsigned char* p, unsigned n) {
    std::string hex = HexEncode(std::span<const std::uint8_t>(p, n));
    std::string s;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i) s.push_back(':');
        s.append(hex, i, 2);
    }
    return s;
}

std::string Md5Colon(const std::vector<unsigned char>& blob) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(blob.data(), blob.size(), md, &n, EVP_md5(), nullptr);
    return ColonHex(md, n);
}

void PutU32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

void PutString(std::vector<unsigned char>& out, const unsigned char* p, std::size_t n) {
    PutU32(out, static_cast<std::uint32_t>(n));
    out.insert(out.end(), p, p + n);
}

void PutMpint(std::vector<unsigned char>& out, const BIGNUM* bn) {
    std::vector<unsigned char> bytes(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, bytes.data());
    if (!bytes.empty() && (bytes[0] & 0x80)) bytes.insert(bytes.begin(), 0);  // keep it positive
    PutString(out, bytes.data(), bytes.size());
}

Result<PkeyPtr> NewRsaKey() {
    PkeyPtr key(EVP_RSA_gen(2048));
    if (!key) return CryptoError("RSA key generation");
    return key;
}

Result<std::string> TraditionalPem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return CryptoError("PEM encoding");
    return BioText(bio.get());
}

}  // namespace

Result<GeneratedKeypair> GenerateSshKeypair() {
    auto key = NewRsaKey();
    if (!key.ok()) return key.error();
    BIGNUM* n_raw = nullptr;
    BIGNUM* e_raw = nullptr;
    if (EVP_PKEY_get_bn_param(key->get(), OSSL_PKEY_PARAM_RSA_N, &n_raw) != 1 ||
        EVP_PKEY_get_bn_param(key->get(), OSSL_PKEY_PARAM_RSA_E, &e_raw) != 1) {
        BN_free(n_raw);
        BN_free(e_raw);
        return CryptoError("reading the RSA parameters");
    }
    BnPtr n(n_raw), e(e_raw);
    std::vector<unsigned char> blob;
    static constexpr std::string_view kType = "ssh-rsa";
    PutString(blob, reinterpret_cast<const unsigned char*>(kType.data()), kType.size());
    PutMpint(blob, e.get());
    PutMpint(blob, n.get());
    auto pem = TraditionalPem(key->get());
    if (!pem.ok()) return pem.error();
    GeneratedKeypair out;
    out.public_key = "ssh-rsa " + Base64Encode(blob) + " Generated-by-Nova";
    out.private_key = std::move(pem).value();
    out.fingerprint = Md5Colon(blob);
    return out;
}

Result<GeneratedKeypair> GenerateX509Keypair(std::string_view user_id) {
    auto key = NewRsaKey();
    if (!key.ok()) return key.error();
    X509Ptr cert(X509_new());
    if (!cert) return CryptoError("certificate allocation");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);  // Nova: ten years
    X509_set_pubkey(cert.get(), key->get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    std::string cn(user_id.empty() ? "nova" : user_id);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key->get(), EVP_sha256()) == 0) return CryptoError("certificate signing");
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return CryptoError("certificate encoding");
    auto pem = TraditionalPem(key->get());
    if (!pem.ok()) return pem.error();
    GeneratedKeypair out;
    out.public_key = BioText(bio.get());
    out.private_key = std::move(pem).value();
    auto fp = X509Fingerprint(out.public_key);
    if (!fp) return CryptoError("certificate fingerprint");
    out.fingerprint = *fp;
    return out;
}

std::optional<std::string> SshFingerprint(std::string_view public_key) {
    // "<type> <base64 blob> [comment]"; the blob starts with the same type name.
    auto start = public_key.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return std::nullopt;
    public_key.remove_prefix(start);
    auto sp = public_key.find_first_of(" \t");
    if (sp == std::string_view::npos) return std::nullopt;
    std::string_view type = public_key.substr(0, sp);
    std::string_view rest = public_key.substr(sp);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    std::string_view b64 = rest.substr(0, rest.find_first_of(" \t\r\n"));
    static const std::vector<std::string_view> kTypes = {
        "ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"};
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) return std::nullopt;
    auto decoded = Base64Decode(b64);
    if (!decoded || decoded->size() < 4 + type.size()) return std::nullopt;
    std::vector<unsigned char> blob(decoded->begin(), decoded->end());
    std::uint32_t len = (std::uint32_t{blob[0]} << 24) | (std::uint32_t{blob[1]} << 16) |
                        (std::uint32_t{blob[2]} << 8) | std::uint32_t{blob[3]};
    if (len != type.size() || std::string_view(reinterpret_cast<const char*>(blob.data() + 4), len) != type)
        return std::nullopt;
    return Md5Colon(blob);
}

std::optional<std::string> X509Fingerprint(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return std::nullopt;
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return std::nullopt;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (X509_digest(cert.get(), EVP_sha1(), md, &n) != 1) return std::nullopt;
    return ColonHex(md, n);
}

}  // namespace shoal::emulator::nova
