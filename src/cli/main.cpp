#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/agent_command.hpp"
#include "cli/bench_command.hpp"
#include "cli/cloudlet_command.hpp"
#include "cli/sim_command.hpp"
#include "cli/up_command.hpp"
#include "common/faults.hpp"

namespace {

// Every subcommand serves or makes many connections (an agent holds one fd per client
// connection, `shoal up` all agents' in one process): the soft fd limit, often 1024, would make
// accept() fail long before the server's own connection cap (http::ServerOptions). As many as
// the hard limit allows.
void RaiseFileLimit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
}

}  // namespace

int main(int argc, char** argv) {
    RaiseFileLimit();
    // Fault injection for the fault tests (tests/faults/, docs/reliability.md): armed only when set.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread starts
    if (const char* spec = std::getenv("SHOAL_FAULTS"); spec != nullptr && *spec != '\0') {
        if (auto armed = shoal::faults::Configure(spec); !armed.ok()) {
            std::cerr << "SHOAL_FAULTS: " << armed.error().message << "\n";
            return 2;
        }
    }
    CLI::App app{
        "shoal: many small OpenStack clouds acting as one, with no central component.\n"
        "Each subcommand has its own --help."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "shoal 0.1.0");
    shoal::cli::AddAgentCommand(app);
    shoal::cli::AddStatusCommand(app);
    shoal::cli::AddCloudletCommand(app);
    shoal::cli::AddSimCommand(app);
    shoal::cli::AddUpCommand(app);
    shoal::cli::AddBenchCommand(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; a wrong option is a usage error: 2, as shells expect.
        return app.exit(e) == 0 ? 0 : 2;
    }
    return 0;
}
