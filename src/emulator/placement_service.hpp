#pragma once

#include "emulator/fake_compute.hpp"
#include "emulator/service_context.hpp"
#include "http/router.hpp"

namespace shoal::emulator {

// Emulated Placement API (resource providers, inventories, usages), served under /placement.
class PlacementService {
public:
    PlacementService(ServiceContext& ctx, FakeCompute& compute);
    void AddRoutes(http::Router& router);

private:
    ServiceContext& ctx_;
    FakeCompute& compute_;
};

}  // namespace shoal::emulator
