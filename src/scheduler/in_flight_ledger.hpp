#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "scheduler/cloudlet_load.hpp"

namespace shoal::scheduler {

using ReservationId = std::uint64_t;  // 0 is never issued

struct InFlight {
    std::int64_t ram_mb = 0;
    int builds = 0;

    bool operator==(const InFlight&) const = default;
};

// The builds an agent has sent to its cloudlet that are not ACTIVE or ERROR yet. A cloudlet's
// hypervisor stats show a VM only once it is built, so without this ledger every home agent that
// asks during a burst sees the same empty cloudlet and sends its create there: herding. The agent
// adds its ledger to the raw load it reports (Apply), so a decision sees every build that reached
// the cloudlet before the load query did.
//
// Sans-I/O: time is the caller's (any monotonic clock, or the simulator's virtual time), never
// read here. Keyed by cloudlet so one ledger also serves an agent that fronts several.
class InFlightLedger {
public:
    using Time = std::chrono::microseconds;

    // A reservation older than `ttl` is dropped by Expire: the backstop for a lost ACTIVE/ERROR
    // notification. Keep it above the longest build (the cloudlet's build timeout), or a slow
    // build stops being counted while it still holds RAM.
    explicit InFlightLedger(Time ttl) : ttl_(ttl) {}

    // kBadRequest for an empty cloudlet or ram_mb <= 0.
    Result<ReservationId> Reserve(std::string cloudlet, std::int64_t ram_mb, Time now);
    // On ACTIVE, ERROR or the build's timeout. Idempotent: false if `id` is unknown, already
    // released or expired, and then nothing changes (a late ACTIVE after Expire is harmless).
    bool Release(ReservationId id);
    // Drops every reservation made at or before now - ttl; returns how many.
    std::size_t Expire(Time now);

    InFlight Totals(std::string_view cloudlet) const;
    // The effective load: `raw` with this ledger's in-flight totals for raw.cloudlet (replacing,
    // not adding to, whatever raw carried).
    CloudletLoad Apply(CloudletLoad raw) const;

    std::size_t Size() const { return reservations_.size(); }
    Time Ttl() const { return ttl_; }

private:
    struct Reservation {
        std::string cloudlet;
        std::int64_t ram_mb;
        Time made;
    };
    void Drop(std::map<ReservationId, Reservation>::iterator it);

    Time ttl_;
    ReservationId next_id_ = 1;
    std::map<ReservationId, Reservation> reservations_;
    std::map<std::string, InFlight, std::less<>> totals_;  // only cloudlets with builds in flight
};

}  // namespace shoal::scheduler
