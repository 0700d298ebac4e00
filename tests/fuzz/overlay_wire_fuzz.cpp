// The overlay's wire format as an agent receives it on the A2A port: a JSON message through
// overlay::CyclonMessageFromJson and MemberUpdatesFromJson ("gossip", "members"), each accepted
// message re-encoded and decoded again to the same thing, then fed to a Cyclon view and a member
// list the way agent::PeerSampler::OnMessage does.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "overlay/cyclon.hpp"
#include "overlay/membership.hpp"
#include "overlay/wire.hpp"

namespace {

void Check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz check failed: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace shoal::overlay;
    using nlohmann::json;
    const json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;

    shoal::Rng rng(size);
    PeerDescriptor self{PeerId("agent-1"), "127.0.0.1:7001", 0};
    CyclonConfig config;
    config.view_size = 4;
    config.shuffle_length = 3;
    Cyclon cyclon(self, config, rng);
    cyclon.AddPeer({PeerId("agent-2"), "127.0.0.1:7002", 3});
    cyclon.AddPeer({PeerId("agent-3"), "127.0.0.1:7003", 1});
    Membership membership(self, 1, MembershipConfig{}, rng);
    if (auto shuffle = cyclon.StartShuffle()) (void)shuffle;  // a pending shuffle a reply can answer

    for (const char* key : {"gossip", "members"}) {
        if (!j.is_object() || !j.contains(key)) continue;
        auto updates = MemberUpdatesFromJson(j[key]);
        if (!updates.ok()) continue;
        auto again = MemberUpdatesFromJson(json::parse(ToJson(*updates).dump()));
        Check(again.ok() && *again == *updates, "member updates survive the round trip");
        if (key[0] == 'm') {
            membership.ApplySnapshot(*updates);
        } else {
            membership.Apply(*updates);
        }
    }

    auto message = CyclonMessageFromJson(j);
    if (!message.ok()) return 0;
    auto again = CyclonMessageFromJson(json::parse(ToJson(*message).dump()));
    Check(again.ok() && ToJson(*again) == ToJson(*message), "a Cyclon message survives the round trip");

    if (auto* shuffle = std::get_if<ShuffleRequestMessage>(&*message)) {
        const PeerId from = shuffle->entries.front().id;
        (void)cyclon.OnShuffleRequest(from, std::move(shuffle->entries));
    } else if (auto* reply = std::get_if<ShuffleReplyMessage>(&*message)) {
        cyclon.OnShuffleReply(reply->from, std::move(reply->entries));
    } else if (auto* join = std::get_if<JoinRequestMessage>(&*message)) {
        (void)cyclon.OnJoinRequest(join->joiner);
    } else if (auto* walk = std::get_if<JoinWalk>(&*message)) {
        (void)cyclon.OnJoinWalk(*walk);
    } else if (auto* join_reply = std::get_if<JoinReplyMessage>(&*message)) {
        cyclon.OnJoinReply(std::move(join_reply->entries));
    }
    Check(cyclon.View().size() <= config.view_size, "the view never outgrows c");
    for (const auto& p : cyclon.View()) Check(!(p.id == self.id), "the view never holds self");
    (void)cyclon.Sample(3);
    (void)membership.Members();
    return 0;
}
