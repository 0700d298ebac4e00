#include "bench/step_report.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "bench/stats.hpp"

namespace shoal::bench {
using nlohmann::json;

std::string ReasonKey(const std::string& reason) {
    static const std::regex uuid("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    static const std::regex hex32("[0-9a-fA-F]{32}");
    std::string key = std::regex_replace(reason, uuid, "{id}");
    key = std::regex_replace(key, hex32, "{id}");
    return key.substr(0, 200);
}

json StepJson(const StepResult& step) {
    std::size_t requested = 0, active = 0, poll_errors = 0, delete_failures = 0;
    std::vector<double> startup, stddevs;
    std::map<std::string, int> reasons, total;
    json per_rep = json::array();
    int max_on_host = 0;
    for (const auto& rep : step.repetitions) {
        std::size_t rep_active = 0;
        for (const auto& s : rep.servers) {
            ++requested;
            poll_errors += static_cast<std::size_t>(s.poll_errors);
            if (s.active) {
                ++rep_active;
                startup.push_back(s.startup_s);
            } else {
                ++reasons[ReasonKey(s.failure)];
            }
        }
        active += rep_active;
        delete_failures += static_cast<std::size_t>(rep.delete_failures);
        std::vector<double> counts;
        int on_hosts = 0;
        for (const auto& [host, n] : rep.per_host) {
            counts.push_back(n);
            on_hosts += n;
            total[host] += n;
            max_on_host = std::max(max_on_host, n);
        }
        const double sd = StdDev(counts);
        if (!counts.empty()) stddevs.push_back(sd);
        per_rep.push_back({{"requested", rep.servers.size()},
                           {"active", rep_active},
                           {"failed", rep.servers.size() - rep_active},
                           {"on_hosts", on_hosts},
                           {"hosts_counted", counts.size()},
                           {"stddev", sd}});
    }
    const auto failed = requested - active;
    json reason_json = json::object();
    for (const auto& [r, n] : reasons) reason_json[r] = n;
    return {
        {"system", step.system},
        {"size", step.size},
        {"users", step.users},
        {"servers_per_user", step.plan.servers_per_user},
        {"concurrency", step.users * step.plan.servers_per_user},
        {"repetitions", step.plan.repetitions},
        {"requested", requested},
        {"active", active},
        {"failed", failed},
        {"failure_rate", requested ? static_cast<double>(failed) / static_cast<double>(requested) : 0.0},
        {"startup_s", ToJson(Summarize(startup))},
        {"failure_reasons", reason_json},
        {"servers_per_host",
         {{"stddev", Mean(stddevs)},
          {"stddev_max", stddevs.empty() ? 0.0 : *std::max_element(stddevs.begin(), stddevs.end())},
          {"max", max_on_host},
          {"hosts", total.size()},
          {"total", total}}},
        {"per_repetition", per_rep},
        {"poll_errors", poll_errors},
        {"delete_failures", delete_failures},
        {"wall_s", step.wall_s},
        {"start_s", step.start_s},
        {"rss_mb", step.rss_mb},
        {"error", step.error},
    };
}

namespace {

struct Metric {
    const char* file;
    const char* title;
    const char* ylabel;
    std::function<double(const json&)> value;
};

}  // namespace

std::vector<std::string> WritePlots(const json& results, const std::string& prefix, const std::string& x_field) {
    std::vector<std::string> written;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the plots are drawn after the run, on one thread
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        spdlog::warn("bench: gnuplot is not installed; no plots (apt-get install gnuplot-nox)");
        return written;
    }
    const std::vector<Metric> metrics = {
        {"startup", "VM start-up time (mean)", "seconds",
         [](const json& s) { return s["startup_s"].value("mean", 0.0); }},
        {"startup-p95", "VM start-up time (p95)", "seconds",
         [](const json& s) { return s["startup_s"].value("p95", 0.0); }},
        {"failures", "VM failure rate", "failed / requested (%)",
         [](const json& s) { return 100.0 * s.value("failure_rate", 0.0); }},
        {"stddev", "Standard deviation of VMs per host", "servers",
         [](const json& s) { return s["servers_per_host"].value("stddev", 0.0); }},
    };
    std::vector<std::string> systems;
    std::set<int> xs;
    for (const auto& s : results["steps"]) {
        const auto name = s.value("system", "");
        if (std::find(systems.begin(), systems.end(), name) == systems.end()) systems.push_back(name);
        xs.insert(s.value(x_field, 0));
    }
    const bool log_x = x_field == "concurrency";
    for (const auto& m : metrics) {
        const std::string dat = prefix + "-" + m.file + ".dat";
        const std::string png = prefix + "-" + m.file + ".png";
        std::ofstream out(dat);
        out << "# " << x_field;
        for (const auto& sys : systems) out << " " << sys;
        out << "\n";
        for (int x : xs) {
            out << x;
            for (const auto& sys : systems) {
                std::string cell = "NaN";
                for (const auto& s : results["steps"]) {
                    if (s.value("system", "") == sys && s.value(x_field, 0) == x && s.value("error", "").empty())
                        cell = std::to_string(m.value(s));
                }
                out << " " << cell;
            }
            out << "\n";
        }
        out.close();
        const std::string gp = prefix + "-" + m.file + ".gp";
        std::ofstream script(gp);
        script << "set terminal pngcairo size 800,500\nset output '" << png << "'\n"
               << "set title '" << m.title << "'\nset xlabel '" << (log_x ? "concurrent VM requests" : "system size")
               << "'\nset ylabel '" << m.ylabel << "'\nset key top left\nset grid\n"
               << "set logscale x 2\n"
               << "plot ";
        for (std::size_t i = 0; i < systems.size(); ++i)
            script << (i ? ", " : "") << "'" << dat << "' using 1:" << i + 2 << " with linespoints title '"
                   << systems[i] << "'";
        script << "\n";
        script.close();
        // NOLINTNEXTLINE(concurrency-mt-unsafe): the plots are drawn after the run, on one thread
        if (std::system(("gnuplot '" + gp + "' 2>/dev/null").c_str()) == 0) {
            written.push_back(png);
        } else {
            spdlog::warn("bench: gnuplot failed on {}", gp);
        }
        std::remove(gp.c_str());
    }
    return written;
}

}  // namespace shoal::bench
