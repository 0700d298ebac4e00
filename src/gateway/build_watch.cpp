#include "gateway/build_watch.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

#include "a2a/routes.hpp"
#include "common/spawn.hpp"

namespace shoal::gateway {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
using cloudlet::Service;

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

BuildWatch::BuildWatch(std::string self_id,
                       cloudlet::CloudletClient& client,
                       scheduler::InFlightLedger& ledger,
                       const Clock& clock,
                       std::chrono::milliseconds period)
    : self_id_(std::move(self_id)), client_(client), ledger_(ledger), clock_(clock), period_(period) {}

void BuildWatch::AddRoutes(http::Router& router) {
    const auto& route = a2a::kBuildWatchRoute;
    router.Add(route.method, route.path, [this](http::Request& req) -> asio::awaitable<Result<http::Response>> {
        auto query = a2a::FromRequest<a2a::BuildWatchQuery>(std::move(req));
        if (!query.ok()) co_return query.error();
        auto progress = co_await Await(std::move(query->cloudlet_server_id), query->wait);
        co_return a2a::ToResponse(progress);
    });
}

void BuildWatch::Started(std::string cloudlet_server_id, scheduler::ReservationId reservation) {
    building_[std::move(cloudlet_server_id)] = reservation;
}

void BuildWatch::Ended(const std::string& id, cloudlet::BuildProgress how) {
    auto it = building_.find(id);
    if (it == building_.end()) return;
    ledger_.Release(it->second);
    building_.erase(it);
    ended_[id] = {std::move(how), clock_.Steady()};
}

void BuildWatch::Track(const cloudlet::CloudletCall& call, const http::Response& answer) {
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

asio::awaitable<cloudlet::BuildProgress> BuildWatch::Await(std::string id, std::chrono::milliseconds wait) {
    const auto deadline = clock_.Steady() + wait;
    if (!listed_) {
        listed_ = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
        listed_->expires_at(asio::steady_timer::time_point::max());
    }
    ++waiters_;
    if (!watching_) {
        watching_ = true;
        SpawnDetached(co_await asio::this_coro::executor, Loop(), "agent " + self_id_ + ": build watch failed",
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
        if (clock_.Steady() >= deadline) {
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
asio::awaitable<void> BuildWatch::Loop() {
    auto listed = listed_;
    asio::steady_timer period(co_await asio::this_coro::executor);
    while (waiters_ > 0) {
        listed->expires_at(asio::steady_timer::time_point::max());
        period.expires_after(period_);
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
            ++lists_;
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
        const auto old = clock_.Steady() - std::chrono::minutes(1);
        std::erase_if(ended_, [&](const auto& e) { return e.second.second < old; });
        listed->cancel();
    }
    watching_ = false;
}

}  // namespace shoal::gateway
