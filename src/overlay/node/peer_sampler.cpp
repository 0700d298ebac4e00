#include "overlay/node/peer_sampler.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "a2a/routes.hpp"
#include "common/spawn.hpp"
#include "overlay/wire.hpp"

namespace shoal::overlay::node {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

std::vector<PeerDescriptor> SeedPeers(const std::vector<std::string>& addresses) {
    std::vector<PeerDescriptor> seeds;
    // Only the address is known until the seed answers.
    for (const auto& a : addresses) seeds.push_back(PeerDescriptor{PeerId(), a, 0});
    return seeds;
}

}  // namespace

PeerSampler::PeerSampler(const asio::any_io_executor& executor,
                         a2a::Peers& peers,
                         PeerDescriptor self,
                         std::uint64_t incarnation,
                         PeerSamplerOptions options,
                         const std::vector<std::string>& seeds,
                         std::uint64_t rng_seed)
    : executor_(executor),
      peers_(peers),
      options_(options),
      rng_(rng_seed),
      node_(std::move(self), incarnation, options.node, rng_),
      timer_(executor) {
    node_.SetSeeds(SeedPeers(seeds));
}

PeerSampler::~PeerSampler() {
    *alive_ = false;
}

void PeerSampler::Start() {
    if (running_) return;
    running_ = true;
    OverlayNode::Outbox out;
    node_.Start(out);
    Deliver(std::move(out));
    SpawnDetached(executor_, Loop(), "overlay: coroutine failed");
}

void PeerSampler::Stop() {
    running_ = false;
    timer_.cancel();
}

asio::awaitable<void> PeerSampler::Loop() {
    auto alive = alive_;
    // A random phase, so that agents started together do not run their rounds in lockstep.
    auto delay = std::chrono::milliseconds(rng_.Uniform(static_cast<std::uint64_t>(options_.period.count()) + 1));
    while (*alive && running_) {
        timer_.expires_after(delay);
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!*alive || !running_) co_return;
        delay = options_.period;
        OverlayNode::Outbox out;
        node_.OnRound(out);
        Deliver(std::move(out));
    }
}

void PeerSampler::Deliver(OverlayNode::Outbox out) {
    for (auto& outgoing : out) SpawnDetached(executor_, Exchange(std::move(outgoing)), "overlay: coroutine failed");
}

asio::awaitable<void> PeerSampler::Exchange(OverlayNode::Outgoing outgoing) {
    auto alive = alive_;
    const std::uint64_t exchange = outgoing.exchange;
    const std::string to = outgoing.to.address;
    json body = ToJson(outgoing.message);
    auto answer = co_await peers_.Call(to, a2a::kOverlayRoute.method, std::string(a2a::kOverlayRoute.path),
                                       std::move(body), options_.request_timeout);
    if (!*alive) co_return;
    OverlayNode::Outbox out;
    if (!answer.ok()) {
        spdlog::debug("overlay {}: {} to {} failed: {}", Self().id.str(), MessageTypeName(outgoing.message.type), to,
                      answer.error().message);
        node_.OnNoAnswer(exchange, out);
    } else if (auto message = OverlayMessageFromJson(*answer); !message.ok()) {
        spdlog::debug("overlay {}: a malformed answer from {}: {}", Self().id.str(), to, message.error().message);
        node_.OnRefusedAnswer(exchange);
    } else {
        node_.OnAnswer(exchange, std::move(message).value(), out);
    }
    Deliver(std::move(out));
}

asio::awaitable<Result<json>> PeerSampler::OnMessage(json message) {
    auto parsed = OverlayMessageFromJson(message);
    if (!parsed.ok()) {
        node_.OnRefusedMessage();
        co_return parsed.error();
    }
    OverlayNode::Outbox out;
    auto answer = node_.OnMessage(std::move(parsed).value(), out);
    Deliver(std::move(out));
    if (!answer) co_return MakeError(ErrorCode::kBadRequest, "overlay: not a request");
    co_return ToJson(*answer);
}

json PeerSampler::Status() const {
    json view = json::array();
    for (const auto& p : View().View()) view.push_back(ToJson(p));
    json members = json::array();
    for (const auto& m : Members().Members()) members.push_back(json{{"id", m.id.str()}, {"address", m.address}});
    const auto& c = Stats();
    return json{
        {"view", std::move(view)},
        {"members", std::move(members)},
        {"incarnation", Members().Incarnation()},
        {"membership_generation", Members().Generation()},
        {"quiet_rounds", View().QuietRounds()},
        {"counters",
         {{"shuffles_started", c.shuffles_started},
          {"shuffles_answered", c.shuffles_answered},
          {"shuffles_failed", c.shuffles_failed},
          {"shuffles_served", c.shuffles_served},
          {"joins", c.joins},
          {"join_walks_forwarded", c.join_walks_forwarded},
          {"pings", c.pings},
          {"full_syncs", c.full_syncs},
          {"suspicions", c.suspicions},
          {"messages_refused", c.messages_refused}}},
    };
}

}  // namespace shoal::overlay::node
