#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace shoal::emulator {

// Python's repr() of a JSON value ("None", "True", "'text'", "[1, 'a']"): OpenStack's
// validation messages come from Python's jsonschema, and clients show them verbatim.
std::string PyRepr(const nlohmann::json& v);

}  // namespace shoal::emulator
