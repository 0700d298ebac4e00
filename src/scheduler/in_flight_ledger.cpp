#include "scheduler/in_flight_ledger.hpp"

#include <utility>

namespace shoal::scheduler {

Result<ReservationId> InFlightLedger::Reserve(std::string cloudlet, std::int64_t ram_mb, Time now) {
    if (cloudlet.empty()) return MakeError(ErrorCode::kBadRequest, "in-flight ledger: empty cloudlet");
    if (ram_mb <= 0) return MakeError(ErrorCode::kBadRequest, "in-flight ledger: ram_mb must be positive");
    InFlight& total = totals_[cloudlet];
    total.ram_mb += ram_mb;
    total.builds += 1;
    const ReservationId id = next_id_++;
    reservations_.emplace(id, Reservation{std::move(cloudlet), ram_mb, now});
    return id;
}

bool InFlightLedger::Release(ReservationId id) {
    auto it = reservations_.find(id);
    if (it == reservations_.end()) return false;
    Drop(it);
    return true;
}

std::size_t InFlightLedger::Expire(Time now) {
    // Not ordered by time (callers may pass any `now`), so scan; a ledger holds only the builds
    // in flight, a few dozen.
    std::size_t expired = 0;
    for (auto it = reservations_.begin(); it != reservations_.end();) {
        auto next = std::next(it);
        if (now - it->second.made >= ttl_) {
            Drop(it);
            ++expired;
        }
        it = next;
    }
    return expired;
}

InFlight InFlightLedger::Totals(std::string_view cloudlet) const {
    auto it = totals_.find(cloudlet);
    return it == totals_.end() ? InFlight{} : it->second;
}

CloudletLoad InFlightLedger::Apply(CloudletLoad raw) const {
    const InFlight t = Totals(raw.cloudlet);
    raw.in_flight_ram_mb = t.ram_mb;
    raw.in_flight_builds = t.builds;
    return raw;
}

void InFlightLedger::Drop(std::map<ReservationId, Reservation>::iterator it) {
    auto total = totals_.find(it->second.cloudlet);
    total->second.ram_mb -= it->second.ram_mb;
    total->second.builds -= 1;
    if (total->second.builds == 0) totals_.erase(total);
    reservations_.erase(it);
}

}  // namespace shoal::scheduler
