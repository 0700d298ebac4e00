#include "translate/owned_resource.hpp"

namespace shoal::translate {

boost::asio::awaitable<Result<OwnedResource>> FindOwned(
    state::TenantState& state, const http::Request& req, std::string param, std::string kind, MissingError missing) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    const std::string& id = req.Param(param);  // the request outlives the handler
    auto rec = co_await state.GetResource(who->tenant, id);
    if (!rec.ok() || rec->kind != kind) co_return missing(id);
    OwnedResource owned;
    owned.caller = std::move(who).value();
    owned.record = std::move(rec).value();
    co_return owned;
}

}  // namespace shoal::translate
