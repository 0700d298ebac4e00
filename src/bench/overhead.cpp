#include "bench/overhead.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/cloud_user.hpp"
#include "bench/stats.hpp"
#include "bench/systems.hpp"
#include "bench/task_group.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWarmup = 200;
constexpr int kBlocks = 20;
constexpr int kPerBlock = 100;
constexpr int kClients = 16;
constexpr auto kThroughputFor = std::chrono::seconds(5);

// One way to reach the server: straight at the cloudlet, or through the agent.
struct Path {
    std::string name;
    std::unique_ptr<bench::CloudUser> user;
    std::string server;
    std::vector<double> get_ms, list_ms;
    double get_per_s = 0, cpu_ms_per_get = 0;
};

asio::awaitable<Result<Ok>> Prepare(Path& p) {
    if (auto in = co_await p.user->Login(); !in.ok()) co_return in.error();
    auto image = co_await p.user->UploadImage("overhead", std::string(4096, 'x'));
    if (!image.ok()) co_return image.error();
    auto flavor = co_await p.user->FlavorId("m1.tiny");
    if (!flavor.ok()) co_return flavor.error();
    auto server = co_await p.user->CreateServer("overhead", *image, *flavor);
    if (!server.ok()) co_return server.error();
    p.server = *server;
    for (int i = 0; i < 600; ++i) {
        auto s = co_await p.user->GetServer(p.server);
        if (s.ok() && s->status == "ACTIVE") co_return Ok{};
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
        co_await t.async_wait(asio::use_awaitable);
    }
    co_return MakeError(ErrorCode::kTimeout, p.name + ": the server did not become ACTIVE");
}

asio::awaitable<double> TimedGet(Path& p, const std::string& path) {
    const auto t0 = Clock::now();
    auto r = co_await p.user->ComputeGet(path);
    if (!r.ok() || r->status != 200) co_return -1;
    co_return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Closed loop: kClients GETs in flight for kThroughputFor; returns GETs per second.
asio::awaitable<double> Throughput(Path& p, const BenchSystem& system) {
    std::size_t done = 0;
    const double cpu0 = system.ThreadCpuSeconds();
    const auto until = Clock::now() + kThroughputFor;
    bench::TaskGroup group(co_await asio::this_coro::executor);
    for (int c = 0; c < kClients; ++c) {
        auto loop = [](Path* p, std::size_t* done, Clock::time_point until) -> asio::awaitable<void> {
            while (Clock::now() < until) {
                if (auto r = co_await p->user->ComputeGet("/servers/" + p->server); r.ok() && r->status == 200) ++*done;
            }
        };
        group.Spawn(loop(&p, &done, until));
    }
    co_await group.Wait();
    const double cpu = system.ThreadCpuSeconds() - cpu0;
    p.cpu_ms_per_get = done ? 1000.0 * cpu / static_cast<double>(done) : 0;
    co_return static_cast<double>(done) / std::chrono::duration<double>(kThroughputFor).count();
}

json PathJson(const Path& p) {
    return {{"get_ms", bench::ToJson(bench::Summarize(p.get_ms))},
            {"list_ms", bench::ToJson(bench::Summarize(p.list_ms))},
            {"get_per_s", p.get_per_s},
            {"system_cpu_ms_per_get", p.cpu_ms_per_get}};
}

}  // namespace

int RunOverhead(const std::string& json_path) {
    // An idle system: one agent, its cloudlet and the identity provider, no simulated controller
    // time, so that what is measured is real work.
    SystemModel model;
    model.cloudlet.controller.api_workers = 64;
    model.cloudlet.boot_delay = std::chrono::milliseconds(100);
    model.cloudlet.quota = {-1, -1, -1};
    auto system = BenchSystem::Start(SystemKind::kShoal, 1, model);
    if (!system.ok()) {
        std::cerr << "shoal bench: " << system.error().message << "\n";
        return 1;
    }
    asio::io_context io;
    http::Client client(io.get_executor());
    Path direct{"direct", nullptr, {}, {}, {}};
    Path agent{"agent", nullptr, {}, {}, {}};
    auto run = asio::co_spawn(
        io,
        [&]() -> asio::awaitable<Result<Ok>> {
            // The proxied user is a tenant of the shoal (at its identity provider, logging in at
            // the agent); the direct user a project of the cloudlet itself.
            auto entry = (*system)->EntryFor(0, 1);
            identity::KeystoneAdmin idp(client, entry.admin);
            if (auto m = co_await idp.EnsureMember("overhead", "overhead", "overhead-pw"); !m.ok()) co_return m.error();
            const auto cloudlet_admin = (*system)->HostAdmins().front();
            identity::KeystoneAdmin at_cloudlet(client, cloudlet_admin);
            if (auto m = co_await at_cloudlet.EnsureMember("direct", "direct", "direct-pw"); !m.ok())
                co_return m.error();
            agent.user = std::make_unique<bench::CloudUser>(
                client, identity::PasswordCredentials{entry.auth_url, "overhead", "overhead-pw", "overhead"});
            direct.user = std::make_unique<bench::CloudUser>(
                client, identity::PasswordCredentials{cloudlet_admin.auth_url, "direct", "direct-pw", "direct"});
            for (Path* p : {&direct, &agent})
                if (auto ok = co_await Prepare(*p); !ok.ok()) co_return ok.error();
            for (Path* p : {&direct, &agent})
                for (int i = 0; i < kWarmup; ++i) (void)co_await TimedGet(*p, "/servers/" + p->server);
            // Alternating blocks, so that drift in the machine's load hits both paths alike.
            for (int b = 0; b < kBlocks; ++b) {
                for (Path* p : {&direct, &agent}) {
                    for (int i = 0; i < kPerBlock; ++i) {
                        if (double ms = co_await TimedGet(*p, "/servers/" + p->server); ms >= 0)
                            p->get_ms.push_back(ms);
                        if (i % 10 == 0) {
                            if (double ms = co_await TimedGet(*p, "/servers/detail"); ms >= 0) p->list_ms.push_back(ms);
                        }
                    }
                }
            }
            for (Path* p : {&direct, &agent}) p->get_per_s = co_await Throughput(*p, **system);
            co_return Ok{};
        },
        asio::use_future);
    io.run();
    if (auto r = run.get(); !r.ok()) {
        std::cerr << "shoal bench: overhead: " << r.error().message << "\n";
        return 1;
    }
    const auto d = bench::Summarize(direct.get_ms), a = bench::Summarize(agent.get_ms);
    const double agent_cpu_ms = agent.cpu_ms_per_get - direct.cpu_ms_per_get;
    json result = {{"scenario", "overhead"},
                   {"system", (*system)->Describe()},
                   {"direct", PathJson(direct)},
                   {"agent", PathJson(agent)},
                   {"added_ms", {{"p50", a.p50 - d.p50}, {"p99", a.p99 - d.p99}, {"mean", a.mean - d.mean}}},
                   {"agent_cpu_ms_per_get", agent_cpu_ms},
                   {"agent_gets_per_core_s", agent_cpu_ms > 0 ? 1000.0 / agent_cpu_ms : 0.0}};
    std::printf("GET /servers/{id}: direct p50 %.3f ms p99 %.3f ms; through the agent p50 %.3f ms p99 %.3f ms\n", d.p50,
                d.p99, a.p50, a.p99);
    std::printf("the agent adds p50 %.3f ms, p99 %.3f ms; agent CPU %.3f ms per GET = %.0f GETs per core-second\n",
                a.p50 - d.p50, a.p99 - d.p99, agent_cpu_ms, result.value("agent_gets_per_core_s", 0.0));
    std::printf("closed loop, %d clients: direct %.0f GET/s, through the agent %.0f GET/s\n", kClients,
                direct.get_per_s, agent.get_per_s);
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << result.dump(2) << "\n";
        std::cout << "results: " << json_path << "\n";
    }
    return 0;
}

}  // namespace shoal::bench
