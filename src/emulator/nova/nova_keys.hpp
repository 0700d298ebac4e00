#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace shoal::emulator::nova {

// A keypair Nova generated (before 2.92): the public half, the private half and the fingerprint.
struct GeneratedKeypair {
    std::string public_key;   // "ssh-rsa AAAA... Generated-by-Nova", or a PEM certificate for x509
    std::string private_key;  // PEM, "-----BEGIN RSA PRIVATE KEY-----" like paramiko writes it
    std::string fingerprint;  // MD5 of the key blob (ssh) or SHA-1 of the certificate (x509), colon separated
};

// RSA 2048 OpenSSH keypair.
Result<GeneratedKeypair> GenerateSshKeypair();
// Self-signed certificate for the user, as nova.crypto.generate_x509_cert does.
Result<GeneratedKeypair> GenerateX509Keypair(std::string_view user_id);

// nova.crypto.generate_fingerprint: nullopt when the text is not an OpenSSH public key.
std::optional<std::string> SshFingerprint(std::string_view public_key);
// nova.crypto.generate_x509_fingerprint: nullopt when the text is not a PEM certificate.
std::optional<std::string> X509Fingerprint(std::string_view pem);

}  // namespace shoal::emulator::nova
