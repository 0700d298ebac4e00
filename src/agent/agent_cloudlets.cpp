#include "agent/agent_cloudlets.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "overlay/node/peer_sampler.hpp"
#include "common/spawn.hpp"
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
                               scheduler::InFlightLedger& ledger,
                               std::chrono::milliseconds watch_period,
                               std::chrono::milliseconds memory_ttl)
    : self_id_(std::move(self_id)),
      client_(client),
      peers_(peers),
      sampler_(sampler),
      ledger_(ledger),
      watch_period_(watch_period),
      memory_ttl_(memory_ttl),
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
            if (auto r = req.Query("reservation")) std::from_chars(r->data(), r->data() + r->size(), call.reservation);
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
    // A home waiting for a build here (long poll): answered when the build ends or after wait_ms.
    router.Add(http::Method::kGet, "/a2a/v1/builds/{id}",
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   std::int64_t ms = 0;
                   if (auto w = req.Query("wait_ms")) std::from_chars(w->data(), w->data() + w->size(), ms);
                   ms = std::clamp<std::int64_t>(ms, 0, 30'000);
                   auto progress = co_await AwaitLocalBuild(req.Param("id"), std::chrono::milliseconds(ms));
                   co_return http::Response::Json(200, json{{"status", progress.status}, {"fault", progress.fault}});
               });
    router.Add(http::Method::kPost, "/a2a/v1/load",
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   std::int64_t mb = 0;
                   if (auto v = req.Query("hold_ram_mb")) std::from_chars(v->data(), v->data() + v->size(), mb);
                   if (mb <= 0) co_return MakeError(ErrorCode::kBadRequest, "hold_ram_mb must be a positive number");
                   auto held = co_await LoadHolding(self_id_, mb);
                   if (!held.ok()) co_return held.error();
                   co_return http::Response::Json(
                       200, json{{"load", scheduler::ToJson(held->load)}, {"reservation", held->reservation}});
               });
    router.Add(http::Method::kDelete, "/a2a/v1/reservations/{id}",
               [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
                   std::uint64_t id = 0;
                   const auto& v = req.Param("id");
                   std::from_chars(v.data(), v.data() + v.size(), id);
                   co_await Unreserve(self_id_, id);
                   co_return http::Response::Empty(204);
               });
    router.Add(http::Method::kGet, "/a2a/v1/load", [this](http::Request&) -> asio::awaitable<Result<http::Response>> {
        auto load = co_await LocalLoad();
        if (!load.ok()) co_return load.error();
        co_return http::Response::Json(200, json{{"load", scheduler::ToJson(*load)}});
    });
}

asio::awaitable<Result<scheduler::CloudletLoad>> AgentCloudlets::LocalLoad() {
    const auto now = std::chrono::steady_clock::now();
    Result<cloudlet::MemoryLoadReport> report = MakeError(ErrorCode::kUnavailable, "no report");
    if (memory_ && now - memory_->second < memory_ttl_) {
        report = memory_->first;
    } else {
        report = co_await memory_flight_.Do("memory", [this]() { return client_.MemoryLoad(); });
        if (report.ok()) memory_.emplace(*report, now);
    }
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
    if (call.reservation != 0) q.emplace_back("reservation", std::to_string(call.reservation));
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
    if (call.reservation != 0 && call.method == http::Method::kPost) {
        reservation = call.reservation;  // made at decision time: this create takes it over
    } else if (call.reserve_ram_mb > 0 && call.method == http::Method::kPost) {
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

void AgentCloudlets::Ended(const std::string& id, cloudlet::BuildProgress how) {
    auto it = building_.find(id);
    if (it == building_.end()) return;
    ledger_.Release(it->second);
    building_.erase(it);
    ended_[id] = {std::move(how), std::chrono::steady_clock::now()};
}

asio::awaitable<Result<AgentCloudlets::HeldLoad>> AgentCloudlets::LoadHolding(std::string cloudlet,
                                                                              std::int64_t ram_mb) {
    if (cloudlet == self_id_) {
        auto load = co_await LocalLoad();
        if (!load.ok()) co_return load.error();
        // After the load was read: this hold is not in it, every earlier one is.
        auto id = ledger_.Reserve(self_id_, ram_mb, SteadyNow());
        if (!id.ok()) co_return id.error();
        HeldLoad held;
        held.load = std::move(load).value();
        held.reservation = *id;
        co_return held;
    }
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    auto answer =
        co_await peers_.Call(*address, http::Method::kPost, "/a2a/v1/load?hold_ram_mb=" + std::to_string(ram_mb),
                             nullptr, std::chrono::milliseconds(5'000));
    if (!answer.ok()) co_return answer.error();
    if (!answer->contains("load")) co_return MakeError(ErrorCode::kBadGateway, "load answer without load");
    auto load = scheduler::CloudletLoadFromJson((*answer)["load"]);
    if (!load.ok()) co_return load.error();
    HeldLoad held;
    held.load = std::move(load).value();
    held.reservation = answer->value("reservation", std::uint64_t{0});
    co_return held;
}

asio::awaitable<void> AgentCloudlets::Unreserve(std::string cloudlet, std::uint64_t reservation) {
    if (reservation == 0) co_return;
    if (cloudlet == self_id_) {
        ledger_.Release(reservation);
        co_return;
    }
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return;  // its agent is gone; the reservation went with it
    (void)co_await peers_.Call(*address, http::Method::kDelete, "/a2a/v1/reservations/" + std::to_string(reservation),
                               nullptr, std::chrono::milliseconds(5'000));
}

asio::awaitable<Result<cloudlet::BuildProgress>> AgentCloudlets::AwaitBuild(std::string cloudlet,
                                                                            std::string cloudlet_server_id,
                                                                            std::chrono::milliseconds wait) {
    if (cloudlet == self_id_) co_return co_await AwaitLocalBuild(std::move(cloudlet_server_id), wait);
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    auto answer = co_await peers_.Call(
        *address, http::Method::kGet,
        "/a2a/v1/builds/" + http::UrlEncode(cloudlet_server_id) + "?wait_ms=" + std::to_string(wait.count()), nullptr,
        wait + std::chrono::milliseconds(5'000));
    if (!answer.ok()) co_return answer.error();
    co_return cloudlet::BuildProgress{answer->value("status", ""), answer->value("fault", "")};
}

asio::awaitable<cloudlet::BuildProgress> AgentCloudlets::AwaitLocalBuild(std::string id,
                                                                         std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    if (!listed_) {
        listed_ = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
        listed_->expires_at(asio::steady_timer::time_point::max());
    }
    ++waiters_;
    if (!watching_) {
        watching_ = true;
        SpawnDetached(co_await asio::this_coro::executor, Watch(), "agent " + self_id_ + ": build watch failed",
                      [this] { watching_ = false; });
    }
    cloudlet::BuildProgress progress;
    auto listed = listed_;
    while (true) {
        if (auto e = ended_.find(id); e != ended_.end()) {
            progress = e->second.first;
            break;
        }
        if (!building_.count(id)) break;  // not ours to watch: ""
        if (std::chrono::steady_clock::now() >= deadline) {
            progress.status = "BUILD";
            break;
        }
        boost::system::error_code ec;
        co_await listed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    --waiters_;
    co_return progress;
}

// One admin list of the cloudlet's servers per period while anybody waits, for every build.
asio::awaitable<void> AgentCloudlets::Watch() {
    auto listed = listed_;
    asio::steady_timer period(co_await asio::this_coro::executor);
    while (waiters_ > 0) {
        listed->expires_at(asio::steady_timer::time_point::max());
        period.expires_after(watch_period_);
        boost::system::error_code ec;
        co_await period.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!building_.empty()) {
            // Only builds known before the list was asked for can be judged by it.
            std::vector<std::string> ids;
            for (const auto& [id, r] : building_) ids.push_back(id);
            cloudlet::CallOptions options;
            options.microversion = "2.1";
            auto list = co_await client_.CallJson(Service::kCompute, http::Method::kGet,
                                                  "/servers/detail?all_tenants=1&limit=1000", nullptr,
                                                  cloudlet::As::Admin(), std::move(options));
            ++watch_lists_;
            if (list.ok()) {
                std::map<std::string, cloudlet::BuildProgress> seen;
                for (const auto& s : list->value("servers", json::array())) {
                    cloudlet::BuildProgress p;
                    p.status = s.value("status", "");
                    if (s.contains("fault") && s["fault"].is_object()) p.fault = s["fault"].value("message", "");
                    seen[s.value("id", "")] = std::move(p);
                }
                const bool complete = list->value("servers", json::array()).size() < 1000;
                for (const auto& id : ids) {
                    auto it = seen.find(id);
                    // A build missing from a full list was deleted: it has ended too.
                    if (it == seen.end() && complete)
                        Ended(id, cloudlet::BuildProgress{"DELETED", ""});
                    else if (it != seen.end() && (it->second.status == "ACTIVE" || it->second.status == "ERROR"))
                        Ended(id, it->second);
                }
            }
        }
        // Ended builds are kept a minute for homes that ask late.
        const auto old = std::chrono::steady_clock::now() - std::chrono::minutes(1);
        std::erase_if(ended_, [&](const auto& e) { return e.second.second < old; });
        listed->cancel();
    }
    watching_ = false;
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
    // Drawn from the live member list, not from the Cyclon view: the view changes by one
    // shuffle per period, so a burst of decisions at one home would all draw from the same c
    // peers (measured: 2 of 64 cloudlets never chosen for 768 servers). The member list gives
    // independent, uniform samples; self is one member among n like any other.
    std::vector<std::string> members;
    for (const auto& m : sampler_.Members().Members())
        if (m.id.str() == self_id_ || !m.address.empty()) members.push_back(m.id.str());
    if (std::find(members.begin(), members.end(), self_id_) == members.end()) members.push_back(self_id_);
    // A partial Fisher-Yates shuffle: the first k are a uniform sample without replacement.
    const std::size_t take = std::min(k, members.size());
    for (std::size_t i = 0; i < take; ++i) {
        const std::size_t j = i + rng_.Uniform(members.size() - i);
        std::swap(members[i], members[j]);
    }
    members.resize(take);
    return members;
}

Result<std::string> AgentCloudlets::AddressOf(const std::string& agent_id) const {
    for (const auto& m : sampler_.Members().Members())
        if (m.id.str() == agent_id && !m.address.empty()) return m.address;
    return MakeError(ErrorCode::kUnavailable, "agent " + agent_id + " is not a live member of the shoal");
}

}  // namespace shoal::agent
