#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/time_format.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "http/router.hpp"

namespace shoal::emulator {

// Emulated Placement API (resource providers, inventories, usages), served under /placement.
// Read-only: the fake compute owns providers and allocations, so writes are refused with 403.
class PlacementService {
public:
    PlacementService(ServiceContext& ctx, FakeCompute& compute);
    void AddRoutes(http::Router& router);

private:
    struct Call;   // one request with its microversion and token
    struct Route;  // what the wrapper checks before a handler runs
    using Handler = Result<http::Response> (PlacementService::*)(Call&);

    void Add(http::Router& router, http::Method method, std::string_view pattern, Route route, Handler handler);
    http::Response Serve(const Route& route, Handler handler, http::Request& req);

    Result<http::Response> Root(Call& c);
    Result<http::Response> ListProviders(Call& c);
    Result<http::Response> ShowProvider(Call& c);
    Result<http::Response> ListInventories(Call& c);
    Result<http::Response> ShowInventory(Call& c);
    Result<http::Response> ProviderUsages(Call& c);
    Result<http::Response> ProviderAllocations(Call& c);
    Result<http::Response> ProviderAggregates(Call& c);
    Result<http::Response> ProviderTraits(Call& c);
    Result<http::Response> TotalUsages(Call& c);
    Result<http::Response> ConsumerAllocations(Call& c);
    Result<http::Response> ListResourceClasses(Call& c);
    Result<http::Response> ShowResourceClass(Call& c);
    Result<http::Response> ListTraits(Call& c);
    Result<http::Response> ShowTrait(Call& c);
    Result<http::Response> AllocationCandidates(Call& c);
    Result<http::Response> ReadOnly(Call& c);

    // Placement's last-modified for a provider: when we last saw its generation change.
    SystemTime ProviderModified(const Hypervisor& h);

    ServiceContext& ctx_;
    FakeCompute& compute_;
    SystemTime started_;
    std::map<std::string, std::pair<std::uint64_t, SystemTime>, std::less<>> generation_seen_;
};

}  // namespace shoal::emulator
