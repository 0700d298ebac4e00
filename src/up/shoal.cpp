#include "up/shoal.hpp"

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
#include "common/log.hpp"
#include "common/secure_random.hpp"
#include "common/spawn.hpp"
#include "emulator/cloudlet.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "http/client.hpp"
#include "http/message.hpp"
#include "identity/keystone_admin.hpp"
#include "overlay/node/peer_sampler.hpp"

namespace shoal::up {
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
    Impl(const asio::any_io_executor& ex, UpOptions o) : executor(ex), options(std::move(o)), http(ex), timer(ex) {}

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

Shoal::Shoal(const asio::any_io_executor& executor, UpOptions options)
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
    // NOLINTNEXTLINE(modernize-loop-convert): clang 14 cannot compile libstdc++ 12's reverse_view
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

}  // namespace shoal::up
