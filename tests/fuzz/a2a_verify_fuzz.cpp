// The A2A wire's authentication: a2a::RequestVerifier::Verify on a request whose method, target,
// header fields and body come from the input, as received (unsigned, forged, stale, replayed),
// then the same request signed by a peer with the cluster secret (SignRequest, the peer's clock
// up to 29 s off, inside the 30 s window) must be accepted exactly once.
//
// Input: "METHOD TARGET\n", header lines "Name: value\n", an empty line, the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "a2a/request_signer.hpp"

namespace {

void Check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz check failed: %s\n", what);
        std::abort();
    }
}

std::string_view Line(std::string_view& in) {
    auto nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace shoal;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    http::Request req;
    std::string_view first = Line(in);
    auto space = first.find(' ');
    req.method = http::ParseMethod(first.substr(0, space));
    if (!req.SetTarget(std::string(space == std::string_view::npos ? "/" : first.substr(space + 1)))) return 0;
    for (std::string_view line = Line(in); !line.empty(); line = Line(in)) {
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (value.starts_with(' ')) value.remove_prefix(1);
        req.headers.Add(std::string(line.substr(0, colon)), std::string(value));
    }
    req.body = std::string(in);

    const a2a::WallTime now{std::chrono::milliseconds(1'796'300'000'000)};  // 2026-12-03
    const std::string secret = "fuzz-cluster-secret-0123456789";
    a2a::RequestVerifier verifier(secret);
    (void)verifier.Verify(req, now);  // as received

    const std::string agent(req.headers.Get(a2a::kAgentHeader).value_or("agent-2"));
    const auto skew = std::chrono::seconds(static_cast<int>(size % 59) - 29);
    a2a::SignRequest(req, secret, agent, now + skew);
    auto first_time = verifier.Verify(req, now);
    auto second_time = verifier.Verify(req, now);
    Check(!second_time.ok(), "a signed request is accepted at most once");
    if (!agent.empty()) {
        Check(first_time.ok() && *first_time == agent, "a request signed with the secret is accepted");
        Check(verifier.Refused(a2a::Rejection::kReplayed) >= 1, "the replay is counted");
    }
    return 0;
}
