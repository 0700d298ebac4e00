#include "emulator/cloudlet.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>

#include "common/ids.hpp"
#include "emulator/core/api_gate.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/glance/glance_service.hpp"
#include "emulator/keystone/keystone_service.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "emulator/nova/nova_service.hpp"
#include "emulator/placement/placement_service.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

namespace shoal::emulator {

namespace asio = boost::asio;

struct Cloudlet::Impl {
    asio::any_io_executor executor;
    CloudletConfig config;
    std::unique_ptr<DocumentStore> store;
    http::Client client;
    http::Router router;
    std::unique_ptr<ServiceContext> ctx;
    std::unique_ptr<Gate> api_gate;
    std::unique_ptr<KeystoneService> keystone;
    std::unique_ptr<GlanceService> glance;
    std::unique_ptr<FakeCompute> compute;
    std::unique_ptr<NovaService> nova;
    std::unique_ptr<PlacementService> placement;
    std::unique_ptr<http::Server> server;
    std::string data_dir;
    bool own_data_dir = false;
    std::uint16_t port = 0;

    Impl(asio::any_io_executor ex, CloudletConfig c) : executor(ex), config(std::move(c)), client(ex) {}

    ~Impl() {
        if (own_data_dir) {
            std::error_code ec;
            std::filesystem::remove_all(data_dir, ec);
        }
    }

    std::string BaseUrl() const { return "http://" + config.listen_address + ":" + std::to_string(port); }
};

Cloudlet::Cloudlet(asio::any_io_executor executor, CloudletConfig config)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(config))) {}

Cloudlet::~Cloudlet() {
    if (impl_->compute) impl_->compute->Stop();
}

Result<std::uint16_t> Cloudlet::Start() {
    auto& d = *impl_;
    if (d.config.state_path.empty()) {
        d.store = MakeMemoryStore();
    } else {
        auto opened = OpenSqliteStore(d.config.state_path);
        if (!opened.ok()) return opened.error();
        d.store = std::move(opened).value();
    }
    d.data_dir = d.config.data_dir;
    if (d.data_dir.empty()) {
        d.data_dir = (std::filesystem::temp_directory_path() / ("shoal-cloudlet-" + NewHexId())).string();
        d.own_data_dir = true;
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(d.data_dir) / "images", ec);
    if (ec) return MakeError(ErrorCode::kInternal, "Cannot create data directory " + d.data_dir + ": " + ec.message());

    d.ctx = std::unique_ptr<ServiceContext>(new ServiceContext{d.config, d.executor, *d.store, d.client, nullptr,
                                                               d.data_dir, [&d] { return d.BaseUrl(); }});
    const auto& cm = d.config.controller;
    d.api_gate = std::make_unique<Gate>(d.executor, cm.api_workers, cm.api_queue, cm.api_timeout);

    d.router.SetErrorStyle(std::string(kIdentityPrefix), http::ErrorStyle::kKeystone);
    d.router.SetErrorStyle(std::string(kImagePrefix), http::ErrorStyle::kGlance);
    d.router.SetErrorStyle(std::string(kComputePrefix), http::ErrorStyle::kNova);
    d.router.SetErrorStyle(std::string(kPlacementPrefix), http::ErrorStyle::kPlacement);

    d.keystone = std::make_unique<KeystoneService>(*d.ctx);
    d.ctx->tokens = d.keystone.get();
    d.keystone->Bootstrap();
    d.glance = std::make_unique<GlanceService>(*d.ctx);
    d.glance->Load();
    d.compute = std::make_unique<FakeCompute>(*d.ctx);
    d.compute->Load();
    d.nova = std::make_unique<NovaService>(*d.ctx, *d.glance, *d.compute);
    d.nova->Load();
    d.placement = std::make_unique<PlacementService>(*d.ctx, *d.compute);

    d.keystone->AddRoutes(d.router);
    d.glance->AddRoutes(d.router);
    d.nova->AddRoutes(d.router);
    d.placement->AddRoutes(d.router);

    // Every API request holds one of the controller's API workers while it runs.
    d.router.Use([&d](http::Request& req, const http::Handler& next) -> asio::awaitable<Result<http::Response>> {
        auto permit = co_await d.api_gate->Acquire();
        if (!permit.ok()) co_return permit.error();
        if (d.config.controller.api_service_time.count() > 0) {
            asio::steady_timer t(d.executor, d.config.controller.api_service_time);
            co_await t.async_wait(asio::use_awaitable);
        }
        co_return co_await next(req);
    });

    http::ServerOptions so;
    so.max_body_bytes = 1024 * 1024;
    so.spool_dir = (std::filesystem::path(d.data_dir) / "spool").string();
    std::filesystem::create_directories(so.spool_dir, ec);
    d.server = std::make_unique<http::Server>(d.executor, d.router, so);
    auto port = d.server->Listen(d.config.listen_address, d.config.port);
    if (!port.ok()) return port.error();
    d.port = *port;
    spdlog::info("cloudlet {}: listening on {} ({} hypervisors, state {})", d.config.name, d.BaseUrl(),
                 d.config.hypervisors.count, d.config.state_path.empty() ? "in memory" : d.config.state_path);
    return d.port;
}

asio::awaitable<void> Cloudlet::Stop() {
    if (impl_->compute) impl_->compute->Stop();
    if (impl_->server) co_await impl_->server->Shutdown(std::chrono::milliseconds(2000));
}

const CloudletConfig& Cloudlet::Config() const {
    return impl_->config;
}
std::uint16_t Cloudlet::Port() const {
    return impl_->port;
}
std::string Cloudlet::BaseUrl() const {
    return impl_->BaseUrl();
}
std::string Cloudlet::AuthUrl() const {
    return BaseUrl() + std::string(kIdentityPrefix) + "/v3";
}
void Cloudlet::SkewClock(std::chrono::microseconds skew) {
    impl_->ctx->clock_skew = skew;
}
FakeCompute& Cloudlet::Compute() {
    return *impl_->compute;
}
Gate& Cloudlet::ApiGate() {
    return *impl_->api_gate;
}

std::string Cloudlet::AdminOpenrc() const {
    const auto& c = impl_->config;
    std::string s;
    auto line = [&](std::string_view k, const std::string& v) { s += "export " + std::string(k) + "=" + v + "\n"; };
    line("OS_AUTH_URL", AuthUrl());
    line("OS_IDENTITY_API_VERSION", "3");
    line("OS_AUTH_TYPE", "password");
    line("OS_USERNAME", c.admin_user);
    line("OS_PASSWORD", c.admin_password);
    line("OS_PROJECT_NAME", c.admin_project);
    line("OS_USER_DOMAIN_NAME", "Default");
    line("OS_PROJECT_DOMAIN_NAME", "Default");
    line("OS_REGION_NAME", c.region);
    line("OS_INTERFACE", "public");
    return s;
}

}  // namespace shoal::emulator
