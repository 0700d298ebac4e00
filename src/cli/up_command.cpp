#include "cli/up_command.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string_view>

#include "agent/agent.hpp"
#include "agent/peer_sampler.hpp"
#include "common/log.hpp"
#include "common/secure_random.hpp"
#include "common/spawn.hpp"
#include "emulator/cloudlet.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "http/client.hpp"
#include "http/message.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::cli {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
namespace fs = std::filesystem;

// Passwords and the cluster secret: from the CSPRNG, letters and digits (safe in shell and JSON).
std::string RandomToken(std::size_t length) {
    return SecureRandomString(length);
}

// A value as the shell reads it back unchanged: bare when it is plain, else single-quoted.
std::string ShellQuote(const std::string& v) {
    const bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("_./:@%+=,-").find(c) != std::string_view::npos;
    });
    if (plain) return v;
    std::string q = "'";
    for (char c : v) {
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

struct Credentials {
    std::string auth_url, username, password, project, region = "RegionOne";
};

std::string Openrc(const Credentials& c) {
    std::string s;
    auto line = [&](std::string_view k, const std::string& v) {
        s += "export " + std::string(k) + "=" + ShellQuote(v) + "\n";
    };
    line("OS_AUTH_URL", c.auth_url);
    line("OS_USERNAME", c.username);
    line("OS_PASSWORD", c.password);
    line("OS_PROJECT_NAME", c.project);
    line("OS_USER_DOMAIN_NAME", "Default");
    line("OS_PROJECT_DOMAIN_NAME", "Default");
    line("OS_IDENTITY_API_VERSION", "3");
    line("OS_REGION_NAME", c.region);
    return s;
}

// Writes a file only its owner may read (they hold passwords): the mode is set before the content.
Result<Ok> WriteFile(const fs::path& path, const std::string& content) {
    { std::ofstream create(path, std::ios::app); }
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
    std::ofstream out(path, std::ios::trunc);
    if (ec || !out) return MakeError(ErrorCode::kInternal, "cannot write " + path.string());
    out << content;
    out.close();
    if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + path.string());
    return Ok{};
}

}  // namespace

struct Shoal::Impl {
    Impl(asio::any_io_executor ex, UpOptions o) : executor(ex), options(std::move(o)), http(ex), timer(ex) {}

    ~Impl() {
        agents.clear();
        idp.reset();
        if (own_state_dir && !state_dir.empty()) {
            std::error_code ec;
            fs::remove_all(state_dir, ec);
        }
    }

    asio::any_io_executor executor;
    UpOptions options;
    http::Client http;
    asio::steady_timer timer;
    std::string state_dir;
    bool own_state_dir = false;
    bool durable = false;
    std::string secret = RandomToken(32);
    Credentials admin;  // the identity provider's admin (the shoal's admin)
    Credentials demo;
    std::unique_ptr<emulator::Cloudlet> idp;
    std::vector<std::unique_ptr<agent::Agent>> agents;
    std::vector<AgentInfo> infos;
    bool starting = false;
    bool stop_requested = false;

    bool Real() const { return !options.real_cloudlets.empty(); }
    std::string IdpUrl() const {
        if (Real()) return options.real_cloudlets.front().auth_url;
        return idp ? idp->AuthUrl() : std::string();
    }

    Error Interrupted() const { return MakeError(ErrorCode::kUnavailable, "interrupted"); }

    Result<Ok> PrepareStateDir() {
        std::error_code ec;
        if (options.state_dir.empty()) {
            std::string templ = (fs::temp_directory_path() / "shoal-up-XXXXXX").string();
            if (!::mkdtemp(templ.data())) return MakeError(ErrorCode::kInternal, "cannot create a temporary directory");
            state_dir = templ;
            own_state_dir = true;
            return Ok{};
        }
        state_dir = fs::absolute(options.state_dir, ec).lexically_normal().string();
        if (!state_dir.empty() && state_dir.size() > 1 && state_dir.back() == '/') state_dir.pop_back();
        fs::create_directories(state_dir, ec);
        if (ec || !fs::is_directory(state_dir))
            return MakeError(ErrorCode::kBadRequest, "state dir " + options.state_dir + ": cannot create it");
        durable = true;
        return Ok{};
    }

    // --- the identity provider's Keystone, through its own admin API (as an operator would)
    asio::awaitable<Result<Ok>> ProvisionDemo() {
        identity::KeystoneAdmin keystone(http, {IdpUrl(), admin.username, admin.password, admin.project});
        auto project = co_await keystone.EnsureMember(demo.project, demo.username, demo.password);
        if (!project.ok()) co_return project.error();
        co_return Ok{};
    }

    // --- the agents

    Result<agent::AgentConfig> AgentConfigFor(int k) {
        agent::AgentConfig c;
        c.id = "agent" + std::to_string(k);
        c.listen_address = "127.0.0.1";
        c.secret = secret;
        if (k > 1) c.seeds.push_back(agents.front()->Address());

        agent::ApiOptions api;
        api.port = options.base_port > 0 ? static_cast<std::uint16_t>(options.base_port + k - 1) : 0;
        api.idp_auth_url = IdpUrl();
        api.identity_mode = "service-account";
        c.api = std::move(api);
        c.overlay.period = options.overlay_period;
        c.mapping.mode = agent::MappingMode::kDynamic;
        if (Real()) {
            c.cloudlet = options.real_cloudlets[static_cast<std::size_t>(k - 1)];
            c.state.backend = "memory";
            if (durable) {
                const fs::path dir = fs::path(state_dir) / c.id;
                std::error_code ec;
                fs::create_directories(dir, ec);
                if (ec) return MakeError(ErrorCode::kInternal, "cannot create " + dir.string());
                c.state.backend = "sqlite";
                c.state.path = (dir / "state.db").string();
            }
            return c;
        }
        auto it = options.cloudlet_for.find(k);
        emulator::CloudletConfig cloudlet = it != options.cloudlet_for.end() ? it->second : options.cloudlet;
        // One shared file cannot give every cloudlet the same port.
        if (it == options.cloudlet_for.end()) cloudlet.port = 0;
        cloudlet.name = "cloudlet" + std::to_string(k);
        if (options.hypervisors >= 0) cloudlet.hypervisors.count = options.hypervisors;
        const fs::path dir = fs::path(state_dir) / c.id;
        if (durable) {
            std::error_code ec;
            fs::create_directories(dir, ec);
            if (ec) return MakeError(ErrorCode::kInternal, "cannot create " + dir.string());
            if (cloudlet.state_path.empty()) cloudlet.state_path = (dir / "cloudlet.db").string();
            if (cloudlet.data_dir.empty()) cloudlet.data_dir = (dir / "images").string();
            c.state.backend = "sqlite";
            c.state.path = (dir / "state.db").string();
        } else {
            c.state.backend = "memory";
        }
        c.embedded_cloudlet = std::move(cloudlet);
        return c;
    }

    bool Converged() const {
        std::set<std::string> expected;
        for (const auto& a : agents) expected.insert(a->Id());
        for (const auto& a : agents) {
            std::set<std::string> seen;
            for (const auto& m : a->Overlay().Members().Members()) seen.insert(m.id.str());
            if (seen != expected) return false;
        }
        return true;
    }

    asio::awaitable<Result<Ok>> WaitForConvergence() {
        const auto deadline = std::chrono::steady_clock::now() + options.converge_timeout;
        while (!Converged()) {
            if (stop_requested) co_return Interrupted();
            if (std::chrono::steady_clock::now() >= deadline) {
                std::string counts;
                for (const auto& a : agents)
                    counts += " " + a->Id() + "=" + std::to_string(a->Overlay().Members().Members().size());
                co_return MakeError(ErrorCode::kTimeout, "the agents' member lists did not converge in " +
                                                             std::to_string(options.converge_timeout.count()) +
                                                             " s (members seen:" + counts + ")");
            }
            timer.expires_after(std::chrono::milliseconds(100));
            boost::system::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        co_return Ok{};
    }

    Result<Ok> WriteFiles() {
        json cloudlets = json::array();
        for (const auto& i : infos) {
            cloudlets.push_back(json{{"agent", i.id},
                                     {"api_url", i.api_url},
                                     {"a2a", i.a2a},
                                     {"cloudlet_auth_url", i.cloudlet_auth_url},
                                     {"admin_user", i.admin_user},
                                     {"admin_password", i.admin_password},
                                     {"admin_project", i.admin_project}});
        }
        const fs::path dir(state_dir);
        // Each agent's config as it runs (its real A2A address and the cluster secret), so that
        // `shoal status --config DIR/agentK/agent.json` can ask it.
        for (auto& a : agents) {
            json config = agent::ToJson(a->Config());
            config["listen"] = a->Address();
            config["secret"] = secret;
            if (a->Config().embedded_cloudlet)
                config["embedded_cloudlet"] = emulator::ToJson(*a->Config().embedded_cloudlet);
            std::error_code ec;
            fs::create_directories(dir / a->Id(), ec);
            if (auto w = WriteFile(dir / a->Id() / "agent.json", config.dump(2) + "\n"); !w.ok()) return w;
        }
        if (auto w = WriteFile(dir / "admin-openrc.sh", AdminOpenrc()); !w.ok()) return w;
        if (auto w = WriteFile(dir / "demo-openrc.sh", DemoOpenrc()); !w.ok()) return w;
        return WriteFile(dir / "cloudlets.json", cloudlets.dump(2) + "\n");
    }

    std::string AtAgent1(Credentials c) const {
        c.auth_url = infos.empty() ? std::string() : infos.front().api_url + "/identity/v3";
        return Openrc(c);
    }
    std::string DemoOpenrc() const { return AtAgent1(demo); }
    std::string AdminOpenrc() const { return AtAgent1(admin); }

    asio::awaitable<Result<Ok>> StartAll() {
        if (auto d = PrepareStateDir(); !d.ok()) co_return d;

        if (Real()) {
            options.agents = static_cast<int>(options.real_cloudlets.size());
            const auto& first = options.real_cloudlets.front();
            admin = Credentials{"", first.username, first.password, first.project, first.region};
            demo = Credentials{"", "demo", RandomToken(20), "demo", first.region};
            if (auto p = co_await ProvisionDemo(); !p.ok())
                co_return MakeError(p.error().code, "identity provider " + IdpUrl() + ": " + p.error().message);
            co_return co_await StartAgents();
        }
        emulator::CloudletConfig idp_config;
        idp_config.name = "idp";
        idp_config.admin_password = RandomToken(20);
        idp_config.hypervisors.count = 1;
        if (durable) {
            const fs::path dir = fs::path(state_dir) / "idp";
            std::error_code ec;
            fs::create_directories(dir, ec);
            idp_config.state_path = (dir / "state.db").string();
            idp_config.data_dir = (dir / "images").string();
        }
        admin = Credentials{"", idp_config.admin_user, idp_config.admin_password, idp_config.admin_project,
                            idp_config.region};
        demo = Credentials{"", "demo", RandomToken(20), "demo", idp_config.region};
        idp = std::make_unique<emulator::Cloudlet>(executor, idp_config);
        if (auto port = idp->Start(); !port.ok())
            co_return MakeError(port.error().code, "identity provider: " + port.error().message);
        if (auto p = co_await ProvisionDemo(); !p.ok()) co_return p;
        spdlog::info("shoal up: identity provider at {}", idp->AuthUrl());
        co_return co_await StartAgents();
    }

    asio::awaitable<Result<Ok>> StartAgents() {
        for (int k = 1; k <= options.agents; ++k) {
            if (stop_requested) co_return Interrupted();
            auto config = AgentConfigFor(k);
            if (!config.ok()) co_return config.error();
            auto a = std::make_unique<agent::Agent>(executor, std::move(config).value());
            auto started = a->Start();
            agents.push_back(std::move(a));  // kept, so that Stop() stops what did start
            if (!started.ok())
                co_return MakeError(started.error().code, "agent" + std::to_string(k) + ": " + started.error().message);
        }
        if (auto w = co_await WaitForConvergence(); !w.ok()) co_return w;

        for (auto& a : agents) {
            AgentInfo info;
            info.id = a->Id();
            info.api_url = a->ApiUrl();
            info.a2a = a->Address();
            if (Real()) {
                const auto& access = a->Cloudlet();
                info.cloudlet_auth_url = access.auth_url;
                info.admin_user = access.username;
                info.admin_password = access.password;
                info.admin_project = access.project;
            } else if (auto* c = a->EmbeddedCloudlet()) {
                info.cloudlet_auth_url = c->AuthUrl();
                info.admin_user = c->Config().admin_user;
                info.admin_password = c->Config().admin_password;
                info.admin_project = c->Config().admin_project;
            }
            infos.push_back(std::move(info));
        }
        if (auto w = WriteFiles(); !w.ok()) co_return w;
        co_return Ok{};
    }

    std::string StatusLine(agent::Agent& a, const std::string& api_url) {
        const json s = a.Status();
        const auto& mapping = s.contains("mapping") ? s["mapping"] : json::object();
        std::ostringstream line;
        line << a.Id() << "  " << (api_url.empty() ? "-" : api_url) << "  members "
             << a.Overlay().Members().Members().size() << "/" << agents.size();
        // The OpenStack API side's counters when the agent has one, else its home-agent role's.
        const bool api = s.contains("api") && s["api"].is_object();
        const json& counters = api ? s["api"] : mapping;
        line << "  served " << counters.value("requests_served", 0) << "  forwarded "
             << counters.value("requests_forwarded", 0);
        if (api) line << "  building " << counters.value("builds_in_flight", 0);
        if (auto* c = a.EmbeddedCloudlet()) line << "  servers " << c->Compute().Servers().size();
        return line.str();
    }
};

Shoal::Shoal(asio::any_io_executor executor, UpOptions options)
    : impl_(std::make_unique<Impl>(executor, std::move(options))) {}

Shoal::~Shoal() = default;

asio::awaitable<Result<Ok>> Shoal::Start() {
    auto& i = *impl_;
    if (i.starting || !i.agents.empty() || i.idp) co_return MakeError(ErrorCode::kConflict, "already started");
    i.starting = true;
    Result<Ok> r = co_await i.StartAll();
    i.starting = false;
    co_return r;
}

asio::awaitable<void> Shoal::Stop() {
    auto& i = *impl_;
    i.stop_requested = true;
    i.timer.cancel();
    // A Start() in progress gives up at its next step; stop only what it has started.
    asio::steady_timer wait(i.executor);
    while (i.starting) {
        wait.expires_after(std::chrono::milliseconds(20));
        boost::system::error_code ec;
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // The last agents first: agent 1 is everyone's seed.
    for (auto it = i.agents.rbegin(); it != i.agents.rend(); ++it) co_await (*it)->Stop();
    if (i.idp) co_await i.idp->Stop();
}

const std::string& Shoal::StateDir() const {
    return impl_->state_dir;
}
identity::PasswordCredentials Shoal::IdentityAdmin() const {
    const auto& a = impl_->admin;
    return {IdentityProviderUrl(), a.username, a.password, a.project};
}

std::string Shoal::IdentityProviderUrl() const {
    return impl_->IdpUrl();
}
const std::vector<Shoal::AgentInfo>& Shoal::Agents() const {
    return impl_->infos;
}
std::string Shoal::DemoOpenrc() const {
    return impl_->DemoOpenrc();
}
std::string Shoal::AdminOpenrc() const {
    return impl_->AdminOpenrc();
}
std::vector<std::string> Shoal::StatusLines() {
    std::vector<std::string> lines;
    for (std::size_t k = 0; k < impl_->agents.size(); ++k) {
        lines.push_back(impl_->StatusLine(*impl_->agents[k], k < impl_->infos.size() ? impl_->infos[k].api_url : ""));
    }
    return lines;
}

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
