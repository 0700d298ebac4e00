#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/rng.hpp"
#include "scheduler/cloudlet_load.hpp"
#include "scheduler/power_of_two.hpp"

namespace shoal::compute {

// The one lifecycle field of a server record (record.extra["boot"]["phase"]). It is written to the
// state store before every step that has an effect elsewhere, so a home that restarts, or takes
// the tenant over, resumes each boot from where it was.
enum class BootPhase {
    kScheduling,  // no cloudlet holds it: loads, power of two choices, hold, image copy
    kCreating,    // the create is sent (or about to be) to `target`: on resume, look it up there first
    kBuilding,    // `cloudlet_id` at `target` is building: watch it
    kActive,      // built; the boot is over
    kError,       // failed for good, with `fault`
    kDeleting,    // the user deleted it: delete at the cloudlet until it answers 404, then forget it
};
std::string_view ToString(BootPhase phase);
std::optional<BootPhase> BootPhaseFrom(std::string_view name);

// What survives a crash: the record's extra["boot"].
struct BootState {
    BootPhase phase = BootPhase::kScheduling;
    std::string target;               // the chosen cloudlet (creating, building, deleting)
    std::string cloudlet_id;          // the server's id there once known (building, deleting)
    std::vector<std::string> failed;  // cloudlets where a build of it failed: never tried again
    std::string fault;                // why it is ERROR
    std::int64_t deadline_ms = 0;     // unix ms: the build (or the lookup of a lost create) times out then

    bool Finished() const { return phase == BootPhase::kActive || phase == BootPhase::kError; }
};
nlohmann::json ToJson(const BootState& s);
// kBadRequest for a document that is not a boot state.
Result<BootState> BootStateFromJson(const nlohmann::json& j);

// ---- actions: what the shell carries out, in order -------------------------------------------

// Ask the loads of `sample` candidates of the peer sampling service, skipping `exclude`, all at
// once. Answer: LoadsAnswered.
struct AskLoads {
    std::size_t sample = 0;
    std::vector<std::string> exclude;
};
// Hold `ram_mb` at the chosen cloudlet as in flight from now on. Answer: Held.
struct Hold {
    std::string cloudlet;
    std::int64_t ram_mb = 0;
};
// The image, copied to `cloudlet` if it is not there yet. Answer: ImageReady.
struct EnsureImage {
    std::string cloudlet;
};
// Write the state (and, once ACTIVE, the server's body at the cloudlet) before anything that
// follows it in the same batch. No answer; a write that finds the user deleted the server
// meanwhile drops the rest of the batch and answers DeleteRequested instead.
struct Record {
    BootState state;
    nlohmann::json values;  // the cloudlet's server body when ACTIVE, else null
};
// Send the create to `cloudlet`, tagged with the shoal id, taking the hold over. Answer: CreateAnswered.
struct SendCreate {
    std::string cloudlet;
    std::string image_copy;
    std::uint64_t reservation = 0;
};
// Look for the server tagged with the shoal id at `cloudlet`. Answer: CreateFound.
struct FindCreate {
    std::string cloudlet;
};
// Give back a hold no create took over. No answer.
struct Release {
    std::string cloudlet;
    std::uint64_t reservation = 0;
};
// One build-progress observation of `cloudlet_id` (a long poll of the cloudlet's build watch).
// Answer: Progress.
struct Watch {
    std::string cloudlet;
    std::string cloudlet_id;
};
// Delete a server nobody keeps (a failed or abandoned build), durably and until the cloudlet
// confirms; `cloudlet_id` empty: whatever carries the shoal id's tag there. No answer.
struct Undo {
    std::string cloudlet;
    std::string cloudlet_id;
};
// Delete the user's server at its cloudlet (again: Nova ignores a repeat while it deletes).
// Answer: DeleteAnswered.
struct SendDelete {
    std::string cloudlet;
    std::string cloudlet_id;
};
// Nothing to do until then (unix ms). Answer: Tick.
struct Wait {
    std::int64_t until_ms = 0;
};
// The delete finished: remove the record. The end.
struct Forget {};
// The boot is over (ACTIVE or ERROR). The end.
struct Done {};

using BootAction = std::variant<AskLoads,
                                Hold,
                                EnsureImage,
                                Record,
                                SendCreate,
                                FindCreate,
                                Release,
                                Watch,
                                Undo,
                                SendDelete,
                                Wait,
                                Forget,
                                Done>;

// The action's name in fault-injection points and logs: "ask_loads", "send_create", ...
std::string_view ActionName(const BootAction& action);

// ---- events: what the shell feeds back ---------------------------------------------------------

struct LoadsAnswered {
    std::vector<scheduler::CloudletLoad> loads;  // those that answered
};
struct Held {
    std::uint64_t reservation = 0;  // 0: no hold could be made there (a fresh sample follows)
};
struct ImageReady {
    bool ok = false;
    std::string copy;   // the image's id at the cloudlet
    std::string error;  // why not
};
struct CreateAnswered {
    enum class Outcome {
        kAccepted,  // 202 with the cloudlet's id
        kRejected,  // 400: the request itself is wrong, no retry anywhere
        kRefused,   // any other answer: nothing was created there
        kLost,      // no answer (transport failure, timeout): it may have been created
    };
    Outcome outcome = Outcome::kRefused;
    std::string cloudlet_id;
    std::string message;
};
struct CreateFound {
    bool reachable = true;    // false: the cloudlet could not be asked
    std::string cloudlet_id;  // empty: no server carries the tag there
};
struct Progress {
    std::string status;     // "BUILD", "ACTIVE", "ERROR", "DELETED" (404 there), "" (not known now)
    std::string fault;      // with ERROR
    nlohmann::json values;  // the server's body at the cloudlet, with ACTIVE
};
struct DeleteRequested {};
struct DeleteAnswered {
    enum class Outcome { kGone, kDeleting, kUnreachable };
    Outcome outcome = Outcome::kUnreachable;
};
struct Tick {};

using BootEvent = std::variant<LoadsAnswered,
                               Held,
                               ImageReady,
                               CreateAnswered,
                               CreateFound,
                               Progress,
                               DeleteRequested,
                               DeleteAnswered,
                               Tick>;

struct BootTimings {
    std::int64_t build_timeout_ms = 180'000;  // a build not ACTIVE by then has failed
    std::int64_t retry_ms = 500;              // before sampling again when nothing fitted
    std::int64_t delete_poll_ms = 500;        // between delete checks while the cloudlet deletes
    std::int64_t backoff_ms = 1'000;          // first pause before asking an unreachable cloudlet again
    std::int64_t max_backoff_ms = 30'000;     // doubled each time, up to this
};

// One server's boot at its home agent, from scheduling to ACTIVE, ERROR or deleted (paper IV-G),
// sans-I/O in the style of ScyllaDB's raft::fsm: events in, actions out, time an argument (unix
// ms, so that persisted deadlines mean the same after a restart). It owns the retry plan
// (scheduler::Plan), the hold, the build attempts and the persisted phase; the agent's shell
// (NovaProxy::Boot) only carries the actions out. Every batch that has an effect elsewhere starts
// with a Record, so a crash anywhere resumes from a state that knows of it:
//
//   scheduling --loads, pick, hold, image--> creating --202--> building --ACTIVE--> active
//        ^  |                                  |  \--lost: FindCreate--^      |
//        |  +--nothing fits, plan exhausted----+--400--> error                 +--ERROR/timeout: Undo,
//        +---------------------------------------------------------------------+  fail the cloudlet
//   any --DeleteRequested--> deleting --SendDelete...404--> Forget
class BootFsm {
public:
    BootFsm(std::string server_id,
            scheduler::FlavorNeed need,
            scheduler::RetryPolicy policy,
            BootTimings timings,
            BootState state,
            Rng& rng);

    // The first actions: a new boot's, or a resumed one's (after a restart or a take-over), from
    // the persisted state alone.
    std::vector<BootAction> Start(std::int64_t now_ms);
    std::vector<BootAction> On(const BootEvent& event, std::int64_t now_ms);

    const BootState& State() const { return state_; }
    const std::string& ServerId() const { return id_; }
    int BuildAttempts() const { return plan_.BuildAttempts(); }

private:
    std::vector<BootAction> OnLoads(const LoadsAnswered& e, std::int64_t now);
    std::vector<BootAction> OnHeld(const Held& e, std::int64_t now);
    std::vector<BootAction> OnImage(const ImageReady& e, std::int64_t now);
    std::vector<BootAction> OnCreate(const CreateAnswered& e, std::int64_t now);
    std::vector<BootAction> OnFound(const CreateFound& e, std::int64_t now);
    std::vector<BootAction> OnProgress(const Progress& e, std::int64_t now);
    std::vector<BootAction> OnDelete();
    std::vector<BootAction> OnDeleteAnswer(const DeleteAnswered& e, std::int64_t now);
    std::vector<BootAction> OnTick(std::int64_t now);

    std::vector<BootAction> Nothing();
    std::vector<BootAction> Sample();
    std::vector<BootAction> Building(std::string cloudlet_id, std::int64_t now);
    // The build at the target failed: undo it (when something may be there), exclude the
    // cloudlet, and place again, or fail once the plan is exhausted.
    std::vector<BootAction> BuildFailed(const std::string& why, bool undo);
    std::vector<BootAction> Fail(std::string fault, std::vector<BootAction> before = {});
    // The next step of a delete; `found`: the cloudlet id was just learned, record it first.
    std::vector<BootAction> DeleteStep(bool found = false);
    std::vector<BootAction> ReleaseHold();
    std::int64_t Backoff();

    // What the last action waits for, so that an event nobody asked for is ignored.
    enum class Awaiting { kNothing, kLoads, kHold, kImage, kCreate, kFound, kProgress, kDelete, kTick };

    std::string id_;
    scheduler::Plan plan_;
    BootTimings timings_;
    BootState state_;
    Rng& rng_;
    Awaiting awaiting_ = Awaiting::kNothing;
    std::uint64_t reservation_ = 0;  // the hold at the target, until a create takes it over
    int backoff_steps_ = 0;          // unreachable answers in a row
    bool resumed_ = false;           // started in creating: a create not found there is sent again
    std::string lost_message_;       // why the last create got no answer
};

}  // namespace shoal::compute
