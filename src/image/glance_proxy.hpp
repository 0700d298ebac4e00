#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "cloudlet/cloudlet_gateway.hpp"
#include "cloudlet/single_flight.hpp"
#include "common/clock.hpp"
#include "http/router.hpp"
#include "state/tenant_state.hpp"
#include "translate/owned_resource.hpp"

namespace shoal::image {

struct GlanceProxyOptions {
    std::string secret;  // keys the data URLs handed to cloudlets for web-download
    std::chrono::seconds data_url_ttl{3600};
    std::chrono::milliseconds import_timeout{600'000};
    std::chrono::milliseconds import_poll{200};  // the first look at an import; doubled after each
    std::chrono::milliseconds import_poll_max{2'000};
    Clock* clock = &SystemClock();  // import deadlines, data URL expiry, record times
};

// The agent's Glance v2 (paper IV-E), served at the tenant's home agent. An image is created and
// uploaded once, at the home agent's cloudlet (its primary copy); its data is then exposed at a
// signed URL of this agent, and a cloudlet that needs the image for a boot imports it from there
// with Glance's web-download, once: concurrent boots wait for the one import. Every copy has the
// image's shoal id as its Glance id (Glance lets the creator choose it), so image ids need no
// translation; the tenant's map records which cloudlets hold a copy. docs/image.md.
class GlanceProxy {
public:
    using SelfApiUrl = std::function<std::string()>;

    GlanceProxy(boost::asio::any_io_executor executor,
                cloudlet::CloudletGateway& gateway,
                state::TenantState& state,
                GlanceProxyOptions options,
                SelfApiUrl self_api_url);

    // /image/v2/images[...], /image/v2/schemas/..., /image/v2/info/...: tenant routes (the gateway
    // checks the token and routes them to the home); /image/shoal-data/...: the signed data URL.
    void AddRoutes(http::Router& router);
    static constexpr std::string_view kDataPrefix = "/image/shoal-data/";

    // The id of the image's copy at `cloudlet`, imported by URL if it has none yet. kNotFound: no
    // such image of the tenant; kBadRequest: not active (no data uploaded yet).
    boost::asio::awaitable<Result<std::string>> EnsureCopy(std::string tenant,
                                                           std::string image_id,
                                                           std::string cloudlet);

    // Finishes, or cleans up, every import a crash of this home interrupted (its location still
    // `importing`) for the tenants for which `is_home` holds (all when empty): the copy becomes
    // active, or is deleted there with its location. At start and on a take-over, as boots are.
    boost::asio::awaitable<void> Resume(std::function<bool(const std::string& tenant)> is_home = {});

    std::uint64_t Imports() const { return imports_.Started(); }
    std::uint64_t ImportsJoined() const { return imports_.Joined(); }

private:
    boost::asio::awaitable<Result<http::Response>> Create(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> List(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Show(http::Request& req);
    // The caller's image (else Glance's 404) and the cloudlets that hold a copy of it.
    struct ImageCopies {
        translate::OwnedResource found;
        std::vector<state::ImageLocation> copies;
    };
    boost::asio::awaitable<Result<ImageCopies>> FindWithCopies(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Update(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Remove(http::Request& req);
    // Upload, download and tags: the call `make_call` builds, at the cloudlet holding the
    // tenant's image's primary copy, its answer relayed as is.
    using PrimaryCall = std::function<cloudlet::CloudletCall(const std::string& image_id, http::Request& req)>;
    boost::asio::awaitable<Result<http::Response>> AtPrimary(http::Request& req, PrimaryCall make_call);
    boost::asio::awaitable<Result<http::Response>> Upload(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Download(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Tags(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> HomeCloudlet(http::Request& req);  // schemas, info
    boost::asio::awaitable<Result<http::Response>> Data(http::Request& req);

    boost::asio::awaitable<Result<std::string>> Import(std::string tenant, std::string image_id, std::string cloudlet);
    boost::asio::awaitable<void> FinishImport(std::string tenant, std::string image_id, std::string cloudlet);
    std::string DataUrl(const std::string& tenant, const std::string& image_id) const;
    std::string DataSignature(const std::string& tenant, const std::string& image_id, std::int64_t expires) const;

    boost::asio::any_io_executor executor_;
    cloudlet::CloudletGateway& gateway_;
    state::TenantState& state_;
    GlanceProxyOptions options_;
    SelfApiUrl self_api_url_;
    cloudlet::SingleFlight<Result<std::string>> imports_;
};

}  // namespace shoal::image
