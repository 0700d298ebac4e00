#include "sim/boot_simulation.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <variant>

#include "common/faults.hpp"
#include "common/rng.hpp"
#include "sim/event_queue.hpp"

namespace shoal::sim {
namespace {

using compute::BootAction;
using compute::BootEvent;
using compute::BootFsm;
using compute::BootPhase;
using compute::BootState;
using Ms = std::int64_t;

struct SimServer {
    std::string tag;  // the shoal id it was created for
    Ms ready_at = 0;  // BUILD until then, then ACTIVE or ERROR
    bool refuse = false;
    std::optional<Ms> gone_at;  // being deleted: gone from then on
};

struct SimCloudlet {
    std::string id;
    std::optional<Ms> down_until;
    std::map<std::string, SimServer> servers;  // by the cloudlet's id
    std::map<std::uint64_t, std::int64_t> holds;
    std::uint64_t next = 1;

    bool Up(Ms now) const { return !down_until || *down_until <= now; }
    // Drops what finished deleting.
    void Collect(Ms now) {
        std::erase_if(servers, [now](const auto& s) { return s.second.gone_at && *s.second.gone_at <= now; });
    }
    std::int64_t Used(std::int64_t ram) const {
        std::int64_t used = ram * static_cast<std::int64_t>(servers.size());
        for (const auto& hold : holds) used += hold.second;
        return used;
    }
    // The live server carrying `tag`, if any.
    std::string Tagged(const std::string& tag) const {
        for (const auto& [id, s] : servers)
            if (s.tag == tag && !s.gone_at) return id;
        return {};
    }
};

struct Stored {
    std::size_t home = 0;
    BootState state;
};

struct UndoOp {
    std::size_t home = 0;
    std::string server;
    std::string cloudlet;
    std::string cloudlet_id;  // empty: find it by the tag
};

struct Home {
    bool up = true;
    std::uint64_t epoch = 1;  // answers to an earlier life are dropped
    std::map<std::string, std::unique_ptr<BootFsm>> runners;
};

struct Event {
    enum class Kind : std::uint8_t {
        kArrive,
        kUserDelete,
        kDeliver,
        kWatchCheck,
        kUndoStep,
        kHomeCrash,
        kHomeRestart,
        kRandomCrash,
        kRandomOutage,
    };
    Kind kind = Kind::kArrive;
    std::size_t home = 0;
    std::uint64_t epoch = 0;
    std::string id;  // server (or undo op)
    std::size_t index = 0;
    std::optional<BootEvent> answer;
};

class Simulation {
public:
    explicit Simulation(const BootSimConfig& c) : c_(c), rng_(c.seed), homes_(c.homes) {
        for (std::size_t i = 0; i < c.cloudlets; ++i) cloudlets_.push_back(SimCloudlet{"c" + std::to_string(i)});
    }

    BootSimReport Run() {
        for (std::size_t i = 0; i < c_.servers; ++i) {
            Event e;
            e.kind = Event::Kind::kArrive;
            e.index = i;
            queue_.Push(rng_.Between(0, c_.arrival_window_ms), e);
        }
        if (c_.home_crash_every_ms > 0) queue_.Push(Gap(c_.home_crash_every_ms), Event{Event::Kind::kRandomCrash});
        if (c_.cloudlet_outage_every_ms > 0)
            queue_.Push(Gap(c_.cloudlet_outage_every_ms), Event{Event::Kind::kRandomOutage});
        while (!queue_.Empty() && queue_.NextTime() <= c_.horizon_ms) {
            auto [at, e] = queue_.Pop();
            now_ = at;
            Handle(e);
        }
        return Check();
    }

private:
    Ms Gap(Ms mean) { return now_ + rng_.Between(1, 2 * mean); }
    SimCloudlet* Find(const std::string& id) {
        for (auto& c : cloudlets_)
            if (c.id == id) return &c;
        return nullptr;
    }
    void Deliver(Ms at, std::size_t home, const std::string& id, BootEvent answer) {
        Event e;
        e.kind = Event::Kind::kDeliver;
        e.home = home;
        e.epoch = homes_[home].epoch;
        e.id = id;
        e.answer = std::move(answer);
        queue_.Push(at, std::move(e));
    }

    void Handle(const Event& e) {
        switch (e.kind) {
            case Event::Kind::kArrive:
                return Arrive(e.index);
            case Event::Kind::kUserDelete:
                return UserDelete(e.id);
            case Event::Kind::kDeliver:
                if (!homes_[e.home].up || homes_[e.home].epoch != e.epoch) return;  // died meanwhile
                return Feed(e.home, e.id, *e.answer);
            case Event::Kind::kWatchCheck:
                if (!homes_[e.home].up || homes_[e.home].epoch != e.epoch) return;
                return WatchCheck(e.home, e.id);
            case Event::Kind::kUndoStep:
                return UndoStep(e.id, e.epoch);
            case Event::Kind::kHomeCrash:
                return Crash(e.home);
            case Event::Kind::kHomeRestart:
                return Restart(e.home);
            case Event::Kind::kRandomCrash: {
                if (now_ > c_.faults_until_ms) return;
                Crash(static_cast<std::size_t>(rng_.Uniform(c_.homes)));
                queue_.Push(Gap(c_.home_crash_every_ms), Event{Event::Kind::kRandomCrash});
                return;
            }
            case Event::Kind::kRandomOutage: {
                if (now_ > c_.faults_until_ms) return;
                auto& cl = cloudlets_[static_cast<std::size_t>(rng_.Uniform(c_.cloudlets))];
                if (cl.Up(now_)) {
                    cl.down_until = now_ + c_.cloudlet_down_ms;
                    ++report_.cloudlet_outages;
                }
                queue_.Push(Gap(c_.cloudlet_outage_every_ms), Event{Event::Kind::kRandomOutage});
                return;
            }
        }
    }

    void Arrive(std::size_t i) {
        const std::string id = "s" + std::to_string(i);
        const std::size_t home = i % c_.homes;
        // The home answers 202 once the record is written: a home that is down answers 503, and
        // the user tries again at another moment (here: a little later).
        if (!homes_[home].up) {
            Event again;
            again.kind = Event::Kind::kArrive;
            again.index = i;
            queue_.Push(now_ + 500, again);
            return;
        }
        store_[id] = Stored{home, BootState{}};
        acknowledged_.insert(id);
        if (rng_.UniformReal() < c_.user_delete) {
            Event d;
            d.kind = Event::Kind::kUserDelete;
            d.id = id;
            queue_.Push(now_ + rng_.Between(0, 3 * c_.build_ms), d);
        }
        StartRunner(home, id);
    }

    void UserDelete(const std::string& id) {
        auto it = store_.find(id);
        if (it == store_.end()) return;
        const std::size_t home = it->second.home;
        if (!homes_[home].up) {  // 503: asked again a little later
            Event again;
            again.kind = Event::Kind::kUserDelete;
            again.id = id;
            queue_.Push(now_ + 500, again);
            return;
        }
        user_deleted_.insert(id);
        if (it->second.state.phase == BootPhase::kDeleting) return;
        it->second.state.phase = BootPhase::kDeleting;  // as NovaProxy::Remove writes it
        if (homes_[home].runners.count(id) == 0) StartRunner(home, id);
    }

    void StartRunner(std::size_t home, const std::string& id) {
        auto& h = homes_[home];
        const auto& stored = store_.at(id);
        auto fsm = std::make_unique<BootFsm>(id, scheduler::FlavorNeed{"m1.small", c_.ram_mb}, c_.retry, c_.timings,
                                             stored.state, rng_);
        auto* raw = fsm.get();
        h.runners[id] = std::move(fsm);
        Execute(home, id, raw->Start(now_));
    }

    void Feed(std::size_t home, const std::string& id, const BootEvent& answer) {
        auto& h = homes_[home];
        auto it = h.runners.find(id);
        if (it == h.runners.end()) return;
        // The shell looks at the record after each build-progress observation (CarryWatch).
        if (std::holds_alternative<compute::Progress>(answer)) {
            auto s = store_.find(id);
            if (s != store_.end() && s->second.state.phase == BootPhase::kDeleting &&
                it->second->State().phase != BootPhase::kDeleting) {
                Execute(home, id, it->second->On(compute::DeleteRequested{}, now_));
                return;
            }
        }
        Execute(home, id, it->second->On(answer, now_));
    }

    void Execute(std::size_t home, const std::string& id, const std::vector<BootAction>& batch) {
        auto& h = homes_[home];
        const std::uint64_t epoch = h.epoch;
        for (const auto& action : batch) {
            if (armed_) {
                (void)faults::Hit("boot." + std::string(ActionName(action)) + ".before");
                if (crash_requested_) {
                    crash_requested_ = false;
                    Crash(home);
                    return;
                }
            }
            if (!Carry(home, id, action)) return;  // the batch ends here
            if (!h.up || h.epoch != epoch) return;
        }
    }

    // Carries one action out; false when the rest of the batch must not run.
    bool Carry(std::size_t home, const std::string& id, const BootAction& action) {
        const Ms rtt = 2 * c_.latency_ms;
        if (const auto* a = std::get_if<compute::AskLoads>(&action)) {
            compute::LoadsAnswered loads;
            std::vector<std::size_t> order(cloudlets_.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.Uniform(i)]);
            std::size_t asked = 0;
            for (std::size_t i : order) {
                if (asked == a->sample) break;
                auto& cl = cloudlets_[i];
                if (std::find(a->exclude.begin(), a->exclude.end(), cl.id) != a->exclude.end()) continue;
                ++asked;
                if (!cl.Up(now_)) continue;  // no answer
                cl.Collect(now_);
                scheduler::CloudletLoad l;
                l.cloudlet = cl.id;
                l.total_ram_mb = c_.cloudlet_ram_mb;
                l.free_ram_mb = l.total_free_ram_mb =
                    std::max<std::int64_t>(0, c_.cloudlet_ram_mb - cl.Used(c_.ram_mb));
                loads.loads.push_back(l);
            }
            Deliver(now_ + rtt, home, id, loads);
            return true;
        }
        if (const auto* a = std::get_if<compute::Hold>(&action)) {
            auto* cl = Find(a->cloudlet);
            std::uint64_t reservation = 0;
            if (cl && cl->Up(now_)) {
                reservation = cl->next++;
                cl->holds[reservation] = a->ram_mb;
            }
            Deliver(now_ + rtt, home, id, compute::Held{reservation});
            return true;
        }
        if (const auto* a = std::get_if<compute::EnsureImage>(&action)) {
            auto* cl = Find(a->cloudlet);
            const bool up = cl && cl->Up(now_);
            Deliver(now_ + (up ? rtt : c_.timeout_ms), home, id,
                    compute::ImageReady{up, up ? "img" : "", up ? "" : "cloudlet down"});
            return true;
        }
        if (const auto* a = std::get_if<compute::Record>(&action)) {
            auto it = store_.find(id);
            if (it == store_.end()) {
                homes_[home].runners.erase(id);
                return false;
            }
            if (it->second.state.phase == BootPhase::kDeleting && a->state.phase != BootPhase::kDeleting) {
                // The user's delete was written first: the rest of the batch is dropped.
                Deliver(now_, home, id, compute::DeleteRequested{});
                return false;
            }
            // The checker's own test: a shell that forgets to persist where a create went.
            const bool placed = a->state.phase == BootPhase::kCreating || a->state.phase == BootPhase::kBuilding;
            if (!(c_.unsafe_skip_placement_records && placed)) it->second.state = a->state;
            return true;
        }
        if (const auto* a = std::get_if<compute::SendCreate>(&action)) {
            ++report_.creates_sent;
            auto* cl = Find(a->cloudlet);
            if (!cl || !cl->Up(now_ + c_.latency_ms)) {
                Deliver(now_ + c_.timeout_ms, home, id,
                        compute::CreateAnswered{compute::CreateAnswered::Outcome::kLost, {}, "timeout"});
                return true;
            }
            cl->holds.erase(a->reservation);
            const std::string cid = cl->id + "-" + std::to_string(cl->next++);
            cl->servers[cid] =
                SimServer{id, now_ + c_.latency_ms + c_.build_ms, rng_.UniformReal() < c_.refuse_build, std::nullopt};
            if (rng_.UniformReal() < c_.lose_answer) {
                ++report_.answers_lost;
                Deliver(now_ + c_.timeout_ms, home, id,
                        compute::CreateAnswered{compute::CreateAnswered::Outcome::kLost, {}, "connection reset"});
            } else {
                Deliver(now_ + rtt, home, id,
                        compute::CreateAnswered{compute::CreateAnswered::Outcome::kAccepted, cid, {}});
            }
            return true;
        }
        if (const auto* a = std::get_if<compute::FindCreate>(&action)) {
            auto* cl = Find(a->cloudlet);
            if (!cl || !cl->Up(now_)) {
                Deliver(now_ + c_.timeout_ms, home, id, compute::CreateFound{false, {}});
            } else {
                cl->Collect(now_);
                Deliver(now_ + rtt, home, id, compute::CreateFound{true, cl->Tagged(id)});
            }
            return true;
        }
        if (const auto* a = std::get_if<compute::Release>(&action)) {
            if (auto* cl = Find(a->cloudlet)) cl->holds.erase(a->reservation);
            return true;
        }
        if (std::holds_alternative<compute::Watch>(action)) {
            Event w;
            w.kind = Event::Kind::kWatchCheck;
            w.home = home;
            w.epoch = homes_[home].epoch;
            w.id = id;
            queue_.Push(now_ + std::min<Ms>(1'000, c_.build_ms / 2 + 1), w);  // the build watch's long poll
            return true;
        }
        if (const auto* a = std::get_if<compute::Undo>(&action)) {
            const std::string op = "u" + std::to_string(next_op_++);
            undos_[op] = UndoOp{home, id, a->cloudlet, a->cloudlet_id};  // durable before the next Record
            ++report_.undos;
            Event u;
            u.kind = Event::Kind::kUndoStep;
            u.id = op;
            u.epoch = homes_[home].epoch;
            queue_.Push(now_, u);
            return true;
        }
        if (const auto* a = std::get_if<compute::SendDelete>(&action)) {
            auto* cl = Find(a->cloudlet);
            using O = compute::DeleteAnswered::Outcome;
            if (!cl || !cl->Up(now_)) {
                Deliver(now_ + c_.timeout_ms, home, id, compute::DeleteAnswered{O::kUnreachable});
                return true;
            }
            cl->Collect(now_);
            auto s = cl->servers.find(a->cloudlet_id);
            if (s == cl->servers.end()) {
                Deliver(now_ + rtt, home, id, compute::DeleteAnswered{O::kGone});
            } else {
                if (!s->second.gone_at) s->second.gone_at = now_ + c_.delete_ms;
                Deliver(now_ + rtt, home, id, compute::DeleteAnswered{O::kDeleting});
            }
            return true;
        }
        if (const auto* a = std::get_if<compute::Wait>(&action)) {
            Deliver(std::max(a->until_ms, now_), home, id, compute::Tick{});
            return true;
        }
        if (std::holds_alternative<compute::Forget>(action)) store_.erase(id);
        // Forget and Done end the run.
        homes_[home].runners.erase(id);
        return false;
    }

    void WatchCheck(std::size_t home, const std::string& id) {
        auto& h = homes_[home];
        auto it = h.runners.find(id);
        if (it == h.runners.end()) return;
        const auto& st = it->second->State();
        auto* cl = Find(st.target);
        compute::Progress p;
        if (!cl || !cl->Up(now_)) {
            p.status = "";
        } else {
            cl->Collect(now_);
            auto s = cl->servers.find(st.cloudlet_id);
            if (s == cl->servers.end())
                p.status = "DELETED";
            else if (now_ < s->second.ready_at)
                p.status = "BUILD";
            else if (s->second.refuse) {
                p.status = "ERROR";
                p.fault = "No valid host was found.";
                ++report_.builds_failed;
            } else {
                p.status = "ACTIVE";
            }
        }
        Deliver(now_ + c_.latency_ms, home, id, p);
    }

    void UndoStep(const std::string& op, std::uint64_t epoch) {
        auto it = undos_.find(op);
        if (it == undos_.end()) return;
        UndoOp& u = it->second;
        auto& h = homes_[u.home];
        if (!h.up || h.epoch != epoch) return;  // resumed by the restart
        Event next;
        next.kind = Event::Kind::kUndoStep;
        next.id = op;
        next.epoch = epoch;
        auto* cl = Find(u.cloudlet);
        if (!cl || !cl->Up(now_)) {
            queue_.Push(now_ + c_.timings.max_backoff_ms, next);
            return;
        }
        cl->Collect(now_);
        if (u.cloudlet_id.empty()) {
            u.cloudlet_id = cl->Tagged(u.server);
            if (u.cloudlet_id.empty()) {
                undos_.erase(it);  // the create never arrived
                return;
            }
        }
        auto s = cl->servers.find(u.cloudlet_id);
        if (s == cl->servers.end()) {
            undos_.erase(it);  // 404: done
            return;
        }
        if (!s->second.gone_at) s->second.gone_at = now_ + c_.delete_ms;
        queue_.Push(now_ + c_.timings.delete_poll_ms, next);
    }

    void Crash(std::size_t home) {
        auto& h = homes_[home];
        if (!h.up) return;
        h.up = false;
        ++h.epoch;
        h.runners.clear();  // everything in memory is gone; the store stays
        ++report_.home_crashes;
        Event r;
        r.kind = Event::Kind::kHomeRestart;
        r.home = home;
        queue_.Push(now_ + c_.home_down_ms, r);
    }

    void Restart(std::size_t home) {
        auto& h = homes_[home];
        h.up = true;
        // NovaProxy::Resume: every unfinished boot of this home, then its undos.
        std::vector<std::string> ids;
        for (const auto& [id, s] : store_)
            if (s.home == home && !s.state.Finished()) ids.push_back(id);
        for (const auto& id : ids) {
            if (store_.count(id) == 0 || h.runners.count(id) > 0) continue;
            ++report_.resumed;
            StartRunner(home, id);
            if (!h.up) return;  // crashed again at an armed point
        }
        for (auto& [op, u] : undos_) {
            if (u.home != home) continue;
            Event step;
            step.kind = Event::Kind::kUndoStep;
            step.id = op;
            step.epoch = h.epoch;
            queue_.Push(now_, step);
        }
    }

    void Problem(std::string what) {
        if (report_.problems.size() < 10) report_.problems.push_back(std::move(what));
    }

    BootSimReport Check() {
        report_.end_ms = now_;
        report_.acknowledged = static_cast<int>(acknowledged_.size());
        report_.deleted_by_user = static_cast<int>(user_deleted_.size());
        for (auto& cl : cloudlets_) cl.Collect(now_ + c_.delete_ms);  // deletes asked are as good as done
        std::map<std::string, int> tagged;                            // live servers per shoal id
        for (const auto& cl : cloudlets_)
            for (const auto& [cid, s] : cl.servers)
                if (!s.gone_at) ++tagged[s.tag];
        for (const auto& [id, n] : tagged)
            if (n > 1) {
                ++report_.duplicates;
                Problem(id + ": " + std::to_string(n) + " servers at the cloudlets");
            }
        if (!undos_.empty()) {
            report_.stuck += static_cast<int>(undos_.size());
            Problem(std::to_string(undos_.size()) + " undos unfinished");
        }
        for (const auto& id : acknowledged_) {
            auto it = store_.find(id);
            const bool deleted = user_deleted_.count(id) > 0;
            if (it == store_.end()) {
                if (!deleted) {
                    ++report_.lost;
                    Problem(id + ": acknowledged, never deleted, and gone from the store");
                }
                if (tagged.count(id) > 0) {
                    ++report_.orphans;
                    Problem(id + ": forgotten, but a server carrying it is at a cloudlet");
                }
                continue;
            }
            const BootState& s = it->second.state;
            if (!s.Finished()) {
                ++report_.stuck;
                Problem(id + ": unfinished in phase " + std::string(compute::ToString(s.phase)));
                continue;
            }
            if (s.phase == BootPhase::kError) {
                ++report_.error;
                if (tagged.count(id) > 0) {
                    ++report_.orphans;
                    Problem(id + ": ERROR, but a server carrying it is at a cloudlet");
                }
                continue;
            }
            ++report_.active;
            auto* cl = Find(s.target);
            auto srv = cl ? cl->servers.find(s.cloudlet_id) : decltype(cl->servers.end()){};
            if (!cl || srv == cl->servers.end() || srv->second.tag != id || srv->second.gone_at) {
                ++report_.wrong_map;
                Problem(id + ": ACTIVE at " + s.target + "/" + s.cloudlet_id + ", which is not there");
            }
        }
        for (const auto& [id, n] : tagged)
            if (acknowledged_.count(id) == 0) {
                ++report_.orphans;
                Problem(id + ": at a cloudlet, never acknowledged");
            }
        return report_;
    }

public:
    bool armed_ = false;
    bool crash_requested_ = false;

private:
    const BootSimConfig& c_;
    Rng rng_;
    EventQueue<Event> queue_;
    Ms now_ = 0;
    std::vector<SimCloudlet> cloudlets_;
    std::vector<Home> homes_;
    std::map<std::string, Stored> store_;
    std::map<std::string, UndoOp> undos_;
    std::uint64_t next_op_ = 1;
    std::set<std::string> acknowledged_;
    std::set<std::string> user_deleted_;
    BootSimReport report_;
};

}  // namespace

Result<BootSimReport> RunBootSimulation(const BootSimConfig& config) {
    if (config.cloudlets == 0 || config.homes == 0 || config.servers == 0 || config.ram_mb <= 0)
        return MakeError(ErrorCode::kBadRequest, "boot simulation: need cloudlets, homes, servers and ram_mb > 0");
    Simulation sim(config);
    if (!config.faults.empty()) {
        if (auto armed = faults::Configure(config.faults); !armed.ok()) return armed.error();
        faults::SetCrashHandler([&sim](std::string_view) { sim.crash_requested_ = true; });
        sim.armed_ = true;
    }
    auto report = sim.Run();
    if (sim.armed_) {
        faults::Clear();
        faults::SetCrashHandler({});
    }
    return report;
}

}  // namespace shoal::sim
