#pragma once

#include <memory>

#include "emulator/core/image_lookup.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "http/router.hpp"

namespace shoal::emulator {

// Emulated Nova v2.1 API with microversions, served under /compute.
class NovaService {
public:
    NovaService(ServiceContext& ctx, const ImageLookup& images, FakeCompute& compute);
    ~NovaService();

    void Load();  // reloads flavors and keypairs from a durable store (servers live in FakeCompute)
    void AddRoutes(http::Router& router);

private:
    struct State;
    ServiceContext& ctx_;
    const ImageLookup& images_;
    FakeCompute& compute_;
    std::unique_ptr<State> state_;
};

}  // namespace shoal::emulator
