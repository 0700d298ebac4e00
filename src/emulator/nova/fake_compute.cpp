#include "emulator/nova/fake_compute.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "common/ids.hpp"
#include "common/spawn.hpp"
#include "emulator/core/api_gate.hpp"
#include "emulator/nova/nova_api.hpp"

namespace shoal::emulator {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::string_view kServersCollection = "nova_servers";
constexpr std::string_view kHypervisorsCollection = "nova_hypervisors";

// What a server waits for once its task state is set; also how Load() resumes it.
enum class Pending { kNone, kBuild, kSpawn, kStop, kStart, kReboot, kPause, kUnpause, kSuspend, kResume, kDelete };

Pending PendingFor(const FakeCompute::Server& s) {
    if (!s.task_state) return Pending::kNone;
    const auto& t = *s.task_state;
    if (t == "deleting") return Pending::kDelete;
    if (t == "scheduling") return Pending::kBuild;
    if (t == "spawning") return Pending::kSpawn;
    if (t == "powering-off") return Pending::kStop;
    if (t == "powering-on") return Pending::kStart;
    if (t == "rebooting" || t == "rebooting_hard") return Pending::kReboot;
    if (t == "pausing") return Pending::kPause;
    if (t == "unpausing") return Pending::kUnpause;
    if (t == "suspending") return Pending::kSuspend;
    if (t == "resuming") return Pending::kResume;
    return Pending::kNone;
}

int DiskGbOf(const FakeCompute::FlavorSnapshot& f) {
    // Placement's DISK_GB for a flavor: root + ephemeral + swap rounded up to whole GiB.
    return f.disk_gb + f.ephemeral_gb + (f.swap_mb + 1023) / 1024;
}

json TimeJson(const std::optional<SystemTime>& t) {
    return t ? json(FormatIso8601Micro(*t)) : json(nullptr);
}

std::optional<SystemTime> TimeFrom(const json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
    return ParseIso8601(j[key].get<std::string>());
}

template <class T>
std::optional<T> OptFrom(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return j[key].get<T>();
}

template <class T>
json OptJson(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json ServerToJson(const FakeCompute::Server& s) {
    const auto& f = s.flavor;
    json j = {
        {"id", s.id},
        {"number", s.number},
        {"name", s.name},
        {"hostname", s.hostname},
        {"description", OptJson(s.description)},
        {"project_id", s.project_id},
        {"user_id", s.user_id},
        {"image_id", s.image_id},
        {"flavor",
         {{"id", f.id},
          {"name", f.name},
          {"vcpus", f.vcpus},
          {"ram_mb", f.ram_mb},
          {"disk_gb", f.disk_gb},
          {"ephemeral_gb", f.ephemeral_gb},
          {"swap_mb", f.swap_mb},
          {"extra_specs", f.extra_specs}}},
        {"key_name", OptJson(s.key_name)},
        {"metadata", s.metadata},
        {"tags", s.tags},
        {"trusted_image_certificates", OptJson(s.trusted_image_certificates)},
        {"user_data", OptJson(s.user_data)},
        {"availability_zone", s.availability_zone},
        {"access_ipv4", s.access_ipv4},
        {"access_ipv6", s.access_ipv6},
        {"config_drive", s.config_drive},
        {"auto_disk_config", s.auto_disk_config},
        {"reservation_id", s.reservation_id},
        {"launch_index", s.launch_index},
        {"requested_host", s.requested_host},
        {"vm_state", s.vm_state},
        {"task_state", OptJson(s.task_state)},
        {"power_state", s.power_state},
        {"host", s.host},
        {"locked", s.locked},
        {"locked_by_admin", s.locked_by_admin},
        {"locked_reason", OptJson(s.locked_reason)},
        {"created", FormatIso8601Micro(s.created)},
        {"updated", FormatIso8601Micro(s.updated)},
        {"launched_at", TimeJson(s.launched_at)},
    };
    if (s.fault)
        j["fault"] = {
            {"code", s.fault->code}, {"message", s.fault->message}, {"created", FormatIso8601Micro(s.fault->created)}};
    return j;
}

FakeCompute::Server ServerFromJson(const json& j) {
    FakeCompute::Server s;
    s.id = j.at("id").get<std::string>();
    s.number = j.value("number", std::int64_t{0});
    s.name = j.value("name", "");
    s.hostname = j.value("hostname", "");
    s.description = OptFrom<std::string>(j, "description");
    s.project_id = j.value("project_id", "");
    s.user_id = j.value("user_id", "");
    s.image_id = j.value("image_id", "");
    const auto& f = j.at("flavor");
    s.flavor.id = f.value("id", "");
    s.flavor.name = f.value("name", "");
    s.flavor.vcpus = f.value("vcpus", 0);
    s.flavor.ram_mb = f.value("ram_mb", 0);
    s.flavor.disk_gb = f.value("disk_gb", 0);
    s.flavor.ephemeral_gb = f.value("ephemeral_gb", 0);
    s.flavor.swap_mb = f.value("swap_mb", 0);
    if (f.contains("extra_specs")) s.flavor.extra_specs = f["extra_specs"].get<std::map<std::string, std::string>>();
    s.key_name = OptFrom<std::string>(j, "key_name");
    if (j.contains("metadata")) s.metadata = j["metadata"].get<std::map<std::string, std::string>>();
    if (j.contains("tags")) s.tags = j["tags"].get<std::vector<std::string>>();
    s.trusted_image_certificates = OptFrom<std::vector<std::string>>(j, "trusted_image_certificates");
    s.user_data = OptFrom<std::string>(j, "user_data");
    s.availability_zone = j.value("availability_zone", "nova");
    s.access_ipv4 = j.value("access_ipv4", "");
    s.access_ipv6 = j.value("access_ipv6", "");
    s.config_drive = j.value("config_drive", false);
    s.auto_disk_config = j.value("auto_disk_config", false);
    s.reservation_id = j.value("reservation_id", "");
    s.launch_index = j.value("launch_index", 0);
    s.requested_host = j.value("requested_host", "");
    s.vm_state = j.value("vm_state", "error");
    s.task_state = OptFrom<std::string>(j, "task_state");
    s.power_state = j.value("power_state", 0);
    s.host = j.value("host", "");
    s.locked = j.value("locked", false);
    s.locked_by_admin = j.value("locked_by_admin", false);
    s.locked_reason = OptFrom<std::string>(j, "locked_reason");
    auto now = std::chrono::system_clock::now();
    s.created = TimeFrom(j, "created").value_or(now);
    s.updated = TimeFrom(j, "updated").value_or(now);
    s.launched_at = TimeFrom(j, "launched_at");
    if (j.contains("fault") && j["fault"].is_object()) {
        const auto& fj = j["fault"];
        s.fault =
            FakeCompute::Fault{fj.value("code", 500), fj.value("message", ""), TimeFrom(fj, "created").value_or(now)};
    }
    return s;
}

Error InvalidState(std::string_view action, const FakeCompute::Server& s, bool task) {
    // nova.api.openstack.common.raise_http_conflict_for_instance_invalid_state
    std::string attr = task ? "task_state" : "vm_state";
    std::string state = task ? s.task_state.value_or("None") : s.vm_state;
    return MakeError(ErrorCode::kConflict,
                     "Cannot '" + std::string(action) + "' instance " + s.id + " while it is in " + attr + " " + state);
}

}  // namespace

namespace fake_compute_detail {

// FakeCompute's state, shared with its coroutines so that they can outlive it safely.
struct Core {
    using Server = FakeCompute::Server;
    using Fault = FakeCompute::Fault;

    struct Entry {
        Server server;
        std::uint64_t op = 0;  // bumped by every new operation: stale timers see a different value
    };

    Core(ServiceContext& c, asio::any_io_executor ex)
        : ctx(c),
          executor(ex),
          gate(ex,
               c.config.controller.max_concurrent_builds,
               c.config.controller.build_queue,
               c.config.controller.build_timeout),
          stop_signal(ex, asio::steady_timer::time_point::max()),
          started(std::chrono::system_clock::now()),
          // Seeded from the name: a cloudlet's sequence of spawn failures is the same on every run.
          rng(std::hash<std::string>{}(c.config.name)) {}

    ServiceContext& ctx;  // only touched while alive
    asio::any_io_executor executor;
    bool alive = true;
    Gate gate;
    asio::steady_timer stop_signal;  // never expires; Stop() cancels it to wake gate waiters
    std::set<asio::steady_timer*> timers;
    std::vector<Hypervisor> hypervisors;
    std::map<std::string, Entry, std::less<>> servers;
    std::map<std::string, Allocation, std::less<>> allocations;  // by consumer (server) id
    std::int64_t next_number = 1;
    SystemTime started;
    std::mt19937_64 rng;  // draws for hypervisors.spawn_failure_rate

    Entry* Find(std::string_view id) {
        auto it = servers.find(id);
        return it == servers.end() ? nullptr : &it->second;
    }
    Hypervisor* HypervisorByHost(std::string_view host) {
        for (auto& h : hypervisors)
            if (h.hostname == host) return &h;
        return nullptr;
    }

    void Save(const Server& s) {
        if (alive && ctx.store.Durable()) ctx.store.Put(kServersCollection, s.id, ServerToJson(s));
    }
    void SaveHypervisor(const Hypervisor& h) {
        if (!alive || !ctx.store.Durable()) return;
        const auto& svc = h.service;
        ctx.store.Put(kHypervisorsCollection, h.uuid,
                      json{{"generation", h.generation},
                           {"disabled", svc.disabled},
                           {"disabled_reason", OptJson(svc.disabled_reason)},
                           {"forced_down", svc.forced_down}});
    }

    // Hypervisor usage is the sum of the allocations against it (what Placement reports).
    void RecountUsage() {
        for (auto& h : hypervisors) {
            h.vcpus_used = h.memory_mb_used = h.disk_gb_used = h.running_vms = 0;
        }
        for (const auto& [id, a] : allocations) {
            for (auto& h : hypervisors) {
                if (h.uuid != a.provider_uuid) continue;
                h.vcpus_used += a.vcpus;
                h.memory_mb_used += a.memory_mb;
                h.disk_gb_used += a.disk_gb;
                ++h.running_vms;
            }
        }
    }

    void Claim(Server& s, Hypervisor& h) {
        allocations[s.id] =
            Allocation{s.id, s.project_id, s.user_id, h.uuid, s.flavor.vcpus, s.flavor.ram_mb, DiskGbOf(s.flavor)};
        s.host = h.hostname;
        ++h.generation;
        RecountUsage();
        SaveHypervisor(h);
    }

    void Unclaim(const std::string& id) {
        auto it = allocations.find(id);
        if (it == allocations.end()) return;
        std::string provider = it->second.provider_uuid;
        allocations.erase(it);
        RecountUsage();
        for (auto& h : hypervisors) {
            if (h.uuid != provider) continue;
            ++h.generation;
            SaveHypervisor(h);
        }
    }

    // Placement's capacity check and the RAM weigher.
    Hypervisor* PickHost(const Server& s) {
        const auto& f = s.flavor;
        int disk = DiskGbOf(f);
        Hypervisor* best = nullptr;
        long best_free = 0;
        for (auto& h : hypervisors) {
            if (!h.service.Schedulable()) continue;  // ComputeFilter: disabled or down
            if (!s.requested_host.empty() && h.hostname != s.requested_host) continue;
            auto fits = [](long used, long want, long total, long reserved, double ratio) {
                if (want > total) return false;  // max_unit: one allocation never exceeds the inventory
                return static_cast<double>(used + want) <= static_cast<double>(total - reserved) * ratio;
            };
            if (!fits(h.vcpus_used, f.vcpus, h.vcpus, 0, h.cpu_allocation_ratio)) continue;
            if (!fits(h.memory_mb_used, f.ram_mb, h.memory_mb, h.reserved_memory_mb, h.ram_allocation_ratio)) continue;
            if (!fits(h.disk_gb_used, disk, h.disk_gb, 0, h.disk_allocation_ratio)) continue;
            long free = static_cast<long>(h.memory_mb) - h.reserved_memory_mb - h.memory_mb_used;
            if (!best || free > best_free) {
                best = &h;
                best_free = free;
            }
        }
        return best;
    }

    // The fault-injection draw: whether this spawn fails on the hypervisor (1.0 always, 0 never).
    bool SpawnFails() {
        double rate = ctx.config.hypervisors.spawn_failure_rate;
        if (rate <= 0.0) return false;
        if (rate >= 1.0) return true;
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate;
    }

    void Fail(Server& s, std::string message) {
        s.vm_state = "error";
        s.task_state.reset();
        s.power_state = 0;
        s.updated = std::chrono::system_clock::now();
        s.fault = Fault{500, std::move(message), s.updated};
        Save(s);
        spdlog::info("cloudlet {}: server {} failed to build: {}", ctx.config.name, s.id, s.fault->message);
    }
};

}  // namespace fake_compute_detail

struct FakeCompute::State : fake_compute_detail::Core {
    using Core::Core;
};

namespace {

using StatePtr = std::shared_ptr<fake_compute_detail::Core>;

// Registers a timer so that Stop() can cancel it, for as long as the frame holding it lives.
struct TimerGuard {
    std::set<asio::steady_timer*>& set;
    asio::steady_timer* timer;
    ~TimerGuard() { set.erase(timer); }
};

// Sleeps for `d` unless the compute stops; true when the caller should carry on.
asio::awaitable<bool> Sleep(StatePtr st, Millis d) {
    if (!st->alive) co_return false;
    if (d.count() > 0) {
        asio::steady_timer t(st->executor, d);
        st->timers.insert(&t);
        TimerGuard guard{st->timers, &t};
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return st->alive;
}

struct Admission {
    std::optional<Gate::Permit> permit;
    bool queue_full = false;  // refused at once rather than timed out
};

asio::awaitable<Admission> Admit(StatePtr st) {
    Admission a;
    // Whether Acquire() refuses at once (queue full) or lets us wait: decided right before asking,
    // since nothing else runs in between on this single thread.
    const auto& cm = st->ctx.config.controller;
    bool free_slot = st->gate.InUse() < cm.max_concurrent_builds && st->gate.Waiting() == 0;
    a.queue_full = !free_slot && st->gate.Waiting() >= cm.build_queue;
    auto r = co_await st->gate.Acquire();
    if (r.ok()) a.permit.emplace(std::move(r).value());
    co_return a;
}

asio::awaitable<void> Complete(StatePtr st, std::string id, std::uint64_t op, Pending what);

asio::awaitable<void> Build(StatePtr st, std::string id, std::uint64_t op) {
    const auto& cm = st->ctx.config.controller;
    using namespace asio::experimental::awaitable_operators;
    auto admitted = co_await (Admit(st) || st->stop_signal.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (!st->alive || admitted.index() != 0) co_return;
    auto permit = std::move(std::get<0>(admitted).permit);
    bool queue_full = std::get<0>(admitted).queue_full;

    auto* e = st->Find(id);
    if (!e || e->op != op) co_return;  // deleted while queued
    if (!permit) {
        if (queue_full)
            st->Fail(e->server, "No valid host was found. Exceeded max scheduling attempts 1 for instance " + id +
                                    ". Last exception: the conductor's build queue is full (" +
                                    std::to_string(cm.build_queue) + " builds waiting)");
        else
            st->Fail(e->server,
                     "Build of instance " + id + " aborted: Timed out waiting for a reply to message ID " + NewHexId());
        co_return;
    }

    if (!co_await Sleep(st, cm.schedule_time)) co_return;
    e = st->Find(id);
    if (!e || e->op != op) co_return;
    auto& s = e->server;
    Hypervisor* host = st->PickHost(s);
    if (!host) {
        st->Fail(s, "No valid host was found. There are not enough hosts available.");
        co_return;
    }
    st->Claim(s, *host);
    s.task_state = "spawning";
    s.updated = std::chrono::system_clock::now();
    st->Save(s);
    permit.reset();  // the conductor is done; the compute node spawns on its own

    co_await Complete(st, std::move(id), op, Pending::kSpawn);
}

// Finishes what a task state announced, after the configured delay.
asio::awaitable<void> Complete(StatePtr st, std::string id, std::uint64_t op, Pending what) {
    const auto& c = st->ctx.config;
    Millis delay = what == Pending::kSpawn ? c.boot_delay : what == Pending::kDelete ? c.delete_delay : c.action_delay;
    if (!co_await Sleep(st, delay)) co_return;
    auto* e = st->Find(id);
    if (!e || e->op != op) co_return;
    auto& s = e->server;
    auto now = std::chrono::system_clock::now();
    switch (what) {
        case Pending::kSpawn:
            if (st->SpawnFails()) {
                // What Nova shows once the compute's failure has been rescheduled until
                // max_attempts: the allocation is gone and the instance is on no host.
                st->Unclaim(s.id);
                s.host.clear();
                st->Fail(s,
                         "Exceeded maximum number of retries. Exhausted all hosts available for retrying build "
                         "failures for instance " +
                             s.id + ".");
                co_return;
            }
            s.vm_state = "active";
            s.power_state = 1;
            s.launched_at = now;
            break;
        case Pending::kStop:
            s.vm_state = "stopped";
            s.power_state = 4;
            break;
        case Pending::kStart:
        case Pending::kReboot:
        case Pending::kUnpause:
        case Pending::kResume:
            s.vm_state = "active";
            s.power_state = 1;
            break;
        case Pending::kPause:
            s.vm_state = "paused";
            s.power_state = 3;
            break;
        case Pending::kSuspend:
            s.vm_state = "suspended";
            s.power_state = 7;
            break;
        case Pending::kDelete:
            st->Unclaim(s.id);
            if (st->ctx.store.Durable()) st->ctx.store.Erase(kServersCollection, s.id);
            st->servers.erase(std::string(id));
            co_return;
        case Pending::kNone:
        case Pending::kBuild:
            co_return;
    }
    s.task_state.reset();
    s.updated = now;
    st->Save(s);
}

void Spawn(const StatePtr& st, const std::string& id, std::uint64_t op, Pending what) {
    if (what == Pending::kNone) return;
    std::string label = "fake compute: server " + id + " failed";
    if (what == Pending::kBuild)
        SpawnDetached(st->executor, Build(st, id, op), std::move(label));
    else
        SpawnDetached(st->executor, Complete(st, id, op, what), std::move(label));
}

}  // namespace

FakeCompute::FakeCompute(ServiceContext& ctx) : ctx_(ctx), state_(std::make_shared<State>(ctx, ctx.executor)) {
    const auto& hv = ctx.config.hypervisors;
    for (int i = 0; i < hv.count; ++i) {
        Hypervisor h;
        h.id = i + 1;
        h.hostname = ctx.config.name + "-compute-" + std::to_string(i + 1);
        // Derived from the names, so the provider UUID survives restarts without being stored.
        h.uuid = nova::NameUuid(ctx.config.name + "/hypervisor/" + h.hostname);
        h.vcpus = hv.vcpus;
        h.memory_mb = hv.memory_mb;
        h.disk_gb = hv.disk_gb;
        h.reserved_memory_mb = hv.reserved_host_memory_mb;
        h.cpu_allocation_ratio = hv.cpu_allocation_ratio;
        h.ram_allocation_ratio = hv.ram_allocation_ratio;
        h.disk_allocation_ratio = hv.disk_allocation_ratio;
        state_->hypervisors.push_back(std::move(h));
    }
}

FakeCompute::~FakeCompute() {
    Stop();
}

void FakeCompute::Load() {
    auto& st = *state_;
    if (!ctx_.store.Durable()) return;
    for (const auto& [uuid, doc] : ctx_.store.LoadAll(kHypervisorsCollection))
        for (auto& h : st.hypervisors) {
            if (h.uuid != uuid) continue;
            h.generation = doc.value("generation", std::uint64_t{0});
            h.service.disabled = doc.value("disabled", false);
            h.service.disabled_reason = OptFrom<std::string>(doc, "disabled_reason");
            h.service.forced_down = doc.value("forced_down", false);
        }
    std::vector<std::string> resume;
    for (const auto& [key, doc] : ctx_.store.LoadAll(kServersCollection)) {
        Server s;
        try {
            s = ServerFromJson(doc);
        } catch (const std::exception& e) {
            spdlog::warn("cloudlet {}: skipping unreadable server record {}: {}", ctx_.config.name, key, e.what());
            continue;
        }
        st.next_number = std::max(st.next_number, s.number + 1);
        if (!s.host.empty()) {
            if (auto* h = st.HypervisorByHost(s.host)) {
                st.allocations[s.id] = Allocation{s.id,           s.project_id,    s.user_id,         h->uuid,
                                                  s.flavor.vcpus, s.flavor.ram_mb, DiskGbOf(s.flavor)};
            } else if (s.vm_state != "error") {
                // The hypervisor is no longer configured: the instance is lost with it.
                std::string gone = s.host;
                s.host.clear();
                st.Fail(s, "Compute host " + gone + " could not be found.");
            }
        }
        std::string id = s.id;
        resume.push_back(id);
        st.servers[id] = State::Entry{std::move(s), 1};
    }
    st.RecountUsage();
    for (const auto& id : resume) {
        auto* e = st.Find(id);
        Spawn(state_, id, e->op, PendingFor(e->server));
    }
}

void FakeCompute::Stop() {
    auto& st = *state_;
    if (!st.alive) return;
    st.alive = false;
    for (auto* t : st.timers) t->cancel();
    st.stop_signal.cancel();
}

const std::vector<Hypervisor>& FakeCompute::Hypervisors() const {
    return state_->hypervisors;
}

std::vector<Allocation> FakeCompute::Allocations() const {
    std::vector<Allocation> out;
    out.reserve(state_->allocations.size());
    for (const auto& [id, a] : state_->allocations) out.push_back(a);
    return out;
}

void FakeCompute::Create(std::vector<Server> servers) {
    auto& st = *state_;
    for (auto& s : servers) {
        std::string id = s.id;
        st.Save(s);
        st.servers[id] = State::Entry{std::move(s), 1};
        Spawn(state_, id, 1, Pending::kBuild);
    }
}

const FakeCompute::Server* FakeCompute::Find(std::string_view id) const {
    auto* e = state_->Find(id);
    return e ? &e->server : nullptr;
}

std::vector<const FakeCompute::Server*> FakeCompute::Servers() const {
    std::vector<const Server*> out;
    out.reserve(state_->servers.size());
    for (const auto& [id, e] : state_->servers) out.push_back(&e.server);
    std::stable_sort(out.begin(), out.end(), [](const Server* a, const Server* b) {
        return a->created != b->created ? a->created < b->created : a->number < b->number;
    });
    return out;
}

std::int64_t FakeCompute::NextServerNumber() {
    return state_->next_number++;
}

namespace {

// nova.compute.api.check_instance_state: vm_state first, then task_state.
Status CheckState(const FakeCompute::Server& s,
                  std::string_view action,
                  std::initializer_list<std::string_view> vm_states,
                  std::initializer_list<std::string_view> task_states,
                  bool allow_no_task = true) {
    if (std::find(vm_states.begin(), vm_states.end(), s.vm_state) == vm_states.end())
        return InvalidState(action, s, false);
    bool task_ok = s.task_state ? std::find(task_states.begin(), task_states.end(), *s.task_state) != task_states.end()
                                : allow_no_task;
    if (!task_ok) return InvalidState(action, s, true);
    return Ok{};
}

Error GoneError(std::string_view id) {
    return MakeError(ErrorCode::kNotFound, "Instance " + std::string(id) + " could not be found.");
}

}  // namespace

Status FakeCompute::StopServer(std::string_view id) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    if (auto ok = CheckState(e->server, "stop", {"active", "error"}, {}); !ok) return ok;
    e->server.task_state = "powering-off";
    e->server.updated = std::chrono::system_clock::now();
    state_->Save(e->server);
    Spawn(state_, e->server.id, ++e->op, Pending::kStop);
    return Ok{};
}

Status FakeCompute::StartServer(std::string_view id) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    if (auto ok = CheckState(e->server, "start", {"stopped"}, {}); !ok) return ok;
    e->server.task_state = "powering-on";
    e->server.updated = std::chrono::system_clock::now();
    state_->Save(e->server);
    Spawn(state_, e->server.id, ++e->op, Pending::kStart);
    return Ok{};
}

Status FakeCompute::RebootServer(std::string_view id, bool hard) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    auto& s = e->server;
    if (hard) {
        // task_states.ALLOW_REBOOT: a hard reboot may interrupt a soft one.
        if (auto ok = CheckState(s, "reboot", {"active", "stopped", "paused", "suspended", "error"},
                                 {"rebooting", "reboot_pending", "reboot_started", "rebooting_hard",
                                  "reboot_pending_hard", "reboot_started_hard"});
            !ok)
            return ok;
    } else if (auto ok = CheckState(s, "reboot", {"active"}, {}); !ok) {
        return ok;
    }
    s.task_state = hard ? "rebooting_hard" : "rebooting";
    s.updated = std::chrono::system_clock::now();
    state_->Save(s);
    Spawn(state_, s.id, ++e->op, Pending::kReboot);
    return Ok{};
}

namespace {

// An action that announces itself with a task state and completes after action_delay.
Status Begin(const StatePtr& st,
             std::string_view id,
             std::string_view action,
             std::initializer_list<std::string_view> vm_states,
             const char* task_state,
             Pending what) {
    auto* e = st->Find(id);
    if (!e) return GoneError(id);
    if (auto ok = CheckState(e->server, action, vm_states, {}); !ok) return ok;
    e->server.task_state = task_state;
    e->server.updated = std::chrono::system_clock::now();
    st->Save(e->server);
    Spawn(st, e->server.id, ++e->op, what);
    return Ok{};
}

}  // namespace

Status FakeCompute::PauseServer(std::string_view id) {
    return Begin(state_, id, "pause", {"active"}, "pausing", Pending::kPause);
}
Status FakeCompute::UnpauseServer(std::string_view id) {
    return Begin(state_, id, "unpause", {"paused"}, "unpausing", Pending::kUnpause);
}
Status FakeCompute::SuspendServer(std::string_view id) {
    return Begin(state_, id, "suspend", {"active"}, "suspending", Pending::kSuspend);
}
Status FakeCompute::ResumeServer(std::string_view id) {
    return Begin(state_, id, "resume", {"suspended"}, "resuming", Pending::kResume);
}

Status FakeCompute::ResetState(std::string_view id, bool active) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    ++e->op;  // whatever was pending no longer applies
    auto& s = e->server;
    s.vm_state = active ? "active" : "error";
    s.task_state.reset();
    s.updated = std::chrono::system_clock::now();
    state_->Save(s);
    return Ok{};
}

Status FakeCompute::DeleteServer(std::string_view id) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    auto& s = e->server;
    if (s.task_state == "deleting") return Ok{};  // already on its way
    s.task_state = "deleting";
    s.updated = std::chrono::system_clock::now();
    state_->Save(s);
    Spawn(state_, s.id, ++e->op, Pending::kDelete);
    return Ok{};
}

Status FakeCompute::UpdateServer(std::string_view id, const std::function<void(Server&)>& change) {
    auto* e = state_->Find(id);
    if (!e) return GoneError(id);
    change(e->server);
    e->server.updated = std::chrono::system_clock::now();
    state_->Save(e->server);
    return Ok{};
}

const Hypervisor* FakeCompute::FindHypervisor(std::string_view hostname) const {
    return state_->HypervisorByHost(hostname);
}

const Hypervisor* FakeCompute::UpdateComputeService(std::string_view hostname, const ComputeService& service) {
    auto* h = state_->HypervisorByHost(hostname);
    if (!h) return nullptr;
    // Nova (Train+) syncs COMPUTE_STATUS_DISABLED to the provider when `disabled` changes.
    if (h->service.disabled != service.disabled) ++h->generation;
    h->service = service;
    state_->SaveHypervisor(*h);
    spdlog::info("cloudlet {}: nova-compute on {} is {}{}", ctx_.config.name, h->hostname,
                 service.disabled ? "disabled" : "enabled", service.forced_down ? " and forced down" : "");
    return h;
}

SystemTime FakeCompute::StartedAt() const {
    return state_->started;
}
int FakeCompute::BuildsWaiting() const {
    return state_->gate.Waiting();
}
int FakeCompute::BuildsRunning() const {
    return state_->gate.InUse();
}

}  // namespace shoal::emulator
