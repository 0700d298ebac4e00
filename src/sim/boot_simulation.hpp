#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "compute/boot_fsm.hpp"

namespace shoal::sim {

// Thousands of server boots driven through the agent's own compute::BootFsm (FoundationDB-style:
// the protocol's code, not a copy of it), against simulated cloudlets and a simulated state
// store, with homes that crash and restart, cloudlets that go away and come back, answers that
// are lost after their effect, builds that fail and users who delete while a boot runs. The
// shell around each BootFsm is the agent's (NovaProxy::Boot) in miniature: it writes each Record
// to the store before the next action, notices the user's delete at a Record and after each
// Watch, keeps undos as durable operations, and a restarted home resumes every unfinished boot
// from the store. At the end it checks what the fault tests check (docs/reliability.md).
// Virtual time in milliseconds; deterministic for a config and seed.
struct BootSimConfig {
    std::size_t cloudlets = 8;
    std::int64_t cloudlet_ram_mb = 262'144;
    std::size_t homes = 4;        // each server's home: its index modulo homes
    std::size_t servers = 2'000;  // creates, arriving uniformly over the window
    std::int64_t arrival_window_ms = 20'000;
    std::int64_t ram_mb = 512;                 // per server
    std::int64_t latency_ms = 20;              // one way, home <-> cloudlet
    std::int64_t timeout_ms = 2'000;           // a call to a cloudlet that is down fails after this
    std::int64_t build_ms = 3'000;             // create -> ACTIVE (or ERROR)
    std::int64_t delete_ms = 800;              // Nova's delete: gone this long after it was asked
    double refuse_build = 0.05;                // a build ends in ERROR
    double lose_answer = 0.05;                 // a create's answer is lost after the create happened
    double user_delete = 0.1;                  // the user deletes it, at a random time
    std::int64_t home_crash_every_ms = 5'000;  // mean time between crashes of a random home (0: none)
    std::int64_t home_down_ms = 2'000;
    std::int64_t cloudlet_outage_every_ms = 7'000;  // mean time between outages of a random cloudlet (0: none)
    std::int64_t cloudlet_down_ms = 5'000;
    std::int64_t faults_until_ms = 40'000;  // no new crash or outage after this
    // faults::Configure spec, e.g. "boot.send_create.after=crash@7": an armed crash crashes the
    // simulated home at that point instead of the process (faults::SetCrashHandler).
    std::string faults;
    compute::BootTimings timings{15'000, 200, 200, 200, 2'000};
    scheduler::RetryPolicy retry{3, 8, 2, 8};
    // For the checker's own test only: Records of the creating and building phases are not
    // written, as a shell that forgot durability would do; a crash then orphans or duplicates.
    bool unsafe_skip_placement_records = false;
    std::int64_t horizon_ms = 900'000;  // anything unfinished by then is reported stuck
    std::uint64_t seed = 1;
};

struct BootSimReport {
    int acknowledged = 0;
    int active = 0;
    int error = 0;
    int deleted_by_user = 0;
    // The invariants: all zero in a correct run.
    int stuck = 0;                      // boots, deletes or undos unfinished at the horizon
    int lost = 0;                       // acknowledged, not deleted by the user, and gone from the store
    int orphans = 0;                    // servers at cloudlets that no record maps
    int duplicates = 0;                 // shoal ids with more than one server at the cloudlets
    int wrong_map = 0;                  // ACTIVE records whose server is not where they say
    std::vector<std::string> problems;  // the first few, for messages
    // What happened.
    int home_crashes = 0;
    int cloudlet_outages = 0;
    int creates_sent = 0;
    int answers_lost = 0;
    int builds_failed = 0;
    int undos = 0;
    int resumed = 0;  // boots resumed by a restarted home
    std::int64_t end_ms = 0;

    bool Ok() const { return stuck == 0 && lost == 0 && orphans == 0 && duplicates == 0 && wrong_map == 0; }
};

// kBadRequest for an impossible config (no cloudlets, homes or servers; a bad faults spec).
Result<BootSimReport> RunBootSimulation(const BootSimConfig& config);

}  // namespace shoal::sim
