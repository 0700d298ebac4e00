#include "cli/bench_command.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "bench/runner.hpp"
#include "cli/up_command.hpp"

namespace shoal::cli {

void AddBenchCommand(CLI::App& app) {
    struct Flags {
        bench::BenchOptions options;
        RealCloudletFlags real;
    };
    auto flags = std::make_shared<Flags>();
    auto* o = &flags->options;
    auto* cmd = app.add_subcommand(
        "bench",
        "Reproduce the paper's evaluation: start the systems (shoal, standard, direct) on 127.0.0.1, boot and delete "
        "servers through the OpenStack APIs like Rally, and report start-up times, failures and servers per host "
        "(docs/benchmarks.md).");
    auto* scenario = cmd->add_option("--scenario", o->scenario, "smoke, fig4-5, fig6-7, scale, overhead or real");
    cmd->add_option("--replot", o->replot, "draw the plots of an earlier results file, run nothing")
        ->excludes(scenario);
    cmd->add_option("--systems", o->systems, "systems to compare (shoal, standard, direct, real-direct, real-shoal)")
        ->delimiter(',');
    flags->real.AddTo(cmd, "a real OpenStack cloudlet's Keystone v3 (repeat it; for real-direct and real-shoal)");
    cmd->add_option("--sizes", o->sizes, "system sizes (cloudlets / compute nodes)")->delimiter(',');
    cmd->add_option("--concurrency", o->concurrency, "fig6-7, real: concurrent boot requests")->delimiter(',');
    cmd->add_option("--repetitions", o->repetitions, "repetitions per step");
    cmd->add_option("--poll-ms", o->poll_ms, "status poll interval (Rally: 1000)");
    cmd->add_option("--image-kib", o->image_kib, "size of each user's image")->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--boot-timeout-s", o->boot_timeout_s, "a server not ACTIVE by then failed (Rally: 300)");
    cmd->add_option("--json", o->json_path, "write the results here (and PNG plots beside it)");
    cmd->add_option("--plots", o->plots, "prefix of the PNG plots (default: the --json path without .json)");
    cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error");
    cmd->callback([flags, o] {
        if (o->scenario.empty() && o->replot.empty()) {
            std::cerr << "shoal bench: --scenario is required (or --replot FILE)\n";
            std::exit(2);
        }
        o->real_cloudlets = flags->real.Accesses();
        std::exit(bench::RunBench(*o));
    });
}

}  // namespace shoal::cli
