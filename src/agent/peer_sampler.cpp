#include "agent/peer_sampler.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/spawn.hpp"
#include "overlay/wire.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

constexpr std::string_view kOverlayPath = "/a2a/v1/overlay";

std::string DigestString(std::uint64_t d) {
    return std::to_string(d);
}

std::optional<std::uint64_t> DigestOf(const json& message) {
    auto it = message.find("digest");
    if (it == message.end() || !it->is_string()) return std::nullopt;
    try {
        return std::stoull(it->get<std::string>());
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

PeerSampler::PeerSampler(asio::any_io_executor executor,
                         a2a::PeerClient& client,
                         overlay::PeerDescriptor self,
                         std::uint64_t incarnation,
                         OverlayOptions options,
                         std::vector<std::string> seeds,
                         std::uint64_t rng_seed)
    : executor_(executor),
      client_(client),
      options_(options),
      seeds_(std::move(seeds)),
      rng_(rng_seed),
      cyclon_(self, options.cyclon, rng_),
      membership_(self, incarnation, options.membership, rng_),
      timer_(executor) {
    // A seed that is our own address is no introducer.
    std::erase(seeds_, self.address);
    if (options_.rejoin_after_quiet_rounds == 0) {
        options_.rejoin_after_quiet_rounds = static_cast<std::uint32_t>(2 * options_.cyclon.view_size);
    }
}

PeerSampler::~PeerSampler() {
    *alive_ = false;
}

void PeerSampler::Start() {
    if (running_) return;
    running_ = true;
    JoinThroughSeed();
    SpawnDetached(executor_, Loop(), "overlay: coroutine failed");
}

void PeerSampler::Stop() {
    running_ = false;
    timer_.cancel();
}

asio::awaitable<void> PeerSampler::Loop() {
    auto alive = alive_;
    // A random phase, so that agents started together do not shuffle in lockstep.
    auto delay = std::chrono::milliseconds(rng_.Uniform(static_cast<std::uint64_t>(options_.period.count()) + 1));
    while (*alive && running_) {
        timer_.expires_after(delay);
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!*alive || !running_) co_return;
        delay = options_.period;
        Round();
    }
}

void PeerSampler::Round() {
    membership_.Tick();
    if (cyclon_.View().empty() || cyclon_.QuietRounds() > options_.rejoin_after_quiet_rounds) {
        JoinThroughSeed();
    }
    auto request = cyclon_.StartShuffle();
    if (!request) return;
    ++counters_.shuffles_started;
    SpawnDetached(executor_, Shuffle(std::move(*request)), "overlay: coroutine failed");
}

void PeerSampler::JoinThroughSeed() {
    // Seeds first; failing that, anyone we still know of (a restarted agent's seeds may be gone).
    std::vector<std::string> candidates = seeds_;
    if (candidates.empty()) {
        for (const auto& m : membership_.Members()) {
            if (m.id != Self().id) candidates.push_back(m.address);
        }
    }
    if (candidates.empty()) return;  // the first agent of a shoal: others will join it
    SpawnDetached(executor_, Join(candidates[rng_.Uniform(candidates.size())]), "overlay: coroutine failed");
}

asio::awaitable<void> PeerSampler::Join(std::string introducer) {
    auto alive = alive_;
    ++counters_.joins;
    // The introducer's id is unknown until it answers; the join message goes first and the
    // answer (its descriptor and member list) makes it our stand-in neighbour.
    json message = WithGossip(json{{"type", "cyclon.join"}, {"joiner", overlay::ToJson(cyclon_.Self())}});
    auto answer = co_await client_.Call(introducer, http::Method::kPost, std::string(kOverlayPath), std::move(message),
                                        options_.request_timeout);
    if (!*alive) co_return;
    if (!answer.ok()) {
        spdlog::warn("overlay {}: join through {} failed: {}", Self().id.str(), introducer, answer.error().message);
        co_return;
    }
    TakeGossip(*answer);
    if (auto it = answer->find("introducer"); it != answer->end()) {
        if (auto peer = overlay::PeerDescriptorFromJson(*it); peer.ok()) {
            // Keep the introducer as a stand-in until the walks answer (overlay::Cyclon::Join).
            (void)cyclon_.Join(*peer);
        }
    }
}

asio::awaitable<void> PeerSampler::Shuffle(overlay::ShuffleRequest request) {
    auto alive = alive_;
    const overlay::PeerDescriptor to = request.to;
    json message = WithGossip(overlay::ToJson(overlay::CyclonMessage{overlay::ShuffleRequestMessage{request.entries}}));
    auto answer = co_await client_.Call(to.address, http::Method::kPost, std::string(kOverlayPath), std::move(message),
                                        options_.request_timeout);
    if (!*alive) co_return;
    if (!answer.ok()) {
        ++counters_.shuffles_failed;
        spdlog::debug("overlay {}: shuffle with {} failed: {}", Self().id.str(), to.id.str(), answer.error().message);
        cyclon_.OnShuffleTimeout(to.id);
        // One failed exchange may be a slow peer: confirm with a ping before suspecting it.
        // (A named message: g++ 12 cannot keep a braced json temporary across co_await.)
        json ping_message = WithGossip(json::object());
        ping_message["type"] = "membership.ping";
        auto ping = co_await client_.Call(to.address, http::Method::kPost, std::string(kOverlayPath),
                                          std::move(ping_message), options_.request_timeout);
        if (!*alive) co_return;
        if (ping.ok()) {
            TakeGossip(*ping);
        } else {
            ++counters_.suspicions;
            membership_.Suspect(to.id);
        }
        co_return;
    }
    auto reply = overlay::CyclonMessageFromJson(*answer);
    if (!reply.ok() || !std::holds_alternative<overlay::ShuffleReplyMessage>(*reply)) {
        ++counters_.messages_refused;
        cyclon_.OnShuffleTimeout(to.id);
        co_return;
    }
    ++counters_.shuffles_answered;
    auto& shuffle_reply = std::get<overlay::ShuffleReplyMessage>(*reply);
    cyclon_.OnShuffleReply(to.id, std::move(shuffle_reply.entries));
    TakeGossip(*answer);
    // Still different and this side wants a sync: push-pull full lists. The responder only
    // answers a shuffle with its list when *it* wants a sync, and a converged responder that
    // keeps meeting agreeing peers never does, so a node that missed a rumour must pull.
    if (auto theirs = DigestOf(*answer); theirs && *theirs != membership_.Digest() && membership_.WantsSync(*theirs)) {
        ++counters_.full_syncs;
        json sync = WithGossip(json::object());
        sync["type"] = "membership.sync";
        sync["members"] = overlay::ToJson(membership_.Snapshot());
        auto their_list = co_await client_.Call(to.address, http::Method::kPost, std::string(kOverlayPath),
                                                std::move(sync), options_.request_timeout);
        if (*alive && their_list.ok()) TakeGossip(*their_list);
    }
}

void PeerSampler::Post(std::string address, json message) {
    SpawnDetached(executor_, Deliver(std::move(address), std::move(message)), "overlay: coroutine failed");
}

asio::awaitable<void> PeerSampler::Deliver(std::string address, json message) {
    auto alive = alive_;
    auto answer = co_await client_.Call(address, http::Method::kPost, std::string(kOverlayPath), std::move(message),
                                        options_.request_timeout);
    if (!*alive) co_return;
    if (!answer.ok()) {
        spdlog::debug("overlay {}: message to {} failed: {}", Self().id.str(), address, answer.error().message);
    }
}

void PeerSampler::SendJoinStep(overlay::JoinStep step) {
    if (auto* forward = std::get_if<overlay::JoinForward>(&step)) {
        ++counters_.join_walks_forwarded;
        Post(forward->to.address, WithGossip(overlay::ToJson(overlay::CyclonMessage{forward->walk})));
    } else {
        auto& reply = std::get<overlay::JoinReply>(step);
        Post(reply.to.address,
             WithGossip(overlay::ToJson(overlay::CyclonMessage{overlay::JoinReplyMessage{std::move(reply.entries)}})));
    }
}

json PeerSampler::WithGossip(json message) {
    message["gossip"] = overlay::ToJson(membership_.TakeGossip());
    message["digest"] = DigestString(membership_.Digest());
    return message;
}

void PeerSampler::TakeGossip(const json& message) {
    for (const bool full : {false, true}) {
        auto it = message.find(full ? "members" : "gossip");
        if (it == message.end()) continue;
        auto updates = overlay::MemberUpdatesFromJson(*it);
        if (!updates.ok()) {
            ++counters_.messages_refused;
            continue;
        }
        if (full) {
            membership_.ApplySnapshot(*updates);
        } else if (auto digest = DigestOf(message)) {
            membership_.Apply(*updates, *digest);
        } else {
            membership_.Apply(*updates);
        }
    }
}

asio::awaitable<Result<json>> PeerSampler::OnMessage(json message) {
    const std::string type = message.value("type", std::string());
    if (type == "membership.ping") {
        TakeGossip(message);
        co_return WithGossip(json::object());
    }
    if (type == "membership.sync") {
        TakeGossip(message);
        json answer = json::object();
        answer["members"] = overlay::ToJson(membership_.Snapshot());
        co_return WithGossip(std::move(answer));
    }
    auto parsed = overlay::CyclonMessageFromJson(message);
    if (!parsed.ok()) {
        ++counters_.messages_refused;
        co_return parsed.error();
    }
    TakeGossip(message);
    const auto peer_digest = DigestOf(message);
    const bool send_members = peer_digest && membership_.WantsSync(*peer_digest);

    json answer;
    if (auto* shuffle = std::get_if<overlay::ShuffleRequestMessage>(&*parsed)) {
        ++counters_.shuffles_served;
        const overlay::PeerId from = shuffle->entries.front().id;
        auto entries = cyclon_.OnShuffleRequest(from, std::move(shuffle->entries));
        answer = overlay::ToJson(overlay::CyclonMessage{overlay::ShuffleReplyMessage{Self().id, std::move(entries)}});
    } else if (auto* join = std::get_if<overlay::JoinRequestMessage>(&*parsed)) {
        for (auto& step : cyclon_.OnJoinRequest(join->joiner)) SendJoinStep(std::move(step));
        // The joiner learns the whole member list at once instead of waiting for rumours.
        answer =
            json{{"introducer", overlay::ToJson(cyclon_.Self())}, {"members", overlay::ToJson(membership_.Snapshot())}};
        co_return WithGossip(std::move(answer));
    } else if (auto* walk = std::get_if<overlay::JoinWalk>(&*parsed)) {
        if (auto step = cyclon_.OnJoinWalk(*walk)) SendJoinStep(std::move(*step));
        answer = json::object();
    } else if (auto* reply = std::get_if<overlay::JoinReplyMessage>(&*parsed)) {
        cyclon_.OnJoinReply(std::move(reply->entries));
        answer = json::object();
    } else {
        ++counters_.messages_refused;
        co_return MakeError(ErrorCode::kBadRequest, "overlay: a shuffle reply is not a request");
    }
    if (send_members) {
        ++counters_.full_syncs;
        answer["members"] = overlay::ToJson(membership_.Snapshot());
    }
    co_return WithGossip(std::move(answer));
}

json PeerSampler::Status() const {
    json view = json::array();
    for (const auto& p : cyclon_.View()) view.push_back(overlay::ToJson(p));
    json members = json::array();
    for (const auto& m : membership_.Members()) members.push_back(json{{"id", m.id.str()}, {"address", m.address}});
    return json{
        {"view", std::move(view)},
        {"members", std::move(members)},
        {"incarnation", membership_.Incarnation()},
        {"membership_generation", membership_.Generation()},
        {"quiet_rounds", cyclon_.QuietRounds()},
        {"counters",
         {{"shuffles_started", counters_.shuffles_started},
          {"shuffles_answered", counters_.shuffles_answered},
          {"shuffles_failed", counters_.shuffles_failed},
          {"shuffles_served", counters_.shuffles_served},
          {"joins", counters_.joins},
          {"join_walks_forwarded", counters_.join_walks_forwarded},
          {"full_syncs", counters_.full_syncs},
          {"suspicions", counters_.suspicions},
          {"messages_refused", counters_.messages_refused}}},
    };
}

}  // namespace shoal::agent
