#include "bench/step_report.hpp"

#include <gtest/gtest.h>

namespace shoal::bench {
namespace {

ServerOutcome Active(int user, double s) {
    ServerOutcome o;
    o.user = user;
    o.active = true;
    o.startup_s = s;
    return o;
}
ServerOutcome Failed(int user, std::string why) {
    ServerOutcome o;
    o.user = user;
    o.failure = std::move(why);
    return o;
}

TEST(StepReport, CountsFailuresStartupAndHosts) {
    StepResult step;
    step.system = "shoal";
    step.size = 2;
    step.users = 2;
    step.plan.servers_per_user = 2;
    step.plan.repetitions = 2;
    RepetitionOutcome r1;
    r1.servers = {Active(0, 1.0), Active(0, 2.0), Active(1, 3.0),
                  Failed(1,
                         "ERROR: Exceeded maximum number of retries for instance "
                         "6f1d1a8e-7c1a-4d5e-9a39-2b8a3c1f0e11.")};
    r1.per_host = {{"0/a", 3}, {"1/b", 0}};
    RepetitionOutcome r2;
    r2.servers = {Active(0, 4.0), Active(0, 5.0),
                  Failed(1,
                         "ERROR: Exceeded maximum number of retries for instance "
                         "0a1b2c3d-7c1a-4d5e-9a39-2b8a3c1f0e11."),
                  Failed(1, "POST /servers: HTTP 503 busy")};
    r2.per_host = {{"0/a", 1}, {"1/b", 1}};
    r2.delete_failures = 1;
    step.repetitions = {r1, r2};

    const auto j = StepJson(step);
    EXPECT_EQ(j["requested"], 8);
    EXPECT_EQ(j["active"], 5);
    EXPECT_EQ(j["failed"], 3);
    EXPECT_DOUBLE_EQ(j["failure_rate"].get<double>(), 3.0 / 8.0);
    EXPECT_EQ(j["concurrency"], 4);
    EXPECT_EQ(j["startup_s"]["count"], 5);
    EXPECT_DOUBLE_EQ(j["startup_s"]["mean"].get<double>(), 3.0);
    EXPECT_DOUBLE_EQ(j["startup_s"]["p50"].get<double>(), 3.0);
    // The two ERRORs differ only in the instance id: one reason, counted twice.
    EXPECT_EQ(j["failure_reasons"].size(), 2u);
    EXPECT_EQ(j["failure_reasons"]["ERROR: Exceeded maximum number of retries for instance {id}."], 2);
    EXPECT_EQ(j["failure_reasons"]["POST /servers: HTTP 503 busy"], 1);
    // Std dev per repetition: {3,0} -> 1.5, {1,1} -> 0; reported as their mean.
    EXPECT_DOUBLE_EQ(j["servers_per_host"]["stddev"].get<double>(), 0.75);
    EXPECT_DOUBLE_EQ(j["servers_per_host"]["stddev_max"].get<double>(), 1.5);
    EXPECT_EQ(j["servers_per_host"]["total"]["0/a"], 4);
    EXPECT_EQ(j["servers_per_host"]["max"], 3);
    EXPECT_EQ(j["per_repetition"][0]["on_hosts"], 3);
    EXPECT_EQ(j["per_repetition"][1]["failed"], 2);
    EXPECT_EQ(j["delete_failures"], 1);
}

TEST(StepReport, AStepThatDidNotRunSaysWhy) {
    StepResult step;
    step.system = "standard";
    step.error = "start: port in use";
    const auto j = StepJson(step);
    EXPECT_EQ(j["requested"], 0);
    EXPECT_EQ(j["failure_rate"], 0.0);
    EXPECT_EQ(j["error"], "start: port in use");
}

}  // namespace
}  // namespace shoal::bench
