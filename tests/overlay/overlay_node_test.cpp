#include "overlay/overlay_node.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>
#include <string>

namespace shoal::overlay {
namespace {

PeerDescriptor Peer(const std::string& id) {
    return {PeerId(id), id + ":7000", 0};
}

OverlayNodeOptions Options() {
    OverlayNodeOptions o;
    o.cyclon.view_size = 4;
    o.cyclon.shuffle_length = 2;
    o.rejoin_after_quiet_rounds = 8;
    return o;
}

// A lossless, instant network between nodes, with switchable dead nodes: what a shell does,
// and nothing more.
class Net {
public:
    explicit Net(std::uint64_t seed = 1) : rng_(seed) {}

    OverlayNode& Add(const std::string& id, OverlayNodeOptions options = Options()) {
        auto [it, _] = nodes_.try_emplace(id, Peer(id), 1, options, rng_);
        return it->second;
    }
    OverlayNode& operator[](const std::string& id) { return nodes_.at(id); }
    void Kill(const std::string& id) { dead_.insert(Peer(id).address); }

    // Delivers what `from` sends, and everything that follows, until the network is quiet.
    void Pump(const std::string& from, OverlayNode::Outbox out) {
        std::deque<std::pair<std::string, OverlayNode::Outgoing>> queue;
        for (auto& o : out) queue.emplace_back(from, std::move(o));
        while (!queue.empty()) {
            auto [sender, o] = std::move(queue.front());
            queue.pop_front();
            ++sent_;
            types_.push_back(o.message.type);
            OverlayNode::Outbox more;
            OverlayNode* receiver = Find(o.to.address);
            std::optional<OverlayMessage> answer;
            if (receiver) answer = receiver->OnMessage(o.message, more);
            for (auto& m : more) queue.emplace_back(receiver->Self().id.str(), std::move(m));
            more.clear();
            auto& requester = nodes_.at(sender);
            if (answer) {
                requester.OnAnswer(o.exchange, std::move(*answer), more);
            } else {
                requester.OnNoAnswer(o.exchange, more);
            }
            for (auto& m : more) queue.emplace_back(sender, std::move(m));
        }
    }
    void Round(const std::string& id) {
        OverlayNode::Outbox out;
        nodes_.at(id).OnRound(out);
        Pump(id, std::move(out));
    }
    void Start(const std::string& id) {
        OverlayNode::Outbox out;
        nodes_.at(id).Start(out);
        Pump(id, std::move(out));
    }
    std::size_t Count(MessageType type) const { return std::count(types_.begin(), types_.end(), type); }
    void ClearLog() { types_.clear(); }

private:
    OverlayNode* Find(const std::string& address) {
        if (dead_.count(address)) return nullptr;
        for (auto& [id, node] : nodes_) {
            if (node.Self().address == address) return &node;
        }
        return nullptr;
    }

    Rng rng_;
    std::map<std::string, OverlayNode> nodes_;
    std::set<std::string> dead_;
    std::vector<MessageType> types_;
    std::size_t sent_ = 0;
};

std::set<std::string> MemberIds(const OverlayNode& n) {
    std::set<std::string> ids;
    for (const auto& m : n.Membership().Members()) ids.insert(m.id.str());
    return ids;
}

TEST(OverlayNodeTest, AJoinerLearnsEveryMemberFromItsIntroducersAnswer) {
    Net net;
    for (const char* id : {"a", "b", "c"}) net.Add(id);
    net["b"].SetSeeds({Peer("a")});
    net.Start("b");
    net["c"].SetSeeds({PeerDescriptor{PeerId(), "a:7000", 0}});  // known by address only, as configured
    net.Start("c");
    EXPECT_EQ(MemberIds(net["c"]), (std::set<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(net["c"].Cyclon().Contains(PeerId("a")));  // the introducer stands in until walks answer
    EXPECT_EQ(net["c"].Counters().joins, 1u);
}

TEST(OverlayNodeTest, ASeedThatIsOurOwnAddressIsNoIntroducer) {
    Net net;
    net.Add("a").SetSeeds({PeerDescriptor{PeerId(), "a:7000", 0}});
    EXPECT_TRUE(net["a"].Seeds().empty());
    net.Start("a");
    EXPECT_EQ(net["a"].Counters().joins, 0u);  // the first agent of a shoal: others join it
}

TEST(OverlayNodeTest, EveryRoundShufflesWithGossipAndTheDigest) {
    Net net;
    net.Add("a");
    net.Add("b");
    net["a"].AddPeer(Peer("b"));
    OverlayNode::Outbox out;
    net["a"].OnRound(out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.type, MessageType::kShuffle);
    EXPECT_EQ(out[0].to.id, PeerId("b"));
    EXPECT_EQ(out[0].message.digest, net["a"].Membership().Digest());
    EXPECT_FALSE(out[0].message.gossip.empty());  // its own entry, news to everyone
    net.Pump("a", std::move(out));
    EXPECT_EQ(net["a"].Counters().shuffles_answered, 1u);
    EXPECT_EQ(net["b"].Counters().shuffles_served, 1u);
    EXPECT_TRUE(net["b"].Cyclon().Contains(PeerId("a")));
    EXPECT_EQ(MemberIds(net["b"]), (std::set<std::string>{"a", "b"}));
}

TEST(OverlayNodeTest, AShuffleWithoutAnswerIsConfirmedByAPingBeforeItsTargetIsSuspected) {
    Net net;
    net.Add("a");
    net.Add("b");
    net["b"].AddPeer(Peer("a"));
    net.Round("b");  // a now knows b
    ASSERT_EQ(MemberIds(net["a"]), (std::set<std::string>{"a", "b"}));

    net.Kill("b");
    net["a"].AddPeer(Peer("b"));
    net.ClearLog();
    net.Round("a");
    EXPECT_EQ(net["a"].Counters().shuffles_failed, 1u);
    EXPECT_EQ(net.Count(MessageType::kPing), 3u);  // the default: three pings, each without answer
    EXPECT_EQ(net["a"].Counters().suspicions, 1u);
    EXPECT_EQ(net["a"].Membership().Find(PeerId("b"))->state, MemberState::kSuspect);
}

TEST(OverlayNodeTest, AnAnsweredPingClearsTheTarget) {
    Net net;
    net.Add("a");
    net.Add("b");
    net["b"].AddPeer(Peer("a"));
    net.Round("b");  // a now knows b
    ASSERT_EQ(MemberIds(net["a"]), (std::set<std::string>{"a", "b"}));
    // The shuffle to b fails, the ping gets through: a slow peer, not a dead one.
    OverlayNode::Outbox out;
    net["a"].AddPeer(Peer("b"));
    net["a"].OnRound(out);
    const auto shuffle =
        std::find_if(out.begin(), out.end(), [](const auto& o) { return o.message.type == MessageType::kShuffle; });
    ASSERT_NE(shuffle, out.end());
    OverlayNode::Outbox pings;
    net["a"].OnNoAnswer(shuffle->exchange, pings);
    ASSERT_EQ(pings.size(), 1u);  // one at a time: the next only if this one fails
    EXPECT_EQ(pings[0].message.type, MessageType::kPing);
    net.Pump("a", std::move(pings));
    EXPECT_EQ(net["a"].Counters().suspicions, 0u);
    EXPECT_EQ(net["a"].Membership().Find(PeerId("b"))->state, MemberState::kAlive);
}

TEST(OverlayNodeTest, WithoutConfirmationPingsAFailedShuffleSuspectsAtOnce) {
    auto options = Options();
    options.confirm_pings = 0;
    Net net;
    net.Add("a", options);
    net.Add("b");
    net["b"].AddPeer(Peer("a"));
    net.Round("b");
    net["a"].AddPeer(Peer("b"));
    OverlayNode::Outbox out;
    net["a"].OnRound(out);
    OverlayNode::Outbox more;
    net["a"].OnNoAnswer(out[0].exchange, more);
    EXPECT_TRUE(more.empty());
    EXPECT_EQ(net["a"].Membership().Find(PeerId("b"))->state, MemberState::kSuspect);
}

TEST(OverlayNodeTest, AForgottenNodeRejoinsThroughItsSeedOneJoinAtATime) {
    Net net;
    net.Add("a");
    net.Add("s");
    net["a"].SetSeeds({Peer("s")});
    net["a"].AddPeer(Peer("x"));  // a neighbour that never answers
    OverlayNode::Outbox out;
    std::size_t joins = 0;
    for (int round = 0; round < 9; ++round) {
        OverlayNode::Outbox round_out;
        net["a"].OnRound(round_out);
        for (auto& o : round_out) {
            joins += o.message.type == MessageType::kJoin ? 1 : 0;
            out.push_back(std::move(o));
        }
    }
    // Its only neighbour left with the first shuffle and the view is empty: one join, and none
    // while that one is in flight.
    EXPECT_EQ(joins, 1u);
    EXPECT_EQ(net["a"].Counters().joins, 1u);
    // Its answer lost: the next quiet round tries again.
    for (const auto& o : out) {
        if (o.message.type == MessageType::kJoin) {
            OverlayNode::Outbox more;
            net["a"].OnNoAnswer(o.exchange, more);
        }
    }
    out.clear();
    net["a"].OnRound(out);
    EXPECT_EQ(net["a"].Counters().joins, 2u);
}

TEST(OverlayNodeTest, AResponderThatDiffersAndWantsASyncPushesItsListAndGetsTheOtherBack) {
    Net net;
    net.Add("a");
    net.Add("b");
    // Each knows a member the other does not, from a whole list (which is not gossiped again);
    // b has never synced itself, so it wants a sync at the first mismatch.
    OverlayNode::Outbox ignore;
    const auto learn = [&](const std::string& node, const std::string& member) {
        OverlayMessage news;
        news.type = MessageType::kPing;
        news.members = std::vector<MemberUpdate>{{Peer(member), 5, MemberState::kAlive}};
        ASSERT_TRUE(net[node].OnMessage(news, ignore));
    };
    learn("a", "y");
    learn("b", "z");
    net["a"].AddPeer(Peer("b"));
    net.ClearLog();
    net.Round("a");
    EXPECT_EQ(net.Count(MessageType::kSync), 0u);
    EXPECT_EQ(net.Count(MessageType::kList), 1u);  // a's list, back to the node that pushed
    EXPECT_EQ(MemberIds(net["a"]), (std::set<std::string>{"a", "b", "y", "z"}));
    EXPECT_EQ(MemberIds(net["b"]), (std::set<std::string>{"a", "b", "y", "z"}));
    EXPECT_EQ(net["a"].Membership().Digest(), net["b"].Membership().Digest());
}

TEST(OverlayNodeTest, AnInitiatorThatStillDiffersPullsFromAConvergedResponder) {
    Net net;
    net.Add("a");
    net.Add("b");
    // b synced a moment ago (it answered someone's sync and learnt z from it), so it does not
    // want another; a never did, and b's gossip does not carry z.
    OverlayNode::Outbox ignore;
    OverlayMessage sync;
    sync.type = MessageType::kSync;
    sync.members = std::vector<MemberUpdate>{{Peer("z"), 5, MemberState::kAlive}};
    ASSERT_TRUE(net["b"].OnMessage(sync, ignore));
    net["a"].AddPeer(Peer("b"));
    net.ClearLog();
    net.Round("a");
    EXPECT_EQ(net.Count(MessageType::kSync), 1u);
    EXPECT_EQ(MemberIds(net["a"]), (std::set<std::string>{"a", "b", "z"}));
    EXPECT_EQ(MemberIds(net["b"]), (std::set<std::string>{"a", "b", "z"}));
    EXPECT_EQ(net["a"].Membership().Digest(), net["b"].Membership().Digest());
}

TEST(OverlayNodeTest, WhatIsNoRequestAndUnexpectedAnswersAreRefusedWithoutSuspicion) {
    Net net;
    net.Add("a");
    OverlayNode::Outbox out;
    for (auto type : {MessageType::kAck, MessageType::kShuffleReply, MessageType::kJoinAnswer}) {
        OverlayMessage m;
        m.type = type;
        EXPECT_FALSE(net["a"].OnMessage(m, out)) << MessageTypeName(type);
    }
    OverlayMessage empty_shuffle;
    empty_shuffle.type = MessageType::kShuffle;
    EXPECT_FALSE(net["a"].OnMessage(empty_shuffle, out));
    EXPECT_EQ(net["a"].Counters().messages_refused, 4u);

    net["a"].AddPeer(Peer("b"));
    net["a"].OnRound(out);
    ASSERT_EQ(out.size(), 1u);
    OverlayMessage wrong;
    wrong.type = MessageType::kAck;  // a shuffle must be answered with a shuffle reply
    OverlayNode::Outbox more;
    net["a"].OnAnswer(out[0].exchange, wrong, more);
    EXPECT_EQ(net["a"].Counters().messages_refused, 5u);
    EXPECT_TRUE(more.empty());  // no ping: the peer did answer
    EXPECT_EQ(net["a"].Counters().suspicions, 0u);
    EXPECT_EQ(net["a"].PendingExchanges(), 0u);
    // A late answer to an exchange already given up is ignored.
    net["a"].OnAnswer(out[0].exchange, wrong, more);
    EXPECT_EQ(net["a"].Counters().messages_refused, 5u);
}

}  // namespace
}  // namespace shoal::overlay
