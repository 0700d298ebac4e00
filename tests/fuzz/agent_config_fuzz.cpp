// An agent's config file (docs/agent.md) as `shoal agent --config` reads it: parsed like
// agent::LoadAgentConfig, then agent::AgentConfigFromJson and ToJson; and the same document as
// an embedded cloudlet's config (emulator::CloudletConfigFromJson, `shoal cloudlet --config`).
// Both readers return kBadRequest for anything wrong; nothing may throw.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "agent/agent_config.hpp"
#include "emulator/core/cloudlet_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;
    if (auto config = shoal::agent::AgentConfigFromJson(j); config.ok()) (void)shoal::agent::ToJson(*config).dump();
    if (j.is_object() && j.contains("embedded_cloudlet"))
        (void)shoal::emulator::CloudletConfigFromJson(j["embedded_cloudlet"]);
    (void)shoal::emulator::CloudletConfigFromJson(j);
    return 0;
}
