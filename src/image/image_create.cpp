#include "image/image_create.hpp"

#include "common/ids.hpp"

namespace shoal::image {

Result<ImageCreate> ParseImageCreate(const nlohmann::json& body) {
    if (!body.is_object()) return MakeError(ErrorCode::kBadRequest, "Body must be a JSON object describing the image");
    ImageCreate c{body, std::nullopt};
    if (auto it = body.find("id"); it != body.end()) {
        if (!it->is_string() || !IsUuid(it->get<std::string>()))
            return MakeError(ErrorCode::kBadRequest, "Invalid id: must be a UUID");
        c.id = it->get<std::string>();
    }
    return c;
}

}  // namespace shoal::image
