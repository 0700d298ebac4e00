#include "compute/boot_fsm.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace shoal::compute {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<BootPhase, std::string_view>, 6> kPhases{{
    {BootPhase::kScheduling, "scheduling"},
    {BootPhase::kCreating, "creating"},
    {BootPhase::kBuilding, "building"},
    {BootPhase::kActive, "active"},
    {BootPhase::kError, "error"},
    {BootPhase::kDeleting, "deleting"},
}};

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string_view ToString(BootPhase phase) {
    for (const auto& [p, name] : kPhases)
        if (p == phase) return name;
    return "scheduling";
}

std::string_view ActionName(const BootAction& action) {
    static constexpr std::array<std::string_view, std::variant_size_v<BootAction>> kNames{
        "ask_loads", "hold", "ensure_image", "record", "send_create", "find_create", "release",
        "watch",     "undo", "send_delete",  "wait",   "forget",      "done"};
    return kNames[action.index()];
}

std::optional<BootPhase> BootPhaseFrom(std::string_view name) {
    for (const auto& [p, n] : kPhases)
        if (n == name) return p;
    return std::nullopt;
}

json ToJson(const BootState& s) {
    return json{{"phase", ToString(s.phase)}, {"target", s.target}, {"cloudlet_id", s.cloudlet_id},
                {"failed", s.failed},         {"fault", s.fault},   {"deadline_ms", s.deadline_ms}};
}

Result<BootState> BootStateFromJson(const json& j) {
    if (!j.is_object() || !j.contains("phase") || !j["phase"].is_string())
        return MakeError(ErrorCode::kBadRequest, "boot state without a phase");
    auto phase = BootPhaseFrom(j["phase"].get<std::string>());
    if (!phase) return MakeError(ErrorCode::kBadRequest, "unknown boot phase " + j["phase"].get<std::string>());
    BootState s;
    s.phase = *phase;
    try {
        s.target = j.value("target", "");
        s.cloudlet_id = j.value("cloudlet_id", "");
        s.failed = j.value("failed", std::vector<std::string>{});
        s.fault = j.value("fault", "");
        s.deadline_ms = j.value("deadline_ms", std::int64_t{0});
    } catch (const json::exception& e) {
        return MakeError(ErrorCode::kBadRequest, std::string("malformed boot state: ") + e.what());
    }
    return s;
}

BootFsm::BootFsm(std::string server_id,
                 scheduler::FlavorNeed need,
                 scheduler::RetryPolicy policy,
                 BootTimings timings,
                 BootState state,
                 Rng& rng)
    : id_(std::move(server_id)),
      plan_(std::move(need), policy),
      timings_(timings),
      state_(std::move(state)),
      rng_(rng) {
    // The plan of a resumed boot: the cloudlets that already failed stay excluded and counted.
    for (const auto& c : state_.failed) (void)plan_.OnBuildFailed(c, {});
}

std::vector<BootAction> BootFsm::Start(std::int64_t now_ms) {
    switch (state_.phase) {
        case BootPhase::kScheduling:
            return Sample();
        case BootPhase::kCreating:
        case BootPhase::kBuilding:
            if (state_.target.empty()) {
                state_.phase = BootPhase::kScheduling;
                return Sample();
            }
            if (state_.deadline_ms == 0) state_.deadline_ms = now_ms + timings_.build_timeout_ms;
            if (state_.phase == BootPhase::kBuilding && !state_.cloudlet_id.empty()) {
                awaiting_ = Awaiting::kProgress;
                return {Watch{state_.target, state_.cloudlet_id}};
            }
            // A create that may have been sent: look for it before anything is sent again.
            state_.phase = BootPhase::kCreating;
            resumed_ = true;
            awaiting_ = Awaiting::kFound;
            return {FindCreate{state_.target}};
        case BootPhase::kActive:
        case BootPhase::kError:
            return {Done{}};
        case BootPhase::kDeleting:
            return DeleteStep();
    }
    return {Done{}};
}

std::vector<BootAction> BootFsm::On(const BootEvent& event, std::int64_t now_ms) {
    // An answer nobody waits for (a late or repeated one) changes nothing; a delete is always heard.
    auto expect = [this](Awaiting a) {
        if (awaiting_ != a) return false;
        awaiting_ = Awaiting::kNothing;
        return true;
    };
    return std::visit(
        Overloaded{
            [&](const LoadsAnswered& e) { return expect(Awaiting::kLoads) ? OnLoads(e, now_ms) : Nothing(); },
            [&](const Held& e) { return expect(Awaiting::kHold) ? OnHeld(e, now_ms) : Nothing(); },
            [&](const ImageReady& e) { return expect(Awaiting::kImage) ? OnImage(e, now_ms) : Nothing(); },
            [&](const CreateAnswered& e) { return expect(Awaiting::kCreate) ? OnCreate(e, now_ms) : Nothing(); },
            [&](const CreateFound& e) { return expect(Awaiting::kFound) ? OnFound(e, now_ms) : Nothing(); },
            [&](const Progress& e) { return expect(Awaiting::kProgress) ? OnProgress(e, now_ms) : Nothing(); },
            [&](const DeleteRequested&) { return OnDelete(); },
            [&](const DeleteAnswered& e) { return expect(Awaiting::kDelete) ? OnDeleteAnswer(e, now_ms) : Nothing(); },
            [&](const Tick&) { return expect(Awaiting::kTick) ? OnTick(now_ms) : Nothing(); },
        },
        event);
}

std::vector<BootAction> BootFsm::Nothing() {
    return {};
}

std::vector<BootAction> BootFsm::Sample() {
    state_.phase = BootPhase::kScheduling;
    awaiting_ = Awaiting::kLoads;
    return {AskLoads{plan_.SampleSize(), state_.failed}};
}

std::vector<BootAction> BootFsm::OnLoads(const LoadsAnswered& e, std::int64_t now) {
    auto pick = plan_.Next(e.loads, rng_);
    if (!pick.ok()) {
        if (pick.error().code != ErrorCode::kUnavailable || plan_.Exhausted()) return Fail(pick.error().message);
        awaiting_ = Awaiting::kTick;  // nothing fitted: a fresh sample a little later
        return {Wait{now + timings_.retry_ms}};
    }
    state_.target = e.loads[*pick].cloudlet;
    awaiting_ = Awaiting::kHold;
    return {Hold{state_.target, plan_.Need().ram_mb}};
}

std::vector<BootAction> BootFsm::OnHeld(const Held& e, std::int64_t now) {
    if (e.reservation == 0) {
        // The hold is the one guard against herding: no create goes out without one. A cloudlet
        // that cannot hold is passed over for a fresh sample (the plan counts the samplings).
        state_.phase = BootPhase::kScheduling;
        state_.target.clear();
        awaiting_ = Awaiting::kTick;
        return {Wait{now + timings_.retry_ms}};
    }
    reservation_ = e.reservation;
    awaiting_ = Awaiting::kImage;
    return {EnsureImage{state_.target}};
}

std::vector<BootAction> BootFsm::OnImage(const ImageReady& e, std::int64_t now) {
    if (!e.ok) {
        auto actions = ReleaseHold();
        auto failed = BuildFailed("image unavailable at " + state_.target + ": " + e.error, false);
        actions.insert(actions.end(), failed.begin(), failed.end());
        return actions;
    }
    // Recorded before it is sent: a crash from here on looks for it at the target first.
    state_.phase = BootPhase::kCreating;
    state_.cloudlet_id.clear();
    state_.deadline_ms = now + timings_.build_timeout_ms;
    awaiting_ = Awaiting::kCreate;
    return {Record{state_, nullptr}, SendCreate{state_.target, e.copy, reservation_}};
}

std::vector<BootAction> BootFsm::OnCreate(const CreateAnswered& e, std::int64_t now) {
    using O = CreateAnswered::Outcome;
    switch (e.outcome) {
        case O::kAccepted:
            reservation_ = 0;  // the create took the hold over
            return Building(e.cloudlet_id, now);
        case O::kRejected: {
            auto actions = ReleaseHold();
            return Fail(e.message, std::move(actions));
        }
        case O::kRefused: {
            auto actions = ReleaseHold();
            auto failed = BuildFailed(e.message, false);
            actions.insert(actions.end(), failed.begin(), failed.end());
            return actions;
        }
        case O::kLost:
            // It may have arrived and taken the hold over: the hold expires at the cloudlet if not.
            reservation_ = 0;
            lost_message_ = e.message;
            awaiting_ = Awaiting::kFound;
            return {FindCreate{state_.target}};
    }
    return {};
}

std::vector<BootAction> BootFsm::Building(std::string cloudlet_id, std::int64_t now) {
    state_.phase = BootPhase::kBuilding;
    state_.cloudlet_id = std::move(cloudlet_id);
    state_.deadline_ms = now + timings_.build_timeout_ms;
    resumed_ = false;
    backoff_steps_ = 0;
    awaiting_ = Awaiting::kProgress;
    return {Record{state_, nullptr}, Watch{state_.target, state_.cloudlet_id}};
}

std::vector<BootAction> BootFsm::OnFound(const CreateFound& e, std::int64_t now) {
    if (state_.phase == BootPhase::kDeleting) {
        if (!e.reachable) {
            awaiting_ = Awaiting::kTick;
            return {Wait{now + Backoff()}};
        }
        backoff_steps_ = 0;
        if (e.cloudlet_id.empty()) return {Forget{}};  // it never reached the cloudlet
        state_.cloudlet_id = e.cloudlet_id;
        return DeleteStep(true);
    }
    if (!e.reachable) {
        if (now <= state_.deadline_ms) {
            awaiting_ = Awaiting::kTick;
            return {Wait{now + Backoff()}};
        }
        // Whether it exists there cannot be known now: whatever carries the tag is undone.
        return BuildFailed("the cloudlet " + state_.target + " did not answer", true);
    }
    backoff_steps_ = 0;
    if (!e.cloudlet_id.empty()) return Building(e.cloudlet_id, now);
    if (resumed_) {
        // The crash came before the create left: hold again and send it again, to the same
        // cloudlet (its hold died with the crash, and expires there).
        resumed_ = false;
        awaiting_ = Awaiting::kHold;
        return {Hold{state_.target, plan_.Need().ram_mb}};
    }
    return BuildFailed(lost_message_.empty() ? "the create was lost" : lost_message_, false);
}

std::vector<BootAction> BootFsm::OnProgress(const Progress& e, std::int64_t now) {
    if (e.status == "ACTIVE") {
        state_.phase = BootPhase::kActive;
        state_.fault.clear();
        state_.deadline_ms = 0;
        return {Record{state_, e.values}, Done{}};
    }
    if (e.status == "ERROR") return BuildFailed(e.fault.empty() ? std::string("build failed") : e.fault, true);
    if (e.status == "DELETED") return BuildFailed("the server vanished from its cloudlet", false);
    if (now > state_.deadline_ms) return BuildFailed("build timed out", true);
    awaiting_ = Awaiting::kProgress;  // BUILD, or not known right now: keep watching
    return {Watch{state_.target, state_.cloudlet_id}};
}

std::vector<BootAction> BootFsm::BuildFailed(const std::string& why, bool undo) {
    std::vector<BootAction> actions;
    // The undo is made durable before the record forgets where the build was.
    if (undo) actions.emplace_back(Undo{state_.target, state_.cloudlet_id});
    const std::string cloudlet = state_.target;
    if (std::find(state_.failed.begin(), state_.failed.end(), cloudlet) == state_.failed.end())
        state_.failed.push_back(cloudlet);
    auto next = plan_.OnBuildFailed(cloudlet, why);
    state_.target.clear();
    state_.cloudlet_id.clear();
    state_.deadline_ms = 0;
    lost_message_.clear();
    resumed_ = false;
    if (!next.ok()) return Fail(next.error().message, std::move(actions));
    auto sample = Sample();
    actions.emplace_back(Record{state_, nullptr});
    actions.insert(actions.end(), sample.begin(), sample.end());
    return actions;
}

std::vector<BootAction> BootFsm::Fail(std::string fault, std::vector<BootAction> before) {
    state_.phase = BootPhase::kError;
    state_.fault = std::move(fault);
    state_.target.clear();
    state_.cloudlet_id.clear();
    state_.deadline_ms = 0;
    awaiting_ = Awaiting::kNothing;
    before.emplace_back(Record{state_, nullptr});
    before.emplace_back(Done{});
    return before;
}

std::vector<BootAction> BootFsm::OnDelete() {
    auto actions = ReleaseHold();
    const bool again = state_.phase == BootPhase::kDeleting;
    state_.phase = BootPhase::kDeleting;
    backoff_steps_ = 0;
    auto step = DeleteStep();
    if (!again) actions.emplace_back(Record{state_, nullptr});
    actions.insert(actions.end(), step.begin(), step.end());
    return actions;
}

std::vector<BootAction> BootFsm::DeleteStep(bool found) {
    if (!state_.cloudlet_id.empty()) {
        awaiting_ = Awaiting::kDelete;
        if (found) return {Record{state_, nullptr}, SendDelete{state_.target, state_.cloudlet_id}};
        return {SendDelete{state_.target, state_.cloudlet_id}};
    }
    if (!state_.target.empty()) {
        // A create may be at the target under the tag only: find it before the record goes.
        awaiting_ = Awaiting::kFound;
        return {FindCreate{state_.target}};
    }
    awaiting_ = Awaiting::kNothing;
    return {Forget{}};
}

std::vector<BootAction> BootFsm::OnDeleteAnswer(const DeleteAnswered& e, std::int64_t now) {
    using O = DeleteAnswered::Outcome;
    awaiting_ = Awaiting::kTick;
    switch (e.outcome) {
        case O::kGone:
            awaiting_ = Awaiting::kNothing;
            return {Forget{}};
        case O::kDeleting:
            backoff_steps_ = 0;
            return {Wait{now + timings_.delete_poll_ms}};
        case O::kUnreachable:
            return {Wait{now + Backoff()}};
    }
    return {};
}

std::vector<BootAction> BootFsm::OnTick(std::int64_t now) {
    (void)now;
    switch (state_.phase) {
        case BootPhase::kScheduling:
            return Sample();
        case BootPhase::kCreating:
            awaiting_ = Awaiting::kFound;
            return {FindCreate{state_.target}};
        case BootPhase::kDeleting:
            return DeleteStep();
        case BootPhase::kBuilding:
        case BootPhase::kActive:
        case BootPhase::kError:
            break;
    }
    return {};
}

std::vector<BootAction> BootFsm::ReleaseHold() {
    if (reservation_ == 0) return {};
    std::vector<BootAction> actions{Release{state_.target, reservation_}};
    reservation_ = 0;
    return actions;
}

std::int64_t BootFsm::Backoff() {
    const std::int64_t pause =
        std::min<std::int64_t>(timings_.max_backoff_ms, timings_.backoff_ms << std::min(backoff_steps_, 16));
    ++backoff_steps_;
    return pause;
}

}  // namespace shoal::compute
