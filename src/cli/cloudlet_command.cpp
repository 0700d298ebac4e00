#include "cli/cloudlet_command.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "common/log.hpp"
#include "emulator/cloudlet.hpp"

namespace shoal::cli {
namespace {

struct CloudletOptions {
    std::string config_path;
    std::string name;
    std::string listen = "127.0.0.1";
    int port = -1;
    int hypervisors = -1;
    int boot_delay_ms = -1;
    std::string state_path;
    std::string log_level = "info";
};

int RunCloudlet(const CloudletOptions& o) {
    SetupLogging(o.log_level);
    emulator::CloudletConfig config;
    if (!o.config_path.empty()) {
        auto loaded = emulator::LoadCloudletConfig(o.config_path);
        if (!loaded.ok()) {
            std::cerr << "shoal cloudlet: " << loaded.error().message << "\n";
            return 2;
        }
        config = std::move(loaded).value();
    } else {
        config.flavors = emulator::CloudletConfig::DefaultFlavors();
    }
    // Flags override the file.
    if (!o.name.empty()) config.name = o.name;
    config.listen_address = o.listen;
    if (o.port >= 0) config.port = static_cast<std::uint16_t>(o.port);
    if (o.hypervisors >= 0) config.hypervisors.count = o.hypervisors;
    if (o.boot_delay_ms >= 0) config.boot_delay = std::chrono::milliseconds(o.boot_delay_ms);
    if (!o.state_path.empty()) config.state_path = o.state_path;

    boost::asio::io_context io(1);
    emulator::Cloudlet cloudlet(io.get_executor(), config);
    auto port = cloudlet.Start();
    if (!port.ok()) {
        std::cerr << "shoal cloudlet: " << port.error().message << "\n";
        return 1;
    }
    // stdout is for the shell: `eval "$(shoal cloudlet | sed '/^ready$/q')"` works.
    std::cout << cloudlet.AdminOpenrc() << "ready" << std::endl;

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("cloudlet {}: signal {}, stopping", config.name, sig);
        boost::asio::co_spawn(io, cloudlet.Stop(), [&io](std::exception_ptr) { io.stop(); });
    });
    io.run();
    return 0;
}

}  // namespace

void AddCloudletCommand(CLI::App& app) {
    auto o = std::make_shared<CloudletOptions>();
    auto* cmd = app.add_subcommand("cloudlet",
                                   "Run one embedded OpenStack cloudlet (Keystone v3, Glance v2, Nova v2.1, Placement "
                                   "and fake hypervisors) on 127.0.0.1. Prints `export OS_...` lines with its admin "
                                   "credentials, then `ready`, and serves until Ctrl-C.");
    cmd->add_option("-c,--config", o->config_path, "JSON config file (see docs/cloudlet.md); defaults otherwise")
        ->check(CLI::ExistingFile);
    cmd->add_option("--name", o->name, "Cloudlet name (hypervisor host names derive from it)");
    cmd->add_option("--listen", o->listen, "Address to listen on")->capture_default_str();
    cmd->add_option("-p,--port", o->port, "Port (default: the config's, else a free one)");
    cmd->add_option("--hypervisors", o->hypervisors, "Number of fake hypervisors");
    cmd->add_option("--boot-delay-ms", o->boot_delay_ms, "Time a server takes from BUILD to ACTIVE");
    cmd->add_option("--state", o->state_path, "SQLite file: keep the cloudlet's state across restarts");
    cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")->capture_default_str();
    cmd->callback([o] { std::exit(RunCloudlet(*o)); });
}

}  // namespace shoal::cli
