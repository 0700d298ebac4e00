#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "common/time_format.hpp"
#include "emulator/core/cloudlet_config.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/identity.hpp"
#include "http/client.hpp"
#include "http/message.hpp"

namespace shoal::emulator {

// Path prefixes of the services on the cloudlet's single port (the devstack layout).
inline constexpr std::string_view kIdentityPrefix = "/identity";
inline constexpr std::string_view kImagePrefix = "/image";
inline constexpr std::string_view kComputePrefix = "/compute";
inline constexpr std::string_view kPlacementPrefix = "/placement";

// What every emulated service of one cloudlet shares. Owned by the Cloudlet; the services
// hold a reference. Single-threaded: everything runs on `executor`.
struct ServiceContext {
    const CloudletConfig& config;
    boost::asio::any_io_executor executor;
    DocumentStore& store;
    http::Client& client;                    // outgoing HTTP (Glance web-download)
    const TokenValidator* tokens = nullptr;  // set once Keystone exists
    std::string data_dir;                    // image data lives here
    std::function<std::string()> base_url;   // "http://127.0.0.1:PORT", known after Listen
    // Added to the system clock where Keystone reads time (token issue and expiry), so a test
    // can hold a token that expired an hour ago without waiting an hour (Cloudlet::SkewClock).
    std::chrono::microseconds clock_skew{0};

    SystemTime Now() const {
        return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now() + clock_skew);
    }

    // Endpoint URL of a service as it appears in the catalog and in links.
    std::string IdentityUrl() const { return base_url() + std::string(kIdentityPrefix); }
    std::string ImageUrl() const { return base_url() + std::string(kImagePrefix); }
    std::string ComputeUrl() const { return base_url() + std::string(kComputePrefix) + "/v2.1"; }
    std::string PlacementUrl() const { return base_url() + std::string(kPlacementPrefix); }
};

// keystonemiddleware's job for the other services: the X-Auth-Token must be valid.
inline Result<TokenInfo> Authenticate(const ServiceContext& ctx, const http::Request& req) {
    auto token = req.headers.Get("X-Auth-Token");
    if (!token || token->empty())
        return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
    auto info = ctx.tokens->Validate(*token);
    if (!info.ok()) return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
    return info;
}

}  // namespace shoal::emulator
