#include "overlay/membership.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace shoal::overlay {
namespace {

PeerDescriptor Peer(const std::string& id) {
    return {PeerId(id), id + ":7000", 0};
}

MemberUpdate Update(const std::string& id, std::uint64_t incarnation, MemberState state) {
    return {Peer(id), incarnation, state};
}

std::vector<std::string> Ids(const Membership& m) {
    std::vector<std::string> ids;
    for (const auto& p : m.Members()) ids.push_back(p.id.str());
    return ids;
}

MemberState StateOf(const Membership& m, const std::string& id) {
    auto u = m.Find(PeerId(id));
    EXPECT_TRUE(u.has_value()) << id;
    return u ? u->state : MemberState::kAlive;
}

// Drains the gossip queue; the updates each TakeGossip returned.
std::vector<std::vector<MemberUpdate>> DrainGossip(Membership& m) {
    std::vector<std::vector<MemberUpdate>> batches;
    for (int i = 0; i < 10'000 && m.PendingGossip() > 0; ++i) batches.push_back(m.TakeGossip());
    return batches;
}

TEST(MembershipTest, StartsWithItselfAndKeepsMembersSortedById) {
    Rng rng(1);
    Membership m(Peer("m"), 5, {}, rng);
    EXPECT_EQ(Ids(m), std::vector<std::string>{"m"});
    EXPECT_EQ(m.Incarnation(), 5u);
    const auto g0 = m.Generation();
    m.Apply({Update("z", 0, MemberState::kAlive), Update("a", 0, MemberState::kAlive)});
    EXPECT_EQ(Ids(m), (std::vector<std::string>{"a", "m", "z"}));
    EXPECT_NE(m.Generation(), g0);
    EXPECT_EQ(m.Members()[0].address, "a:7000");
}

TEST(MembershipTest, HigherIncarnationWinsAndDeadBeatsSuspectBeatsAlive) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {}, rng);
    m.Apply({Update("x", 3, MemberState::kAlive)});
    m.Apply({Update("x", 2, MemberState::kDead)});  // older: ignored
    EXPECT_EQ(StateOf(m, "x"), MemberState::kAlive);
    m.Apply({Update("x", 3, MemberState::kSuspect)});
    EXPECT_EQ(StateOf(m, "x"), MemberState::kSuspect);
    m.Apply({Update("x", 3, MemberState::kAlive)});  // same incarnation, weaker: ignored
    EXPECT_EQ(StateOf(m, "x"), MemberState::kSuspect);
    const auto g = m.Generation();
    m.Apply({Update("x", 3, MemberState::kDead)});
    EXPECT_EQ(StateOf(m, "x"), MemberState::kDead);
    EXPECT_EQ(Ids(m), std::vector<std::string>{"m"});
    EXPECT_NE(m.Generation(), g);
    // A restart comes back with a higher incarnation and beats the tombstone.
    m.Apply({Update("x", 4, MemberState::kAlive)});
    EXPECT_EQ(Ids(m), (std::vector<std::string>{"m", "x"}));
}

TEST(MembershipTest, SuspicionOfSelfOrDeathIsRefutedWithAHigherIncarnation) {
    Rng rng(1);
    Membership m(Peer("m"), 7, {}, rng);
    DrainGossip(m);
    m.Apply({Update("m", 7, MemberState::kSuspect)});
    EXPECT_EQ(m.Incarnation(), 8u);
    EXPECT_EQ(StateOf(m, "m"), MemberState::kAlive);
    auto gossip = m.TakeGossip();
    ASSERT_EQ(gossip.size(), 1u);
    EXPECT_EQ(gossip[0], Update("m", 8, MemberState::kAlive));

    m.Apply({Update("m", 8, MemberState::kDead)});
    EXPECT_EQ(m.Incarnation(), 9u);
    m.Apply({Update("m", 3, MemberState::kDead), Update("m", 9, MemberState::kAlive)});  // old news
    EXPECT_EQ(m.Incarnation(), 9u);
    EXPECT_EQ(m.Refutations(), 2u);
    EXPECT_EQ(Ids(m), std::vector<std::string>{"m"});
}

TEST(MembershipTest, UnrefutedSuspectDiesAndItsTombstoneExpires) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {.suspect_rounds = 3, .tombstone_rounds = 5}, rng);
    m.Apply({Update("x", 2, MemberState::kAlive), Update("y", 0, MemberState::kAlive)});
    const auto g = m.Generation();
    m.Suspect(PeerId("x"));
    m.Suspect(PeerId("m"));        // never itself
    m.Suspect(PeerId("unknown"));  // nothing to suspect
    EXPECT_EQ(StateOf(m, "x"), MemberState::kSuspect);
    EXPECT_EQ(m.Generation(), g) << "a suspect is still a member";
    EXPECT_EQ(m.EntryCount(), 3u);
    m.Tick();
    m.Tick();
    EXPECT_EQ(StateOf(m, "x"), MemberState::kSuspect);
    m.Tick();
    EXPECT_EQ(StateOf(m, "x"), MemberState::kDead);
    EXPECT_EQ(Ids(m), (std::vector<std::string>{"m", "y"}));
    // The tombstone keeps a stale alive rumour out...
    m.Apply({Update("x", 2, MemberState::kAlive)});
    EXPECT_EQ(Ids(m), (std::vector<std::string>{"m", "y"}));
    for (int i = 0; i < 5; ++i) m.Tick();
    // ...until it expires.
    EXPECT_FALSE(m.Find(PeerId("x")).has_value());
    EXPECT_EQ(m.EntryCount(), 2u);
}

TEST(MembershipTest, RefutationReachingASuspectKeepsItAlive) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {.suspect_rounds = 3}, rng);
    m.Apply({Update("x", 0, MemberState::kAlive)});
    m.Suspect(PeerId("x"));
    m.Tick();
    m.Apply({Update("x", 1, MemberState::kAlive)});
    for (int i = 0; i < 10; ++i) m.Tick();
    EXPECT_EQ(StateOf(m, "x"), MemberState::kAlive);
}

TEST(MembershipTest, EveryUpdateIsGossipedGossipLimitTimesLeastSentFirst) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {.gossip_factor = 1.0, .max_piggyback = 4}, rng);
    DrainGossip(m);
    std::vector<MemberUpdate> updates;
    for (int i = 0; i < 10; ++i) updates.push_back(Update("n" + std::to_string(i), 0, MemberState::kAlive));
    m.Apply(updates);
    const std::uint32_t limit = m.GossipLimit();
    EXPECT_EQ(limit, 4u);  // ceil(log2(11 + 1))
    std::map<std::string, int> sent;
    const auto batches = DrainGossip(m);
    for (const auto& batch : batches) {
        EXPECT_LE(batch.size(), 4u);
        for (const auto& u : batch) ++sent[u.peer.id.str()];
    }
    ASSERT_EQ(sent.size(), 10u);
    for (const auto& [id, count] : sent) EXPECT_EQ(count, static_cast<int>(limit)) << id;
    EXPECT_EQ(batches.size(), 10u);  // 40 transmissions, 4 per message: no batch left half-empty

    // A new update overtakes the half-sent ones.
    m.Apply({Update("n0", 1, MemberState::kAlive), Update("n1", 1, MemberState::kAlive)});
    m.TakeGossip();
    m.Apply({Update("late", 0, MemberState::kAlive)});
    auto next = m.TakeGossip();
    ASSERT_FALSE(next.empty());
    EXPECT_EQ(next[0].peer.id.str(), "late");
}

TEST(MembershipTest, SnapshotsAreMergedButNotGossipedAgain) {
    Rng rng(1);
    Membership a(Peer("a"), 0, {}, rng);
    Membership b(Peer("b"), 0, {}, rng);
    a.Apply({Update("x", 1, MemberState::kAlive), Update("y", 0, MemberState::kDead)});
    DrainGossip(b);
    b.ApplySnapshot(a.Snapshot());
    EXPECT_EQ(b.PendingGossip(), 0u);
    EXPECT_EQ(Ids(b), (std::vector<std::string>{"a", "b", "x"}));
    EXPECT_EQ(StateOf(b, "y"), MemberState::kDead) << "tombstones travel with snapshots";
    a.ApplySnapshot(b.Snapshot());
    EXPECT_EQ(a.Digest(), b.Digest());
    EXPECT_EQ(a.Members(), b.Members());
}

TEST(MembershipTest, DigestIsOrderIndependentAndIgnoresTombstones) {
    Rng rng(1);
    const std::vector<MemberUpdate> updates = {Update("x", 1, MemberState::kAlive), Update("y", 4, MemberState::kAlive),
                                               Update("z", 2, MemberState::kSuspect)};
    Membership a(Peer("m"), 3, {}, rng);
    Membership b(Peer("m"), 3, {}, rng);
    a.Apply(updates);
    for (auto it = updates.rbegin(); it != updates.rend(); ++it) b.Apply({*it});
    EXPECT_EQ(a.Digest(), b.Digest());

    // Suspect or alive: the same member set, the same digest.
    b.Apply({Update("z", 2, MemberState::kAlive)});
    a.Apply({Update("y", 4, MemberState::kSuspect)});
    EXPECT_EQ(a.Digest(), b.Digest());

    const auto before = a.Digest();
    a.Apply({Update("x", 2, MemberState::kAlive)});
    EXPECT_NE(a.Digest(), before) << "the incarnation counts";
    a.Apply({Update("x", 2, MemberState::kDead)});
    b.Apply({Update("x", 1, MemberState::kDead)});
    EXPECT_EQ(a.Digest(), b.Digest()) << "dead at any incarnation is out of the digest";
    Membership c(Peer("m"), 3, {}, rng);
    c.Apply({Update("y", 4, MemberState::kAlive), Update("z", 2, MemberState::kAlive)});
    EXPECT_EQ(c.Digest(), a.Digest()) << "a tombstone and no entry agree";
}

TEST(MembershipTest, WantsSyncOnALastingMismatchAtMostOncePerSyncPeriod) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {.sync_every_rounds = 3, .sync_after_rounds = 2}, rng);
    const auto other = m.Digest() + 1;
    EXPECT_FALSE(m.WantsSync(m.Digest()));
    EXPECT_TRUE(m.WantsSync(other)) << "never synced: at once";
    m.Snapshot();
    EXPECT_FALSE(m.WantsSync(other));
    m.Tick();
    m.Tick();
    EXPECT_FALSE(m.WantsSync(other));
    m.Tick();
    EXPECT_TRUE(m.WantsSync(other));
    EXPECT_FALSE(m.WantsSync(m.Digest()));
    // A peer that agrees means rumours are still settling: no sync for sync_after_rounds.
    m.Apply({}, m.Digest());
    EXPECT_FALSE(m.WantsSync(other));
    m.Tick();
    EXPECT_FALSE(m.WantsSync(other));
    m.Tick();
    EXPECT_TRUE(m.WantsSync(other));
}

TEST(MembershipTest, AnAgreeingPeerCountsAsOneMoreTransmission) {
    Rng rng(1);
    Membership m(Peer("m"), 0, {.gossip_factor = 1.0}, rng);
    m.Apply({Update("x", 0, MemberState::kAlive), Update("y", 0, MemberState::kAlive)});
    m.Suspect(PeerId("y"));
    ASSERT_EQ(m.PendingGossip(), 3u);  // m, x, y
    for (std::uint32_t i = 0; i < m.GossipLimit(); ++i) m.Apply({}, m.Digest());
    // Only the suspicion is left: a digest cannot tell that the peer knows it.
    ASSERT_EQ(m.PendingGossip(), 1u);
    EXPECT_EQ(m.TakeGossip()[0].state, MemberState::kSuspect);
    m.Apply({}, m.Digest() + 1);  // disagreeing peers change nothing
    EXPECT_EQ(m.PendingGossip(), 1u);
}

TEST(MembershipTest, DigestDoesNotDependOnTheProcess) {
    // Pinned values: the digest crosses processes, so its hash must never change silently.
    EXPECT_EQ(StableHash(std::string_view("")), Mix64(0xcbf29ce484222325ULL));
    EXPECT_EQ(StableHash(std::string_view("agent-1")), StableHash(PeerId("agent-1")));
    Rng rng(1);
    Membership a(Peer("agent-1"), 42, {}, rng);
    Membership b(Peer("agent-1"), 42, {}, rng);
    EXPECT_EQ(a.Digest(), b.Digest());
    EXPECT_NE(a.Digest(), Membership(Peer("agent-1"), 43, {}, rng).Digest());
}

TEST(MembershipTest, RejectsImpossibleConfigs) {
    Rng rng(1);
    EXPECT_THROW(Membership(Peer("m"), 0, {.max_piggyback = 0}, rng), std::invalid_argument);
    EXPECT_THROW(Membership(Peer("m"), 0, {.suspect_rounds = 0}, rng), std::invalid_argument);
}

// A handful of nodes gossiping over random pairs: one death and one false suspicion, and in the
// end every list is right.
TEST(MembershipTest, SmallGroupAgreesAfterADeathAndAFalseSuspicion) {
    Rng rng(3);
    constexpr int kNodes = 12;
    std::vector<Membership> nodes;
    for (int i = 0; i < kNodes; ++i) nodes.emplace_back(Peer("n" + std::to_string(i)), 1, MembershipConfig{}, rng);
    std::vector<bool> alive(kNodes, true);
    auto round = [&] {
        for (int i = 0; i < kNodes; ++i) {
            if (!alive[i]) continue;
            nodes[i].Tick();
            const auto j = static_cast<int>(rng.Uniform(kNodes));
            if (j == i) continue;
            if (!alive[j]) {
                nodes[i].Suspect(nodes[j].SelfId());
                continue;
            }
            const auto there = nodes[i].TakeGossip();
            nodes[j].Apply(there);
            if (nodes[j].WantsSync(nodes[i].Digest())) {
                nodes[i].ApplySnapshot(nodes[j].Snapshot());
                nodes[j].ApplySnapshot(nodes[i].Snapshot());
            }
            nodes[i].Apply(nodes[j].TakeGossip());
        }
    };
    auto correct = [&] {
        std::vector<std::string> truth;
        for (int i = 0; i < kNodes; ++i) {
            if (alive[i]) truth.push_back("n" + std::to_string(i));
        }
        std::sort(truth.begin(), truth.end());
        for (int i = 0; i < kNodes; ++i) {
            if (alive[i] && Ids(nodes[i]) != truth) return false;
        }
        return true;
    };
    for (int r = 0; r < 40; ++r) round();
    ASSERT_TRUE(correct());
    alive[4] = false;
    nodes[2].Suspect(nodes[7].SelfId());  // false
    for (int r = 0; r < 60; ++r) round();
    EXPECT_TRUE(correct());
    EXPECT_GE(nodes[7].Incarnation(), 2u) << "n7 refuted";
}

}  // namespace
}  // namespace shoal::overlay
