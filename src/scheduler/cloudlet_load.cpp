#include "scheduler/cloudlet_load.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>

namespace shoal::scheduler {
namespace {

using nlohmann::json;

Error BadRequest(std::string message) {
    return MakeError(ErrorCode::kBadRequest, "cloudlet load: " + std::move(message));
}

Result<std::int64_t> NonNegative(const json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end()) return BadRequest(std::string("missing \"") + name + "\"");
    if (it->is_number_unsigned()) {
        const auto value = it->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return BadRequest(std::string("\"") + name + "\" is too large");
        }
        return static_cast<std::int64_t>(value);
    }
    if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return it->get<std::int64_t>();
    return BadRequest(std::string("\"") + name + "\" must be a non-negative integer");
}

}  // namespace

json ToJson(const CloudletLoad& load) {
    return json{{"cloudlet", load.cloudlet},
                {"free_ram_mb", load.free_ram_mb},
                {"total_free_ram_mb", load.total_free_ram_mb},
                {"total_ram_mb", load.total_ram_mb},
                {"in_flight_ram_mb", load.in_flight_ram_mb},
                {"in_flight_builds", load.in_flight_builds}};
}

Result<CloudletLoad> CloudletLoadFromJson(const json& j) {
    if (!j.is_object()) return BadRequest("must be an object");
    auto cloudlet = j.find("cloudlet");
    if (cloudlet == j.end() || !cloudlet->is_string() || cloudlet->get_ref<const std::string&>().empty()) {
        return BadRequest("\"cloudlet\" must be a non-empty string");
    }
    CloudletLoad load;
    load.cloudlet = cloudlet->get<std::string>();
    struct Field {
        const char* name;
        std::int64_t* out;
    };
    std::int64_t builds = 0;
    for (const Field& f : {Field{"free_ram_mb", &load.free_ram_mb}, Field{"total_free_ram_mb", &load.total_free_ram_mb},
                           Field{"total_ram_mb", &load.total_ram_mb}, Field{"in_flight_ram_mb", &load.in_flight_ram_mb},
                           Field{"in_flight_builds", &builds}}) {
        auto value = NonNegative(j, f.name);
        if (!value.ok()) return value.error();
        *f.out = *value;
    }
    if (builds > std::numeric_limits<int>::max()) return BadRequest("\"in_flight_builds\" is too large");
    load.in_flight_builds = static_cast<int>(builds);
    if (load.free_ram_mb > load.total_free_ram_mb || load.total_free_ram_mb > load.total_ram_mb) {
        return BadRequest("need free_ram_mb <= total_free_ram_mb <= total_ram_mb");
    }
    return load;
}

}  // namespace shoal::scheduler
