#include "agent/agent_cloudlets.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "agent/peer_sampler.hpp"
#include "http/errors.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
using cloudlet::CloudletCall;
using cloudlet::Service;

std::string ServiceName(Service s) {
    return std::string(cloudlet::ServiceType(s));
}

std::optional<Service> ServiceOf(std::string_view name) {
    for (auto s : {Service::kCompute, Service::kImage, Service::kPlacement, Service::kIdentity})
        if (cloudlet::ServiceType(s) == name) return s;
    return std::nullopt;
}

scheduler::InFlightLedger::Time SteadyNow() {
    return std::chrono::duration_cast<scheduler::InFlightLedger::Time>(
        std::chrono::steady_clock::now().time_since_epoch());
}

// "/servers/<id>" (with or without a query) -> "<id>"; "" for anything else.
std::string ServerIdOf(std::string_view path) {
    path = path.substr(0, path.find('?'));
    constexpr std::string_view prefix = "/servers/";
    if (path.rfind(prefix, 0) != 0) return {};
    auto rest = path.substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos || rest == "detail") return {};
    return std::string(rest);
}

}  // namespace

AgentCloudlets::AgentCloudlets(std::string self_id,
                               cloudlet::CloudletClient& client,
                               a2a::PeerClient& peers,
                               PeerSampler& sampler,
                               scheduler::InFlightLedger& ledger)
    : self_id_(std::move(self_id)),
      client_(client),
      peers_(peers),
      sampler_(sampler),
      ledger_(ledger),
      rng_(std::random_device{}()) {}

void AgentCloudlets::AddRoutes(http::Router& router) {
    http::RouteOptions big;  // image data on its way to or from the cloudlet
    big.max_body_bytes = std::size_t{8} << 30;
    router.Add(
        http::Method::kPost, "/a2a/v1/cloudlet",
        [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
            auto tenant = req.Query("tenant");
            auto service = ServiceOf(req.Query("service").value_or(""));
            auto method = http::ParseMethod(req.Query("method").value_or(""));
            auto path = req.Query("path");
            if (!tenant || tenant->empty() || !service || method == http::Method::kUnknown || !path)
                co_return MakeError(ErrorCode::kBadRequest, "cloudlet call needs tenant, service, method, path");
            CloudletCall call(*service, method, std::string(*path));
            call.body = std::move(req.body);
            call.content_type = std::string(req.headers.Get("Content-Type").value_or("application/json"));
            call.accept = std::string(req.headers.Get("Accept").value_or("application/json"));
            call.microversion = std::string(req.Query("mv").value_or(""));
            if (auto r = req.Query("reserve")) {
                std::int64_t mb = 0;
                std::from_chars(r->data(), r->data() + r->size(), mb);
                call.reserve_ram_mb = mb;
            }
            if (auto t = req.Query("timeout_ms")) {
                std::int64_t ms = 0;
                std::from_chars(t->data(), t->data() + t->size(), ms);
                if (ms > 0) call.timeout = std::chrono::milliseconds(ms);
            }
            std::string who(*tenant);
            co_return co_await Local(std::move(who), std::move(call));
        },
        big);
    // The scheduler's question (paper IV-G): this cloudlet's memory load, builds in flight
    // included, so that concurrent placements do not all pick the same empty cloudlet.
    router.Add(http::Method::kGet, "/a2a/v1/load", [this](http::Request&) -> asio::awaitable<Result<http::Response>> {
        auto load = co_await LocalLoad();
        if (!load.ok()) co_return load.error();
        co_return http::Response::Json(200, json{{"load", scheduler::ToJson(*load)}});
    });
}

asio::awaitable<Result<scheduler::CloudletLoad>> AgentCloudlets::LocalLoad() {
    auto report = co_await client_.MemoryLoad();
    if (!report.ok())
        co_return MakeError(ErrorCode::kUnavailable, "cloudlet of " + self_id_ + ": " + report.error().message);
    scheduler::CloudletLoad raw;
    raw.cloudlet = self_id_;
    raw.free_ram_mb = report->free_ram_mb_max;
    raw.total_free_ram_mb = report->free_ram_mb_total;
    raw.total_ram_mb = report->ram_mb_total;
    ledger_.Expire(SteadyNow());
    co_return ledger_.Apply(raw);
}

asio::awaitable<Result<http::Response>> AgentCloudlets::Call(std::string cloudlet,
                                                             std::string tenant,
                                                             CloudletCall call) {
    if (cloudlet == self_id_) co_return co_await Local(std::move(tenant), std::move(call));
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    http::QueryParams q = {{"tenant", tenant},
                           {"service", ServiceName(call.service)},
                           {"method", std::string(http::MethodName(call.method))},
                           {"path", call.path}};
    if (!call.microversion.empty()) q.emplace_back("mv", call.microversion);
    if (call.reserve_ram_mb > 0) q.emplace_back("reserve", std::to_string(call.reserve_ram_mb));
    if (call.timeout) q.emplace_back("timeout_ms", std::to_string(call.timeout->count()));
    http::Request req;
    req.method = http::Method::kPost;
    req.SetTarget("/a2a/v1/cloudlet?" + http::EncodeQuery(q));
    req.body = std::move(call.body);
    req.headers.Set("Content-Type", call.content_type);
    req.headers.Set("Accept", call.accept);
    // The remote agent has its own timeout to the cloudlet; allow for the hop.
    const auto timeout = call.timeout.value_or(std::chrono::milliseconds(60'000)) + std::chrono::milliseconds(5'000);
    co_return co_await peers_.Send(*address, std::move(req), timeout);
}

asio::awaitable<Result<http::Response>> AgentCloudlets::Local(std::string tenant, CloudletCall call) {
    auto account = co_await client_.EnsureTenant(tenant, tenant);
    if (!account.ok()) co_return account.error();
    cloudlet::CallOptions options;
    options.microversion = call.microversion;
    options.timeout = call.timeout;
    if (!call.body.empty()) {
        options.raw_body = call.body;
        options.content_type = call.content_type;
    }
    options.headers.Set("Accept", call.accept);
    std::optional<scheduler::ReservationId> reservation;
    if (call.reserve_ram_mb > 0 && call.method == http::Method::kPost) {
        auto r = ledger_.Reserve(self_id_, call.reserve_ram_mb, SteadyNow());
        if (r.ok()) reservation = *r;
    }
    auto answer = co_await client_.Call(call.service, call.method, call.path, nullptr, cloudlet::As::Tenant(tenant),
                                        std::move(options));
    if (reservation) {
        std::string id;
        if (answer.ok() && answer->status == 202) {
            auto body = answer->JsonBody();
            if (body.ok() && body->contains("server") && (*body)["server"].contains("id"))
                id = (*body)["server"]["id"].get<std::string>();
        }
        if (id.empty())
            ledger_.Release(*reservation);
        else
            building_[id] = *reservation;
    }
    if (!answer.ok()) co_return answer.error();
    Track(call, *answer);
    answer->headers.Set(std::string(cloudlet::kCloudletProjectHeader), account->project_id);
    co_return answer;
}

void AgentCloudlets::Track(const CloudletCall& call, const http::Response& answer) {
    if (building_.empty() || call.service != Service::kCompute) return;
    const std::string id = ServerIdOf(call.path);
    if (id.empty()) return;
    auto it = building_.find(id);
    if (it == building_.end()) return;
    bool done = call.method == http::Method::kDelete || answer.status == 404;
    if (!done && call.method == http::Method::kGet && answer.status == 200) {
        auto body = answer.JsonBody();
        if (body.ok() && body->contains("server")) {
            const std::string status = (*body)["server"].value("status", "");
            done = status == "ACTIVE" || status == "ERROR";
        }
    }
    if (!done) return;
    ledger_.Release(it->second);
    building_.erase(it);
}

asio::awaitable<Result<scheduler::CloudletLoad>> AgentCloudlets::Load(std::string cloudlet) {
    if (cloudlet == self_id_) co_return co_await LocalLoad();
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    auto answer =
        co_await peers_.Call(*address, http::Method::kGet, "/a2a/v1/load", nullptr, std::chrono::milliseconds(5'000));
    if (!answer.ok()) co_return answer.error();
    if (!answer->contains("load")) co_return MakeError(ErrorCode::kBadGateway, "load answer without load");
    co_return scheduler::CloudletLoadFromJson((*answer)["load"]);
}

std::vector<std::string> AgentCloudlets::Candidates(std::size_t k) {
    const std::size_t n = sampler_.Members().Members().size();  // self included
    std::vector<std::string> out;
    if (k == 0) return out;
    // Self is one of n members: include it with probability k/n, the rest from peer sampling.
    const bool with_self = n <= k || rng_.Uniform(std::max<std::size_t>(n, 1)) < k;
    if (with_self) out.push_back(self_id_);
    for (const auto& p : sampler_.Sample(with_self ? k - 1 : k)) out.push_back(p.id.str());
    rng_.Shuffle(out.begin(), out.end());
    return out;
}

Result<std::string> AgentCloudlets::AddressOf(const std::string& agent_id) const {
    for (const auto& m : sampler_.Members().Members())
        if (m.id.str() == agent_id && !m.address.empty()) return m.address;
    return MakeError(ErrorCode::kUnavailable, "agent " + agent_id + " is not a live member of the shoal");
}

}  // namespace shoal::agent
