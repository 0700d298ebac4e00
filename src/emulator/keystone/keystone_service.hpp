#pragma once

#include <memory>
#include <string_view>

#include "emulator/core/identity.hpp"
#include "emulator/core/service_context.hpp"
#include "http/router.hpp"

namespace shoal::emulator {

// Emulated Keystone v3 (identity, tokens, catalog, admin CRUD), served under /identity.
class KeystoneService final : public TokenValidator {
public:
    explicit KeystoneService(ServiceContext& ctx);
    ~KeystoneService() override;

    // Creates (or, from a durable store, reloads) the Default domain, the admin project and
    // user from the config, and the roles admin/member/reader.
    void Bootstrap();
    void AddRoutes(http::Router& router);
    Result<TokenInfo> Validate(std::string_view token) const override;

private:
    struct State;
    ServiceContext& ctx_;
    std::unique_ptr<State> state_;
};

}  // namespace shoal::emulator
