#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "http/message.hpp"

namespace shoal::a2a {

// Agent-to-agent requests are authenticated with an HMAC-SHA256 over the method, the target,
// a timestamp, a nonce, the sender's id and the SHA-256 of the body, keyed with the cluster
// secret. Chosen over mutual TLS because it needs no certificates per agent, works over the
// plain HTTP core on 127.0.0.1 and costs microseconds; what it does not give (confidentiality)
// is not needed on the A2A port, which carries no user credentials.
//
//   X-Shoal-Agent: <sender id>      X-Shoal-Timestamp: <unix milliseconds>
//   X-Shoal-Nonce: <32 hex chars>   X-Shoal-Signature: <64 hex chars>
inline constexpr std::string_view kAgentHeader = "X-Shoal-Agent";
inline constexpr std::string_view kTimestampHeader = "X-Shoal-Timestamp";
inline constexpr std::string_view kNonceHeader = "X-Shoal-Nonce";
inline constexpr std::string_view kSignatureHeader = "X-Shoal-Signature";

using WallTime = std::chrono::system_clock::time_point;

// The agent whose signature checked out, in http::RequestContext of a request on the A2A port.
struct SignedBy {
    std::string agent;
};

// Adds the four headers to `request` (whose method, target and body are final).
void SignRequest(http::Request& request, std::string_view secret, std::string_view agent_id, WallTime now);

enum class Rejection { kUnsigned, kForged, kStale, kReplayed };
std::string_view RejectionName(Rejection r);

// Checks signatures and remembers nonces for the acceptance window, so a captured request
// cannot be sent again. Counts what it refuses. Not thread-safe: one per event loop.
class RequestVerifier {
public:
    RequestVerifier(std::string secret, std::chrono::milliseconds window = std::chrono::seconds(30));
    // Accepts a signature by any of `secrets`: during a rotation, the new cluster secret and the
    // ones it replaces. A secret left out (rotated out) is refused like any forgery.
    RequestVerifier(std::vector<std::string> secrets, std::chrono::milliseconds window = std::chrono::seconds(30));

    // The sender's agent id, or why the request is refused.
    Result<std::string> Verify(const http::Request& request, WallTime now);

    std::uint64_t Refused(Rejection r) const { return refused_[static_cast<int>(r)]; }
    std::uint64_t Accepted() const { return accepted_; }
    std::size_t RememberedNonces() const { return nonces_.size(); }

private:
    Error Refuse(Rejection r, std::string message);
    void Forget(WallTime now);

    std::vector<std::string> secrets_;
    std::chrono::milliseconds window_;
    std::unordered_map<std::string, WallTime> nonces_;  // nonce -> when it may be forgotten
    WallTime next_purge_{};
    std::uint64_t refused_[4] = {0, 0, 0, 0};
    std::uint64_t accepted_ = 0;
};

}  // namespace shoal::a2a
