#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloudlet/keystone_session.hpp"
#include "common/result.hpp"
#include "http/message.hpp"
#include "scheduler/cloudlet_load.hpp"

namespace shoal::cloudlet {

// One OpenStack call to a cloudlet of the shoal on a tenant's behalf. A class with a
// constructor, not an aggregate: it is passed by value to coroutines (docs/architecture.md).
class CloudletCall {
public:
    CloudletCall(Service s, http::Method m, std::string p) : service(s), method(m), path(std::move(p)) {}

    Service service;
    http::Method method;
    std::string path;  // relative to the service's catalog endpoint, with its query
    std::string body;  // sent as is when not empty
    std::string content_type = "application/json";
    std::string accept = "application/json";
    std::string microversion;  // compute/placement, e.g. "2.37"
    // A server create: the cloudlet's agent counts this much RAM as in flight until the build
    // ends, so that concurrent placements see it (scheduler::InFlightLedger).
    std::int64_t reserve_ram_mb = 0;
    // A reservation already made with CloudletGateway::Reserve: the create takes it over
    // instead of making its own.
    std::uint64_t reservation = 0;
    std::optional<std::chrono::milliseconds> timeout;
};

// The tenant's project id at the cloudlet, on every answer of Call.
inline constexpr std::string_view kCloudletProjectHeader = "X-Shoal-Cloudlet-Project";

inline std::string CloudletProjectOf(const http::Response& answer) {
    auto v = answer.headers.Get(kCloudletProjectHeader);
    return v ? std::string(*v) : std::string();
}

// A cloudlet's answer as the user's: status, body and the headers Nova and Glance clients read
// (never the cloudlet's Location: callers translate it).
inline http::Response RelayAnswer(const http::Response& from) {
    http::Response r;
    r.status = from.status;
    r.body = from.body;
    for (const char* h : {"Content-Type", "Content-MD5", "OpenStack-image-import-methods", "OpenStack-image-store-ids"})
        if (auto v = from.headers.Get(h)) r.headers.Set(h, std::string(*v));
    return r;
}

// A build in flight as the agent beside its cloudlet last saw it: "BUILD", "ACTIVE" or "ERROR"
// (with Nova's fault message), or "" when that agent is not watching the server (unknown to
// it, or ended long ago): ask the cloudlet itself then.
struct BuildProgress {
    std::string status;
    std::string fault;
};

// How a home agent reaches the cloudlets of the shoal (paper IV-B): each cloudlet is named by the
// id of the agent that stands beside it, and is reached through that agent only (its own
// cloudlet directly, the others over signed A2A). Calls act as the tenant's principal in that
// cloudlet (service-account mode: the shadow project and user, created on first use).
// The agent's implementation is gateway::ShoalCloudlets; tests use testing::FakeCloudletGateway.
class CloudletGateway {
public:
    virtual ~CloudletGateway() = default;

    virtual const std::string& SelfId() const = 0;
    // Any HTTP status comes back as a response; transport failures (the agent or its cloudlet
    // unreachable) are kUnavailable, no answer in time kTimeout.
    virtual boost::asio::awaitable<Result<http::Response>> Call(std::string cloudlet,
                                                                std::string tenant,
                                                                CloudletCall call) = 0;
    // The cloudlet's memory load as its agent reports it, builds in flight included.
    virtual boost::asio::awaitable<Result<scheduler::CloudletLoad>> Load(std::string cloudlet) = 0;
    // k distinct live agents (fewer if the shoal is smaller), self included with the same chance
    // as any other: the candidates of one power-of-two-choices decision.
    virtual std::vector<std::string> Candidates(std::size_t k) = 0;
    // Waits up to `wait` for the build of `cloudlet_server_id` (created with a reservation) to
    // end, as watched by the cloudlet's agent: one list of the cloudlet's servers per period for
    // all the builds there, instead of one GET per build. Without a watcher: "" at once.
    virtual boost::asio::awaitable<Result<BuildProgress>> AwaitBuild(std::string cloudlet,
                                                                     std::string cloudlet_server_id,
                                                                     std::chrono::milliseconds wait) = 0;
    // The load, and `ram_mb` held as in flight there from this moment (reservation 0: none
    // made): a power-of-two-choices decision holds at the cloudlet it chose, so that decisions
    // elsewhere see it at once; the create takes the hold over (CloudletCall::reservation),
    // seconds later when the image is copied first. The load does not include this hold.
    struct HeldLoad {
        scheduler::CloudletLoad load;
        std::uint64_t reservation = 0;
    };
    virtual boost::asio::awaitable<Result<HeldLoad>> LoadHolding(std::string cloudlet, std::int64_t ram_mb) = 0;
    // Gives back a hold no create took over (a placement that failed before its create).
    virtual boost::asio::awaitable<void> Unreserve(std::string cloudlet, std::uint64_t reservation) = 0;
};

}  // namespace shoal::cloudlet
