#include "overlay/wire.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shoal::overlay {
namespace {

using nlohmann::json;

PeerDescriptor Peer(const std::string& id, std::uint32_t age) {
    return {PeerId(id), "10.0.0.1:7000", age};
}

OverlayMessage RoundTrip(const OverlayMessage& m) {
    // Through text, as the A2A layer carries it.
    auto decoded = OverlayMessageFromJson(json::parse(ToJson(m).dump()));
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : OverlayMessage{};
}

OverlayMessage Make(MessageType type) {
    OverlayMessage m;
    m.type = type;
    return m;
}

TEST(OverlayWireTest, EveryMessageSurvivesTheRoundTrip) {
    const std::vector<PeerDescriptor> entries = {Peer("a", 0), Peer("b", 7)};
    const std::vector<MemberUpdate> updates = {{Peer("a", 0), 1712345678901, MemberState::kAlive},
                                               {Peer("c", 0), 3, MemberState::kDead}};

    auto shuffle = Make(MessageType::kShuffle);
    shuffle.entries = entries;
    shuffle.gossip = updates;
    shuffle.digest = 18446744073709551615ULL;  // 64 bits survive: the digest travels as a string
    auto got = RoundTrip(shuffle);
    EXPECT_EQ(got.type, MessageType::kShuffle);
    EXPECT_EQ(got.entries, entries);
    EXPECT_EQ(got.gossip, updates);
    EXPECT_EQ(got.digest, shuffle.digest);
    EXPECT_FALSE(got.members);

    auto reply = Make(MessageType::kShuffleReply);
    reply.peer.id = PeerId("q");
    reply.entries = entries;
    reply.members = updates;
    got = RoundTrip(reply);
    EXPECT_EQ(got.peer.id, PeerId("q"));
    EXPECT_EQ(got.entries, entries);
    EXPECT_EQ(got.members, updates);

    auto join = Make(MessageType::kJoin);
    join.peer = Peer("j", 0);
    EXPECT_EQ(RoundTrip(join).peer, Peer("j", 0));

    auto answer = Make(MessageType::kJoinAnswer);
    answer.peer = Peer("i", 0);
    answer.members = updates;
    got = RoundTrip(answer);
    EXPECT_EQ(got.type, MessageType::kJoinAnswer);
    EXPECT_EQ(got.peer, Peer("i", 0));
    EXPECT_EQ(got.members, updates);

    auto walk = Make(MessageType::kJoinWalk);
    walk.peer = Peer("j", 0);
    walk.ttl = 4;
    got = RoundTrip(walk);
    EXPECT_EQ(got.peer, Peer("j", 0));
    EXPECT_EQ(got.ttl, 4u);

    auto join_reply = Make(MessageType::kJoinReply);
    join_reply.entries = entries;
    EXPECT_EQ(RoundTrip(join_reply).entries, entries);

    for (auto type : {MessageType::kPing, MessageType::kSync, MessageType::kList, MessageType::kAck}) {
        EXPECT_EQ(RoundTrip(Make(type)).type, type);
    }
}

TEST(OverlayWireTest, FieldNamesAreTheDocumentedOnes) {
    auto walk = Make(MessageType::kJoinWalk);
    walk.peer = Peer("j", 2);
    walk.ttl = 3;
    walk.digest = 42;
    EXPECT_EQ(ToJson(walk), json::parse(R"({"type":"cyclon.join_walk","ttl":3,"digest":"42",
                                            "joiner":{"id":"j","address":"10.0.0.1:7000","age":2}})"));
    auto shuffle = Make(MessageType::kShuffle);
    shuffle.entries = {Peer("a", 0)};
    EXPECT_EQ(ToJson(shuffle),
              json::parse(R"({"type":"cyclon.shuffle","entries":[{"id":"a","address":"10.0.0.1:7000","age":0}]})"));
    EXPECT_EQ(ToJson(Make(MessageType::kAck)), json::parse(R"({"type":"membership.ack"})"));
}

TEST(OverlayWireTest, MalformedMessagesAreBadRequests) {
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
             R"({"type":"cyclon.join_answer"})",
             R"({"type":"cyclon.join_walk","joiner":{"id":"a","address":"x","age":0}})",
             R"({"type":"cyclon.join_walk","joiner":{"id":"a","address":"x","age":0},"ttl":"3"})",
             R"({"type":"membership.ping","digest":12})",
             R"({"type":"membership.ping","digest":"12x"})",
             R"({"type":"membership.ping","digest":"18446744073709551616"})",
             R"({"type":"membership.ping","gossip":{}})",
             R"({"type":"membership.sync","members":[{"id":"a"}]})",
         }) {
        auto decoded = OverlayMessageFromJson(json::parse(text));
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
