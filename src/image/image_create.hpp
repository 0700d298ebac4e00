#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/result.hpp"

namespace shoal::image {

// A Glance v2 "create image" request body as the agent's GlanceProxy reads it. Pure: the fuzz
// target tests/fuzz/glance_image_create calls it with whatever arrives.
struct ImageCreate {
    nlohmann::json body;            // the image's properties, passed on to the home cloudlet
    std::optional<std::string> id;  // the UUID the user chose; nullopt: the agent picks one
};

// kBadRequest (Glance's messages) when the body is not an object or its "id" is not a UUID.
Result<ImageCreate> ParseImageCreate(const nlohmann::json& body);

}  // namespace shoal::image
