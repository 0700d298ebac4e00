#include "compute/nova_proxy.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>

#include "common/async_mutex.hpp"
#include "common/ids.hpp"
#include "common/secure_random.hpp"
#include "common/spawn.hpp"
#include "common/time_format.hpp"
#include "compute/server_create.hpp"
#include "http/errors.hpp"
#include "identity/caller.hpp"
#include "openstack/microversion.hpp"
#include "translate/list_runner.hpp"
#include "translate/owned_resource.hpp"

namespace shoal::compute {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
using cloudlet::CloudletCall;
using cloudlet::Service;

Error NoServer(const std::string& id) {
    return MakeError(ErrorCode::kNotFound, "Instance " + id + " could not be found.");
}

// The request's microversion minor (2.<minor>), which the route wrapper (AddRoutes) parsed once and
// put in the request's context before the handler ran.
int MicroversionOr1(const http::Request& req) {
    const auto* v = req.context.Get<openstack::NovaVersion>();
    return v ? v->minor : 1;
}

std::string MvString(int minor) {
    return "2." + std::to_string(minor);
}

// Fields that only the home agent reads (the server's placement story) live in record.extra.
json& Extra(state::ResourceRecord& r) {
    if (!r.extra.is_object()) r.extra = json::object();
    return r.extra;
}

}  // namespace

NovaProxy::NovaProxy(asio::any_io_executor executor,
                     cloudlet::CloudletGateway& gateway,
                     state::TenantState& state,
                     EnsureImage ensure_image,
                     NovaProxyOptions options)
    : executor_(std::move(executor)),
      gateway_(gateway),
      state_(state),
      ensure_image_(std::move(ensure_image)),
      options_(options),
      rng_(options.seed != 0 ? options.seed : SecureRandomSeed()) {}

NovaProxy::~NovaProxy() = default;

void NovaProxy::AddRoutes(http::Router& router) {
    using M = http::Method;
    // Every answer carries the microversion it was served at, and an unsupported one is 406.
    auto bind = [this](auto fn) {
        return [this, fn](http::Request& r) -> asio::awaitable<Result<http::Response>> {
            auto mv = openstack::NovaMicroversion(r.headers, kMaxMicroversion);
            if (!mv.ok()) co_return mv.error();
            r.context.Set(openstack::NovaVersion{*mv});
            auto answer = co_await (this->*fn)(r);
            if (!answer.ok()) co_return answer;
            openstack::SetNovaVersionHeaders(*answer, *mv);
            co_return answer;
        };
    };
    router.SetErrorStyle("/compute", http::ErrorStyle::kNova);
    router.Add(M::kGet, "/compute", bind(&NovaProxy::Versions));
    router.Add(M::kGet, "/compute/v2.1", bind(&NovaProxy::Versions));
    router.Add(M::kGet, "/compute/v2.1/servers", bind(&NovaProxy::List));
    router.Add(M::kGet, "/compute/v2.1/servers/detail", bind(&NovaProxy::List));
    router.Add(M::kPost, "/compute/v2.1/servers", bind(&NovaProxy::Create));
    router.Add(M::kGet, "/compute/v2.1/servers/{server_id}", bind(&NovaProxy::Show));
    router.Add(M::kPut, "/compute/v2.1/servers/{server_id}", bind(&NovaProxy::Update));
    router.Add(M::kDelete, "/compute/v2.1/servers/{server_id}", bind(&NovaProxy::Remove));
    router.Add(M::kPost, "/compute/v2.1/servers/{server_id}/action", bind(&NovaProxy::Action));
    router.Add(M::kGet, "/compute/v2.1/flavors", bind(&NovaProxy::Flavors));
    router.Add(M::kGet, "/compute/v2.1/flavors/detail", bind(&NovaProxy::Flavors));
    router.Add(M::kGet, "/compute/v2.1/flavors/{flavor_id}", bind(&NovaProxy::ShowFlavor));
    router.Add(M::kGet, "/compute/v2.1/flavors/{flavor_id}/os-extra_specs", bind(&NovaProxy::FlavorExtraSpecs));
    router.Add(M::kGet, "/compute/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", bind(&NovaProxy::FlavorExtraSpecs));
}

asio::awaitable<Result<http::Response>> NovaProxy::Versions(http::Request& req) {
    std::string host(req.headers.Get("Host").value_or("localhost"));
    const std::string base = "http://" + host + "/compute/v2.1/";
    json v = {{"id", "v2.1"},
              {"status", "CURRENT"},
              {"version", MvString(kMaxMicroversion)},
              {"min_version", "2.1"},
              {"updated", "2013-07-23T11:33:21Z"},
              {"links", json::array({{{"rel", "self"}, {"href", base}}})}};
    if (req.path == "/compute" || req.path == "/compute/")
        co_return http::Response::Json(200, json{{"versions", json::array({v})}});
    v["links"].push_back({{"rel", "describedby"}, {"type", "text/html"}, {"href", "http://docs.openstack.org/"}});
    v["media-types"] =
        json::array({{{"base", "application/json"}, {"type", "application/vnd.openstack.compute+json;version=2.1"}}});
    co_return http::Response::Json(200, json{{"version", v}});
}

// ---- flavors --------------------------------------------------------------------------------

asio::awaitable<Result<std::vector<NovaProxy::Flavor>>> NovaProxy::FlavorsAt(std::string cloudlet, std::string tenant) {
    auto it = flavors_.find(cloudlet);
    if (it != flavors_.end() && options_.clock->Steady() - it->second.fetched < options_.flavor_cache)
        co_return it->second.flavors;
    CloudletCall call(Service::kCompute, http::Method::kGet, "/flavors/detail");
    call.microversion = "2.1";
    auto answer = co_await gateway_.Call(cloudlet, tenant, call);
    if (!answer.ok()) co_return answer.error();
    if (answer->status != 200)
        co_return MakeError(ErrorCode::kBadGateway, "flavors of " + cloudlet + ": " + http::ErrorMessageOf(*answer));
    auto body = answer->JsonBody();
    if (!body.ok() || !body->contains("flavors")) co_return MakeError(ErrorCode::kBadGateway, "flavors of " + cloudlet);
    FlavorList list;
    list.fetched = options_.clock->Steady();
    for (const auto& f : (*body)["flavors"]) {
        if (!f.is_object() || !f.contains("id") || !f.contains("name")) continue;
        Flavor x;
        x.id = f["id"].is_string() ? f["id"].get<std::string>() : f["id"].dump();
        x.name = f["name"].get<std::string>();
        x.ram_mb = f.value("ram", std::int64_t{0});
        x.body = f;
        list.flavors.push_back(std::move(x));
    }
    flavors_[cloudlet] = list;
    co_return list.flavors;
}

asio::awaitable<Result<NovaProxy::Flavor>> NovaProxy::FindFlavor(std::string cloudlet,
                                                                 std::string tenant,
                                                                 std::string ref) {
    auto list = co_await FlavorsAt(cloudlet, tenant);
    if (!list.ok()) co_return list.error();
    for (const auto& f : *list)
        if (f.name == ref) co_return f;
    for (const auto& f : *list)
        if (f.id == ref) co_return f;
    co_return MakeError(ErrorCode::kNotFound, "Flavor " + ref + " could not be found.");
}

asio::awaitable<void> NovaProxy::AddFlavors(translate::MemoryIdMap& map, std::string cloudlet, std::string tenant) {
    auto list = co_await FlavorsAt(cloudlet, tenant);
    if (!list.ok()) co_return;
    for (const auto& f : *list) map.Add(translate::Kind::kFlavor, f.name, cloudlet, f.id);
}

asio::awaitable<Result<http::Response>> NovaProxy::Flavors(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    const bool detail = req.path.ends_with("/detail") || req.path.ends_with("/detail/");
    const std::string home = gateway_.SelfId();
    CloudletCall call(Service::kCompute, http::Method::kGet, detail ? "/flavors/detail" : "/flavors");
    http::QueryParams q;
    for (const auto& [k, v] : req.query)
        if (k != "marker") q.emplace_back(k, v);  // markers are names here, ids there
    if (!q.empty()) call.path += "?" + http::EncodeQuery(q);
    call.microversion = MvString(MicroversionOr1(req));
    auto answer = co_await gateway_.Call(home, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    if (answer->status != 200) co_return cloudlet::RelayAnswer(*answer);
    auto body = answer->JsonBody();
    if (!body.ok()) co_return MakeError(ErrorCode::kBadGateway, "flavor list");
    translate::MemoryIdMap map;
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    json out = json::array();
    bool past_marker = !req.Query("marker");
    for (auto f : (*body)["flavors"]) {
        const std::string name = f.value("name", "");
        if (!past_marker) {
            past_marker = name == *req.Query("marker");
            continue;
        }
        f["id"] = name;
        f["links"] = t.Links("flavors", name);
        out.push_back(std::move(f));
    }
    co_return http::Response::Json(200, json{{"flavors", out}});
}

asio::awaitable<Result<http::Response>> NovaProxy::ShowFlavor(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    auto f = co_await FindFlavor(gateway_.SelfId(), who->tenant, req.Param("flavor_id"));
    if (!f.ok()) co_return f.error();
    translate::MemoryIdMap map;
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    json body = f->body;
    body["id"] = f->name;
    body["links"] = t.Links("flavors", f->name);
    co_return http::Response::Json(200, json{{"flavor", body}});
}

asio::awaitable<Result<http::Response>> NovaProxy::FlavorExtraSpecs(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    const std::string home = gateway_.SelfId();
    auto f = co_await FindFlavor(home, who->tenant, req.Param("flavor_id"));
    if (!f.ok()) co_return f.error();
    std::string path = "/flavors/" + http::UrlEncode(f->id) + "/os-extra_specs";
    if (!req.Param("key").empty()) path += "/" + http::UrlEncode(req.Param("key"));
    CloudletCall call(Service::kCompute, http::Method::kGet, path);
    call.microversion = MvString(MicroversionOr1(req));
    auto answer = co_await gateway_.Call(home, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    co_return cloudlet::RelayAnswer(*answer);
}

// ---- create and placement -----------------------------------------------------------------

asio::awaitable<Result<http::Response>> NovaProxy::Create(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    const int mv = MicroversionOr1(req);
    auto parsed = req.JsonBody();
    if (!parsed.ok())
        co_return MakeError(ErrorCode::kBadRequest, "Invalid input for field/attribute server. Value: missing.");
    auto create = ParseServerCreate(*parsed, mv);
    if (!create.ok()) co_return create.error();
    const json& server = create->server;
    const std::string& flavor_ref = create->flavor_ref;
    auto flavor = co_await FindFlavor(gateway_.SelfId(), who->tenant, flavor_ref);
    if (!flavor.ok()) {
        if (flavor.error().code == ErrorCode::kNotFound)
            co_return MakeError(ErrorCode::kBadRequest, "Flavor " + flavor_ref + " could not be found.");
        co_return flavor.error();
    }
    const std::string& image = create->image;
    auto image_rec = co_await state_.GetResource(who->tenant, image);
    if (!image_rec.ok() || image_rec->kind != "image")
        co_return MakeError(ErrorCode::kBadRequest, "Image " + image + " could not be found.");
    const bool reservation = create->return_reservation_id;
    const std::int64_t max_count = create->max_count;

    const std::string reservation_id = "r-" + NewUuid().substr(0, 8);
    std::string first_id;
    const std::string& name = create->name;
    for (std::int64_t i = 0; i < max_count; ++i) {
        state::ResourceRecord rec;
        rec.id = NewUuid();
        rec.tenant = who->tenant;
        rec.kind = "server";
        rec.status = "BUILD";
        rec.created_at = rec.updated_at = UnixMillis(options_.clock->System());
        json one = server;
        if (max_count > 1) one["name"] = name + "-" + std::to_string(i + 1);
        rec.extra = json{{"request", one},
                         {"hints", create->hints},
                         {"microversion", mv},
                         {"flavor", flavor->name},
                         {"flavor_ram_mb", flavor->ram_mb},
                         {"flavor_body", flavor->body},
                         {"image", image},
                         {"user_id", who->user_id},
                         {"created", FormatIso8601(options_.clock->System())},
                         {"reservation_id", reservation_id},
                         {"placement", "scheduling"}};
        auto stored = co_await state_.CreateResource(rec);
        if (!stored.ok()) co_return stored.error();
        if (first_id.empty()) first_id = rec.id;
        ++stats_.creates;
        SpawnDetached(executor_, Place(who->tenant, rec.id),
                      "server " + rec.id + ": placement failed with an exception");
    }
    if (reservation) co_return http::Response::Json(202, json{{"reservation_id", reservation_id}});
    translate::MemoryIdMap map;
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    json answer = {{"id", first_id},
                   {"links", t.Links("servers", first_id)},
                   {"OS-DCF:diskConfig", "MANUAL"},
                   {"security_groups", json::array({{{"name", "default"}}})},
                   {"adminPass", SecureRandomString(12)}};
    auto r = http::Response::Json(202, json{{"server", answer}});
    r.headers.Set("Location", t.SelfLink("servers", first_id));
    co_return r;
}

asio::awaitable<void> NovaProxy::Place(std::string tenant, std::string id) {
    auto rec = co_await state_.GetResource(tenant, id);
    if (!rec.ok()) co_return;
    const json request = rec->extra["request"];
    const int mv = rec->extra.value("microversion", 1);
    const std::string image = rec->extra.value("image", "");
    const std::string flavor_name = rec->extra.value("flavor", "");
    scheduler::FlavorNeed need{flavor_name, rec->extra.value("flavor_ram_mb", std::int64_t{0})};
    scheduler::RetryPolicy policy;
    policy.max_build_attempts = options_.max_build_attempts;
    policy.max_samplings = options_.max_build_attempts * 2 + 2;
    scheduler::Plan plan(need, policy);
    asio::steady_timer timer(executor_);

    // Writes the record; false when the user deleted the server meanwhile.
    auto save = [this](state::ResourceRecord& r) -> asio::awaitable<bool> {
        r.updated_at = UnixMillis(options_.clock->System());
        auto put = co_await state_.PutResource(r);
        if (put.ok()) {
            r.revision = put->revision;
            co_return true;
        }
        co_return false;
    };
    auto fail = [&](std::string message) -> asio::awaitable<void> {
        ++stats_.placement_failures;
        rec->status = "ERROR";
        Extra(*rec)["placement"] = "failed";
        Extra(*rec)["fault"] =
            json{{"code", 500}, {"message", message}, {"created", FormatIso8601(options_.clock->System())}};
        spdlog::warn("server {} of {}: {}", id, tenant, message);
        co_await save(*rec);
    };

    while (true) {
        if (plan.Exhausted()) {
            std::string why = "No valid host was found. ";
            co_await fail(why + "Exceeded maximum number of retries.");
            co_return;
        }
        // One decision at a time at this home: d candidates, their loads, the better one, and a
        // hold at it, before the next decision asks for loads. Concurrent decisions of one home
        // saw each other's choices late (docs/benchmarks.md, "What limits the balance").
        auto turn = co_await decision_turn_.Lock();
        auto names = gateway_.Candidates(plan.SampleSize());
        std::vector<scheduler::CloudletLoad> loads;
        std::vector<TimePoint> asked;  // when each load was asked for
        for (const auto& n : names) {
            if (plan.Excludes(n)) continue;
            const auto when = options_.clock->Steady();
            auto load = co_await gateway_.Load(n);
            if (!load.ok()) {
                spdlog::info("server {} of {}: no load from {}: {}", id, tenant, n, load.error().message);
                continue;
            }
            loads.push_back(std::move(load).value());
            asked.push_back(when);
        }
        // This agent's decisions that a load cannot include, added after the last co_await so
        // that the choice and its reservation below are one step.
        for (std::size_t i = 0; i < loads.size(); ++i) AddUnreported(loads[i], asked[i]);
        auto pick = plan.Next(loads, rng_);
        if (!pick.ok()) {
            { auto done = std::move(turn); }
            if (plan.Exhausted()) {
                co_await fail(pick.error().message);
                co_return;
            }
            timer.expires_after(options_.poll);
            co_await timer.async_wait(asio::use_awaitable);
            continue;
        }
        const std::string target = loads[*pick].cloudlet;
        const std::uint64_t decision = Decide(target, need.ram_mb);
        // Held at the chosen cloudlet from now on, through the image copy (seconds when the
        // cloudlet imports the image first); the create takes the hold over.
        auto held = co_await gateway_.LoadHolding(target, need.ram_mb);
        { auto done = std::move(turn); }
        const std::uint64_t reservation = held.ok() ? held->reservation : 0;
        if (reservation != 0) Delivered(decision, true);

        std::string failure;
        auto copy = co_await ensure_image_(tenant, image, target);
        auto flavor = co_await FindFlavor(target, tenant, flavor_name);
        std::string cloudlet_id;
        Result<json> body = MakeError(ErrorCode::kBadRequest, "no create body");
        if (copy.ok() && flavor.ok()) {
            CloudletCreate where{tenant, target, image, *copy, flavor_name, flavor->id, {}};
            const json hints = rec->extra.value("hints", json());
            if (HintsNameServers(hints)) {
                auto servers = co_await state_.ListResources(tenant, "server");
                if (servers.ok())
                    for (const auto& s : *servers)
                        if (!s.cloudlet.empty())
                            where.servers.push_back({s.id, translate::CloudletRef{s.cloudlet, s.cloudlet_id}});
            }
            body = CloudletCreateBody(request, hints, where);
        }
        if (!copy.ok()) {
            failure = "image " + image + " unavailable at " + target + ": " + copy.error().message;
        } else if (!flavor.ok()) {
            failure = "flavor " + flavor_name + " unavailable at " + target + ": " + flavor.error().message;
        } else if (!body.ok()) {
            failure = body.error().message;  // a same_host server elsewhere: another cloudlet may hold it
        } else {
            CloudletCall call(Service::kCompute, http::Method::kPost, "/servers");
            call.body = http::DumpJson(*body);
            call.microversion = MvString(mv);
            call.reserve_ram_mb = need.ram_mb;
            call.reservation = reservation;
            ++stats_.builds;
            auto answer = co_await gateway_.Call(target, tenant, call);
            if (!answer.ok()) {
                failure = answer.error().message;
            } else if (answer->status == 400) {
                Delivered(decision, false);
                co_await fail(http::ErrorMessageOf(*answer));  // the request itself is wrong: no retry
                co_return;
            } else if (answer->status != 202) {
                failure = "create answered " + std::to_string(answer->status) + ": " + http::ErrorMessageOf(*answer);
            } else {
                auto b = answer->JsonBody();
                if (b.ok() && b->contains("server") && (*b)["server"].contains("id"))
                    cloudlet_id = (*b)["server"]["id"].get<std::string>();
                else
                    failure = "create answered without a server id";
                projects_[target + "/" + tenant] = cloudlet::CloudletProjectOf(*answer);
            }
        }
        if (reservation == 0) Delivered(decision, !cloudlet_id.empty());
        // Not taken over by a create (the copy or the flavor failed, or the agent was unreachable).
        if (cloudlet_id.empty()) co_await gateway_.Unreserve(target, reservation);

        if (!cloudlet_id.empty()) {
            rec->cloudlet = target;
            rec->cloudlet_id = cloudlet_id;
            Extra(*rec)["placement"] = "building";
            if (!co_await save(*rec)) {  // deleted while we were building: undo
                Undo(target, tenant, cloudlet_id);
                co_return;
            }
            // Watch the build until it ends.
            const auto deadline = options_.clock->Steady() + options_.build_timeout;
            while (failure.empty()) {
                // The cloudlet's agent watches every build there with one list per period; only
                // its verdict (or no watcher) costs a GET of this server.
                auto progress = co_await gateway_.AwaitBuild(target, cloudlet_id, options_.build_wait);
                const std::string seen = progress.ok() ? progress->status : std::string();
                if (seen != "BUILD" && seen != "ACTIVE" && seen != "ERROR") {
                    timer.expires_after(options_.poll);
                    co_await timer.async_wait(asio::use_awaitable);
                }
                auto current = co_await state_.GetResource(tenant, id);
                if (!current.ok() || current->cloudlet_id != cloudlet_id) co_return;  // deleted by the user
                rec->revision = current->revision;
                if (seen == "BUILD") {
                    if (options_.clock->Steady() > deadline) failure = "build timed out";
                    continue;
                }
                if (seen == "ERROR") {
                    failure = progress->fault.empty() ? std::string("build failed") : progress->fault;
                    continue;
                }
                CloudletCall show(Service::kCompute, http::Method::kGet, "/servers/" + cloudlet_id);
                show.microversion = "2.1";
                auto answer = co_await gateway_.Call(target, tenant, show);
                if (answer.ok() && answer->status == 200) {
                    auto b = answer->JsonBody();
                    json s = b.ok() && b->contains("server") ? (*b)["server"] : json::object();
                    const std::string status = s.value("status", "");
                    if (status == "ACTIVE") {
                        rec->status = "ACTIVE";
                        Extra(*rec)["placement"] = "placed";
                        Extra(*rec)["values"] = s;
                        co_await save(*rec);
                        co_return;
                    }
                    if (status == "ERROR") {
                        failure = s.contains("fault") ? s["fault"].value("message", "build failed") : "build failed";
                    }
                } else if (answer.ok() && answer->status == 404) {
                    failure = "the server vanished from its cloudlet";
                }
                if (failure.empty() && options_.clock->Steady() > deadline) failure = "build timed out";
            }
            // A failed build leaves nothing behind: the record forgets it, then the cloudlet does.
            ++stats_.build_failures;
            rec->cloudlet.clear();
            rec->cloudlet_id.clear();
            Extra(*rec)["placement"] = "scheduling";
            Undo(target, tenant, cloudlet_id);
            if (!co_await save(*rec)) co_return;
        }
        spdlog::info("server {} of {}: build at {} failed ({}); placing again", id, tenant, target, failure);
        if (auto s = plan.OnBuildFailed(target, failure); !s.ok()) {
            co_await fail(s.error().message);
            co_return;
        }
    }
}

void NovaProxy::Undo(std::string cloudlet, std::string tenant, std::string cloudlet_id) {
    // Retried until the cloudlet confirms (2xx or 404): a delete lost to an overloaded cloudlet
    // or a broken connection would leave a server nobody knows of (measured at 3,072 concurrent
    // boots, docs/benchmarks.md).
    auto undo = [](NovaProxy* self, std::weak_ptr<bool> alive, std::string cloudlet, std::string tenant,
                   std::string cloudlet_id) -> asio::awaitable<void> {
        asio::steady_timer timer(self->executor_);
        auto pause = std::chrono::milliseconds(1'000);
        const auto give_up = self->options_.clock->Steady() + std::chrono::minutes(30);
        while (true) {
            CloudletCall call(Service::kCompute, http::Method::kDelete, "/servers/" + cloudlet_id);
            auto gone = co_await self->gateway_.Call(cloudlet, tenant, call);
            if (alive.expired()) co_return;  // the agent stopped
            if (gone.ok() && (gone->status / 100 == 2 || gone->status == 404)) co_return;
            if (self->options_.clock->Steady() > give_up) {
                spdlog::error("server {} at {} of {}: not deleted after 30 min; delete it by hand", cloudlet_id,
                              cloudlet, tenant);
                co_return;
            }
            timer.expires_after(pause);
            co_await timer.async_wait(asio::use_awaitable);
            if (alive.expired()) co_return;
            pause = std::min(pause * 2, std::chrono::milliseconds(30'000));
        }
    };
    ++stats_.undone;
    SpawnDetached(executor_, undo(this, alive_, std::move(cloudlet), std::move(tenant), std::move(cloudlet_id)),
                  "nova proxy: undo failed");
}

std::uint64_t NovaProxy::Decide(const std::string& cloudlet, std::int64_t ram_mb) {
    // Deliveries long past can no longer be missing from any load still being used.
    const auto horizon = options_.clock->Steady() - std::chrono::seconds(60);
    std::erase_if(decisions_, [&](const auto& d) { return d.second.delivered && *d.second.delivered < horizon; });
    const std::uint64_t id = next_decision_++;
    decisions_[id] = Decision{cloudlet, std::max<std::int64_t>(ram_mb, 1), std::nullopt};
    return id;
}

void NovaProxy::Delivered(std::uint64_t decision, bool reached_cloudlet) {
    auto it = decisions_.find(decision);
    if (it == decisions_.end()) return;
    if (reached_cloudlet)
        it->second.delivered = options_.clock->Steady();
    else
        decisions_.erase(it);
}

void NovaProxy::AddUnreported(scheduler::CloudletLoad& load, TimePoint asked) const {
    // Not yet at the cloudlet, or arrived there after the load was asked for: the cloudlet's
    // own ledger may not have had it when it answered. Counting it twice errs on the safe side.
    for (const auto& [id, d] : decisions_) {
        if (d.cloudlet != load.cloudlet || (d.delivered && *d.delivered < asked)) continue;
        load.in_flight_ram_mb += d.ram_mb;
        load.in_flight_builds += 1;
    }
}

// ---- reads --------------------------------------------------------------------------------

namespace {

// A server not (or no longer) on any cloudlet, as Nova shows one that is scheduling or failed.
json Synthesize(const state::ResourceRecord& r, const translate::Translator& t, int mv) {
    const json& x = r.extra;
    const bool failed = r.status == "ERROR";
    json flavor;
    if (mv >= 47) {
        const json fb = x.value("flavor_body", json::object());
        flavor = {{"original_name", x.value("flavor", "")},
                  {"ram", fb.value("ram", 0)},
                  {"vcpus", fb.value("vcpus", 0)},
                  {"disk", fb.value("disk", 0)},
                  {"ephemeral", fb.value("OS-FLV-EXT-DATA:ephemeral", 0)},
                  {"swap", fb.value("swap", "") == "" ? json(0) : fb["swap"]},
                  {"extra_specs", json::object()}};
    } else {
        flavor = {{"id", x.value("flavor", "")}, {"links", t.Links("flavors", x.value("flavor", ""))}};
    }
    const std::string image = x.value("image", "");
    json s = {
        {"id", r.id},
        {"name", x.value("request", json::object()).value("name", "")},
        {"status", failed ? "ERROR" : "BUILD"},
        {"tenant_id", r.tenant},
        {"user_id", x.value("user_id", "")},
        {"created", x.value("created", "")},
        {"updated", x.value("created", "")},
        {"hostId", ""},
        {"addresses", json::object()},
        {"accessIPv4", ""},
        {"accessIPv6", ""},
        {"links", t.Links("servers", r.id)},
        {"image",
         {{"id", image},
          {"links", json::array({{{"rel", "bookmark"}, {"href", t.ComputeBookmarkBase() + "/images/" + image}}})}}},
        {"flavor", flavor},
        {"metadata", x.value("request", json::object()).value("metadata", json::object())},
        {"progress", 0},
        {"key_name", x.value("request", json::object()).value("key_name", json())},
        {"config_drive", ""},
        {"OS-DCF:diskConfig", "MANUAL"},
        {"OS-EXT-AZ:availability_zone", ""},
        {"OS-EXT-STS:task_state", failed ? json() : json("scheduling")},
        {"OS-EXT-STS:vm_state", failed ? "error" : "building"},
        {"OS-EXT-STS:power_state", 0},
        {"OS-SRV-USG:launched_at", json()},
        {"OS-SRV-USG:terminated_at", json()},
        {"os-extended-volumes:volumes_attached", json::array()}};
    if (mv >= 9) s["locked"] = false;
    if (mv >= 19) s["description"] = x.value("request", json::object()).value("description", json());
    if (mv >= 26) s["tags"] = json::array();
    if (mv >= 63) s["trusted_image_certificates"] = json();
    if (failed && x.contains("fault")) s["fault"] = x["fault"];
    return s;
}

}  // namespace

asio::awaitable<Result<http::Response>> NovaProxy::Show(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "server_id", "server", NoServer);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    const std::string& id = rec->id;
    const int mv = MicroversionOr1(req);
    translate::MemoryIdMap map;
    map.Add(translate::Kind::kServer, rec->id, rec->cloudlet, rec->cloudlet_id);
    const std::string image = rec->extra.value("image", "");
    if (!rec->cloudlet.empty()) {
        map.Add(translate::Kind::kImage, image, rec->cloudlet, image);
        co_await AddFlavors(map, rec->cloudlet, who->tenant);
    }
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    if (rec->cloudlet.empty()) co_return http::Response::Json(200, json{{"server", Synthesize(*rec, t, mv)}});

    CloudletCall call(Service::kCompute, http::Method::kGet, "/servers/" + rec->cloudlet_id);
    call.microversion = MvString(mv);
    auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
    if (!answer.ok()) {
        // Like a server in a down cell: what the map knows, status UNKNOWN.
        json s = Synthesize(*rec, t, mv);
        s["status"] = "UNKNOWN";
        co_return http::Response::Json(200, json{{"server", s}});
    }
    if (answer->status == 404) co_return NoServer(id);
    if (answer->status != 200) co_return cloudlet::RelayAnswer(*answer);
    auto body = answer->JsonBody();
    if (!body.ok()) co_return MakeError(ErrorCode::kBadGateway, "malformed server body from " + rec->cloudlet);
    // A failed build that is being placed again is still building, as far as the user can tell.
    if ((*body)["server"].value("status", "") == "ERROR" && rec->extra.value("placement", "") != "placed" &&
        rec->status != "ERROR")
        co_return http::Response::Json(200, json{{"server", Synthesize(*rec, t, mv)}});
    translate::CloudletContext c{rec->cloudlet, cloudlet::CloudletProjectOf(*answer)};
    auto translated = t.ServerBodyToShoal(c, *body);
    if (!translated.ok()) co_return translated.error();
    co_return http::Response::Json(200, *translated);
}

asio::awaitable<Result<http::Response>> NovaProxy::List(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    const int mv = MicroversionOr1(req);
    const std::string tenant = who->tenant;
    auto records = co_await state_.ListResources(tenant, "server");
    if (!records.ok()) co_return records.error();
    auto images = co_await state_.ListResources(tenant, "image");

    translate::MemoryIdMap map;
    std::set<std::string> cloudlets;
    std::vector<translate::KnownResource> known;
    for (const auto& r : *records) {
        if (r.cloudlet.empty()) continue;
        map.Add(translate::Kind::kServer, r.id, r.cloudlet, r.cloudlet_id);
        cloudlets.insert(r.cloudlet);
        known.push_back(
            translate::KnownResource{r.id, r.cloudlet, r.cloudlet_id, r.extra.value("values", json::object())});
    }
    for (const auto& c : cloudlets) {
        if (images.ok())
            for (const auto& i : *images) map.Add(translate::Kind::kImage, i.id, c, i.id);
        co_await AddFlavors(map, c, tenant);
    }
    translate::Translator t(map, tenant, translate::AgentUrlsAt(who->api_base));
    translate::ListContext context{t, {}, std::move(known)};
    for (const auto& c : cloudlets) {
        auto p = projects_.find(c + "/" + tenant);
        context.cloudlets.push_back(translate::CloudletContext{c, p == projects_.end() ? "" : p->second});
    }
    translate::ListRequest lr;
    lr.kind = req.path.ends_with("/detail") || req.path.ends_with("/detail/") ? translate::ListKind::kServersDetail
                                                                              : translate::ListKind::kServers;
    for (const auto& [k, v] : req.query) lr.query.emplace_back(k, v);
    lr.microversion = mv;
    auto* ctx = &context;
    auto fetch_list = [this, tenant, mv,
                       ctx](const translate::CloudletQuery& q) -> asio::awaitable<std::optional<json>> {
        CloudletCall call(Service::kCompute, http::Method::kGet, q.path);
        if (!q.query.empty()) call.path += "?" + http::EncodeQuery(q.query);
        call.microversion = MvString(mv);
        call.timeout = options_.list_timeout;
        auto answer = co_await gateway_.Call(q.cloudlet, tenant, call);
        if (!answer.ok() || answer->status != 200) co_return std::nullopt;
        const std::string project = cloudlet::CloudletProjectOf(*answer);
        projects_[q.cloudlet + "/" + tenant] = project;
        for (auto& c : ctx->cloudlets)
            if (c.cloudlet == q.cloudlet) c.project_id = project;
        auto body = answer->JsonBody();
        if (!body.ok()) co_return std::nullopt;
        co_return std::move(body).value();
    };
    auto fetch_one = [this, tenant, mv](const translate::CloudletRef& ref) -> asio::awaitable<std::optional<json>> {
        CloudletCall call(Service::kCompute, http::Method::kGet, "/servers/" + ref.id);
        call.microversion = MvString(mv);
        auto answer = co_await gateway_.Call(ref.cloudlet, tenant, call);
        if (!answer.ok() || answer->status != 200) co_return std::nullopt;
        auto body = answer->JsonBody();
        if (!body.ok() || !body->contains("server")) co_return std::nullopt;
        co_return (*body)["server"];
    };
    auto page = co_await translate::RunListPage(lr, context, fetch_list, fetch_one);
    if (!page.ok()) co_return page.error();
    co_return http::Response::Json(200, *page);
}

// ---- writes on one server -------------------------------------------------------------------

asio::awaitable<Result<http::Response>> NovaProxy::Remove(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "server_id", "server", NoServer);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    const std::string& id = rec->id;
    if (!rec->cloudlet.empty()) {
        CloudletCall call(Service::kCompute, http::Method::kDelete, "/servers/" + rec->cloudlet_id);
        auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
        if (!answer.ok())
            co_return Error{ErrorCode::kUnavailable,
                            "the cloudlet holding server " + id + " cannot be reached: " + answer.error().message};
        if (answer->status >= 300 && answer->status != 404) co_return cloudlet::RelayAnswer(*answer);
    }
    // A placement still running sees the record gone and deletes whatever it built.
    auto gone = co_await state_.DeleteResource(who->tenant, id);
    if (!gone.ok()) co_return gone.error();
    co_return http::Response::Empty(204);
}

asio::awaitable<Result<http::Response>> NovaProxy::Update(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "server_id", "server", NoServer);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    const std::string& id = rec->id;
    if (rec->cloudlet.empty() || rec->extra.value("placement", "") != "placed")
        co_return MakeError(ErrorCode::kConflict, "Cannot update instance " + id + " while it is in vm_state building");
    CloudletCall call(Service::kCompute, http::Method::kPut, "/servers/" + rec->cloudlet_id);
    call.body = req.body;
    call.microversion = MvString(MicroversionOr1(req));
    auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    if (answer->status != 200) co_return cloudlet::RelayAnswer(*answer);
    translate::MemoryIdMap map;
    map.Add(translate::Kind::kServer, rec->id, rec->cloudlet, rec->cloudlet_id);
    map.Add(translate::Kind::kImage, rec->extra.value("image", ""), rec->cloudlet, rec->extra.value("image", ""));
    co_await AddFlavors(map, rec->cloudlet, who->tenant);
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    auto body = answer->JsonBody();
    if (!body.ok()) co_return MakeError(ErrorCode::kBadGateway, "malformed server body");
    auto translated =
        t.ServerBodyToShoal(translate::CloudletContext{rec->cloudlet, cloudlet::CloudletProjectOf(*answer)}, *body);
    if (!translated.ok()) co_return translated.error();
    co_return http::Response::Json(200, *translated);
}

asio::awaitable<Result<http::Response>> NovaProxy::Action(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "server_id", "server", NoServer);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    const std::string& id = rec->id;
    auto body = req.JsonBody();
    if (!body.ok() || !body->is_object() || body->empty())
        co_return MakeError(ErrorCode::kBadRequest, "Malformed request body");
    if (rec->cloudlet.empty() || rec->extra.value("placement", "") != "placed")
        co_return MakeError(ErrorCode::kConflict, "Cannot '" + body->begin().key() + "' instance " + id +
                                                      " while it is in vm_state building");
    translate::MemoryIdMap map;
    map.Add(translate::Kind::kServer, rec->id, rec->cloudlet, rec->cloudlet_id);
    auto images = co_await state_.ListResources(who->tenant, "image");
    if (images.ok())
        for (const auto& i : *images) map.Add(translate::Kind::kImage, i.id, rec->cloudlet, i.id);
    co_await AddFlavors(map, rec->cloudlet, who->tenant);
    translate::Translator t(map, who->tenant, translate::AgentUrlsAt(who->api_base));
    translate::CloudletContext c{rec->cloudlet, ""};
    auto translated = t.ActionToCloudlet(c, *body);
    if (!translated.ok()) co_return translated.error();
    CloudletCall call(Service::kCompute, http::Method::kPost, "/servers/" + rec->cloudlet_id + "/action");
    call.body = http::DumpJson(*translated);
    call.microversion = MvString(MicroversionOr1(req));
    auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    co_return cloudlet::RelayAnswer(*answer);
}

}  // namespace shoal::compute
