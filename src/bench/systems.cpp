#include "bench/systems.hpp"

#include <pthread.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <ctime>
#include <thread>

#include "emulator/cloudlet.hpp"
#include "up/shoal.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using nlohmann::json;

Result<SystemKind> ParseSystemKind(const std::string& name) {
    if (name == "shoal") return SystemKind::kShoal;
    if (name == "standard") return SystemKind::kStandard;
    if (name == "direct") return SystemKind::kDirect;
    if (name == "real-direct") return SystemKind::kRealDirect;
    if (name == "real-shoal") return SystemKind::kRealShoal;
    return MakeError(ErrorCode::kBadRequest,
                     "unknown system '" + name + "' (shoal, standard, direct, real-direct, real-shoal)");
}

std::string SystemName(SystemKind kind) {
    switch (kind) {
        case SystemKind::kShoal:
            return "shoal";
        case SystemKind::kStandard:
            return "standard";
        case SystemKind::kDirect:
            return "direct";
        case SystemKind::kRealDirect:
            return "real-direct";
        case SystemKind::kRealShoal:
            return "real-shoal";
    }
    return "?";
}

namespace {
// The controller model as the cloudlet's config file spells it, plus what a boot costs.
json ControllerJson(const emulator::CloudletConfig& c) {
    json j = emulator::ToJson(c)["controller"];
    j["boot_delay_ms"] = c.boot_delay.count();
    j["hypervisor"] = {{"vcpus", c.hypervisors.vcpus}, {"memory_mb", c.hypervisors.memory_mb}};
    return j;
}
identity::PasswordCredentials AdminOf(const std::string& auth_url,
                                      const std::string& user,
                                      const std::string& password,
                                      const std::string& project) {
    return {auth_url, user, password, project};
}
}  // namespace

struct BenchSystem::Impl {
    SystemKind kind = SystemKind::kShoal;
    int size = 0;
    SystemModel model;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;
    std::unique_ptr<up::Shoal> shoal;
    std::unique_ptr<emulator::Cloudlet> standard;

    ~Impl() {
        if (thread.joinable()) {
            auto stopped = asio::co_spawn(
                io,
                [this]() -> asio::awaitable<void> {
                    if (shoal) co_await shoal->Stop();
                    if (standard) co_await standard->Stop();
                },
                asio::use_future);
            stopped.wait();
            shoal.reset();
            standard.reset();
            work.reset();
            io.stop();
            thread.join();
        }
    }
};

BenchSystem::BenchSystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BenchSystem::~BenchSystem() = default;

Result<std::unique_ptr<BenchSystem>> BenchSystem::Start(SystemKind kind, int size, const SystemModel& model) {
    auto impl = std::make_unique<Impl>();
    impl->kind = kind;
    impl->size = size;
    impl->model = model;
    impl->thread = std::thread([io = &impl->io] { io->run(); });
    Impl* i = impl.get();
    auto started = asio::co_spawn(
        i->io,
        [i]() -> asio::awaitable<Result<Ok>> {
            if (i->kind == SystemKind::kRealDirect) co_return Ok{};  // nothing of ours runs
            if (i->kind == SystemKind::kStandard) {
                auto config = i->model.standard;
                config.name = "standard";
                config.hypervisors.count = i->size;
                i->standard = std::make_unique<emulator::Cloudlet>(i->io.get_executor(), config);
                auto port = i->standard->Start();
                if (!port.ok()) co_return port.error();
                co_return Ok{};
            }
            up::UpOptions options;
            options.agents = i->size;
            options.cloudlet = i->model.cloudlet;
            options.hypervisors = 1;
            options.converge_timeout = i->model.converge_timeout;
            options.overlay_period = i->model.overlay_period;
            if (i->kind == SystemKind::kRealShoal) options.real_cloudlets = i->model.real_cloudlets;
            i->shoal = std::make_unique<up::Shoal>(i->io.get_executor(), options);
            co_return co_await i->shoal->Start();
        },
        asio::use_future);
    auto result = started.get();
    auto system = std::unique_ptr<BenchSystem>(new BenchSystem(std::move(impl)));
    if (!result.ok()) return result.error();
    return system;
}

BenchSystem::Entry BenchSystem::EntryFor(int user, int users) const {
    const auto& i = *impl_;
    if (i.kind == SystemKind::kRealDirect) {
        const auto& c = i.model.real_cloudlets[static_cast<std::size_t>(user) % i.model.real_cloudlets.size()];
        return {c.auth_url, AdminOf(c.auth_url, c.username, c.password, c.project)};
    }
    if (i.kind == SystemKind::kStandard) {
        const auto& c = i.standard->Config();
        return {i.standard->AuthUrl(), AdminOf(i.standard->AuthUrl(), c.admin_user, c.admin_password, c.admin_project)};
    }
    const auto& agents = i.shoal->Agents();
    // Users spread evenly over the agents (the paper's load generator stressed 12 of 64).
    const auto n = static_cast<long long>(agents.size());
    const auto k = static_cast<std::size_t>(users >= n ? user % n : static_cast<long long>(user) * n / users);
    const auto& a = agents[k];
    if (i.kind == SystemKind::kDirect)
        return {a.cloudlet_auth_url, AdminOf(a.cloudlet_auth_url, a.admin_user, a.admin_password, a.admin_project)};
    return {a.api_url + "/identity/v3", i.shoal->IdentityAdmin()};
}

std::vector<identity::PasswordCredentials> BenchSystem::HostAdmins() const {
    const auto& i = *impl_;
    std::vector<identity::PasswordCredentials> out;
    if (i.kind == SystemKind::kRealDirect) {
        for (const auto& c : i.model.real_cloudlets)
            out.push_back(AdminOf(c.auth_url, c.username, c.password, c.project));
        return out;
    }
    if (i.kind == SystemKind::kStandard) {
        const auto& c = i.standard->Config();
        out.push_back(AdminOf(i.standard->AuthUrl(), c.admin_user, c.admin_password, c.admin_project));
        return out;
    }
    for (const auto& a : i.shoal->Agents())
        out.push_back(AdminOf(a.cloudlet_auth_url, a.admin_user, a.admin_password, a.admin_project));
    return out;
}

json BenchSystem::Describe() const {
    const auto& i = *impl_;
    if (i.kind == SystemKind::kStandard)
        return {{"system", "standard"},
                {"controllers", 1},
                {"compute_nodes", i.size},
                {"controller", ControllerJson(i.standard->Config())}};
    if (i.kind == SystemKind::kRealDirect || i.kind == SystemKind::kRealShoal) {
        json urls = json::array();
        for (const auto& c : i.model.real_cloudlets) urls.push_back(c.auth_url);
        return {{"system", SystemName(i.kind)},
                {"agents", i.kind == SystemKind::kRealShoal ? urls.size() : 0},
                {"cloudlets", urls.size()},
                {"real_openstack", urls}};
    }
    return {{"system", SystemName(i.kind)},
            {"agents", i.kind == SystemKind::kShoal ? i.size : 0},
            {"cloudlets", i.size},
            {"compute_nodes_per_cloudlet", 1},
            {"controller", ControllerJson(i.model.cloudlet)}};
}

double BenchSystem::ThreadCpuSeconds() const {
    clockid_t clock;
    if (pthread_getcpuclockid(const_cast<std::thread&>(impl_->thread).native_handle(), &clock) != 0) return 0;
    timespec ts{};
    if (clock_gettime(clock, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace shoal::bench
