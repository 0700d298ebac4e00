#include "overlay/wire.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shoal::overlay {
namespace {

using nlohmann::json;

PeerDescriptor Peer(const std::string& id, std::uint32_t age) {
    return {PeerId(id), "10.0.0.1:7000", age};
}

CyclonMessage RoundTrip(const CyclonMessage& m) {
    // Through text, as the A2A layer will carry it.
    auto decoded = CyclonMessageFromJson(json::parse(ToJson(m).dump()));
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : CyclonMessage{};
}

TEST(CyclonWireTest, EveryMessageSurvivesTheRoundTrip) {
    const std::vector<PeerDescriptor> entries = {Peer("a", 0), Peer("b", 7)};

    auto shuffle = std::get<ShuffleRequestMessage>(RoundTrip(ShuffleRequestMessage{entries}));
    EXPECT_EQ(shuffle.entries, entries);

    auto reply = std::get<ShuffleReplyMessage>(RoundTrip(ShuffleReplyMessage{PeerId("q"), entries}));
    EXPECT_EQ(reply.from, PeerId("q"));
    EXPECT_EQ(reply.entries, entries);

    auto join = std::get<JoinRequestMessage>(RoundTrip(JoinRequestMessage{Peer("j", 0)}));
    EXPECT_EQ(join.joiner, Peer("j", 0));

    auto walk = std::get<JoinWalk>(RoundTrip(JoinWalk{Peer("j", 0), 4}));
    EXPECT_EQ(walk.joiner, Peer("j", 0));
    EXPECT_EQ(walk.ttl, 4u);

    auto join_reply = std::get<JoinReplyMessage>(RoundTrip(JoinReplyMessage{entries}));
    EXPECT_EQ(join_reply.entries, entries);
}

TEST(CyclonWireTest, FieldNamesAreTheDocumentedOnes) {
    const json j = ToJson(CyclonMessage{JoinWalk{Peer("j", 2), 3}});
    EXPECT_EQ(j, json::parse(R"({"type":"cyclon.join_walk","ttl":3,
                                 "joiner":{"id":"j","address":"10.0.0.1:7000","age":2}})"));
    EXPECT_EQ(ToJson(CyclonMessage{ShuffleRequestMessage{{Peer("a", 0)}}}),
              json::parse(R"({"type":"cyclon.shuffle","entries":[{"id":"a","address":"10.0.0.1:7000","age":0}]})"));
}

TEST(CyclonWireTest, MalformedMessagesAreBadRequests) {
    for (const char* text : {
             R"([])",
             R"({"entries":[]})",
             R"({"type":"cyclon.gossip"})",
             R"({"type":"cyclon.shuffle","entries":[]})",
             R"({"type":"cyclon.shuffle","entries":{}})",
             R"({"type":"cyclon.shuffle","entries":[{"id":"","address":"x","age":0}]})",
             R"({"type":"cyclon.shuffle","entries":[{"id":"a","address":"x","age":-1}]})",
             R"({"type":"cyclon.shuffle","entries":[{"id":"a","address":"x","age":4294967296}]})",
             R"({"type":"cyclon.shuffle","entries":[{"id":"a","age":0}]})",
             R"({"type":"cyclon.shuffle_reply","entries":[]})",
             R"({"type":"cyclon.join"})",
             R"({"type":"cyclon.join_walk","joiner":{"id":"a","address":"x","age":0}})",
             R"({"type":"cyclon.join_walk","joiner":{"id":"a","address":"x","age":0},"ttl":"3"})",
         }) {
        auto decoded = CyclonMessageFromJson(json::parse(text));
        ASSERT_FALSE(decoded.ok()) << text;
        EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << text;
    }
}

TEST(MembershipWireTest, UpdatesSurviveTheRoundTrip) {
    const std::vector<MemberUpdate> updates = {
        {Peer("a", 0), 1712345678901, MemberState::kAlive},
        {Peer("b", 0), 0, MemberState::kSuspect},
        {Peer("c", 0), 18446744073709551615ULL, MemberState::kDead},
    };
    auto decoded = MemberUpdatesFromJson(json::parse(ToJson(updates).dump()));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, updates);

    auto empty = MemberUpdatesFromJson(json::parse("[]"));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
}

TEST(MembershipWireTest, FieldNamesAreTheDocumentedOnes) {
    EXPECT_EQ(ToJson(MemberUpdate{Peer("a", 9), 7, MemberState::kSuspect}),
              json::parse(R"({"id":"a","address":"10.0.0.1:7000","incarnation":7,"state":"suspect"})"));
    // The age of a descriptor means nothing in membership and is not sent.
    auto decoded = MemberUpdateFromJson(json::parse(R"({"id":"a","address":"x","incarnation":1,"state":"dead"})"));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->peer.age, 0u);
    EXPECT_EQ(decoded->state, MemberState::kDead);
}

TEST(MembershipWireTest, MalformedUpdatesAreBadRequests) {
    for (const char* text : {
             R"({})",
             R"({"id":"a","address":"x","incarnation":1,"state":"alive"})",
             R"([[]])",
             R"([{"address":"x","incarnation":1,"state":"alive"}])",
             R"([{"id":"","address":"x","incarnation":1,"state":"alive"}])",
             R"([{"id":7,"address":"x","incarnation":1,"state":"alive"}])",
             R"([{"id":"a","incarnation":1,"state":"alive"}])",
             R"([{"id":"a","address":"x","state":"alive"}])",
             R"([{"id":"a","address":"x","incarnation":-1,"state":"alive"}])",
             R"([{"id":"a","address":"x","incarnation":1.5,"state":"alive"}])",
             R"([{"id":"a","address":"x","incarnation":"1","state":"alive"}])",
             R"([{"id":"a","address":"x","incarnation":1}])",
             R"([{"id":"a","address":"x","incarnation":1,"state":"zombie"}])",
             R"([{"id":"a","address":"x","incarnation":1,"state":2}])",
         }) {
        auto decoded = MemberUpdatesFromJson(json::parse(text));
        ASSERT_FALSE(decoded.ok()) << text;
        EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << text;
    }
}

}  // namespace
}  // namespace shoal::overlay
