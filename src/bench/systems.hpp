#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent_config.hpp"
#include "common/result.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {

// The systems `shoal bench` compares (docs/benchmarks.md, "Systems under test"):
//  - shoal:    N agents over N one-node cloudlets, users spread over the agents;
//  - standard: one cloud with N compute nodes behind one controller (the standard model);
//  - direct:   shoal's N cloudlets, each user talking straight to one of them (no agent);
//  - real-direct: existing (real OpenStack) cloudlets, each user straight at one of them;
//  - real-shoal:  one agent in front of each of those, users spread over the agents.
enum class SystemKind { kShoal, kStandard, kDirect, kRealDirect, kRealShoal };
Result<SystemKind> ParseSystemKind(const std::string& name);
std::string SystemName(SystemKind kind);

struct SystemModel {
    emulator::CloudletConfig cloudlet;  // each of shoal's (and direct's) cloudlets
    emulator::CloudletConfig standard;  // the standard cloud (its hypervisor count is set to N)
    std::chrono::seconds converge_timeout{120};
    std::chrono::milliseconds overlay_period{500};
    std::vector<agent::CloudletAccess> real_cloudlets;  // of the real-* systems
};

// A system running on its own event-loop thread, so that the load generator's thread and the
// system's do not share a loop. Stopped and joined by the destructor.
class BenchSystem {
public:
    static Result<std::unique_ptr<BenchSystem>> Start(SystemKind kind, int size, const SystemModel& model);
    ~BenchSystem();

    // Where user `user` (of `users`) logs in, and the admin that provisions it there.
    struct Entry {
        std::string auth_url;
        identity::PasswordCredentials admin;
    };
    Entry EntryFor(int user, int users) const;
    // The admins of every cloud whose compute nodes hold servers (for the census).
    std::vector<identity::PasswordCredentials> HostAdmins() const;
    // The system's shape and controller model, printed with every result.
    nlohmann::json Describe() const;
    // CPU seconds the system's thread has used so far.
    double ThreadCpuSeconds() const;

private:
    struct Impl;
    explicit BenchSystem(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::bench
