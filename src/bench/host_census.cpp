#include "bench/host_census.hpp"

#include <nlohmann/json.hpp>

#include "bench/cloud_user.hpp"
#include "bench/task_group.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using nlohmann::json;

struct HostCensus::Cloud {
    Cloud(http::Client& http, identity::PasswordCredentials c) : admin(http, std::move(c)) {}
    CloudUser admin;
    bool logged_in = false;
};

HostCensus::HostCensus(http::Client& http, std::vector<identity::PasswordCredentials> admins) : http_(http) {
    for (auto& a : admins) clouds_.push_back(std::make_unique<Cloud>(http_, std::move(a)));
}
HostCensus::~HostCensus() = default;

asio::awaitable<Result<Ok>> HostCensus::CountAt(Cloud& cloud, std::size_t index, std::map<std::string, int>& out) {
    if (!cloud.logged_in) {
        if (auto in = co_await cloud.admin.Login(); !in.ok()) co_return in.error();
        cloud.logged_in = true;
    }
    auto r = co_await cloud.admin.ComputeGet("/os-hypervisors/detail");
    if (!r.ok()) co_return r.error();
    if (r->status != 200)
        co_return MakeError(ErrorCode::kBadGateway, "GET /os-hypervisors/detail: HTTP " + std::to_string(r->status));
    auto body = r->JsonBody();
    if (!body.ok()) co_return body.error();
    for (const auto& h : body->value("hypervisors", json::array()))
        out[std::to_string(index) + "/" + h.value("hypervisor_hostname", "?")] = h.value("running_vms", 0);
    co_return Ok{};
}

asio::awaitable<Result<std::map<std::string, int>>> HostCensus::Count() {
    std::map<std::string, int> out;
    std::vector<std::string> errors;
    TaskGroup group(co_await asio::this_coro::executor);
    for (std::size_t i = 0; i < clouds_.size(); ++i) {
        auto one = [](HostCensus* self, std::size_t i, std::map<std::string, int>* out,
                      std::vector<std::string>* errors) -> asio::awaitable<void> {
            auto r = co_await self->CountAt(*self->clouds_[i], i, *out);
            if (!r.ok()) errors->push_back(r.error().message);
        };
        group.Spawn(one(this, i, &out, &errors));
    }
    co_await group.Wait();
    if (!errors.empty()) co_return MakeError(ErrorCode::kBadGateway, "census: " + errors.front());
    co_return out;
}

}  // namespace shoal::bench
