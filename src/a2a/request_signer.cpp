#include "a2a/request_signer.hpp"

#include <charconv>

#include "common/crypto.hpp"
#include "common/secure_random.hpp"

namespace shoal::a2a {
namespace {

std::string Signature(std::string_view secret,
                      const http::Request& r,
                      std::string_view agent,
                      std::string_view timestamp,
                      std::string_view nonce) {
    std::string to_sign = "shoal-a2a-v1\n";
    to_sign += http::MethodName(r.method);
    to_sign += "\n" + r.target + "\n";
    to_sign += timestamp;
    to_sign += "\n";
    to_sign += nonce;
    to_sign += "\n";
    to_sign += agent;
    to_sign += "\n" + Sha256Hex(r.body);
    return HexEncode(HmacSha256(secret, to_sign));
}

std::int64_t Millis(WallTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view RejectionName(Rejection r) {
    switch (r) {
        case Rejection::kUnsigned:
            return "unsigned";
        case Rejection::kForged:
            return "forged";
        case Rejection::kStale:
            return "stale";
        case Rejection::kReplayed:
            return "replayed";
    }
    return "unknown";
}

void SignRequest(http::Request& request, std::string_view secret, std::string_view agent_id, WallTime now) {
    std::string nonce = SecureRandomHex(16);
    std::string timestamp = std::to_string(Millis(now));
    request.headers.Set(std::string(kAgentHeader), std::string(agent_id));
    request.headers.Set(std::string(kTimestampHeader), timestamp);
    request.headers.Set(std::string(kNonceHeader), nonce);
    request.headers.Set(std::string(kSignatureHeader), Signature(secret, request, agent_id, timestamp, nonce));
}

RequestVerifier::RequestVerifier(std::string secret, std::chrono::milliseconds window)
    : RequestVerifier(std::vector<std::string>{std::move(secret)}, window) {}

RequestVerifier::RequestVerifier(std::vector<std::string> secrets, std::chrono::milliseconds window)
    : secrets_(std::move(secrets)), window_(window) {}

Error RequestVerifier::Refuse(Rejection r, std::string message) {
    ++refused_[static_cast<int>(r)];
    return MakeError(ErrorCode::kUnauthorized, std::move(message));
}

void RequestVerifier::Forget(WallTime now) {
    if (now < next_purge_) return;
    std::erase_if(nonces_, [&](const auto& kv) { return kv.second <= now; });
    next_purge_ = now + window_;
}

Result<std::string> RequestVerifier::Verify(const http::Request& request, WallTime now) {
    auto agent = request.headers.Get(kAgentHeader);
    auto timestamp = request.headers.Get(kTimestampHeader);
    auto nonce = request.headers.Get(kNonceHeader);
    auto signature = request.headers.Get(kSignatureHeader);
    if (!agent || !timestamp || !nonce || !signature || agent->empty() || nonce->size() != 32)
        return Refuse(Rejection::kUnsigned, "A2A request is not signed.");
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), ms);
    if (ec != std::errc() || end != timestamp->data() + timestamp->size())
        return Refuse(Rejection::kUnsigned, "A2A request has a malformed timestamp.");
    // Every accepted secret is tried (the current one and those kept during a rotation), each
    // compared in constant time: the comparison must not tell how much of a guess was right.
    bool signed_by_us = false;
    for (const auto& secret : secrets_)
        signed_by_us |= ConstantTimeEquals(*signature, Signature(secret, request, *agent, *timestamp, *nonce));
    if (!signed_by_us) return Refuse(Rejection::kForged, "A2A request signature does not match.");
    auto skew = std::chrono::milliseconds(Millis(now) - ms);
    if (skew > window_ || skew < -window_)
        return Refuse(Rejection::kStale, "A2A request timestamp is outside the acceptance window.");
    Forget(now);
    // Remember the nonce until the request can no longer pass the timestamp check.
    auto [it, inserted] = nonces_.emplace(std::string(*nonce), WallTime(std::chrono::milliseconds(ms)) + window_);
    if (!inserted) return Refuse(Rejection::kReplayed, "A2A request was already received (replay).");
    ++accepted_;
    return std::string(*agent);
}

}  // namespace shoal::a2a
