#include "overlay/cyclon.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace shoal::overlay {
namespace {

PeerDescriptor Peer(const std::string& id, std::uint32_t age = 0) {
    return {PeerId(id), id + ":7000", age};
}

std::set<std::string> Ids(const std::vector<PeerDescriptor>& entries) {
    std::set<std::string> ids;
    for (const auto& e : entries) ids.insert(e.id.str());
    return ids;
}

// No self, no duplicates, at most c entries: the invariants of every Cyclon view.
void ExpectWellFormed(const Cyclon& node) {
    const auto& view = node.View();
    EXPECT_LE(view.size(), node.Config().view_size);
    EXPECT_EQ(Ids(view).size(), view.size()) << "duplicate entries";
    EXPECT_FALSE(node.Contains(node.Self().id)) << "view holds its owner";
}

std::uint32_t AgeOf(const Cyclon& node, const std::string& id) {
    for (const auto& e : node.View()) {
        if (e.id.str() == id) return e.age;
    }
    ADD_FAILURE() << id << " not in view";
    return 0;
}

TEST(CyclonTest, RejectsImpossibleConfigs) {
    Rng rng(1);
    EXPECT_THROW(Cyclon(Peer("a"), {.view_size = 0, .shuffle_length = 0}, rng), std::invalid_argument);
    EXPECT_THROW(Cyclon(Peer("a"), {.view_size = 4, .shuffle_length = 5}, rng), std::invalid_argument);
}

TEST(CyclonTest, AddPeerRefusesSelfDuplicatesAndOverflow) {
    Rng rng(1);
    Cyclon a(Peer("a"), {.view_size = 2, .shuffle_length = 1}, rng);
    EXPECT_FALSE(a.AddPeer(Peer("a")));
    EXPECT_TRUE(a.AddPeer(Peer("b")));
    EXPECT_FALSE(a.AddPeer(Peer("b", 7)));
    EXPECT_TRUE(a.AddPeer(Peer("c")));
    EXPECT_FALSE(a.AddPeer(Peer("d")));
    EXPECT_EQ(Ids(a.View()), (std::set<std::string>{"b", "c"}));
}

TEST(CyclonTest, StartShuffleWithEmptyViewSendsNothing) {
    Rng rng(1);
    Cyclon a(Peer("a"), {.view_size = 4, .shuffle_length = 2}, rng);
    EXPECT_FALSE(a.StartShuffle().has_value());
    EXPECT_EQ(a.PendingShuffles(), 0u);
}

TEST(CyclonTest, StartShuffleAgesEveryEntryAndPicksTheOldest) {
    Rng rng(7);
    Cyclon a(Peer("a"), {.view_size = 5, .shuffle_length = 3}, rng);
    a.AddPeer(Peer("b", 3));
    a.AddPeer(Peer("c", 9));
    a.AddPeer(Peer("d", 1));
    a.AddPeer(Peer("e", 0));
    auto request = a.StartShuffle();
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->to.id.str(), "c");
    EXPECT_EQ(request->to.age, 10u);
    // Q leaves the view at once: if it is dead, nothing else has to notice.
    EXPECT_FALSE(a.Contains(PeerId("c")));
    EXPECT_EQ(AgeOf(a, "b"), 4u);
    EXPECT_EQ(AgeOf(a, "d"), 2u);
    EXPECT_EQ(AgeOf(a, "e"), 1u);
}

TEST(CyclonTest, StartShuffleSendsItselfWithAgeZeroInPlaceOfTheTarget) {
    Rng rng(3);
    Cyclon a(Peer("a"), {.view_size = 10, .shuffle_length = 4}, rng);
    for (const char* id : {"b", "c", "d", "e", "f", "g"}) a.AddPeer(Peer(id, 2));
    a.AddPeer(Peer("old", 5));
    auto request = a.StartShuffle();
    ASSERT_TRUE(request.has_value());
    ASSERT_EQ(request->entries.size(), 4u);  // l entries: self + l-1 others
    EXPECT_EQ(request->entries[0], Peer("a", 0));
    EXPECT_EQ(request->entries[0].address, "a:7000");
    const auto sent = Ids(request->entries);
    EXPECT_EQ(sent.size(), 4u);
    EXPECT_FALSE(sent.count("old")) << "the target is replaced by the sender, not sent to itself";
    for (std::size_t i = 1; i < request->entries.size(); ++i) {
        EXPECT_TRUE(a.Contains(request->entries[i].id)) << "sent entries stay until the reply replaces them";
        EXPECT_EQ(request->entries[i].age, 3u);
    }
    EXPECT_EQ(a.PendingShuffles(), 1u);
}

TEST(CyclonTest, ShuffleLengthIsCappedByTheView) {
    Rng rng(3);
    Cyclon a(Peer("a"), {.view_size = 10, .shuffle_length = 8}, rng);
    a.AddPeer(Peer("b"));
    a.AddPeer(Peer("c"));
    auto request = a.StartShuffle();
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->entries.size(), 2u);  // self + the one entry left
}

TEST(CyclonTest, TiesForOldestAreBrokenUniformly) {
    std::map<std::string, int> picked;
    for (std::uint64_t seed = 0; seed < 600; ++seed) {
        Rng rng(seed);
        Cyclon a(Peer("a"), {.view_size = 4, .shuffle_length = 1}, rng);
        for (const char* id : {"b", "c", "d"}) a.AddPeer(Peer(id, 4));
        a.AddPeer(Peer("young", 1));
        ++picked[a.StartShuffle()->to.id.str()];
    }
    EXPECT_EQ(picked.count("young"), 0u);
    for (const char* id : {"b", "c", "d"}) EXPECT_NEAR(picked[id], 200, 50) << id;
}

TEST(CyclonTest, ResponderAnswersWithLOfItsEntriesAndTakesTheReceivedOnesInTheirPlace) {
    Rng rng(11);
    Cyclon q(Peer("q"), {.view_size = 6, .shuffle_length = 3}, rng);
    for (const char* id : {"b", "c", "d", "e", "f", "g"}) q.AddPeer(Peer(id, 4));
    const auto before = Ids(q.View());
    const std::vector<PeerDescriptor> received = {Peer("p", 0), Peer("x", 2), Peer("y", 5)};
    auto reply = q.OnShuffleRequest(PeerId("p"), received);

    ASSERT_EQ(reply.size(), 3u);
    const auto answered = Ids(reply);
    EXPECT_EQ(answered.size(), 3u);
    for (const auto& id : answered) EXPECT_TRUE(before.count(id)) << id;
    // The view was full: exactly the answered entries made room for the received ones.
    std::set<std::string> expected;
    for (const auto& id : before) {
        if (!answered.count(id)) expected.insert(id);
    }
    expected.insert({"p", "x", "y"});
    EXPECT_EQ(Ids(q.View()), expected);
    EXPECT_EQ(AgeOf(q, "p"), 0u);
    EXPECT_EQ(AgeOf(q, "y"), 5u) << "received entries keep their age";
    ExpectWellFormed(q);
}

TEST(CyclonTest, ResponderFillsEmptySlotsBeforeReplacing) {
    Rng rng(2);
    Cyclon q(Peer("q"), {.view_size = 8, .shuffle_length = 3}, rng);
    for (const char* id : {"b", "c", "d"}) q.AddPeer(Peer(id));
    q.OnShuffleRequest(PeerId("p"), {Peer("p"), Peer("x"), Peer("y")});
    EXPECT_EQ(Ids(q.View()), (std::set<std::string>{"b", "c", "d", "p", "x", "y"}));
}

TEST(CyclonTest, ReplyFillsTheTargetsSlotFirstThenReplacesSentEntries) {
    Rng rng(5);
    Cyclon a(Peer("a"), {.view_size = 5, .shuffle_length = 3}, rng);
    for (const char* id : {"b", "c", "d", "e"}) a.AddPeer(Peer(id, 1));
    a.AddPeer(Peer("q", 8));
    auto request = a.StartShuffle();
    ASSERT_TRUE(request.has_value());
    ASSERT_EQ(request->to.id.str(), "q");
    const std::set<std::string> sent = {request->entries[1].id.str(), request->entries[2].id.str()};

    a.OnShuffleReply(PeerId("q"), {Peer("x"), Peer("y"), Peer("z")});
    std::set<std::string> expected = {"x", "y", "z"};
    for (const char* id : {"b", "c", "d", "e"}) {
        if (!sent.count(id)) expected.insert(id);
    }
    EXPECT_EQ(Ids(a.View()), expected);
    EXPECT_EQ(a.PendingShuffles(), 0u);
    ExpectWellFormed(a);
}

TEST(CyclonTest, ReplyDiscardsSelfAndEntriesAlreadyKnown) {
    Rng rng(5);
    Cyclon a(Peer("a"), {.view_size = 5, .shuffle_length = 3}, rng);
    for (const char* id : {"b", "c", "d", "e"}) a.AddPeer(Peer(id, 1));
    a.AddPeer(Peer("q", 8));
    auto request = a.StartShuffle();
    const std::string kept_unsent = [&] {
        for (const char* id : {"b", "c", "d", "e"}) {
            if (!Ids(request->entries).count(id)) return std::string(id);
        }
        return std::string();
    }();
    ASSERT_FALSE(kept_unsent.empty());
    // Only "x" is new: it takes q's free slot, and the sent entries stay as nothing replaces them.
    a.OnShuffleReply(PeerId("q"), {Peer("a", 3), Peer(kept_unsent, 0), Peer("x")});
    EXPECT_EQ(Ids(a.View()), (std::set<std::string>{"b", "c", "d", "e", "x"}));
    EXPECT_EQ(AgeOf(a, kept_unsent), 2u) << "a known entry keeps its own age";
    ExpectWellFormed(a);
}

TEST(CyclonTest, SurplusReplyEntriesAreDropped) {
    Rng rng(5);
    Cyclon a(Peer("a"), {.view_size = 3, .shuffle_length = 2}, rng);
    for (const char* id : {"b", "c"}) a.AddPeer(Peer(id, 1));
    a.AddPeer(Peer("q", 8));
    auto request = a.StartShuffle();
    ASSERT_EQ(request->entries.size(), 2u);
    a.OnShuffleReply(PeerId("q"), {Peer("x"), Peer("y"), Peer("z"), Peer("w")});
    EXPECT_EQ(a.View().size(), 3u);  // 1 free slot + 1 sent entry, the rest does not fit
    ExpectWellFormed(a);
}

TEST(CyclonTest, UnansweredTargetIsForgottenAndALateReplyOnlyFillsFreeSlots) {
    Rng rng(9);
    Cyclon a(Peer("a"), {.view_size = 3, .shuffle_length = 2}, rng);
    a.AddPeer(Peer("b", 1));
    a.AddPeer(Peer("c", 1));
    a.AddPeer(Peer("dead", 6));
    auto request = a.StartShuffle();
    ASSERT_EQ(request->to.id.str(), "dead");
    a.OnShuffleTimeout(PeerId("dead"));
    EXPECT_EQ(a.PendingShuffles(), 0u);
    EXPECT_FALSE(a.Contains(PeerId("dead")));
    EXPECT_EQ(a.View().size(), 2u);
    a.OnShuffleReply(PeerId("dead"), {Peer("x"), Peer("y")});
    EXPECT_EQ(a.View().size(), 3u);  // the free slot took "x"; nothing sent is replaced any more
    EXPECT_TRUE(a.Contains(PeerId("b")));
    EXPECT_TRUE(a.Contains(PeerId("c")));
}

// An empty view never refills (nobody may know the node either), so a lost message must not
// empty it: the last neighbour stays, e.g. the introducer of a joiner whose join request was lost.
TEST(CyclonTest, LastNeighbourIsKeptWhenItDoesNotAnswer) {
    Rng rng(9);
    Cyclon j(Peer("j"), {.view_size = 3, .shuffle_length = 2}, rng);
    j.Join(Peer("intro"));
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto request = j.StartShuffle();
        ASSERT_TRUE(request.has_value());
        EXPECT_EQ(request->to.id.str(), "intro");
        EXPECT_TRUE(j.View().empty());
        j.OnShuffleTimeout(PeerId("intro"));
        EXPECT_EQ(Ids(j.View()), (std::set<std::string>{"intro"}));
        EXPECT_EQ(j.View()[0].address, "intro:7000");
    }
}

TEST(CyclonTest, QuietRoundsCountShufflesSinceSomebodyLastCameByWithARequest) {
    Rng rng(9);
    Cyclon a(Peer("a"), {.view_size = 3, .shuffle_length = 2}, rng);
    a.AddPeer(Peer("b"));
    for (int i = 0; i < 4; ++i) {
        auto request = a.StartShuffle();
        a.OnShuffleReply(request->to.id, {request->to});  // answers do not count: we picked them
    }
    EXPECT_EQ(a.QuietRounds(), 4u);
    a.OnShuffleRequest(PeerId("c"), {Peer("c")});
    EXPECT_EQ(a.QuietRounds(), 0u);
    a.StartShuffle();
    EXPECT_EQ(a.QuietRounds(), 1u);
    a.Join(Peer("intro"));
    EXPECT_EQ(a.QuietRounds(), 0u);
}

// Peers that answer hand over fresh entries; one that never answers leaves every view it is in
// within c shuffles, because its entry only gets older until it is the oldest.
TEST(CyclonTest, DeadPeerLeavesTheViewWithinViewSizeShuffles) {
    Rng rng(4);
    const std::size_t c = 8;
    Cyclon a(Peer("a"), {.view_size = c, .shuffle_length = 3}, rng);
    a.AddPeer(Peer("dead", 0));
    for (std::size_t i = 1; i < c; ++i) a.AddPeer(Peer("p" + std::to_string(i), static_cast<std::uint32_t>(i)));
    int fresh = 0;
    std::size_t shuffles = 0;
    while (a.Contains(PeerId("dead"))) {
        ASSERT_LT(shuffles, c) << "dead entry outlived c shuffles";
        auto request = a.StartShuffle();
        ++shuffles;
        if (request->to.id.str() == "dead") {
            a.OnShuffleTimeout(request->to.id);
            continue;
        }
        std::vector<PeerDescriptor> reply;
        for (int i = 0; i < 3; ++i) reply.push_back(Peer("fresh" + std::to_string(fresh++)));
        a.OnShuffleReply(request->to.id, reply);
        ExpectWellFormed(a);
    }
    EXPECT_LE(shuffles, c);
}

TEST(CyclonTest, RemoveDropsAPeerTheShellKnowsIsDead) {
    Rng rng(1);
    Cyclon a(Peer("a"), {.view_size = 4, .shuffle_length = 2}, rng);
    a.AddPeer(Peer("b"));
    a.AddPeer(Peer("c"));
    EXPECT_TRUE(a.Remove(PeerId("b")));
    EXPECT_FALSE(a.Remove(PeerId("b")));
    EXPECT_EQ(Ids(a.View()), (std::set<std::string>{"c"}));
}

// Over a real network a node answers other shuffles while its own is in flight. The slot its
// target left stays reserved for the reply, and the entries it sent are not handed out twice;
// otherwise every such overlap copies one pointer and drops another.
TEST(CyclonTest, ConcurrentRequestDoesNotTakeTheReservedSlotOrResendPromisedEntries) {
    Rng rng(21);
    Cyclon a(Peer("a"), {.view_size = 6, .shuffle_length = 3}, rng);
    for (const char* id : {"b", "c", "d", "e", "f"}) a.AddPeer(Peer(id, 1));
    a.AddPeer(Peer("q", 9));
    auto request = a.StartShuffle();
    ASSERT_EQ(request->to.id.str(), "q");
    const std::set<std::string> promised = {request->entries[1].id.str(), request->entries[2].id.str()};

    auto answer = a.OnShuffleRequest(PeerId("r"), {Peer("r"), Peer("s"), Peer("t")});
    ASSERT_EQ(answer.size(), 3u);
    for (const auto& e : answer) EXPECT_FALSE(promised.count(e.id.str())) << e.id;
    EXPECT_EQ(a.View().size(), 5u) << "q's slot stays free for q's reply";

    a.OnShuffleReply(PeerId("q"), {Peer("x"), Peer("y"), Peer("z")});
    EXPECT_EQ(a.View().size(), 6u);
    for (const char* id : {"r", "s", "t", "x", "y", "z"}) EXPECT_TRUE(a.Contains(PeerId(id))) << id;
    ExpectWellFormed(a);
}

TEST(CyclonTest, ViewStaysWellFormedUnderRandomTraffic) {
    Rng rng(99);
    Rng traffic(100);
    Cyclon a(Peer("n0"), {.view_size = 10, .shuffle_length = 4}, rng);
    auto random_entries = [&](std::size_t n) {
        std::vector<PeerDescriptor> out;
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(
                Peer("n" + std::to_string(traffic.Uniform(30)), static_cast<std::uint32_t>(traffic.Uniform(9))));
        }
        return out;
    };
    std::vector<PeerId> in_flight;
    for (int step = 0; step < 5000; ++step) {
        switch (traffic.Uniform(5)) {
            case 0:
                if (auto r = a.StartShuffle()) in_flight.push_back(r->to.id);
                break;
            case 1:
                a.OnShuffleRequest(PeerId("n" + std::to_string(traffic.Uniform(30))), random_entries(4));
                break;
            case 2:
                if (!in_flight.empty()) {
                    a.OnShuffleReply(in_flight.back(), random_entries(traffic.Uniform(6)));
                    in_flight.pop_back();
                }
                break;
            case 3:
                if (!in_flight.empty()) {
                    a.OnShuffleTimeout(in_flight.front());
                    in_flight.erase(in_flight.begin());
                }
                break;
            case 4:
                a.OnJoinReply(random_entries(2));
                break;
        }
        ExpectWellFormed(a);
        if (::testing::Test::HasFailure()) FAIL() << "at step " << step;
    }
}

TEST(CyclonTest, JoinKeepsTheIntroducerAsAStandInUntilWalksAnswer) {
    Rng rng(1);
    Cyclon j(Peer("j"), {.view_size = 3, .shuffle_length = 2}, rng);
    auto request = j.Join(Peer("intro", 4));
    EXPECT_EQ(request.to.id.str(), "intro");
    EXPECT_EQ(request.joiner, Peer("j", 0));
    EXPECT_EQ(Ids(j.View()), (std::set<std::string>{"intro"}));

    j.OnJoinReply({Peer("x", 3), Peer("y", 1)});
    EXPECT_EQ(Ids(j.View()), (std::set<std::string>{"intro", "x", "y"}));
    j.OnJoinReply({Peer("z", 2)});  // full: the stand-in makes way
    EXPECT_EQ(Ids(j.View()), (std::set<std::string>{"x", "y", "z"}));
    j.OnJoinReply({Peer("w", 2)});  // full and no stand-in left: dropped
    EXPECT_EQ(Ids(j.View()), (std::set<std::string>{"x", "y", "z"}));
}

TEST(CyclonTest, IntroducerStartsViewSizeWalksThatNeverVisitTheJoiner) {
    Rng rng(8);
    Cyclon intro(Peer("i"), {.view_size = 4, .shuffle_length = 2, .walk_length = 3}, rng);
    for (const char* id : {"b", "c", "d", "j"}) intro.AddPeer(Peer(id));
    auto steps = intro.OnJoinRequest(Peer("j"));
    ASSERT_EQ(steps.size(), 4u);  // c walks
    for (const auto& step : steps) {
        const auto* forward = std::get_if<JoinForward>(&step);
        ASSERT_NE(forward, nullptr);
        EXPECT_NE(forward->to.id.str(), "j");
        EXPECT_TRUE(intro.Contains(forward->to.id));
        EXPECT_EQ(forward->walk.ttl, 2u);
        EXPECT_EQ(forward->walk.joiner.id.str(), "j");
    }
}

TEST(CyclonTest, WalkEndSwapsARandomEntryForTheJoinerSoNoInDegreeChanges) {
    Rng rng(8);
    Cyclon q(Peer("q"), {.view_size = 4, .shuffle_length = 2}, rng);
    for (const char* id : {"b", "c", "d", "e"}) q.AddPeer(Peer(id, 6));
    auto step = q.OnJoinWalk(JoinWalk{Peer("j", 3), 0});
    ASSERT_TRUE(step.has_value());
    const auto* reply = std::get_if<JoinReply>(&*step);
    ASSERT_NE(reply, nullptr);
    EXPECT_EQ(reply->to.id.str(), "j");
    ASSERT_EQ(reply->entries.size(), 1u);
    const std::string handed = reply->entries[0].id.str();
    EXPECT_FALSE(q.Contains(PeerId(handed))) << "the entry moved to the joiner";
    EXPECT_EQ(reply->entries[0].age, 6u);
    EXPECT_EQ(q.View().size(), 4u);
    EXPECT_EQ(AgeOf(q, "j"), 0u);
}

TEST(CyclonTest, WalkEndWithRoomAddsTheJoinerAndIntroducesItself) {
    Rng rng(8);
    Cyclon q(Peer("q"), {.view_size = 4, .shuffle_length = 2}, rng);
    q.AddPeer(Peer("b"));
    auto step = q.OnJoinWalk(JoinWalk{Peer("j"), 0});
    const auto& reply = std::get<JoinReply>(*step);
    EXPECT_EQ(Ids(reply.entries), (std::set<std::string>{"q"}));
    EXPECT_EQ(Ids(q.View()), (std::set<std::string>{"b", "j"}));
    // A second walk ending here changes nothing but still answers.
    auto again = q.OnJoinWalk(JoinWalk{Peer("j"), 0});
    EXPECT_EQ(Ids(std::get<JoinReply>(*again).entries), (std::set<std::string>{"q"}));
    EXPECT_EQ(Ids(q.View()), (std::set<std::string>{"b", "j"}));
}

TEST(CyclonTest, WalkWithNowhereToGoEndsEarlyAndAWalkReachingTheJoinerStops) {
    Rng rng(8);
    Cyclon q(Peer("q"), {.view_size = 4, .shuffle_length = 2}, rng);
    q.AddPeer(Peer("j"));
    auto step = q.OnJoinWalk(JoinWalk{Peer("j"), 5});  // only the joiner to forward to
    ASSERT_TRUE(step.has_value());
    EXPECT_TRUE(std::holds_alternative<JoinReply>(*step));

    Cyclon j(Peer("j"), {.view_size = 4, .shuffle_length = 2}, rng);
    EXPECT_FALSE(j.OnJoinWalk(JoinWalk{Peer("j"), 2}).has_value());
    EXPECT_TRUE(j.OnJoinRequest(Peer("j")).empty());
}

TEST(CyclonTest, WalksForwardToRandomNeighbours) {
    Rng rng(8);
    Cyclon q(Peer("q"), {.view_size = 4, .shuffle_length = 2}, rng);
    for (const char* id : {"b", "c", "d"}) q.AddPeer(Peer(id));
    std::map<std::string, int> next;
    for (int i = 0; i < 300; ++i) {
        auto step = q.OnJoinWalk(JoinWalk{Peer("j"), 1});
        const auto& forward = std::get<JoinForward>(*step);
        EXPECT_EQ(forward.walk.ttl, 0u);
        ++next[forward.to.id.str()];
    }
    for (const char* id : {"b", "c", "d"}) EXPECT_NEAR(next[id], 100, 35) << id;
}

TEST(RngTest, SameSeedSameSequenceAndValuesInRange) {
    Rng a(5), b(5), c(6);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a.Uniform(7);
        EXPECT_LT(x, 7u);
        EXPECT_EQ(x, b.Uniform(7));
        differs |= x != c.Uniform(7);
        const auto y = a.Between(-3, 3);
        b.Between(-3, 3);
        c.Between(-3, 3);
        EXPECT_GE(y, -3);
        EXPECT_LE(y, 3);
    }
    EXPECT_TRUE(differs);
    std::vector<int> v = {1, 2, 3, 4, 5, 6};
    a.Shuffle(v.begin(), v.end());
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, (std::vector<int>{1, 2, 3, 4, 5, 6}));
}

}  // namespace
}  // namespace shoal::overlay
