#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "common/result.hpp"
#include "http/message.hpp"
#include "identity/caller.hpp"
#include "state/tenant_state.hpp"

namespace shoal::translate {

// What a handler on one server or image starts from: who asks, and the caller's record of it.
struct OwnedResource {
    identity::Caller caller;
    state::ResourceRecord record;
};

using MissingError = Error (*)(const std::string& id);

// The caller of `req` and the record named by its path parameter `param`, of `kind`. A record
// of another tenant, or of another kind, is `missing(id)`: the same answer as none at all, so
// that ids of other tenants cannot be probed.
boost::asio::awaitable<Result<OwnedResource>> FindOwned(
    state::TenantState& state, const http::Request& req, std::string param, std::string kind, MissingError missing);

}  // namespace shoal::translate
