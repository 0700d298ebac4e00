#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "agent/agent_config.hpp"
#include "up/shoal.hpp"

namespace shoal::cli {

// --real-cloudlet URL (repeatable), --real-user, --real-password, --real-project: existing
// (real OpenStack) cloudlets, all with the same admin; for `shoal up` and `shoal bench`.
struct RealCloudletFlags {
    std::vector<std::string> auth_urls;
    std::string user = "admin";
    std::string password;
    std::string project = "admin";

    void AddTo(CLI::App* cmd, const std::string& url_help);
    std::vector<agent::CloudletAccess> Accesses() const;
};

// `shoal up`: the one-command demo (a whole shoal in one process).
void AddUpCommand(CLI::App& app);

}  // namespace shoal::cli
