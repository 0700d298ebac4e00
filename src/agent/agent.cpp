#include "agent/agent.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <set>

#include "a2a/authenticator.hpp"
#include "a2a/peer_client.hpp"
#include "a2a/request_signer.hpp"
#include "a2a/routes.hpp"
#include "cloudlet/cloudlet_client.hpp"
#include "common/secure_random.hpp"
#include "common/spawn.hpp"
#include "common/time_format.hpp"
#include "compute/nova_proxy.hpp"
#include "emulator/cloudlet.hpp"
#include "gateway/api_gateway.hpp"
#include "gateway/build_watch.hpp"
#include "gateway/cloudlet_relay.hpp"
#include "gateway/load_service.hpp"
#include "gateway/shoal_cloudlets.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "identity/identity_proxy.hpp"
#include "identity/token_cache.hpp"
#include "image/glance_proxy.hpp"
#include "overlay/home_mapping.hpp"
#include "overlay/node/peer_sampler.hpp"
#include "scheduler/cloudlet_load.hpp"
#include "scheduler/in_flight_ledger.hpp"
#include "state/kv_store.hpp"
#include "state/tenant_state.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

// The config's overlay section as the overlay's node and shell take it.
overlay::node::PeerSamplerOptions SamplerOptions(const OverlayOptions& o) {
    overlay::node::PeerSamplerOptions out;
    out.node.cyclon = o.cyclon;
    out.node.membership_config = o.membership;
    // An agent always rejoins when forgotten; 0 in the config means 2c.
    out.node.rejoin_after_quiet_rounds = o.rejoin_after_quiet_rounds > 0
                                             ? o.rejoin_after_quiet_rounds
                                             : static_cast<std::uint32_t>(2 * o.cyclon.view_size);
    out.period = o.period;
    out.request_timeout = o.request_timeout;
    return out;
}

}  // namespace

struct Agent::Impl {
    Impl(const asio::any_io_executor& ex, AgentConfig c)
        : executor(ex),
          config(std::move(c)),
          http(ex, A2aClientOptions(config.overlay)),
          peers(http, config.secret, config.id),
          verifier(AcceptedSecrets(config)) {}

    static std::vector<std::string> AcceptedSecrets(const AgentConfig& c) {
        std::vector<std::string> s{c.secret};
        s.insert(s.end(), c.previous_secrets.begin(), c.previous_secrets.end());
        return s;
    }

    // Shuffles go to a different peer each period, so a pooled connection is rarely reused:
    // keep it about one period, or a thousand agents in one process would hold a socket per pair.
    static http::ClientOptions A2aClientOptions(const OverlayOptions& overlay) {
        http::ClientOptions o;
        o.connect_timeout = overlay.request_timeout;
        o.max_idle_per_endpoint = 2;
        o.max_idle_age = std::max(overlay.period, std::chrono::milliseconds(1'000));
        return o;
    }

    asio::any_io_executor executor;
    AgentConfig config;
    CloudletAccess cloudlet;
    std::unique_ptr<emulator::Cloudlet> embedded;
    std::unique_ptr<cloudlet::CloudletClient> cloudlet_client;
    // Builds sent to this agent's cloudlet and not yet ACTIVE/ERROR (filled by the compute proxy).
    scheduler::InFlightLedger ledger{std::chrono::minutes(10)};
    http::Client http;
    a2a::PeerClient peers;
    a2a::RequestVerifier verifier;
    std::unique_ptr<state::KvStore> store;
    std::unique_ptr<state::TenantState> state;
    http::Router router;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<PeerSampler> sampler;
    std::unique_ptr<overlay::HomeMapping> mapping;
    // This agent's cloudlet for the shoal, and the shoal's cloudlets for this agent.
    std::unique_ptr<gateway::BuildWatch> builds;
    std::unique_ptr<gateway::LoadService> loads;
    std::unique_ptr<gateway::CloudletRelay> relay;
    std::unique_ptr<gateway::ShoalCloudlets> cloudlets;
    // The OpenStack-facing side (config "api"): its own router and port.
    std::unique_ptr<identity::TokenCache> tokens;
    std::unique_ptr<identity::IdentityProxy> identity;
    std::unique_ptr<image::GlanceProxy> glance;
    std::unique_ptr<compute::NovaProxy> nova;
    std::unique_ptr<gateway::ApiGateway> api_gateway;
    http::Router api_router;
    std::unique_ptr<http::Server> api_server;
    std::string api_url;
    std::string address;
    bool started = false;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // expires with the agent
    std::unique_ptr<asio::steady_timer> adopt_timer;

    // Unfinished boots are resumed where their tenant's home is (docs/reliability.md): at once
    // from a store of this agent's own, and over a shared store (etcd), for every tenant this
    // agent is the home of, each time the member list changes (a take-over). NovaProxy::Resume
    // leaves a boot that already runs here alone; one that runs at another agent too loses its
    // next compare-and-set write there and stops.
    asio::awaitable<void> AdoptBoots(std::weak_ptr<bool> token) {
        const auto pause = std::max<std::chrono::milliseconds>(config.overlay.period, std::chrono::milliseconds(300));
        if (config.state.backend != "etcd") {
            // Resumed boots that must be placed again want candidates: the members known once
            // the agent has joined (a few periods at most), not itself alone.
            for (int i = 0; i < 10 && sampler->Members().Members().size() < 2; ++i) {
                adopt_timer->expires_after(pause);
                boost::system::error_code ec;
                co_await adopt_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
                if (token.expired() || !started) co_return;
            }
            co_await nova->Resume();
            co_await glance->Resume();
            co_return;
        }
        std::set<std::string> seen;
        while (!token.expired() && started) {
            adopt_timer->expires_after(
                std::max<std::chrono::milliseconds>(pause * 3, std::chrono::milliseconds(1'000)));
            boost::system::error_code ec;
            co_await adopt_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (token.expired() || !started) co_return;
            std::set<std::string> members;
            for (const auto& m : sampler->Members().Members()) members.insert(m.id.str());
            if (members == seen) continue;
            seen = std::move(members);
            auto is_home = [this](const std::string& tenant) { return HomeOf(tenant).id.str() == config.id; };
            co_await nova->Resume(is_home);
            co_await glance->Resume(is_home);
        }
    }

    // The rule itself is overlay::HomeMapping's; a static home that is not a member comes back
    // with no address, so that the gateway answers 503 instead of serving the map elsewhere.
    overlay::PeerDescriptor HomeOf(const std::string& tenant) {
        const auto& members = sampler->Members();
        if (const auto* owner = mapping->Owner(tenant, members)) return *owner;
        if (const auto* id = mapping->StaticHome(tenant)) return overlay::PeerDescriptor{*id, {}, 0};
        return sampler->Self();
    }

    void AddRoutes() {
        router.SetErrorStyle("/", http::ErrorStyle::kPlain);
        router.Use(a2a::Authenticate(verifier));
        router.Add(a2a::kOverlayRoute.method, a2a::kOverlayRoute.path,
                   [this](http::Request& request) -> asio::awaitable<Result<http::Response>> {
                       auto body = request.JsonBody();
                       if (!body.ok()) co_return body.error();
                       auto answer = co_await sampler->OnMessage(std::move(body).value());
                       if (!answer.ok()) co_return answer.error();
                       co_return http::Response::Json(200, *answer);
                   });
        relay->AddRoutes(router);
        loads->AddRoutes(router);
        builds->AddRoutes(router);
        router.AddSync(a2a::kStatusRoute.method, a2a::kStatusRoute.path,
                       [this](http::Request& request) -> Result<http::Response> {
                           if (auto q = a2a::FromRequest<a2a::StatusQuery>(std::move(request)); !q.ok())
                               return q.error();
                           return a2a::ToResponse(a2a::StatusAnswer{Status()});
                       });
        // For operators and tests: the home this agent's ApiGateway routes the tenant to.
        router.AddSync(a2a::kTenantHomeRoute.method, a2a::kTenantHomeRoute.path,
                       [this](http::Request& request) -> Result<http::Response> {
                           auto query = a2a::FromRequest<a2a::TenantHomeQuery>(std::move(request));
                           if (!query.ok()) return query.error();
                           const auto home = HomeOf(query->tenant);
                           a2a::TenantHomeAnswer answer;
                           answer.tenant = query->tenant;
                           answer.home = {home.id.str(), home.address};
                           return a2a::ToResponse(answer);
                       });
    }

    Result<Ok> StartApi() {
        const auto& api = *config.api;
        identity::TokenCacheOptions to;
        to.idp_auth_url = api.idp_auth_url;
        to.cache_ttl = api.token_cache_ttl;
        tokens = std::make_unique<identity::TokenCache>(executor, to);
        identity::IdentityProxyOptions io;
        io.idp_auth_url = api.idp_auth_url;
        io.public_url = api.public_url;
        io.catalog.id_seed = config.id;
        io.catalog.region = cloudlet.region;
        identity = std::make_unique<identity::IdentityProxy>(executor, io, tokens.get());
        image::GlanceProxyOptions go;
        go.secret = config.secret;
        glance = std::make_unique<image::GlanceProxy>(executor, *cloudlets, *state, go, [this] { return api_url; });
        compute::NovaProxyOptions no;
        no.max_build_attempts = api.max_build_attempts;
        no.build_timeout = api.build_timeout;
        no.list_timeout = api.list_timeout;
        nova = std::make_unique<compute::NovaProxy>(
            executor, *cloudlets, *state,
            [this](std::string tenant, std::string image, std::string at) {
                return glance->EnsureCopy(std::move(tenant), std::move(image), std::move(at));
            },
            no);
        api_gateway = std::make_unique<gateway::ApiGateway>(
            config.id, *tokens, peers, [this](const std::string& tenant) { return HomeOf(tenant); }, api.public_url);
        identity->AddRoutes(api_router);
        glance->AddRoutes(api_router);
        nova->AddRoutes(api_router);
        api_gateway->Attach(api_router, router);
        api_server = std::make_unique<http::Server>(executor, api_router);
        auto port = api_server->Listen(config.listen_address, api.port);
        if (!port.ok()) return MakeError(port.error().code, "API listener: " + port.error().message);
        api_url = "http://" + config.listen_address + ":" + std::to_string(*port);
        return Ok{};
    }

    json Status() {
        json refused = {
            {"unsigned", verifier.Refused(a2a::Rejection::kUnsigned)},
            {"forged", verifier.Refused(a2a::Rejection::kForged)},
            {"stale", verifier.Refused(a2a::Rejection::kStale)},
            {"replayed", verifier.Refused(a2a::Rejection::kReplayed)},
        };
        return json{
            {"id", config.id},
            {"address", address},
            {"version", 1},
            {"cloudlet",
             {{"auth_url", cloudlet.auth_url},
              {"embedded", embedded != nullptr},
              {"build_watch_lists", builds ? builds->Lists() : 0}}},
            {"state", store ? store->Describe() : ""},
            {"mapping",
             {{"mode", config.mapping.mode == MappingMode::kStatic ? "static" : "dynamic"},
              {"static_entries", config.mapping.table.size()}}},
            {"overlay", sampler ? sampler->Status() : json::object()},
            {"a2a", {{"accepted", verifier.Accepted()}, {"refused", std::move(refused)}}},
            {"api", ApiStatus()},
        };
    }

    json ApiStatus() {
        if (!api_gateway) return {};  // null
        const auto& n = nova->GetStats();
        return json{{"url", api_url},
                    {"requests_served", api_gateway->Served()},
                    {"requests_forwarded", api_gateway->Forwarded()},
                    {"requests_refused", api_gateway->Refused()},
                    {"servers_created", n.creates},
                    {"builds", n.builds},
                    {"build_failures", n.build_failures},
                    {"placement_failures", n.placement_failures},
                    {"builds_undone", n.undone},
                    {"boots_running", nova->Running()},  // boots and deletes this home carries out now
                    {"image_imports", glance->Imports()},
                    {"image_imports_joined", glance->ImportsJoined()},
                    {"builds_in_flight", ledger.Totals(config.id).builds}};
    }
};

Agent::Agent(const asio::any_io_executor& executor, AgentConfig config)
    : impl_(std::make_unique<Impl>(executor, std::move(config))) {}

Agent::~Agent() = default;

Result<Ok> Agent::Start() {
    auto& i = *impl_;
    if (i.started) return MakeError(ErrorCode::kConflict, "agent already started");
    if (i.config.embedded_cloudlet) {
        i.embedded = std::make_unique<emulator::Cloudlet>(i.executor, *i.config.embedded_cloudlet);
        auto port = i.embedded->Start();
        if (!port.ok()) return MakeError(port.error().code, "embedded cloudlet: " + port.error().message);
        const auto& c = i.embedded->Config();
        i.cloudlet.auth_url = i.embedded->AuthUrl();
        i.cloudlet.username = c.admin_user;
        i.cloudlet.password = c.admin_password;
        i.cloudlet.project = c.admin_project;
        i.cloudlet.region = c.region;
    } else {
        i.cloudlet = *i.config.cloudlet;
    }

    i.cloudlet_client = std::make_unique<cloudlet::CloudletClient>(i.executor, i.cloudlet);

    auto store = state::OpenKvStore(i.config.state, i.executor);
    if (!store.ok()) return MakeError(store.error().code, "state: " + store.error().message);
    i.store = std::move(store).value();
    i.state = std::make_unique<state::TenantState>(*i.store);

    i.server = std::make_unique<http::Server>(i.executor, i.router);
    auto port = i.server->Listen(i.config.listen_address, i.config.a2a_port);
    if (!port.ok()) return MakeError(port.error().code, "A2A listener: " + port.error().message);
    i.address = i.config.listen_address + ":" + std::to_string(*port);

    // The incarnation is the start time: a restarted agent outranks what others remember of it.
    overlay::PeerDescriptor self{overlay::PeerId(i.config.id), i.address, 0};
    i.sampler = std::make_unique<PeerSampler>(i.executor, i.peers, self, static_cast<std::uint64_t>(UnixMillisNow()),
                                              SamplerOptions(i.config.overlay), i.config.seeds, SecureRandomSeed());
    std::vector<std::pair<std::string, overlay::PeerId>> table;
    for (const auto& [tenant, agent_id] : i.config.mapping.table) table.emplace_back(tenant, overlay::PeerId(agent_id));
    i.mapping = std::make_unique<overlay::HomeMapping>(std::move(table), i.config.mapping.mode == MappingMode::kStatic
                                                                             ? overlay::StaticRule::kAlways
                                                                             : overlay::StaticRule::kWhileMember);
    i.builds = std::make_unique<gateway::BuildWatch>(i.config.id, *i.cloudlet_client, i.ledger);
    i.loads = std::make_unique<gateway::LoadService>(i.config.id, *i.cloudlet_client, i.ledger);
    i.relay = std::make_unique<gateway::CloudletRelay>(*i.cloudlet_client, *i.loads, *i.builds);
    i.cloudlets = std::make_unique<gateway::ShoalCloudlets>(
        i.config.id, i.peers,
        [sampler = i.sampler.get()]() -> const std::vector<overlay::PeerDescriptor>& {
            return sampler->Members().Members();
        },
        *i.relay, *i.loads, *i.builds, SecureRandomSeed());
    i.AddRoutes();
    if (i.config.api) {
        if (auto api = i.StartApi(); !api.ok()) return api.error();
    }
    i.sampler->Start();
    i.started = true;
    if (i.nova) {
        i.adopt_timer = std::make_unique<asio::steady_timer>(i.executor);
        SpawnDetached(i.executor, i.AdoptBoots(i.alive), "agent " + i.config.id + ": resuming boots failed");
    }
    spdlog::info("agent {}: A2A on {}, API on {}, cloudlet {}, state {}", i.config.id, i.address,
                 i.api_url.empty() ? "-" : i.api_url, i.cloudlet.auth_url, i.store->Describe());
    return Ok{};
}

asio::awaitable<void> Agent::Stop() {
    auto& i = *impl_;
    if (!i.started) co_return;
    i.started = false;
    if (i.adopt_timer) i.adopt_timer->cancel();
    i.sampler->Stop();
    if (i.api_server) co_await i.api_server->Shutdown(std::chrono::milliseconds(2'000));
    co_await i.server->Shutdown(std::chrono::milliseconds(2'000));
    if (i.embedded) co_await i.embedded->Stop();
}

const AgentConfig& Agent::Config() const {
    return impl_->config;
}
const std::string& Agent::Id() const {
    return impl_->config.id;
}
std::string Agent::Address() const {
    return impl_->address;
}
std::string Agent::ApiUrl() const {
    return impl_->api_url;
}
const CloudletAccess& Agent::Cloudlet() const {
    return impl_->cloudlet;
}
emulator::Cloudlet* Agent::EmbeddedCloudlet() {
    return impl_->embedded.get();
}
PeerSampler& Agent::Overlay() {
    return *impl_->sampler;
}
state::TenantState& Agent::State() {
    return *impl_->state;
}
a2a::RequestVerifier& Agent::Verifier() {
    return impl_->verifier;
}
const http::Router& Agent::A2aRouter() const {
    return impl_->router;
}
const http::Router& Agent::ApiRouter() const {
    return impl_->api_router;
}
overlay::PeerDescriptor Agent::HomeOf(const std::string& tenant) {
    return impl_->HomeOf(tenant);
}
json Agent::Status() {
    return impl_->Status();
}

}  // namespace shoal::agent
