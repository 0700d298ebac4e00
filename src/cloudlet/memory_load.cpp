#include "cloudlet/memory_load.hpp"

#include <algorithm>
#include <cmath>

namespace shoal::cloudlet {

using json = nlohmann::json;

namespace {

std::optional<std::int64_t> Int(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    if (it->is_number_float()) return static_cast<std::int64_t>(std::llround(it->get<double>()));
    return it->get<std::int64_t>();
}

std::string_view Str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : std::string_view();
}

}  // namespace

std::string_view MemorySourceName(MemorySource s) {
    switch (s) {
        case MemorySource::kAuto:
            return "auto";
        case MemorySource::kHypervisors:
            return "hypervisors";
        case MemorySource::kPlacement:
            return "placement";
    }
    return "unknown";
}

Result<MemoryLoadReport> MemoryFromHypervisors(const json& body) {
    auto list = body.find("hypervisors");
    if (!body.is_object() || list == body.end() || !list->is_array())
        return MakeError(ErrorCode::kBadGateway, "os-hypervisors/detail answered without a hypervisors list");
    MemoryLoadReport r;
    r.source = MemorySource::kHypervisors;
    for (const auto& h : *list) {
        if (!h.is_object()) continue;
        // A down or disabled compute node takes no new VMs, so its free memory is not ours.
        if (Str(h, "state") != "up" || Str(h, "status") != "enabled") continue;
        auto total = Int(h, "memory_mb");
        auto used = Int(h, "memory_mb_used");
        if (!total || !used)
            return MakeError(ErrorCode::kNotImplemented,
                             "hypervisors without memory_mb/memory_mb_used (Nova microversion >= 2.88)");
        // free_ram_mb is total - used in Nova; recomputed so an absent field does not matter.
        std::int64_t free = std::max<std::int64_t>(0, *total - *used);
        r.free_ram_mb_max = std::max(r.free_ram_mb_max, free);
        r.free_ram_mb_total += free;
        r.ram_mb_total += *total;
        ++r.hypervisors;
    }
    return r;
}

std::int64_t ProviderMemory::Capacity() const {
    return static_cast<std::int64_t>(std::floor(static_cast<double>(total - reserved) * allocation_ratio));
}

std::int64_t ProviderMemory::Free() const {
    return std::max<std::int64_t>(0, Capacity() - used);
}

std::int64_t ProviderMemory::LargestFit() const {
    return max_unit > 0 ? std::min(Free(), max_unit) : Free();
}

std::optional<ProviderMemory> ParseProviderMemory(const json& inventories, const json& usages) {
    if (!inventories.is_object()) return std::nullopt;
    auto invs = inventories.find("inventories");
    if (invs == inventories.end() || !invs->is_object()) return std::nullopt;
    auto mem = invs->find("MEMORY_MB");
    if (mem == invs->end() || !mem->is_object()) return std::nullopt;
    ProviderMemory p;
    p.total = Int(*mem, "total").value_or(0);
    p.reserved = Int(*mem, "reserved").value_or(0);
    p.max_unit = Int(*mem, "max_unit").value_or(0);
    if (auto it = mem->find("allocation_ratio"); it != mem->end() && it->is_number())
        p.allocation_ratio = it->get<double>();
    if (usages.is_object())
        if (auto u = usages.find("usages"); u != usages.end() && u->is_object())
            p.used = Int(*u, "MEMORY_MB").value_or(0);
    return p;
}

MemoryLoadReport MemoryFromProviders(const std::vector<ProviderMemory>& providers) {
    MemoryLoadReport r;
    r.source = MemorySource::kPlacement;
    for (const auto& p : providers) {
        r.free_ram_mb_max = std::max(r.free_ram_mb_max, p.LargestFit());
        r.free_ram_mb_total += p.Free();
        r.ram_mb_total += p.total;
        ++r.hypervisors;
    }
    return r;
}

}  // namespace shoal::cloudlet
