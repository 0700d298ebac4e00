#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "emulator/core/identity.hpp"

namespace shoal::emulator {

// What Nova needs to know about an image to boot from it.
struct BootImage {
    std::string id;
    std::string name;
    std::string status;  // "active", "queued", ...
    int min_ram_mb = 0;
    int min_disk_gb = 0;
    std::uint64_t size = 0;
};

// Implemented by the emulated Glance; used by Nova (as Nova asks Glance in a real cloud).
class ImageLookup {
public:
    virtual ~ImageLookup() = default;
    // Error{kNotFound} when the image does not exist or is not visible to `who`.
    virtual Result<BootImage> FindImage(const TokenInfo& who, std::string_view image_id) const = 0;
};

}  // namespace shoal::emulator
