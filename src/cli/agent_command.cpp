#include "cli/agent_command.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <memory>

#include "a2a/peer_client.hpp"
#include "a2a/routes.hpp"
#include "agent/agent.hpp"
#include "common/log.hpp"
#include "emulator/cloudlet.hpp"
#include "http/client.hpp"
#include "http/message.hpp"

namespace shoal::cli {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

struct AgentOptions {
    std::string config_path;
    std::string log_level = "info";
};

int RunAgent(const AgentOptions& o) {
    SetupLogging(o.log_level);
    auto config = agent::LoadAgentConfig(o.config_path);
    if (!config.ok()) {
        std::cerr << "shoal agent: " << config.error().message << "\n";
        return 2;
    }
    asio::io_context io(1);
    agent::Agent a(io.get_executor(), std::move(config).value());
    if (auto started = a.Start(); !started.ok()) {
        std::cerr << "shoal agent: " << started.error().message << "\n";
        return 1;
    }
    // stdout is for scripts and tests: the A2A address, the embedded cloudlet's credentials.
    std::cout << "agent " << a.Id() << " a2a " << a.Address() << "\n";
    if (auto api = a.ApiUrl(); !api.empty()) std::cout << "api " << api << "\n";
    if (auto* cloudlet = a.EmbeddedCloudlet()) std::cout << cloudlet->AdminOpenrc();
    std::cout << "ready" << std::endl;

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("agent {}: signal {}, stopping", a.Id(), sig);
        asio::co_spawn(io, a.Stop(), [&io](const std::exception_ptr&) { io.stop(); });
    });
    io.run();
    return 0;
}

struct StatusOptions {
    std::string config_path;
    std::string agent;
    bool all = false;
    std::string home_of;  // a tenant: print its home agent as the asked agent sees it
};

asio::awaitable<Result<json>> StatusOf(a2a::Peers& peers, std::string address) {
    auto request = a2a::ToRequest(a2a::StatusQuery{});
    auto answer = co_await a2a::Ask(peers, address, std::move(request), std::chrono::seconds(5));
    if (!answer.ok()) co_return answer.error();
    auto status = a2a::FromResponse<a2a::StatusAnswer>(*answer);
    if (!status.ok()) co_return status.error();
    co_return std::move(status->document);
}

asio::awaitable<int> FetchStatus(http::Client& http, const agent::AgentConfig& config, const StatusOptions& o) {
    a2a::PeerClient peers(http, config.secret, "status-cli");
    const std::string first = o.agent.empty() ? config.listen_address + ":" + std::to_string(config.a2a_port) : o.agent;
    if (!o.home_of.empty()) {
        auto request = a2a::ToRequest(a2a::TenantHomeQuery{o.home_of});
        auto answer = co_await a2a::Ask(peers, first, std::move(request), std::chrono::seconds(5));
        if (!answer.ok()) {
            std::cerr << "shoal status: " << first << ": " << answer.error().message << "\n";
            co_return 1;
        }
        auto home = a2a::FromResponse<a2a::TenantHomeAnswer>(*answer);
        if (!home.ok()) {
            std::cerr << "shoal status: " << first << ": " << home.error().message << "\n";
            co_return 1;
        }
        std::cout << home->home.id << " " << home->home.address << std::endl;
        co_return 0;
    }
    auto status = co_await StatusOf(peers, first);
    if (!status.ok()) {
        std::cerr << "shoal status: " << first << ": " << status.error().message << "\n";
        co_return 1;
    }
    if (!o.all) {
        std::cout << status->dump(2) << std::endl;
        co_return 0;
    }
    // Every member's own status, as that member reports it.
    json all = json::array();
    int failures = 0;
    for (const auto& member : (*status)["overlay"]["members"]) {
        const std::string address = member.value("address", "");
        auto s = co_await StatusOf(peers, address);
        if (s.ok()) {
            all.push_back(*s);
        } else {
            ++failures;
            all.push_back(json{{"id", member.value("id", "")}, {"address", address}, {"error", s.error().message}});
        }
    }
    std::cout << all.dump(2) << std::endl;
    co_return failures == 0 ? 0 : 1;
}

int RunStatus(const StatusOptions& o) {
    SetupLogging("warn");
    auto config = agent::LoadAgentConfig(o.config_path);
    if (!config.ok()) {
        std::cerr << "shoal status: " << config.error().message << "\n";
        return 2;
    }
    asio::io_context io(1);
    http::Client http(io.get_executor());
    auto result = asio::co_spawn(io, FetchStatus(http, *config, o), asio::use_future);
    io.run();
    return result.get();
}

}  // namespace

void AddAgentCommand(CLI::App& app) {
    auto o = std::make_shared<AgentOptions>();
    auto* cmd = app.add_subcommand("agent",
                                   "Run one shoal agent beside its cloudlet (or with an embedded one): it joins the "
                                   "overlay through its seeds and serves the A2A interface. Prints its A2A address, "
                                   "the embedded cloudlet's `export OS_...` lines if any, then `ready`.");
    cmd->add_option("-c,--config", o->config_path, "JSON config file (see docs/agent.md)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")->capture_default_str();
    cmd->callback([o] { std::exit(RunAgent(*o)); });  // NOLINT(concurrency-mt-unsafe): one thread, at the end
}

void AddStatusCommand(CLI::App& app) {
    auto o = std::make_shared<StatusOptions>();
    auto* cmd = app.add_subcommand("status",
                                   "Show an agent's overlay view, member list, mapping and A2A counters (JSON). The "
                                   "request is signed with the cluster secret from the config file.");
    cmd->add_option("-c,--config", o->config_path, "An agent's JSON config file (for the secret and address)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--agent", o->agent, "host:port of the agent to ask (default: the config's own listener)");
    cmd->add_flag("--all", o->all, "Ask every member the agent knows of; print a JSON array");
    cmd->add_option("--home-of", o->home_of, "A tenant (project id): print its home agent's id and A2A address");
    cmd->callback([o] { std::exit(RunStatus(*o)); });  // NOLINT(concurrency-mt-unsafe): one thread, at the end
}

}  // namespace shoal::cli
