#include "scheduler/placement_simulation.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <string>
#include <utility>

#include "common/rng.hpp"
#include "scheduler/in_flight_ledger.hpp"

namespace shoal::scheduler {
namespace {

struct Hypervisor {
    std::int64_t ram_mb;
    std::int64_t active_mb = 0;    // what the hypervisor stats (and so the raw load) show
    std::int64_t building_mb = 0;  // claimed by builds the cloudlet is running
};

struct Cloudlet {
    std::string name;
    std::vector<Hypervisor> hypervisors;
    InFlightLedger ledger;  // its agent's
    int servers = 0;
    int decided = 0;  // creates any home agent has decided to send here
    int arrived = 0;  // of those, the ones that reached the agent
};

struct Request {
    Plan plan;
    std::vector<std::size_t> candidates;
    std::vector<CloudletLoad> loads;
    std::vector<int> seen_arrived;  // Cloudlet::arrived of each candidate when its load was read
    std::size_t target = 0;
    std::size_t hypervisor = 0;
    ReservationId reservation = 0;
};

enum class Kind { kStart, kReadLoads, kDecide, kCreateArrives, kBuildDone, kFailureReported };

struct Event {
    SimMicros at;
    std::uint64_t seq;  // ties in push order, so a run depends only on its seed
    Kind kind;
    std::size_t request;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class Simulation {
public:
    explicit Simulation(const PlacementConfig& config)
        : config_(config), arrivals_(config.seed), decisions_(config.seed ^ 0x9E3779B97F4A7C15ULL) {
        const InFlightLedger::Time ttl{std::max<SimMicros>(10 * config.build_time_us, 1'000'000)};
        for (std::size_t i = 0; i < config.cloudlets.size(); ++i) {
            Cloudlet c{"c" + std::to_string(i), {}, InFlightLedger(ttl)};
            for (std::int64_t ram : config.cloudlets[i]) c.hypervisors.push_back(Hypervisor{ram});
            cloudlets_.push_back(std::move(c));
        }
    }

    PlacementReport Run() {
        for (std::size_t u = 0; u < config_.users; ++u) {
            const SimMicros t = config_.arrival_window_us > 0
                                    ? static_cast<SimMicros>(arrivals_.Uniform(config_.arrival_window_us))
                                    : 0;
            for (std::size_t s = 0; s < config_.servers_per_user; ++s) {
                requests_.push_back(Request{Plan(config_.flavor, config_.retry, config_.comparison)});
                Push(t, Kind::kStart, requests_.size() - 1);
            }
        }
        report_.requested = static_cast<int>(requests_.size());
        while (!queue_.empty()) {
            const Event e = queue_.top();
            queue_.pop();
            Handle(e);
        }
        Summarize();
        return std::move(report_);
    }

private:
    SimMicros HalfL() const { return config_.query_latency_us / 2; }

    void Push(SimMicros at, Kind kind, std::size_t request) { queue_.push(Event{at, seq_++, kind, request}); }

    CloudletLoad RawLoad(const Cloudlet& c) const {
        CloudletLoad load{c.name};
        for (const Hypervisor& h : c.hypervisors) {
            const std::int64_t free = h.ram_mb - h.active_mb;
            load.free_ram_mb = std::max(load.free_ram_mb, free);
            load.total_free_ram_mb += free;
            load.total_ram_mb += h.ram_mb;
        }
        return load;
    }

    // What the cloudlet's agent answers to a load query at `now`.
    CloudletLoad ReportedLoad(Cloudlet& c, SimMicros now) {
        c.ledger.Expire(InFlightLedger::Time{now});
        return config_.count_in_flight ? c.ledger.Apply(RawLoad(c)) : RawLoad(c);
    }

    void Handle(const Event& e) {
        Request& r = requests_[e.request];
        switch (e.kind) {
            case Kind::kStart:
                return Start(e.request, e.at);
            case Kind::kReadLoads: {
                r.loads.clear();
                r.seen_arrived.clear();
                for (std::size_t c : r.candidates) {
                    r.loads.push_back(ReportedLoad(cloudlets_[c], e.at));
                    r.seen_arrived.push_back(cloudlets_[c].arrived);
                }
                return Push(e.at + (config_.query_latency_us - HalfL()), Kind::kDecide, e.request);
            }
            case Kind::kDecide:
                return Decide(e.request, e.at);
            case Kind::kCreateArrives:
                return CreateArrives(e.request, e.at);
            case Kind::kBuildDone: {
                Cloudlet& c = cloudlets_[r.target];
                Hypervisor& h = c.hypervisors[r.hypervisor];
                h.building_mb -= config_.flavor.ram_mb;
                h.active_mb += config_.flavor.ram_mb;
                c.ledger.Release(r.reservation);
                ++c.servers;
                ++report_.placed;
                return;
            }
            case Kind::kFailureReported: {
                ++report_.build_errors;
                auto status = r.plan.OnBuildFailed(cloudlets_[r.target].name, "not enough RAM on any hypervisor");
                if (!status.ok()) {
                    ++report_.failed;
                    return;
                }
                return Start(e.request, e.at);
            }
        }
    }

    void Start(std::size_t id, SimMicros now) {
        Request& r = requests_[id];
        switch (config_.policy) {
            case PlacementPolicy::kPowerOfTwo: {
                // The peer sampling service: distinct, uniform, and blind to this create's
                // failures (Plan skips those).
                std::vector<std::size_t> all(cloudlets_.size());
                for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
                const std::size_t k = std::min(r.plan.SampleSize(), all.size());
                for (std::size_t i = 0; i < k; ++i) {
                    std::swap(all[i], all[i + decisions_.Uniform(all.size() - i)]);
                }
                r.candidates.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k));
                return Push(now + HalfL(), Kind::kReadLoads, id);
            }
            case PlacementPolicy::kUniformRandom: {
                std::vector<std::size_t> allowed;
                for (std::size_t i = 0; i < cloudlets_.size(); ++i) {
                    if (!r.plan.Excludes(cloudlets_[i].name)) allowed.push_back(i);
                }
                if (allowed.empty()) {
                    ++report_.failed;
                    return;
                }
                ++report_.decisions;
                r.target = allowed[decisions_.Uniform(allowed.size())];
                ++cloudlets_[r.target].decided;
                return Push(now + HalfL(), Kind::kCreateArrives, id);
            }
            case PlacementPolicy::kLeastLoadedOfAll: {
                std::vector<CloudletLoad> loads;
                std::vector<std::size_t> index;
                for (std::size_t i = 0; i < cloudlets_.size(); ++i) {
                    if (r.plan.Excludes(cloudlets_[i].name)) continue;
                    loads.push_back(ReportedLoad(cloudlets_[i], now));
                    index.push_back(i);
                }
                ++report_.decisions;
                auto pick = Choose(loads, config_.flavor, decisions_, config_.comparison);
                if (!pick.ok()) {
                    ++report_.no_fit_decisions;
                    ++report_.failed;  // it saw every cloudlet: nothing fits anywhere
                    return;
                }
                r.target = index[*pick];
                ++cloudlets_[r.target].decided;
                return CreateArrives(id, now);  // at once: no other decision may slip in between
            }
        }
    }

    void Decide(std::size_t id, SimMicros now) {
        Request& r = requests_[id];
        ++report_.decisions;
        auto pick = r.plan.Next(r.loads, decisions_);
        if (!pick.ok()) {
            ++report_.no_fit_decisions;
            if (r.plan.Exhausted()) {
                ++report_.failed;
                return;
            }
            return Start(id, now);  // fresh sample
        }
        for (std::size_t i = 0; i < r.candidates.size(); ++i) {
            if (cloudlets_[r.candidates[i]].decided > r.seen_arrived[i]) {
                ++report_.stale_decisions;
                break;
            }
        }
        r.target = r.candidates[*pick];
        ++cloudlets_[r.target].decided;
        Push(now + HalfL(), Kind::kCreateArrives, id);
    }

    void CreateArrives(std::size_t id, SimMicros now) {
        Request& r = requests_[id];
        Cloudlet& c = cloudlets_[r.target];
        ++c.arrived;
        auto reservation = c.ledger.Reserve(c.name, config_.flavor.ram_mb, InFlightLedger::Time{now});
        r.reservation = reservation.ok() ? *reservation : 0;
        // The cloudlet's own scheduler: Placement's RAM check, then the RAM weigher (most free).
        std::size_t best = c.hypervisors.size();
        std::int64_t best_free = -1;
        for (std::size_t i = 0; i < c.hypervisors.size(); ++i) {
            const Hypervisor& h = c.hypervisors[i];
            const std::int64_t free = h.ram_mb - h.active_mb - h.building_mb;
            if (free >= config_.flavor.ram_mb && free > best_free) {
                best = i;
                best_free = free;
            }
        }
        if (best == c.hypervisors.size()) {
            c.ledger.Release(r.reservation);  // ERROR
            return Push(now + HalfL(), Kind::kFailureReported, id);
        }
        r.hypervisor = best;
        c.hypervisors[best].building_mb += config_.flavor.ram_mb;
        Push(now + config_.build_time_us, Kind::kBuildDone, id);
    }

    void Summarize() {
        const std::size_t n = cloudlets_.size();
        double sum = 0;
        report_.min_servers = cloudlets_.front().servers;
        for (const Cloudlet& c : cloudlets_) {
            report_.servers.push_back(c.servers);
            report_.max_servers = std::max(report_.max_servers, c.servers);
            report_.min_servers = std::min(report_.min_servers, c.servers);
            sum += c.servers;
        }
        report_.mean_servers = sum / static_cast<double>(n);
        double squares = 0;
        for (int s : report_.servers) squares += (s - report_.mean_servers) * (s - report_.mean_servers);
        report_.stddev_servers = std::sqrt(squares / static_cast<double>(n));
    }

    const PlacementConfig& config_;
    Rng arrivals_;
    Rng decisions_;
    std::vector<Cloudlet> cloudlets_;
    std::vector<Request> requests_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
    std::uint64_t seq_ = 0;
    PlacementReport report_;
};

}  // namespace

std::string_view ToString(PlacementPolicy policy) {
    switch (policy) {
        case PlacementPolicy::kPowerOfTwo:
            return "power_of_two";
        case PlacementPolicy::kUniformRandom:
            return "uniform_random";
        case PlacementPolicy::kLeastLoadedOfAll:
            return "least_loaded_of_all";
    }
    return "unknown";
}

std::vector<std::vector<std::int64_t>> EqualCloudlets(std::size_t n, std::int64_t ram_mb, std::size_t hypervisors) {
    return std::vector<std::vector<std::int64_t>>(n, std::vector<std::int64_t>(hypervisors, ram_mb));
}

Result<PlacementReport> RunPlacementSimulation(const PlacementConfig& config) {
    auto bad = [](std::string m) { return MakeError(ErrorCode::kBadRequest, "placement simulation: " + std::move(m)); };
    if (config.cloudlets.empty()) return bad("no cloudlets");
    for (const auto& hypervisors : config.cloudlets) {
        if (hypervisors.empty()) return bad("a cloudlet without hypervisors");
        for (std::int64_t ram : hypervisors) {
            if (ram <= 0) return bad("hypervisor RAM must be positive");
        }
    }
    if (config.flavor.ram_mb <= 0) return bad("the flavor's RAM must be positive");
    if (config.arrival_window_us < 0 || config.query_latency_us < 0 || config.build_time_us < 0) {
        return bad("times must be non-negative");
    }
    return Simulation(config).Run();
}

}  // namespace shoal::scheduler
