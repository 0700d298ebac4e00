#include "emulator/core/cloudlet_config.hpp"

#include <fstream>
#include <set>

#include "common/config_reader.hpp"

namespace shoal::emulator {
namespace {

using nlohmann::json;

using Reader = ConfigReader;

}  // namespace

std::vector<FlavorSpec> CloudletConfig::DefaultFlavors() {
    // The classic devstack/Nova flavors (IDs 1-5) plus a couple of small ones for tests.
    return {
        {"1", "m1.tiny", 1, 512, 1},    {"2", "m1.small", 1, 2048, 20},    {"3", "m1.medium", 2, 4096, 40},
        {"4", "m1.large", 4, 8192, 80}, {"5", "m1.xlarge", 8, 16384, 160}, {"42", "m1.nano", 1, 128, 1},
        {"84", "m1.micro", 1, 192, 1},
    };
}

Result<CloudletConfig> CloudletConfigFromJson(const json& j) {
    CloudletConfig c;
    if (!j.is_object()) return MakeError(ErrorCode::kBadRequest, "config: the top level must be a JSON object");
    try {
        Reader r(j, "");
        r.Get("name", c.name);
        r.Get("region", c.region);
        r.Get("listen_address", c.listen_address);
        r.Get("port", c.port);
        r.Get("admin_user", c.admin_user);
        r.Get("admin_password", c.admin_password);
        r.Get("admin_project", c.admin_project);
        r.GetMillis("boot_delay_ms", c.boot_delay);
        r.GetMillis("action_delay_ms", c.action_delay);
        r.GetMillis("delete_delay_ms", c.delete_delay);
        std::int64_t ttl = c.token_ttl.count();
        r.Get("token_ttl_s", ttl);
        c.token_ttl = std::chrono::seconds(ttl);
        r.Get("state_path", c.state_path);
        r.Get("data_dir", c.data_dir);
        r.Get("max_image_bytes", c.max_image_bytes);
        r.Get("import_allowed_hosts", c.import_allowed_hosts);
        json hv = json::object(), cm = json::object(), qt = json::object(), fl = json::array();
        r.Get("hypervisors", hv);
        r.Get("controller", cm);
        r.Get("quota", qt);
        r.Get("flavors", fl);
        if (auto u = r.Unknown()) return MakeError(ErrorCode::kBadRequest, "config: unknown key '" + *u + "'");

        Reader h(hv, "hypervisors.");
        h.Get("count", c.hypervisors.count);
        h.Get("vcpus", c.hypervisors.vcpus);
        h.Get("memory_mb", c.hypervisors.memory_mb);
        h.Get("disk_gb", c.hypervisors.disk_gb);
        h.Get("reserved_host_memory_mb", c.hypervisors.reserved_host_memory_mb);
        h.Get("cpu_allocation_ratio", c.hypervisors.cpu_allocation_ratio);
        h.Get("ram_allocation_ratio", c.hypervisors.ram_allocation_ratio);
        h.Get("disk_allocation_ratio", c.hypervisors.disk_allocation_ratio);
        h.Get("spawn_failure_rate", c.hypervisors.spawn_failure_rate);
        if (auto u = h.Unknown()) return MakeError(ErrorCode::kBadRequest, "config: unknown key '" + *u + "'");

        Reader m(cm, "controller.");
        m.Get("api_workers", c.controller.api_workers);
        m.Get("api_queue", c.controller.api_queue);
        m.GetMillis("api_timeout_ms", c.controller.api_timeout);
        m.GetMillis("api_service_time_ms", c.controller.api_service_time);
        m.Get("max_concurrent_builds", c.controller.max_concurrent_builds);
        m.Get("build_queue", c.controller.build_queue);
        m.GetMillis("build_timeout_ms", c.controller.build_timeout);
        m.GetMillis("schedule_time_ms", c.controller.schedule_time);
        if (auto u = m.Unknown()) return MakeError(ErrorCode::kBadRequest, "config: unknown key '" + *u + "'");

        Reader q(qt, "quota.");
        q.Get("instances", c.quota.instances);
        q.Get("cores", c.quota.cores);
        q.Get("ram_mb", c.quota.ram_mb);
        if (auto u = q.Unknown()) return MakeError(ErrorCode::kBadRequest, "config: unknown key '" + *u + "'");

        for (const auto& f : fl) {
            FlavorSpec s;
            Reader fr(f, "flavors[].");
            fr.Get("id", s.id);
            fr.Get("name", s.name);
            fr.Get("vcpus", s.vcpus);
            fr.Get("ram_mb", s.ram_mb);
            fr.Get("disk_gb", s.disk_gb);
            fr.Get("ephemeral_gb", s.ephemeral_gb);
            fr.Get("swap_mb", s.swap_mb);
            fr.Get("rxtx_factor", s.rxtx_factor);
            fr.Get("is_public", s.is_public);
            fr.Get("description", s.description);
            if (auto u = fr.Unknown()) return MakeError(ErrorCode::kBadRequest, "config: unknown key '" + *u + "'");
            if (s.id.empty() || s.name.empty())
                return MakeError(ErrorCode::kBadRequest, "config: every flavor needs an id and a name");
            c.flavors.push_back(std::move(s));
        }
    } catch (const json::exception& e) {
        return MakeError(ErrorCode::kBadRequest, std::string("config: wrong type: ") + e.what());
    }
    if (c.hypervisors.count < 0 || c.hypervisors.memory_mb <= 0 || c.hypervisors.vcpus <= 0)
        return MakeError(ErrorCode::kBadRequest, "config: hypervisors need positive vcpus and memory_mb");
    // Written so that NaN is refused too.
    if (!(c.hypervisors.spawn_failure_rate >= 0.0 && c.hypervisors.spawn_failure_rate <= 1.0))
        return MakeError(ErrorCode::kBadRequest, "config: hypervisors.spawn_failure_rate must be between 0 and 1");
    if (c.controller.api_workers <= 0 || c.controller.max_concurrent_builds <= 0)
        return MakeError(ErrorCode::kBadRequest, "config: controller workers must be positive");
    // Nova's -1 is "unlimited".
    if (c.quota.instances < -1 || c.quota.cores < -1 || c.quota.ram_mb < -1)
        return MakeError(ErrorCode::kBadRequest, "config: quota values must be -1 (unlimited) or more");
    if (c.flavors.empty()) c.flavors = CloudletConfig::DefaultFlavors();
    return c;
}

Result<CloudletConfig> LoadCloudletConfig(const std::string& path) {
    std::ifstream in(path);
    if (!in) return MakeError(ErrorCode::kNotFound, "config: cannot read " + path);
    auto j = json::parse(in, nullptr, false, /*ignore_comments=*/true);
    if (j.is_discarded()) return MakeError(ErrorCode::kBadRequest, "config: " + path + " is not valid JSON");
    return CloudletConfigFromJson(j);
}

json ToJson(const CloudletConfig& c) {
    json flavors = json::array();
    for (const auto& f : c.flavors)
        flavors.push_back(
            {{"id", f.id}, {"name", f.name}, {"vcpus", f.vcpus}, {"ram_mb", f.ram_mb}, {"disk_gb", f.disk_gb}});
    const auto& m = c.controller;
    return {
        {"name", c.name},
        {"region", c.region},
        {"listen_address", c.listen_address},
        {"port", c.port},
        {"boot_delay_ms", c.boot_delay.count()},
        {"token_ttl_s", c.token_ttl.count()},
        {"state_path", c.state_path},
        {"hypervisors",
         {{"count", c.hypervisors.count},
          {"vcpus", c.hypervisors.vcpus},
          {"memory_mb", c.hypervisors.memory_mb},
          {"disk_gb", c.hypervisors.disk_gb},
          {"spawn_failure_rate", c.hypervisors.spawn_failure_rate}}},
        {"controller",
         {{"api_workers", m.api_workers},
          {"api_queue", m.api_queue},
          {"api_timeout_ms", m.api_timeout.count()},
          {"api_service_time_ms", m.api_service_time.count()},
          {"max_concurrent_builds", m.max_concurrent_builds},
          {"build_queue", m.build_queue},
          {"build_timeout_ms", m.build_timeout.count()},
          {"schedule_time_ms", m.schedule_time.count()}}},
        {"quota", {{"instances", c.quota.instances}, {"cores", c.quota.cores}, {"ram_mb", c.quota.ram_mb}}},
        {"flavors", flavors},
    };
}

}  // namespace shoal::emulator
