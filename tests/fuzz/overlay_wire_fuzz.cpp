// The overlay's wire format as an agent receives it on the A2A port: a JSON message through
// overlay::OverlayMessageFromJson (its "gossip", "digest" and "members" included), each accepted
// message re-encoded and decoded again to the same thing, then fed to an overlay node the way
// overlay::node::PeerSampler::OnMessage does, and as the answer to each kind of exchange.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "overlay/overlay_node.hpp"
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

    auto message = OverlayMessageFromJson(j);
    if (!message.ok()) return 0;
    auto again = OverlayMessageFromJson(json::parse(ToJson(*message).dump()));
    Check(again.ok() && ToJson(*again) == ToJson(*message), "an overlay message survives the round trip");

    shoal::Rng rng(size);
    const PeerDescriptor self{PeerId("agent-1"), "127.0.0.1:7001", 0};
    OverlayNodeOptions options;
    options.cyclon.view_size = 4;
    options.cyclon.shuffle_length = 3;
    options.rejoin_after_quiet_rounds = 2;
    OverlayNode node(self, 1, options, rng);
    node.AddPeer({PeerId("agent-2"), "127.0.0.1:7002", 3});
    node.AddPeer({PeerId("agent-3"), "127.0.0.1:7003", 1});
    node.SetSeeds({{PeerId(), "127.0.0.1:7009", 0}});
    OverlayNode::Outbox out;
    node.Start(out);    // a join in flight
    node.OnRound(out);  // a shuffle in flight
    // As a request, then as the answer to every exchange in flight.
    (void)node.OnMessage(*message, out);
    const auto pending = out;
    for (const auto& o : pending) node.OnAnswer(o.exchange, *message, out);
    const auto more = out;
    for (const auto& o : more) node.OnNoAnswer(o.exchange, out);

    const auto& cyclon = node.Cyclon();
    Check(cyclon.View().size() <= options.cyclon.view_size, "the view never outgrows c");
    for (const auto& p : cyclon.View()) Check(!(p.id == self.id), "the view never holds self");
    (void)node.Membership().Members();
    return 0;
}
