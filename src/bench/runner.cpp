#include "bench/runner.hpp"

#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench/boot_and_delete.hpp"
#include "bench/controller_model.hpp"
#include "bench/host_census.hpp"
#include "bench/overhead.hpp"
#include "bench/step_report.hpp"
#include "bench/systems.hpp"
#include "common/log.hpp"
#include "http/client.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// One step of a scenario before it runs.
struct StepSpec {
    SystemKind system = SystemKind::kShoal;
    int size = 0;
    int users = 0;
    int servers_per_user = 0;
};

std::vector<std::string> DefaultSystems(const std::string& scenario) {
    if (scenario == "smoke") return {"shoal", "standard", "direct"};
    if (scenario == "scale") return {"shoal"};
    if (scenario == "real") return {"real-direct", "real-shoal"};
    return {"shoal", "standard"};
}

// The steps of a boot scenario, in the order they run.
Result<std::vector<StepSpec>> StepsOf(const BenchOptions& o, const std::vector<SystemKind>& systems) {
    std::vector<StepSpec> steps;
    const auto& s = o.scenario;
    if (s == "smoke" || s == "fig4-5") {
        std::vector<int> sizes =
            o.sizes.empty() ? (s == "smoke" ? std::vector<int>{4} : std::vector<int>{1, 2, 4, 8, 16, 32}) : o.sizes;
        for (int size : sizes)
            for (auto sys : systems) steps.push_back({sys, size, s == "smoke" ? 2 : size, s == "smoke" ? 3 : 4});
        return steps;
    }
    if (s == "fig6-7") {
        const int size = o.sizes.empty() ? 64 : o.sizes.front();
        std::vector<int> levels = o.concurrency.empty()
                                      ? std::vector<int>{1, 3, 6, 12, 24, 48, 96, 192, 384, 768, 1536, 3072}
                                      : o.concurrency;
        for (int c : levels) {
            // The paper's load generator used 12 users (12 agents stressed) from concurrency 12 on.
            const int users = std::min(c, 12);
            if (c % users != 0)
                return MakeError(ErrorCode::kBadRequest,
                                 "concurrency " + std::to_string(c) + " is not a multiple of 12");
            for (auto sys : systems) steps.push_back({sys, size, users, c / users});
        }
        return steps;
    }
    if (s == "scale") {
        std::vector<int> sizes = o.sizes.empty() ? std::vector<int>{256, 1000} : o.sizes;
        // 10 servers per cloudlet: 10,000 on 1,000 cloudlets, from 100 users (tenants).
        for (int size : sizes)
            for (auto sys : systems) steps.push_back({sys, size, size / 10, 100});
        return steps;
    }
    if (s == "real") {
        // Calibration on real OpenStack (issue 6): C concurrent creates from C/10 users (10 each,
        // Nova's default instance quota), against the cloudlets given with --real-cloudlet.
        const int size = static_cast<int>(o.real_cloudlets.size());
        std::vector<int> levels = o.concurrency.empty() ? std::vector<int>{1, 20, 50, 100} : o.concurrency;
        for (int c : levels) {
            const int users = std::max(1, c / 10);
            if (c % users != 0)
                return MakeError(ErrorCode::kBadRequest,
                                 "concurrency " + std::to_string(c) + " is not a multiple of " + std::to_string(users));
            for (auto sys : systems) steps.push_back({sys, size, users, c / users});
        }
        return steps;
    }
    return MakeError(ErrorCode::kBadRequest,
                     "unknown scenario '" + s + "' (smoke, fig4-5, fig6-7, scale, overhead, real)");
}

int DefaultRepetitions(const std::string& scenario) {
    if (scenario == "fig4-5") return 15;
    if (scenario == "fig6-7") return 3;
    if (scenario == "smoke") return 2;
    return 1;
}

// The progress bar: one line on stderr, redrawn in place on a terminal, else every 10%.
class ProgressBar {
public:
    ProgressBar(std::string label, std::size_t total) : label_(std::move(label)), total_(total) {}
    void Update(const bench::Progress& p) {
        const std::size_t done = p.active + p.failed;
        const bool tty = ::isatty(STDERR_FILENO) != 0;
        const std::size_t decile = total_ ? done * 10 / total_ : 10;
        if (!tty && decile == last_decile_ && done != total_) return;
        last_decile_ = decile;
        constexpr int kWidth = 30;
        const int filled = total_ ? static_cast<int>(done * kWidth / total_) : kWidth;
        std::ostringstream line;
        line << label_ << " rep " << p.repetition << " [" << std::string(filled, '#')
             << std::string(kWidth - filled, '.') << "] " << done << "/" << total_ << "  active " << p.active
             << "  failed " << p.failed;
        std::cerr << (tty ? "\r" : "") << line.str() << (tty ? "" : "\n") << std::flush;
    }
    void Done() {
        if (::isatty(STDERR_FILENO)) std::cerr << "\n";
    }

private:
    std::string label_;
    std::size_t total_;
    std::size_t last_decile_ = 11;
};

std::string SummaryLine(const json& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%-8s size %4d  users %3d x %3d  requested %5d  active %5d  failed %5d (%5.1f%%)  "
                  "start-up mean %6.2f s  p95 %6.2f s  stddev/host %5.2f  wall %6.1f s",
                  s.value("system", "").c_str(), s.value("size", 0), s.value("users", 0),
                  s.value("servers_per_user", 0), s.value("requested", 0), s.value("active", 0), s.value("failed", 0),
                  100.0 * s.value("failure_rate", 0.0), s["startup_s"].value("mean", 0.0),
                  s["startup_s"].value("p95", 0.0), s["servers_per_host"].value("stddev", 0.0), s.value("wall_s", 0.0));
    return buf;
}

// The process's resident memory now (VmRSS), in MB.
double ResidentMb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
}

json MachineJson() {
    std::ifstream meminfo("/proc/meminfo");
    std::string first;
    std::getline(meminfo, first);
    std::time_t now = std::time(nullptr);
    char when[32];
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return {{"cores", std::thread::hardware_concurrency()}, {"memory", first}, {"date", when}};
}

// Runs one step against a fresh system: provisions the users, boots, counts, deletes.
bench::StepResult RunStep(const StepSpec& spec,
                          const SystemModel& model,
                          const bench::BootPlan& plan,
                          json& described) {
    bench::StepResult result;
    result.system = SystemName(spec.system);
    result.size = spec.size;
    result.users = spec.users;
    result.plan = plan;
    result.plan.servers_per_user = spec.servers_per_user;
    const auto t0 = Clock::now();
    auto system = BenchSystem::Start(spec.system, spec.size, model);
    if (!system.ok()) {
        result.error = "start: " + system.error().message;
        return result;
    }
    described[result.system] = (*system)->Describe();
    result.start_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "%s size %d up in %.1f s\n", result.system.c_str(), spec.size, result.start_s);

    asio::io_context io;
    http::ClientOptions client_options;
    client_options.max_idle_per_endpoint = 1024;
    http::Client client(io.get_executor(), client_options);
    ProgressBar bar(result.system + " size " + std::to_string(spec.size),
                    static_cast<std::size_t>(spec.users) * spec.servers_per_user * plan.repetitions);
    auto run = asio::co_spawn(
        io,
        [&]() -> asio::awaitable<Result<std::vector<bench::RepetitionOutcome>>> {
            // One tenant per user, made by the system's identity admin where the user logs in.
            std::vector<identity::PasswordCredentials> users;
            std::map<std::string, std::unique_ptr<identity::KeystoneAdmin>> admins;
            for (int u = 0; u < spec.users; ++u) {
                auto entry = (*system)->EntryFor(u, spec.users);
                auto& admin = admins[entry.admin.auth_url];
                if (!admin) admin = std::make_unique<identity::KeystoneAdmin>(client, entry.admin);
                const std::string name = "bench-user-" + std::to_string(u);
                const std::string password = "bench-password-" + std::to_string(u);
                auto project = co_await admin->EnsureMember("bench-project-" + std::to_string(u), name, password);
                if (!project.ok()) co_return project.error();
                users.push_back({entry.auth_url, name, password, "bench-project-" + std::to_string(u)});
            }
            auto census = std::make_shared<bench::HostCensus>(client, (*system)->HostAdmins());
            bench::CountServers count = [census, &result]() {
                result.rss_mb = std::max(result.rss_mb, ResidentMb());  // at the peak: every server up
                return census->Count();
            };
            bench::BootAndDelete workload(io.get_executor(), client, users, result.plan, count,
                                          [&bar](const bench::Progress& p) { bar.Update(p); });
            co_return co_await workload.Run();
        },
        asio::use_future);
    io.run();
    bar.Done();
    auto outcome = run.get();
    if (!outcome.ok()) {
        result.error = outcome.error().message;
    } else {
        result.repetitions = std::move(outcome).value();
    }
    result.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

Result<Ok> WriteJson(const std::string& path, const json& j) {
    std::ofstream out(path);
    out << j.dump(2) << "\n";
    if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + path);
    return Ok{};
}

}  // namespace

int RunBench(const BenchOptions& o) {
    SetupLogging(o.log_level);
    if (!o.replot.empty()) {
        std::ifstream in(o.replot);
        auto results = json::parse(in, nullptr, false);
        if (results.is_discarded() || !results.contains("steps")) {
            std::cerr << "shoal bench: " << o.replot << " is not a results file\n";
            return 2;
        }
        std::string prefix = o.plots.empty() ? o.replot.substr(0, o.replot.rfind(".json")) : o.plots;
        const std::string x = results.value("scenario", "") == "fig6-7" || results.value("scenario", "") == "real"
                                  ? "concurrency"
                                  : "size";
        for (const auto& png : bench::WritePlots(results, prefix, x)) std::cout << "plot: " << png << "\n";
        return 0;
    }
    if (o.scenario == "overhead") return RunOverhead(o.json_path);
    std::vector<SystemKind> systems;
    for (const auto& name : o.systems.empty() ? DefaultSystems(o.scenario) : o.systems) {
        auto k = ParseSystemKind(name);
        if (!k.ok()) {
            std::cerr << "shoal bench: " << k.error().message << "\n";
            return 2;
        }
        systems.push_back(*k);
    }
    auto steps = StepsOf(o, systems);
    if (!steps.ok()) {
        std::cerr << "shoal bench: " << steps.error().message << "\n";
        return 2;
    }
    const bool real = std::any_of(systems.begin(), systems.end(), [](SystemKind k) {
        return k == SystemKind::kRealDirect || k == SystemKind::kRealShoal;
    });
    if (real && (o.real_cloudlets.empty() || o.real_cloudlets.front().password.empty())) {
        std::cerr << "shoal bench: the real-direct and real-shoal systems need --real-cloudlet AUTH_URL and "
                     "--real-password\n";
        return 2;
    }
    SystemModel model = CalibratedControllerModel();
    model.real_cloudlets = o.real_cloudlets;
    if (o.scenario == "scale") {
        // A thousand agents on one event loop: a slower overlay (agent_scale: 0.4 ms of CPU per
        // agent and round) and time to converge.
        model.converge_timeout = std::chrono::seconds(900);
        model.overlay_period = std::chrono::seconds(2);
    }
    bench::BootPlan plan;
    plan.repetitions = o.repetitions > 0 ? o.repetitions : DefaultRepetitions(o.scenario);
    // Rally's defaults (1 s polls, 300 s timeout, a cirros-sized image), except: smoke polls
    // faster to finish sooner; scale's 10,000 servers poll every 5 s and have a small image,
    // since one process on 2 cores carries every agent, cloudlet and the load generator.
    const bool scale = o.scenario == "scale";
    // Real OpenStack boots in under a second: 1 s polls would round every start-up time up.
    const int poll_ms = o.poll_ms > 0 ? o.poll_ms
                                      : (o.scenario == "smoke" || o.scenario == "real" ? 200
                                         : scale                                       ? 5000
                                                                                       : 1000);
    plan.poll = std::chrono::milliseconds(poll_ms);
    plan.image_bytes = static_cast<std::size_t>(o.image_kib > 0 ? o.image_kib : scale ? 64 : 1024) * 1024;
    plan.boot_timeout = std::chrono::seconds(o.boot_timeout_s > 0 ? o.boot_timeout_s : scale ? 1800 : 300);
    // All systems run in this process under one fd limit (20,000 here): a request in flight holds
    // up to 7 sockets along its way through the agents. 3,072 unbounded boots ran out of them.
    plan.max_requests_in_flight = 1000;

    json results = {{"scenario", o.scenario},
                    {"machine", MachineJson()},
                    {"load",
                     {{"repetitions", plan.repetitions},
                      {"flavor", plan.flavor},
                      {"image_bytes", plan.image_bytes},
                      {"poll_ms", plan.poll.count()},
                      {"boot_timeout_s", plan.boot_timeout.count() / 1000},
                      {"max_requests_in_flight", plan.max_requests_in_flight}}},
                    {"systems", json::object()},
                    {"steps", json::array()}};
    bool all_ran = true;
    for (const auto& spec : *steps) {
        auto step = RunStep(spec, model, plan, results["systems"]);
        json s = bench::StepJson(step);
        if (!step.error.empty()) {
            all_ran = false;
            std::cerr << "shoal bench: " << step.system << " size " << step.size << ": " << step.error << "\n";
        }
        std::cout << SummaryLine(s) << std::endl;
        results["steps"].push_back(std::move(s));
        if (!o.json_path.empty()) (void)WriteJson(o.json_path, results);  // partial results survive a crash
    }
    if (!o.json_path.empty()) {
        if (auto w = WriteJson(o.json_path, results); !w.ok()) {
            std::cerr << "shoal bench: " << w.error().message << "\n";
            return 1;
        }
        std::string prefix = o.plots;
        if (prefix.empty()) {
            prefix = o.json_path;
            if (prefix.size() > 5 && prefix.substr(prefix.size() - 5) == ".json") prefix.resize(prefix.size() - 5);
        }
        const std::string x = o.scenario == "fig6-7" || o.scenario == "real" ? "concurrency" : "size";
        for (const auto& png : bench::WritePlots(results, prefix, x)) std::cout << "plot: " << png << "\n";
        std::cout << "results: " << o.json_path << "\n";
    }
    return all_ran ? 0 : 1;
}

}  // namespace shoal::bench
