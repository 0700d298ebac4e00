#pragma once

#include <memory>

#include "emulator/core/image_lookup.hpp"
#include "emulator/core/service_context.hpp"
#include "http/router.hpp"

namespace shoal::emulator {

// Emulated Glance v2 (images, data, web-download and glance-direct import, tags, members, schemas),
// served under /image.
class GlanceService final : public ImageLookup {
public:
    explicit GlanceService(ServiceContext& ctx);
    ~GlanceService() override;

    void Load();  // reloads images from a durable store
    void AddRoutes(http::Router& router);
    Result<BootImage> FindImage(const TokenInfo& who, std::string_view image_id) const override;

private:
    struct State;
    ServiceContext& ctx_;
    // Shared so that background imports can hold it weakly and notice the service is gone.
    std::shared_ptr<State> state_;
};

}  // namespace shoal::emulator
