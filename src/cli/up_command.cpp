#include "cli/up_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/log.hpp"
#include "common/spawn.hpp"
#include "emulator/core/cloudlet_config.hpp"

namespace shoal::cli {

using nlohmann::json;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using up::Shoal;
using up::UpOptions;

void RealCloudletFlags::AddTo(CLI::App* cmd, const std::string& url_help) {
    cmd->add_option("--real-cloudlet", auth_urls, url_help);
    cmd->add_option("--real-user", user, "the real cloudlets' admin user")->capture_default_str();
    cmd->add_option("--real-password", password, "its password");
    cmd->add_option("--real-project", project, "its project")->capture_default_str();
}

std::vector<agent::CloudletAccess> RealCloudletFlags::Accesses() const {
    std::vector<agent::CloudletAccess> out;
    for (const auto& url : auth_urls) {
        agent::CloudletAccess access;
        access.auth_url = url;
        access.username = user;
        access.password = password;
        access.project = project;
        out.push_back(std::move(access));
    }
    return out;
}

namespace {

struct UpCliOptions {
    int agents = 4;
    std::string state_dir;
    std::string cloudlet_config;
    std::vector<std::string> cloudlet_config_for;
    int hypervisors = -1;
    int base_port = 0;
    std::string log_level = "warn";
    RealCloudletFlags real;
};

// Options to UpOptions; a message for stderr when they are wrong.
Result<UpOptions> BuildOptions(const UpCliOptions& o) {
    UpOptions u;
    if (o.agents < 1 || o.agents > 1000) return MakeError(ErrorCode::kBadRequest, "-n must be between 1 and 1000");
    u.agents = o.agents;
    u.state_dir = o.state_dir;
    if (o.base_port < 0 || o.base_port + o.agents - 1 > 65535)
        return MakeError(ErrorCode::kBadRequest, "--base-port: ports base..base+n-1 must lie in 1..65535");
    u.base_port = o.base_port;
    u.hypervisors = o.hypervisors;
    u.real_cloudlets = o.real.Accesses();
    if (!u.real_cloudlets.empty()) {
        if (o.real.password.empty()) return MakeError(ErrorCode::kBadRequest, "--real-cloudlet needs --real-password");
        if (!o.cloudlet_config.empty() || !o.cloudlet_config_for.empty() || o.hypervisors >= 0)
            return MakeError(ErrorCode::kBadRequest,
                             "--real-cloudlet cannot be combined with options of embedded cloudlets");
        u.agents = static_cast<int>(u.real_cloudlets.size());
    }
    if (!o.cloudlet_config.empty()) {
        auto c = emulator::LoadCloudletConfig(o.cloudlet_config);
        if (!c.ok()) return MakeError(ErrorCode::kBadRequest, o.cloudlet_config + ": " + c.error().message);
        u.cloudlet = std::move(c).value();
    }
    if (u.cloudlet.flavors.empty()) u.cloudlet.flavors = emulator::CloudletConfig::DefaultFlavors();
    for (const auto& spec : o.cloudlet_config_for) {
        const auto eq = spec.find('=');
        std::string key = spec.substr(0, eq);
        if (key.rfind("agent", 0) == 0) key = key.substr(5);
        int k = 0;
        try {
            std::size_t used = 0;
            k = std::stoi(key, &used);
            if (used != key.size()) k = 0;
        } catch (const std::exception&) {
            k = 0;
        }
        if (eq == std::string::npos || k < 1 || k > o.agents)
            return MakeError(ErrorCode::kBadRequest, "--cloudlet-config-for " + spec +
                                                         ": expected K=FILE with K in 1.." + std::to_string(o.agents));
        const std::string file = spec.substr(eq + 1);
        auto c = emulator::LoadCloudletConfig(file);
        if (!c.ok()) return MakeError(ErrorCode::kBadRequest, file + ": " + c.error().message);
        if (c->flavors.empty()) c->flavors = emulator::CloudletConfig::DefaultFlavors();
        u.cloudlet_for[k] = std::move(c).value();
    }
    return u;
}

void PrintReady(Shoal& shoal) {
    std::cout << shoal.DemoOpenrc() << "ready" << std::endl;
    for (const auto& a : shoal.Agents()) {
        std::cout << "agent " << a.id.substr(5) << ": " << a.api_url << "\n";
    }
    const fs::path dir(shoal.StateDir());
    std::cout << "admin openrc: " << (dir / "admin-openrc.sh").string() << "\n"
              << "demo openrc: " << (dir / "demo-openrc.sh").string() << "\n"
              << "cloudlets: " << (dir / "cloudlets.json").string() << "\n"
              << "identity provider: " << shoal.IdentityProviderUrl() << "\n"
              << "state dir: " << dir.string() << std::endl;
}

// The live status block on stderr: redrawn in place on a terminal, else printed every 30 s.
asio::awaitable<void> StatusLoop(Shoal& shoal, asio::steady_timer& timer, bool tty) {
    std::size_t drawn = 0;
    for (;;) {
        auto lines = shoal.StatusLines();
        std::string block;
        if (tty) {
            if (drawn > 0) block += "\x1b[" + std::to_string(drawn) + "A";
            for (const auto& l : lines) block += "\r\x1b[2K" + l + "\n";
            drawn = lines.size();
        } else {
            for (const auto& l : lines) block += "status: " + l + "\n";
        }
        std::cerr << block << std::flush;
        timer.expires_after(tty ? std::chrono::seconds(1) : std::chrono::seconds(30));
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
    }
}

int RunUp(const UpCliOptions& o) {
    SetupLogging(o.log_level);
    auto options = BuildOptions(o);
    if (!options.ok()) {
        std::cerr << "shoal up: " << options.error().message << "\n";
        return 2;
    }
    asio::io_context io(1);
    Shoal shoal(io.get_executor(), std::move(options).value());
    int rc = 0;
    bool stopping = false;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer status_timer(io);
    auto stop = [&] {
        if (stopping) return;
        stopping = true;
        status_timer.cancel();
        signals.cancel();
        asio::co_spawn(io, shoal.Stop(), [&io](std::exception_ptr e) {
            LogCoroutineFailure("shoal up: stopping failed", e);
            io.stop();
        });
    };
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("shoal up: signal {}, stopping", sig);
        stop();
    });
    asio::co_spawn(io, shoal.Start(), [&](std::exception_ptr e, Result<Ok> started) {
        if (stopping) return;  // interrupted: exit 0 once stopped
        if (e || !started.ok()) {
            std::string message = "unexpected exception";
            if (!e)
                message = started.error().message;
            else
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    message = x.what();
                }
            std::cerr << "shoal up: " << message << std::endl;
            rc = 1;
            stop();
            return;
        }
        PrintReady(shoal);
        asio::co_spawn(io, StatusLoop(shoal, status_timer, ::isatty(STDERR_FILENO) == 1), [](std::exception_ptr) {});
    });
    io.run();
    return rc;
}

}  // namespace

void AddUpCommand(CLI::App& app) {
    auto o = std::make_shared<UpCliOptions>();
    auto* cmd = app.add_subcommand(
        "up",
        "Run a whole shoal in this process: an identity provider with a demo project and user, and N agents, each "
        "with an embedded cloudlet, serving the OpenStack APIs. Prints the demo user's `export OS_...` lines (at agent "
        "1), `ready`, each agent's API URL and the paths of the openrc files; a live status on stderr; Ctrl-C stops "
        "it. See docs/up.md.");
    cmd->add_option("-n,--agents", o->agents, "Number of agents (and cloudlets)")->capture_default_str();
    cmd->add_option("--state-dir", o->state_dir,
                    "Directory for the agents' and cloudlets' state (SQLite) and the openrc files; default: a fresh "
                    "temporary directory, state in memory, removed at exit");
    cmd->add_option("--cloudlet-config", o->cloudlet_config, "JSON config of every cloudlet (docs/cloudlet.md)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--cloudlet-config-for", o->cloudlet_config_for,
                    "K=FILE: agent K's cloudlet uses FILE instead (repeatable)");
    cmd->add_option("--hypervisors", o->hypervisors, "Fake hypervisors per cloudlet (overrides the config files)");
    cmd->add_option("--base-port", o->base_port, "Agent K serves its APIs on port P+K-1 (default: free ports)");
    o->real.AddTo(cmd,
                  "an existing (real OpenStack) cloudlet's Keystone v3: one agent in front of each given "
                  "(repeat it; -n is then their number), the first one's Keystone is the identity provider");
    cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")->capture_default_str();
    cmd->callback([o] { std::exit(RunUp(*o)); });
}

}  // namespace shoal::cli
