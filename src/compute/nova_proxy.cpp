#include "compute/nova_proxy.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <variant>

#include "common/async_mutex.hpp"
#include "common/faults.hpp"
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
                     ImageCopier ensure_image,
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
                         {"boot", ToJson(BootState{})}};
        auto stored = co_await state_.CreateResource(rec);
        if (!stored.ok()) co_return stored.error();
        if (first_id.empty()) first_id = rec.id;
        ++stats_.creates;
        StartBoot(who->tenant, rec.id);
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

// ---- the boot shell: carries a BootFsm's actions out -----------------------------------------

namespace {

// The record's boot state; a record written before the boot state machine is read from its old
// placement field.
BootState BootOf(const state::ResourceRecord& r) {
    if (r.extra.is_object() && r.extra.contains("boot"))
        if (auto s = BootStateFromJson(r.extra["boot"]); s.ok()) return std::move(s).value();
    BootState s;
    const std::string old = r.extra.is_object() ? r.extra.value("placement", "") : "";
    s.target = r.cloudlet;
    s.cloudlet_id = r.cloudlet_id;
    if (old == "placed" || r.status == "ACTIVE")
        s.phase = BootPhase::kActive;
    else if (old == "failed" || r.status == "ERROR")
        s.phase = BootPhase::kError;
    else if (!r.cloudlet_id.empty())
        s.phase = BootPhase::kBuilding;
    return s;
}

}  // namespace

// One server's run through its boot: the record it last read or wrote, and the home's decision
// turn while a decision is being made.
struct NovaProxy::BootRun {
    std::string tenant;
    std::string id;
    state::ResourceRecord rec;
    std::optional<AsyncMutex::Held> turn;
    std::size_t failed_builds = 0;  // cloudlets in the recorded state's failed list
};

// What carrying one action out gave: the event that answers it, or the end of the run.
struct NovaProxy::BootStep {
    std::optional<BootEvent> event;
    bool end = false;
    bool interrupt = false;  // drop the rest of the batch (the user deleted the server meanwhile)
};

void NovaProxy::StartBoot(const std::string& tenant, const std::string& id) {
    if (!running_.insert(tenant + "/" + id).second) return;  // its runner here will see the change
    SpawnDetached(executor_, Boot(tenant, id), "server " + id + ": boot failed with an exception");
}

asio::awaitable<void> NovaProxy::Resume(std::function<bool(const std::string& tenant)> is_home) {
    const std::weak_ptr<bool> alive = alive_;
    auto tenants = co_await state_.ListTenants();
    if (alive.expired()) co_return;
    if (!tenants.ok()) {
        spdlog::error("nova proxy: cannot list tenants to resume their boots: {}", tenants.error().message);
        co_return;
    }
    std::size_t boots = 0;
    std::size_t undos = 0;
    for (const auto& tenant : *tenants) {
        if (is_home && !is_home(tenant)) continue;
        auto servers = co_await state_.ListResources(tenant, "server");
        if (alive.expired()) co_return;
        if (servers.ok())
            for (const auto& s : *servers)
                if (!BootOf(s).Finished() && running_.count(tenant + "/" + s.id) == 0) {
                    StartBoot(tenant, s.id);
                    ++boots;
                }
        auto ops = co_await state_.ListOperations(tenant);
        if (alive.expired()) co_return;
        if (ops.ok())
            for (const auto& op : *ops)
                if (op.kind == kUndoOperation && undoing_.insert(op.tenant + "/" + op.id).second) {
                    SpawnDetached(executor_, RunUndo(op), "nova proxy: undo failed");
                    ++undos;
                }
    }
    if (boots + undos > 0) spdlog::info("nova proxy: resumed {} boots and {} undos", boots, undos);
}

asio::awaitable<void> NovaProxy::Pause(std::chrono::milliseconds d) {
    if (d.count() <= 0) co_return;
    asio::steady_timer timer(executor_, d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> NovaProxy::Boot(std::string tenant, std::string id) {
    const std::weak_ptr<bool> alive = alive_;
    struct Leave {
        Leave(NovaProxy* s, std::weak_ptr<bool> a, std::string k) : self(s), alive(std::move(a)), key(std::move(k)) {}
        Leave(const Leave&) = delete;
        Leave& operator=(const Leave&) = delete;
        NovaProxy* self;
        std::weak_ptr<bool> alive;
        std::string key;
        ~Leave() {
            if (!alive.expired()) self->running_.erase(key);
        }
    } leave{this, alive, tenant + "/" + id};
    auto rec = co_await state_.GetResource(tenant, id);
    if (alive.expired() || !rec.ok() || rec->kind != "server") co_return;
    BootRun run{tenant, id, std::move(rec).value(), std::nullopt, 0};
    run.failed_builds = BootOf(run.rec).failed.size();
    scheduler::FlavorNeed need{run.rec.extra.value("flavor", ""),
                               run.rec.extra.value("flavor_ram_mb", std::int64_t{0})};
    scheduler::RetryPolicy policy;
    policy.max_build_attempts = options_.max_build_attempts;
    policy.max_samplings = options_.max_build_attempts * 2 + 2;
    BootTimings timings;
    timings.build_timeout_ms = options_.build_timeout.count();
    timings.retry_ms = options_.poll.count();
    timings.delete_poll_ms = options_.poll.count();
    timings.backoff_ms = options_.backoff.count();
    BootFsm fsm(id, need, policy, timings, BootOf(run.rec), rng_);
    auto batch = fsm.Start(UnixMillis(options_.clock->System()));
    while (!batch.empty()) {
        std::optional<BootEvent> answer;
        bool end = false;
        for (const auto& action : batch) {
            // Named injection points around every step: boot.<action>.before / .after.
            const std::string point = "boot." + std::string(ActionName(action));
            co_await Pause(faults::Hit(point + ".before"));
            if (alive.expired()) co_return;
            auto step = co_await Carry(run, action);
            if (alive.expired()) co_return;
            co_await Pause(faults::Hit(point + ".after"));
            if (alive.expired()) co_return;
            if (step.event) answer = std::move(step.event);
            if (step.end) end = true;
            if (step.end || step.interrupt) break;
        }
        if (end) co_return;
        if (!answer) {
            spdlog::error("server {} of {}: the boot's actions awaited no answer; stopped", id, tenant);
            co_return;
        }
        batch = fsm.On(*answer, UnixMillis(options_.clock->System()));
    }
}

asio::awaitable<NovaProxy::BootStep> NovaProxy::Carry(BootRun& run, const BootAction& action) {
    // The decision turn spans one decision: from the loads to the hold at the chosen cloudlet.
    if (!std::holds_alternative<AskLoads>(action) && !std::holds_alternative<Hold>(action)) run.turn.reset();
    if (const auto* a = std::get_if<AskLoads>(&action)) co_return co_await CarryLoads(run, *a);
    if (const auto* a = std::get_if<Hold>(&action)) {
        // Held before the turn passes on: the next decision here, and every decision elsewhere
        // from now on, sees it in this cloudlet's load (the one guard against herding).
        auto held = co_await gateway_.LoadHolding(a->cloudlet, a->ram_mb);
        run.turn.reset();
        co_return BootStep{Held{held.ok() ? held->reservation : 0}};
    }
    if (const auto* a = std::get_if<EnsureImage>(&action)) {
        auto copy = co_await ensure_image_(run.tenant, run.rec.extra.value("image", ""), a->cloudlet);
        if (!copy.ok()) co_return BootStep{ImageReady{false, {}, copy.error().message}};
        co_return BootStep{ImageReady{true, *copy, {}}};
    }
    if (const auto* a = std::get_if<Record>(&action)) co_return co_await CarryRecord(run, *a);
    if (const auto* a = std::get_if<SendCreate>(&action)) co_return co_await CarryCreate(run, *a);
    if (const auto* a = std::get_if<FindCreate>(&action)) {
        auto found = co_await FindTagged(a->cloudlet, run.tenant, run.id);
        if (!found.ok()) co_return BootStep{CreateFound{false, {}}};
        co_return BootStep{CreateFound{true, *found}};
    }
    if (const auto* a = std::get_if<Release>(&action)) {
        co_await gateway_.Unreserve(a->cloudlet, a->reservation);
        co_return BootStep{};
    }
    if (const auto* a = std::get_if<Watch>(&action)) co_return co_await CarryWatch(run, *a);
    if (const auto* a = std::get_if<Undo>(&action)) {
        co_await StartUndo(run.tenant, run.id, a->cloudlet, a->cloudlet_id);
        co_return BootStep{};
    }
    if (const auto* a = std::get_if<SendDelete>(&action)) {
        CloudletCall call(Service::kCompute, http::Method::kDelete, "/servers/" + a->cloudlet_id);
        auto answer = co_await gateway_.Call(a->cloudlet, run.tenant, call);
        using O = DeleteAnswered::Outcome;
        if (answer.ok() && answer->status == 404) co_return BootStep{DeleteAnswered{O::kGone}};
        if (answer.ok() && answer->status / 100 == 2) co_return BootStep{DeleteAnswered{O::kDeleting}};
        co_return BootStep{DeleteAnswered{O::kUnreachable}};
    }
    if (const auto* a = std::get_if<Wait>(&action)) {
        const std::int64_t left = a->until_ms - UnixMillis(options_.clock->System());
        co_await Pause(std::chrono::milliseconds(std::clamp<std::int64_t>(left, 0, 30'000)));
        co_return BootStep{Tick{}};
    }
    if (std::holds_alternative<Forget>(action)) {
        const std::weak_ptr<bool> alive = alive_;
        while (true) {
            auto gone = co_await state_.DeleteResource(run.tenant, run.id);
            if (gone.ok()) break;
            spdlog::warn("server {} of {}: cannot forget the record yet: {}", run.id, run.tenant, gone.error().message);
            co_await Pause(options_.backoff);
            if (alive.expired()) break;
        }
        co_return BootStep{std::nullopt, true};
    }
    co_return BootStep{std::nullopt, true};  // Done
}

namespace {

// The loads of one decision, filled in as they arrive; shared with the asks, which may outlive
// the decision that stopped waiting for them.
struct LoadAnswers {
    explicit LoadAnswers(const asio::any_io_executor& ex, std::size_t n) : got(n), all_in(ex) {}
    std::vector<std::optional<Result<scheduler::CloudletLoad>>> got;
    std::size_t pending = 0;
    asio::steady_timer all_in;  // cancelled when the last answer arrives
};

asio::awaitable<void> AskOne(std::shared_ptr<LoadAnswers> answers,
                             std::size_t i,
                             asio::awaitable<Result<scheduler::CloudletLoad>> ask) {
    auto load = co_await std::move(ask);
    answers->got[i] = std::move(load);
    if (--answers->pending == 0) answers->all_in.cancel();
}

}  // namespace

asio::awaitable<NovaProxy::BootStep> NovaProxy::CarryLoads(BootRun& run, const AskLoads& a) {
    run.turn.emplace(co_await decision_turn_.Lock());
    const auto now = options_.clock->Steady();
    std::erase_if(unanswered_, [&](const auto& u) { return u.second <= now; });
    // Candidates that did not answer a load lately are not asked (nor waited for) again yet.
    auto names = gateway_.Candidates(a.sample + unanswered_.size());
    std::erase_if(names, [&](const std::string& n) {
        return std::find(a.exclude.begin(), a.exclude.end(), n) != a.exclude.end() || unanswered_.count(n) > 0;
    });
    if (names.size() > a.sample) names.resize(a.sample);
    LoadsAnswered answered;
    if (names.empty()) co_return BootStep{answered};
    // Every candidate's load at once, waited for at most load_timeout: one stopped cloudlet must
    // not hold every decision of this home (they take turns).
    auto answers = std::make_shared<LoadAnswers>(executor_, names.size());
    answers->pending = names.size();
    answers->all_in.expires_after(options_.load_timeout);
    for (std::size_t i = 0; i < names.size(); ++i)
        asio::co_spawn(executor_, AskOne(answers, i, gateway_.Load(names[i])), asio::detached);
    if (answers->pending > 0) {
        boost::system::error_code ec;
        co_await answers->all_in.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& got = answers->got[i];
        if (!got || !got->ok()) {
            spdlog::info("server {} of {}: no load from {}: {}", run.id, run.tenant, names[i],
                         got ? got->error().message : std::string("no answer in time"));
            if (!got) unanswered_[names[i]] = options_.clock->Steady() + options_.unanswered_pause;
            continue;
        }
        answered.loads.push_back(got->value());
    }
    co_return BootStep{answered};
}

void NovaProxy::Recorded(BootRun& run, const BootState& state) {
    if (state.failed.size() > run.failed_builds) {
        stats_.build_failures += state.failed.size() - run.failed_builds;
        run.failed_builds = state.failed.size();
    }
    if (state.phase == BootPhase::kError) {
        ++stats_.placement_failures;
        spdlog::warn("server {} of {}: {}", run.id, run.tenant, state.fault);
    }
}

asio::awaitable<NovaProxy::BootStep> NovaProxy::CarryRecord(BootRun& run, const Record& r) {
    state::ResourceRecord& rec = run.rec;
    const BootPhase phase = r.state.phase;
    Extra(rec)["boot"] = ToJson(r.state);
    Extra(rec).erase("placement");
    // The status users see follows the one lifecycle field (a deleting server keeps its own).
    if (phase == BootPhase::kActive)
        rec.status = "ACTIVE";
    else if (phase == BootPhase::kError)
        rec.status = "ERROR";
    else if (phase != BootPhase::kDeleting)
        rec.status = "BUILD";
    rec.cloudlet = r.state.cloudlet_id.empty() ? std::string() : r.state.target;
    rec.cloudlet_id = r.state.cloudlet_id;
    if (phase == BootPhase::kError) {
        Extra(rec)["fault"] =
            json{{"code", 500}, {"message", r.state.fault}, {"created", FormatIso8601(options_.clock->System())}};
    } else if (phase != BootPhase::kDeleting) {
        Extra(rec).erase("fault");
    }
    if (!r.values.is_null()) Extra(rec)["values"] = r.values;
    const std::weak_ptr<bool> alive = alive_;
    while (true) {
        rec.updated_at = UnixMillis(options_.clock->System());
        auto put = co_await state_.PutResource(rec);
        if (put.ok()) {
            rec.revision = put->revision;
            Recorded(run, r.state);
            co_return BootStep{};
        }
        if (put.error().code != ErrorCode::kConflict) {
            // The store is down (an etcd member lost): nothing after this step may happen first.
            spdlog::warn("server {} of {}: state store: {}; retrying", run.id, run.tenant, put.error().message);
            co_await Pause(options_.backoff);
            if (alive.expired()) co_return BootStep{std::nullopt, true};
            continue;
        }
        auto current = co_await state_.GetResource(run.tenant, run.id);
        if (!current.ok()) co_return BootStep{std::nullopt, true};  // forgotten meanwhile
        if (current->extra.value("boot", json()) == rec.extra["boot"] && current->cloudlet_id == rec.cloudlet_id &&
            current->status == rec.status) {
            // Our own write after all (etcd retried it on another member and then said conflict).
            rec.revision = current->revision;
            Recorded(run, r.state);
            co_return BootStep{};
        }
        const BootState seen = BootOf(*current);
        if (seen.phase == BootPhase::kDeleting && phase != BootPhase::kDeleting) {
            // The user's delete, written while this step was on its way: it wins.
            rec = std::move(current).value();
            co_return BootStep{DeleteRequested{}, false, true};
        }
        if (phase == BootPhase::kDeleting) {
            rec.revision = current->revision;  // our own delete, seen again: write over it
            continue;
        }
        // Another agent runs this boot (a take-over that overlapped): it keeps it.
        spdlog::info("server {} of {}: its boot is run elsewhere now; this runner stops", run.id, run.tenant);
        co_return BootStep{std::nullopt, true};
    }
}

asio::awaitable<NovaProxy::BootStep> NovaProxy::CarryCreate(BootRun& run, const SendCreate& a) {
    using O = CreateAnswered::Outcome;
    const state::ResourceRecord& rec = run.rec;
    const std::string flavor_name = rec.extra.value("flavor", "");
    const std::string image = rec.extra.value("image", "");
    auto refused = [](O outcome, std::string message) {
        return BootStep{CreateAnswered{outcome, {}, std::move(message)}};
    };
    auto flavor = co_await FindFlavor(a.cloudlet, run.tenant, flavor_name);
    if (!flavor.ok())
        co_return refused(O::kRefused,
                          "flavor " + flavor_name + " unavailable at " + a.cloudlet + ": " + flavor.error().message);
    CloudletCreate where{run.tenant, a.cloudlet, image, a.image_copy, flavor_name, flavor->id, {}};
    const json hints = rec.extra.value("hints", json());
    if (HintsNameServers(hints)) {
        auto servers = co_await state_.ListResources(run.tenant, "server");
        if (servers.ok())
            for (const auto& s : *servers)
                if (!s.cloudlet.empty())
                    where.servers.emplace_back(s.id, translate::CloudletRef{s.cloudlet, s.cloudlet_id});
    }
    auto body = CloudletCreateBody(rec.extra["request"], hints, where);
    if (!body.ok()) co_return refused(O::kRefused, body.error().message);  // a same_host server elsewhere
    // The tag that finds this create again after a crash, before anything is sent twice.
    json& metadata = (*body)["server"]["metadata"];
    if (!metadata.is_object()) metadata = json::object();
    metadata[translate::kServerTagKey] = run.id;
    CloudletCall call(Service::kCompute, http::Method::kPost, "/servers");
    call.body = http::DumpJson(*body);
    call.microversion = MvString(rec.extra.value("microversion", 1));
    call.reservation = a.reservation;  // the create takes the decision's hold over
    ++stats_.builds;
    auto answer = co_await gateway_.Call(a.cloudlet, run.tenant, call);
    if (!answer.ok()) co_return refused(O::kLost, answer.error().message);
    if (answer->status == 400) co_return refused(O::kRejected, http::ErrorMessageOf(*answer));
    if (answer->status != 202)
        co_return refused(O::kRefused,
                          "create answered " + std::to_string(answer->status) + ": " + http::ErrorMessageOf(*answer));
    auto b = answer->JsonBody();
    if (!b.ok() || !b->contains("server") || !(*b)["server"].contains("id") || !(*b)["server"]["id"].is_string())
        co_return refused(O::kLost, "create answered without a server id");
    projects_[a.cloudlet + "/" + run.tenant] = cloudlet::CloudletProjectOf(*answer);
    co_return BootStep{CreateAnswered{O::kAccepted, (*b)["server"]["id"].get<std::string>(), {}}};
}

asio::awaitable<NovaProxy::BootStep> NovaProxy::CarryWatch(BootRun& run, const Watch& a) {
    // The cloudlet's agent watches every build there with one list per period; only its verdict
    // (or no watcher) costs a GET of this server.
    auto progress = co_await gateway_.AwaitBuild(a.cloudlet, a.cloudlet_id, options_.build_wait);
    const std::string seen = progress.ok() ? progress->status : std::string();
    if (seen != "BUILD" && seen != "ACTIVE" && seen != "ERROR") co_await Pause(options_.poll);
    // A delete by the user is noticed between two observations.
    auto current = co_await state_.GetResource(run.tenant, run.id);
    if (current.ok() && BootOf(*current).phase == BootPhase::kDeleting) {
        run.rec = std::move(current).value();
        co_return BootStep{DeleteRequested{}, false, true};
    }
    if (!current.ok() && current.error().code == ErrorCode::kNotFound) co_return BootStep{std::nullopt, true};
    if (seen == "BUILD") co_return BootStep{Progress{"BUILD", {}, nullptr}};
    if (seen == "ERROR") co_return BootStep{Progress{"ERROR", progress->fault, nullptr}};
    CloudletCall show(Service::kCompute, http::Method::kGet, "/servers/" + a.cloudlet_id);
    show.microversion = "2.1";
    auto answer = co_await gateway_.Call(a.cloudlet, run.tenant, show);
    if (!answer.ok()) co_return BootStep{Progress{"", {}, nullptr}};
    if (answer->status == 404) co_return BootStep{Progress{"DELETED", {}, nullptr}};
    if (answer->status != 200) co_return BootStep{Progress{"", {}, nullptr}};
    auto b = answer->JsonBody();
    json s = b.ok() && b->contains("server") ? (*b)["server"] : json::object();
    const std::string status = s.value("status", "");
    if (status == "ERROR") {
        const std::string fault = s.contains("fault") && s["fault"].is_object()
                                      ? s["fault"].value("message", "build failed")
                                      : std::string("build failed");
        co_return BootStep{Progress{"ERROR", fault, nullptr}};
    }
    if (status == "ACTIVE") co_return BootStep{Progress{"ACTIVE", {}, s}};
    co_return BootStep{Progress{"BUILD", {}, nullptr}};
}

asio::awaitable<Result<std::string>> NovaProxy::FindTagged(std::string cloudlet,
                                                           std::string tenant,
                                                           std::string server_id) {
    // Nova has no metadata filter: the tenant's servers there, page by page, read for the tag.
    std::string marker;
    for (int page = 0; page < 100; ++page) {
        CloudletCall call(Service::kCompute, http::Method::kGet, "/servers/detail?limit=1000");
        if (!marker.empty()) call.path += "&marker=" + http::UrlEncode(marker);
        call.microversion = "2.1";
        call.timeout = options_.list_timeout;
        auto answer = co_await gateway_.Call(cloudlet, tenant, call);
        if (!answer.ok()) co_return answer.error();
        if (answer->status != 200)
            co_return MakeError(ErrorCode::kBadGateway,
                                "server list of " + cloudlet + ": " + http::ErrorMessageOf(*answer));
        auto body = answer->JsonBody();
        if (!body.ok() || !body->contains("servers") || !(*body)["servers"].is_array())
            co_return MakeError(ErrorCode::kBadGateway, "malformed server list from " + cloudlet);
        const json& servers = (*body)["servers"];
        for (const auto& s : servers) {
            if (!s.is_object() || !s.contains("metadata") || !s["metadata"].is_object()) continue;
            const json& m = s["metadata"];
            if (m.value(translate::kServerTagKey, "") == server_id && s.contains("id") && s["id"].is_string())
                co_return s["id"].get<std::string>();
        }
        if (servers.empty() || !body->contains("servers_links")) break;
        marker = servers.back().value("id", "");
        if (marker.empty()) break;
    }
    co_return std::string();
}

// ---- undo: a build nobody keeps, deleted durably ----------------------------------------------

asio::awaitable<void> NovaProxy::StartUndo(std::string tenant,
                                           std::string server_id,
                                           std::string cloudlet,
                                           std::string cloudlet_id) {
    state::Operation op;
    op.id = NewUuid();
    op.tenant = tenant;
    op.kind = kUndoOperation;
    op.owner = gateway_.SelfId();
    op.state = json{{"server", server_id}, {"cloudlet", cloudlet}, {"cloudlet_id", cloudlet_id}};
    op.started_at = op.updated_at = UnixMillis(options_.clock->System());
    // Written before the record forgets where the build was (the next action), so that a crash
    // in between still deletes it.
    const std::weak_ptr<bool> alive = alive_;
    while (true) {
        auto put = co_await state_.PutOperation(op);
        if (put.ok()) break;
        spdlog::warn("server {} of {}: cannot record the undo at {} yet: {}", server_id, tenant, cloudlet,
                     put.error().message);
        co_await Pause(options_.backoff);
        if (alive.expired()) co_return;
    }
    ++stats_.undone;
    undoing_.insert(op.tenant + "/" + op.id);
    SpawnDetached(executor_, RunUndo(std::move(op)), "nova proxy: undo failed");
}

asio::awaitable<void> NovaProxy::RunUndo(state::Operation op) {
    const std::weak_ptr<bool> alive = alive_;
    const std::string server_id = op.state.value("server", "");
    const std::string cloudlet = op.state.value("cloudlet", "");
    std::string cloudlet_id = op.state.value("cloudlet_id", "");
    auto pause = options_.backoff;
    // Retried until the cloudlet confirms it is gone (404): a delete lost to an overloaded
    // cloudlet, a broken connection or a crash here would leave a server nobody knows of.
    while (!cloudlet.empty()) {
        bool unreachable = false;
        if (cloudlet_id.empty()) {
            auto found = co_await FindTagged(cloudlet, op.tenant, server_id);
            if (alive.expired()) co_return;
            if (!found.ok()) {
                unreachable = true;
            } else if (found->empty()) {
                break;  // the create never reached the cloudlet
            } else {
                cloudlet_id = *found;
            }
        }
        if (!cloudlet_id.empty()) {
            CloudletCall call(Service::kCompute, http::Method::kDelete, "/servers/" + cloudlet_id);
            auto gone = co_await gateway_.Call(cloudlet, op.tenant, call);
            if (alive.expired()) co_return;
            if (gone.ok() && gone->status == 404) break;
            unreachable = !gone.ok() || gone->status / 100 != 2;
        }
        if (unreachable) {
            co_await Pause(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(30'000));
        } else {
            pause = options_.backoff;
            co_await Pause(options_.poll);  // deleting there: ask again until it answers 404
        }
        if (alive.expired()) co_return;
    }
    (void)co_await state_.FinishOperation(op.tenant, op.id);
    if (!alive.expired()) undoing_.erase(op.tenant + "/" + op.id);
}

// ---- reads --------------------------------------------------------------------------------

namespace {

// Nova's task_state of a server the map synthesizes: scheduling until a cloudlet has it,
// deleting once the user deleted it, none when it failed.
json TaskStateOf(const state::ResourceRecord& r) {
    switch (BootOf(r).phase) {
        case BootPhase::kDeleting:
            return "deleting";
        case BootPhase::kError:
        case BootPhase::kActive:
            return nullptr;
        case BootPhase::kBuilding:
            return "spawning";
        case BootPhase::kScheduling:
        case BootPhase::kCreating:
            break;
    }
    return "scheduling";
}

// 409 for an action on a server that is not built (yet) or being deleted, as Nova's
// check_instance_state.
Status Busy(const state::ResourceRecord& r, const std::string& what) {
    const BootPhase phase = BootOf(r).phase;
    if (phase == BootPhase::kDeleting)
        return MakeError(ErrorCode::kConflict,
                         "Cannot " + what + " instance " + r.id + " while it is in task_state deleting");
    if (r.cloudlet.empty() || phase != BootPhase::kActive)
        return MakeError(ErrorCode::kConflict,
                         "Cannot " + what + " instance " + r.id + " while it is in vm_state building");
    return Ok{};
}

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
        {"OS-EXT-STS:task_state", TaskStateOf(r)},
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
    const BootPhase phase = BootOf(*rec).phase;
    // A failed build that is being placed again is still building, as far as the user can tell.
    if ((*body)["server"].value("status", "") == "ERROR" && phase != BootPhase::kActive && phase != BootPhase::kError &&
        phase != BootPhase::kDeleting)
        co_return http::Response::Json(200, json{{"server", Synthesize(*rec, t, mv)}});
    translate::CloudletContext c{rec->cloudlet, cloudlet::CloudletProjectOf(*answer)};
    auto translated = t.ServerBodyToShoal(c, *body);
    if (!translated.ok()) co_return translated.error();
    if (phase == BootPhase::kDeleting) (*translated)["server"]["OS-EXT-STS:task_state"] = "deleting";
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
        std::string key = c;
        key += "/";
        key += tenant;
        auto p = projects_.find(key);
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
    state::ResourceRecord rec = found->record;
    const std::string id = rec.id;
    BootState boot = BootOf(rec);
    if (boot.phase != BootPhase::kDeleting) {
        if (!rec.cloudlet.empty()) {
            // Sent now, so that what the cloudlet refuses (a locked server) is the user's answer,
            // as in Nova; an unreachable cloudlet is retried by the delete's runner.
            CloudletCall call(Service::kCompute, http::Method::kDelete, "/servers/" + rec.cloudlet_id);
            auto answer = co_await gateway_.Call(rec.cloudlet, who->tenant, call);
            if (answer.ok() && answer->status >= 300 && answer->status != 404) co_return cloudlet::RelayAnswer(*answer);
        }
        // The record stays, shown with task_state deleting, until the cloudlet answers 404.
        for (int attempt = 0;; ++attempt) {
            boot.phase = BootPhase::kDeleting;
            Extra(rec)["boot"] = ToJson(boot);
            rec.updated_at = UnixMillis(options_.clock->System());
            auto put = co_await state_.PutResource(rec);
            if (put.ok()) break;
            if (put.error().code != ErrorCode::kConflict || attempt >= 10) co_return put.error();
            auto current = co_await state_.GetResource(who->tenant, id);  // its boot moved on meanwhile
            if (!current.ok())
                co_return current.error().code == ErrorCode::kNotFound ? Result<http::Response>(NoServer(id))
                                                                       : current.error();
            rec = std::move(current).value();
            boot = BootOf(rec);
            if (boot.phase == BootPhase::kDeleting) break;
        }
    }
    StartBoot(who->tenant, id);
    co_return http::Response::Empty(204);
}

asio::awaitable<Result<http::Response>> NovaProxy::Update(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "server_id", "server", NoServer);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    if (auto busy = Busy(*rec, "update"); !busy.ok()) co_return busy.error();
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
    auto body = req.JsonBody();
    if (!body.ok() || !body->is_object() || body->empty())
        co_return MakeError(ErrorCode::kBadRequest, "Malformed request body");
    if (auto busy = Busy(*rec, "'" + body->begin().key() + "'"); !busy.ok()) co_return busy.error();
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
