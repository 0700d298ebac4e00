// Many agents in one process and one event loop, over real sockets on 127.0.0.1: how long until
// every member list holds all N agents, and what an agent costs in memory and CPU. The baseline,
// run in the same invocation, is the same protocol code in the deterministic simulator (no
// sockets, no HTTP, no signatures), so the ratio is the price of the real transport.
//
//   agent_scale [N=200] [period_ms=1000] [max_seconds=120]
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "agent/agent.hpp"
#include "overlay/node/peer_sampler.hpp"
#include "sim/membership_experiment.hpp"

namespace {

using namespace shoal;
using Clock = std::chrono::steady_clock;

long RssKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

double CpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::stoi(argv[1]) : 200;
    const int period_ms = argc > 2 ? std::stoi(argv[2]) : 1000;
    const int max_seconds = argc > 3 ? std::stoi(argv[3]) : 120;
    spdlog::set_level(spdlog::level::err);
    // Every agent needs a listener and a few connections (each in-process pair counts twice).
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);

    boost::asio::io_context io(1);
    const long rss_before = RssKb();
    std::vector<std::unique_ptr<agent::Agent>> agents;
    std::string seed;
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        agent::AgentConfig c;
        c.id = "agent-" + std::to_string(i);
        c.secret = "scale-bench-secret-0123456789";
        c.cloudlet = agent::CloudletAccess{};
        c.cloudlet->auth_url = "http://127.0.0.1:9/identity/v3";
        c.state.backend = "memory";
        c.overlay.period = std::chrono::milliseconds(period_ms);
        c.overlay.request_timeout = std::chrono::milliseconds(std::max(2 * period_ms, 2000));
        if (!seed.empty()) c.seeds = {seed};
        auto a = std::make_unique<agent::Agent>(io.get_executor(), c);
        if (auto started = a->Start(); !started.ok()) {
            std::fprintf(stderr, "agent %d: %s\n", i, started.error().message.c_str());
            return 1;
        }
        if (seed.empty()) seed = a->Address();
        agents.push_back(std::move(a));
        io.poll();  // let earlier agents answer joins while the rest start
    }
    const double cpu_start = CpuSeconds();
    double converged_s = -1;
    auto next_report = Clock::now();
    while (Clock::now() - start < std::chrono::seconds(max_seconds)) {
        io.run_for(std::chrono::milliseconds(200));
        std::size_t min_members = static_cast<std::size_t>(n), behind = 0;
        std::uint64_t failed_so_far = 0;
        for (auto& a : agents) {
            const auto m = a->Overlay().Members().Members().size();
            min_members = std::min(min_members, m);
            if (m != static_cast<std::size_t>(n)) ++behind;
            failed_so_far += a->Overlay().Stats().shuffles_failed;
        }
        if (Clock::now() >= next_report) {
            // Progress on stderr; the result is the one JSON line on stdout.
            std::fprintf(stderr, "%.0f s: %zu agents behind, smallest list %zu, failed shuffles %llu, cpu %.1f s\n",
                         std::chrono::duration<double>(Clock::now() - start).count(), behind, min_members,
                         static_cast<unsigned long long>(failed_so_far), CpuSeconds());
            next_report = Clock::now() + std::chrono::seconds(10);
        }
        if (behind == 0) {
            converged_s = std::chrono::duration<double>(Clock::now() - start).count();
            break;
        }
    }
    // Steady state: 10 periods more, for CPU per agent per round.
    const double cpu_mark = CpuSeconds();
    io.run_for(std::chrono::milliseconds(10 * period_ms));
    const double steady_cpu = CpuSeconds() - cpu_mark;
    std::uint64_t shuffles = 0, failed = 0, syncs = 0;
    for (auto& a : agents) {
        shuffles += a->Overlay().Stats().shuffles_answered;
        failed += a->Overlay().Stats().shuffles_failed;
        syncs += a->Overlay().Stats().full_syncs;
    }
    const long rss = RssKb();

    // Baseline: the same membership code in the simulator, same N.
    sim::MembershipExperiment sim_config;
    sim_config.sim.nodes = static_cast<std::size_t>(n);
    const auto sim_start = Clock::now();
    auto sim_result = sim::RunMembershipSimulation(sim_config);
    const double sim_s = std::chrono::duration<double>(Clock::now() - sim_start).count();

    std::printf(
        "{\"agents\": %d, \"period_ms\": %d, \"converged_after_s\": %.2f, \"rss_mb\": %.1f, "
        "\"rss_kb_per_agent\": %.1f, \"cpu_s_until_converged\": %.2f, \"steady_cpu_ms_per_agent_per_round\": %.3f, "
        "\"shuffles_answered\": %llu, \"shuffles_failed\": %llu, \"full_syncs\": %llu, "
        "\"baseline_sim_bootstrap_rounds\": %s, \"baseline_sim_wall_s\": %.2f}\n",
        n, period_ms, converged_s, static_cast<double>(rss) / 1024.0, static_cast<double>(rss - rss_before) / n,
        cpu_mark - cpu_start, 1000.0 * steady_cpu / (10.0 * n), static_cast<unsigned long long>(shuffles),
        static_cast<unsigned long long>(failed), static_cast<unsigned long long>(syncs),
        sim_result["bootstrap"]["rounds_to_converge"].dump().c_str(), sim_s);
    return converged_s < 0 ? 1 : 0;
}
