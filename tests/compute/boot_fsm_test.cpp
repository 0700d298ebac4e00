// BootFsm, transition by transition: events in, the actions a shell must carry out next, in order.
// No I/O and no clock: time is the argument, so every timeout is exact.
#include "compute/boot_fsm.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::compute {
namespace {

using nlohmann::json;
using O = CreateAnswered::Outcome;
using D = DeleteAnswered::Outcome;

constexpr std::int64_t kT0 = 1'767'225'600'000;  // unix ms
constexpr std::int64_t kTimeout = 180'000;

scheduler::CloudletLoad Load(const std::string& cloudlet, std::int64_t free_mb, std::int64_t total_mb = 16384) {
    scheduler::CloudletLoad l;
    l.cloudlet = cloudlet;
    l.free_ram_mb = free_mb;
    l.total_free_ram_mb = free_mb;
    l.total_ram_mb = total_mb;
    return l;
}

// The kinds of a batch, by name, so a test reads as the protocol does.
std::vector<std::string> Kinds(const std::vector<BootAction>& batch) {
    static const std::vector<std::string> names{"AskLoads",   "Hold",    "EnsureImage", "Record", "SendCreate",
                                                "FindCreate", "Release", "Watch",       "Undo",   "SendDelete",
                                                "Wait",       "Forget",  "Done"};
    std::vector<std::string> out;
    for (const auto& a : batch) out.push_back(names[a.index()]);
    return out;
}

template <class T>
const T& Nth(const std::vector<BootAction>& batch, std::size_t i) {
    EXPECT_LT(i, batch.size());
    const T* a = std::get_if<T>(&batch.at(i));
    EXPECT_NE(a, nullptr) << "action " << i << " is not of the expected kind";
    static const T kNone{};
    return a ? *a : kNone;
}

using V = std::vector<std::string>;

class BootFsmTest : public ::testing::Test {
protected:
    BootFsm Make(BootState state = {}, int max_build_attempts = 3) {
        scheduler::RetryPolicy policy;
        policy.max_build_attempts = max_build_attempts;
        policy.max_samplings = max_build_attempts * 2 + 2;
        BootTimings t;
        t.build_timeout_ms = kTimeout;
        t.retry_ms = 500;
        t.delete_poll_ms = 500;
        t.backoff_ms = 1'000;
        t.max_backoff_ms = 8'000;
        return BootFsm("srv-1", scheduler::FlavorNeed{"m1.small", 2048}, policy, t, std::move(state), rng_);
    }
    // Drives a new boot to its create sent to "a" (the only candidate), holding reservation 7.
    static void ToCreateSent(BootFsm& fsm) {
        fsm.Start(kT0);
        fsm.On(LoadsAnswered{{Load("a", 9000)}}, kT0);
        fsm.On(Held{7}, kT0);
        ASSERT_EQ(Kinds(fsm.On(ImageReady{true, "img", {}}, kT0)), (V{"Record", "SendCreate"}));
    }
    // Drives a new boot to a build at `cloudlet` (the emptier of a and b) with cloudlet id `id`.
    void ToBuilding(BootFsm& fsm, const std::string& id = "c-1") {
        ASSERT_EQ(Kinds(fsm.Start(kT0)), V{"AskLoads"});
        ASSERT_EQ(Kinds(fsm.On(LoadsAnswered{{Load("a", 9000), Load("b", 3000)}}, kT0)), V{"Hold"});
        ASSERT_EQ(Kinds(fsm.On(Held{7}, kT0)), V{"EnsureImage"});
        ASSERT_EQ(Kinds(fsm.On(ImageReady{true, "img-a", {}}, kT0)), (V{"Record", "SendCreate"}));
        ASSERT_EQ(Kinds(fsm.On(CreateAnswered{O::kAccepted, id, {}}, kT0)), (V{"Record", "Watch"}));
    }
    Rng rng_{42};
};

TEST_F(BootFsmTest, ANewBootAsksLoadsHoldsAtTheEmptierImageFirstThenRecordsBeforeItSendsTheCreate) {
    auto fsm = Make();
    auto b = fsm.Start(kT0);
    ASSERT_EQ(Kinds(b), V{"AskLoads"});
    EXPECT_EQ(Nth<AskLoads>(b, 0).sample, 2u);
    EXPECT_TRUE(Nth<AskLoads>(b, 0).exclude.empty());

    b = fsm.On(LoadsAnswered{{Load("a", 3000), Load("b", 9000)}}, kT0);
    ASSERT_EQ(Kinds(b), V{"Hold"});
    EXPECT_EQ(Nth<Hold>(b, 0).cloudlet, "b");
    EXPECT_EQ(Nth<Hold>(b, 0).ram_mb, 2048);

    b = fsm.On(Held{7}, kT0);
    ASSERT_EQ(Kinds(b), V{"EnsureImage"});
    EXPECT_EQ(Nth<EnsureImage>(b, 0).cloudlet, "b");

    b = fsm.On(ImageReady{true, "img-at-b", {}}, kT0 + 10);
    ASSERT_EQ(Kinds(b), (V{"Record", "SendCreate"}));  // recorded first: a crash then looks for it
    EXPECT_EQ(Nth<Record>(b, 0).state.phase, BootPhase::kCreating);
    EXPECT_EQ(Nth<Record>(b, 0).state.target, "b");
    EXPECT_EQ(Nth<Record>(b, 0).state.deadline_ms, kT0 + 10 + kTimeout);
    EXPECT_EQ(Nth<SendCreate>(b, 1).cloudlet, "b");
    EXPECT_EQ(Nth<SendCreate>(b, 1).image_copy, "img-at-b");
    EXPECT_EQ(Nth<SendCreate>(b, 1).reservation, 7u);

    b = fsm.On(CreateAnswered{O::kAccepted, "c-1", {}}, kT0 + 20);
    ASSERT_EQ(Kinds(b), (V{"Record", "Watch"}));
    EXPECT_EQ(Nth<Record>(b, 0).state.phase, BootPhase::kBuilding);
    EXPECT_EQ(Nth<Record>(b, 0).state.cloudlet_id, "c-1");
    EXPECT_EQ(Nth<Watch>(b, 1).cloudlet, "b");
    EXPECT_EQ(Nth<Watch>(b, 1).cloudlet_id, "c-1");

    b = fsm.On(Progress{"BUILD", {}, nullptr}, kT0 + 1'000);
    ASSERT_EQ(Kinds(b), V{"Watch"});
    b = fsm.On(Progress{"ACTIVE", {}, json{{"id", "c-1"}, {"status", "ACTIVE"}}}, kT0 + 2'000);
    ASSERT_EQ(Kinds(b), (V{"Record", "Done"}));
    EXPECT_EQ(Nth<Record>(b, 0).state.phase, BootPhase::kActive);
    EXPECT_EQ(Nth<Record>(b, 0).values["status"], "ACTIVE");
    EXPECT_TRUE(fsm.State().Finished());
}

TEST_F(BootFsmTest, AFailedBuildIsUndoneDurablyBeforeTheRecordForgetsItAndPlacedAgainWithoutThatCloudlet) {
    auto fsm = Make();
    ToBuilding(fsm);
    auto b = fsm.On(Progress{"ERROR", "No valid host was found.", nullptr}, kT0 + 5'000);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "AskLoads"}));
    EXPECT_EQ(Nth<Undo>(b, 0).cloudlet, "a");
    EXPECT_EQ(Nth<Undo>(b, 0).cloudlet_id, "c-1");
    EXPECT_EQ(Nth<Record>(b, 1).state.phase, BootPhase::kScheduling);
    EXPECT_EQ(Nth<Record>(b, 1).state.failed, V{"a"});
    EXPECT_TRUE(Nth<Record>(b, 1).state.cloudlet_id.empty());
    EXPECT_EQ(Nth<AskLoads>(b, 2).sample, 3u);  // d fresh candidates besides the failed one
    EXPECT_EQ(Nth<AskLoads>(b, 2).exclude, V{"a"});
    // The failed cloudlet is skipped even when it looks the emptiest.
    b = fsm.On(LoadsAnswered{{Load("a", 16000), Load("b", 2048), Load("c", 4000)}}, kT0 + 5'100);
    ASSERT_EQ(Kinds(b), V{"Hold"});
    EXPECT_EQ(Nth<Hold>(b, 0).cloudlet, "c");
}

TEST_F(BootFsmTest, NoCreateGoesOutWithoutAHoldACloudletThatCannotHoldIsPassedOverForAFreshSample) {
    auto fsm = Make();
    fsm.Start(kT0);
    fsm.On(LoadsAnswered{{Load("a", 9000), Load("b", 3000)}}, kT0);
    auto b = fsm.On(Held{0}, kT0);
    ASSERT_EQ(Kinds(b), V{"Wait"});
    EXPECT_EQ(Nth<Wait>(b, 0).until_ms, kT0 + 500);
    EXPECT_TRUE(fsm.State().target.empty());
    EXPECT_TRUE(fsm.State().failed.empty());  // not a failed build
    ASSERT_EQ(Kinds(fsm.On(Tick{}, kT0 + 500)), V{"AskLoads"});
}

TEST_F(BootFsmTest, ABuildStillInBuildPastItsTimeoutFailsThere) {
    auto fsm = Make();
    ToBuilding(fsm);
    EXPECT_EQ(Kinds(fsm.On(Progress{"BUILD", {}, nullptr}, kT0 + kTimeout)), V{"Watch"});
    auto b = fsm.On(Progress{"BUILD", {}, nullptr}, kT0 + kTimeout + 1);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "AskLoads"}));
    EXPECT_EQ(fsm.State().failed, V{"a"});
}

TEST_F(BootFsmTest, AnUnknownProgressKeepsWatchingUntilTheTimeoutAndAVanishedServerIsNotUndone) {
    auto fsm = Make();
    ToBuilding(fsm);
    EXPECT_EQ(Kinds(fsm.On(Progress{"", {}, nullptr}, kT0 + 1'000)), V{"Watch"});
    auto b = fsm.On(Progress{"DELETED", {}, nullptr}, kT0 + 2'000);
    EXPECT_EQ(Kinds(b), (V{"Record", "AskLoads"}));  // nothing there to undo
}

TEST_F(BootFsmTest, WhenEveryAttemptFailsTheServerGoesErrorWithNovasNoValidHostFault) {
    auto fsm = Make({}, 2);
    ToBuilding(fsm);
    auto b = fsm.On(Progress{"ERROR", "boom", nullptr}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "AskLoads"}));
    ASSERT_EQ(Kinds(fsm.On(LoadsAnswered{{Load("b", 9000), Load("c", 3000)}}, kT0)), V{"Hold"});
    ASSERT_EQ(Kinds(fsm.On(Held{5}, kT0)), V{"EnsureImage"});
    ASSERT_EQ(Kinds(fsm.On(ImageReady{true, "img", {}}, kT0)), (V{"Record", "SendCreate"}));
    EXPECT_EQ(Nth<Watch>(fsm.On(CreateAnswered{O::kAccepted, "c-2", {}}, kT0), 1).cloudlet, "b");
    b = fsm.On(Progress{"ERROR", "boom again", nullptr}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "Done"}));
    const auto& s = Nth<Record>(b, 1).state;
    EXPECT_EQ(s.phase, BootPhase::kError);
    EXPECT_NE(s.fault.find("No valid host was found"), std::string::npos) << s.fault;
    EXPECT_TRUE(s.target.empty());
}

TEST_F(BootFsmTest, NothingFittingWaitsThenSamplesAgainAndFailsOnceTheSamplingsAreSpent) {
    auto fsm = Make({}, 1);  // 4 samplings
    ASSERT_EQ(Kinds(fsm.Start(kT0)), V{"AskLoads"});
    std::vector<BootAction> b;
    for (int i = 0; i < 3; ++i) {
        b = fsm.On(LoadsAnswered{{Load("a", 100), Load("b", 200)}}, kT0);
        ASSERT_EQ(Kinds(b), V{"Wait"}) << i;
        EXPECT_EQ(Nth<Wait>(b, 0).until_ms, kT0 + 500);
        ASSERT_EQ(Kinds(fsm.On(Tick{}, kT0 + 500)), V{"AskLoads"});
    }
    b = fsm.On(LoadsAnswered{{}}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Record", "Done"}));
    EXPECT_EQ(Nth<Record>(b, 0).state.phase, BootPhase::kError);
}

TEST_F(BootFsmTest, ARejectedCreateFailsAtOnceAndGivesTheHoldBack) {
    auto fsm = Make();
    ToCreateSent(fsm);
    auto b = fsm.On(CreateAnswered{O::kRejected, {}, "Invalid key_name provided."}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Release", "Record", "Done"}));
    EXPECT_EQ(Nth<Release>(b, 0).reservation, 7u);
    EXPECT_EQ(Nth<Record>(b, 1).state.fault, "Invalid key_name provided.");
}

TEST_F(BootFsmTest, ARefusedCreateOrAMissingImageFailsThatCloudletAndGivesTheHoldBack) {
    auto fsm = Make();
    ToCreateSent(fsm);
    auto b = fsm.On(CreateAnswered{O::kRefused, {}, "create answered 403: Quota exceeded"}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Release", "Record", "AskLoads"}));
    EXPECT_EQ(fsm.State().failed, V{"a"});

    fsm.On(LoadsAnswered{{Load("b", 9000)}}, kT0);
    fsm.On(Held{8}, kT0);
    b = fsm.On(ImageReady{false, {}, "import failed"}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Release", "Record", "AskLoads"}));
    EXPECT_EQ(Nth<Release>(b, 0).cloudlet, "b");
    EXPECT_EQ(fsm.State().failed, (V{"a", "b"}));
}

TEST_F(BootFsmTest, ALostCreateIsLookedForBeforeAnythingIsSentAgain) {
    auto fsm = Make();
    ToCreateSent(fsm);
    // No answer: it may be there. The hold is not given back (the create may have taken it over).
    auto b = fsm.On(CreateAnswered{O::kLost, {}, "timeout"}, kT0);
    ASSERT_EQ(Kinds(b), V{"FindCreate"});
    EXPECT_EQ(Nth<FindCreate>(b, 0).cloudlet, "a");
    // Found: it is the build.
    b = fsm.On(CreateFound{true, "c-9"}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Record", "Watch"}));
    EXPECT_EQ(Nth<Record>(b, 0).state.cloudlet_id, "c-9");
}

TEST_F(BootFsmTest, ALostCreateNotFoundThereFailsThatCloudletAndAnUnanswerableLookupEndsInAnUndoByTag) {
    {
        auto fsm = Make();
        ToCreateSent(fsm);
        fsm.On(CreateAnswered{O::kLost, {}, "timeout"}, kT0);
        auto b = fsm.On(CreateFound{true, ""}, kT0);
        ASSERT_EQ(Kinds(b), (V{"Record", "AskLoads"}));
        EXPECT_EQ(fsm.State().failed, V{"a"});
    }
    auto fsm = Make();
    ToCreateSent(fsm);
    fsm.On(CreateAnswered{O::kLost, {}, "timeout"}, kT0);
    // The cloudlet does not answer the lookup: asked again, with a doubling pause.
    auto b = fsm.On(CreateFound{false, ""}, kT0);
    ASSERT_EQ(Kinds(b), V{"Wait"});
    EXPECT_EQ(Nth<Wait>(b, 0).until_ms, kT0 + 1'000);
    ASSERT_EQ(Kinds(fsm.On(Tick{}, kT0 + 1'000)), V{"FindCreate"});
    b = fsm.On(CreateFound{false, ""}, kT0 + 1'000);
    EXPECT_EQ(Nth<Wait>(b, 0).until_ms, kT0 + 3'000);
    fsm.On(Tick{}, kT0 + 3'000);
    // Past the deadline: whatever carries the tag there is undone, and it is placed elsewhere.
    b = fsm.On(CreateFound{false, ""}, kT0 + kTimeout + 1);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "AskLoads"}));
    EXPECT_EQ(Nth<Undo>(b, 0).cloudlet, "a");
    EXPECT_TRUE(Nth<Undo>(b, 0).cloudlet_id.empty());
}

TEST_F(BootFsmTest, AResumedCreateIsLookedForAndSentAgainToTheSameCloudletOnlyIfItIsNotThere) {
    BootState s;
    s.phase = BootPhase::kCreating;
    s.target = "b";
    s.deadline_ms = kT0 + kTimeout;
    {
        auto fsm = Make(s);
        auto b = fsm.Start(kT0);
        ASSERT_EQ(Kinds(b), V{"FindCreate"});
        EXPECT_EQ(Nth<FindCreate>(b, 0).cloudlet, "b");
        b = fsm.On(CreateFound{true, "c-7"}, kT0);
        ASSERT_EQ(Kinds(b), (V{"Record", "Watch"}));  // neither orphaned nor sent twice
    }
    auto fsm = Make(s);
    fsm.Start(kT0);
    auto b = fsm.On(CreateFound{true, ""}, kT0);  // the crash came before the create left
    ASSERT_EQ(Kinds(b), V{"Hold"});               // the hold died with the crash: hold again
    EXPECT_EQ(Nth<Hold>(b, 0).cloudlet, "b");
    ASSERT_EQ(Kinds(fsm.On(Held{9}, kT0)), V{"EnsureImage"});
    b = fsm.On(ImageReady{true, "img", {}}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Record", "SendCreate"}));
    EXPECT_EQ(Nth<SendCreate>(b, 1).cloudlet, "b");
    EXPECT_EQ(Nth<SendCreate>(b, 1).reservation, 9u);
    EXPECT_TRUE(fsm.State().failed.empty());
}

TEST_F(BootFsmTest, AResumedBuildIsWatchedAndAFinishedOneIsLeftAlone) {
    BootState s;
    s.phase = BootPhase::kBuilding;
    s.target = "a";
    s.cloudlet_id = "c-1";
    s.deadline_ms = kT0 + 1'000;
    auto fsm = Make(s);
    auto b = fsm.Start(kT0);
    ASSERT_EQ(Kinds(b), V{"Watch"});
    // The persisted deadline holds across the restart.
    EXPECT_EQ(Kinds(fsm.On(Progress{"BUILD", {}, nullptr}, kT0 + 1'001)), (V{"Undo", "Record", "AskLoads"}));

    s.phase = BootPhase::kActive;
    EXPECT_EQ(Kinds(Make(s).Start(kT0)), V{"Done"});
    s.phase = BootPhase::kError;
    EXPECT_EQ(Kinds(Make(s).Start(kT0)), V{"Done"});
}

TEST_F(BootFsmTest, AResumedPlanKeepsItsFailedCloudletsAndAttempts) {
    BootState s;
    s.failed = {"a", "b"};
    auto fsm = Make(s, 3);
    auto b = fsm.Start(kT0);
    EXPECT_EQ(Nth<AskLoads>(b, 0).exclude, (V{"a", "b"}));
    fsm.On(LoadsAnswered{{Load("c", 9000)}}, kT0);
    fsm.On(Held{1}, kT0);
    fsm.On(ImageReady{true, "img", {}}, kT0);
    fsm.On(CreateAnswered{O::kAccepted, "c-3", {}}, kT0);
    b = fsm.On(Progress{"ERROR", "no", nullptr}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Undo", "Record", "Done"}));  // the third failure of three
}

TEST_F(BootFsmTest, ADeleteDuringTheBuildDeletesAtTheCloudletUntilItAnswers404ThenForgets) {
    auto fsm = Make();
    ToBuilding(fsm);
    auto b = fsm.On(DeleteRequested{}, kT0 + 100);
    ASSERT_EQ(Kinds(b), (V{"Record", "SendDelete"}));
    EXPECT_EQ(Nth<Record>(b, 0).state.phase, BootPhase::kDeleting);
    EXPECT_EQ(Nth<SendDelete>(b, 1).cloudlet, "a");
    EXPECT_EQ(Nth<SendDelete>(b, 1).cloudlet_id, "c-1");
    // A late build answer is ignored now.
    EXPECT_TRUE(fsm.On(Progress{"ACTIVE", {}, nullptr}, kT0 + 150).empty());
    // Nova deletes for a while: asked again until 404.
    b = fsm.On(DeleteAnswered{D::kDeleting}, kT0 + 200);
    ASSERT_EQ(Kinds(b), V{"Wait"});
    EXPECT_EQ(Nth<Wait>(b, 0).until_ms, kT0 + 700);
    ASSERT_EQ(Kinds(fsm.On(Tick{}, kT0 + 700)), V{"SendDelete"});
    // Unreachable: retried with a doubling pause, never given up.
    EXPECT_EQ(Nth<Wait>(fsm.On(DeleteAnswered{D::kUnreachable}, kT0 + 800), 0).until_ms, kT0 + 1'800);
    fsm.On(Tick{}, kT0 + 1'800);
    EXPECT_EQ(Nth<Wait>(fsm.On(DeleteAnswered{D::kUnreachable}, kT0 + 1'800), 0).until_ms, kT0 + 3'800);
    fsm.On(Tick{}, kT0 + 3'800);
    EXPECT_EQ(Kinds(fsm.On(DeleteAnswered{D::kGone}, kT0 + 3'800)), V{"Forget"});
}

TEST_F(BootFsmTest, ADeleteBeforeACloudletIdIsKnownLooksForTheTagAndGivesTheHoldBack) {
    auto fsm = Make();
    fsm.Start(kT0);
    fsm.On(LoadsAnswered{{Load("a", 9000)}}, kT0);
    fsm.On(Held{7}, kT0);
    auto b = fsm.On(DeleteRequested{}, kT0);
    // The target is chosen but nothing was sent: it is looked for all the same.
    ASSERT_EQ(Kinds(b), (V{"Release", "Record", "FindCreate"}));
    b = fsm.On(CreateFound{true, "c-5"}, kT0);  // a create did arrive there
    ASSERT_EQ(Kinds(b), (V{"Record", "SendDelete"}));
    EXPECT_EQ(Nth<SendDelete>(b, 1).cloudlet_id, "c-5");

    auto scheduling = Make();
    scheduling.Start(kT0);
    EXPECT_EQ(Kinds(scheduling.On(DeleteRequested{}, kT0)), (V{"Record", "Forget"}));

    BootState s;
    s.phase = BootPhase::kDeleting;
    s.target = "a";
    auto resumed = Make(s);
    ASSERT_EQ(Kinds(resumed.Start(kT0)), V{"FindCreate"});
    EXPECT_EQ(Kinds(resumed.On(CreateFound{true, ""}, kT0)), V{"Forget"});
}

TEST_F(BootFsmTest, AResumedDeleteGoesOnAndAnActiveServersDeleteIsOneDeleteAndItsChecks) {
    BootState s;
    s.phase = BootPhase::kDeleting;
    s.target = "a";
    s.cloudlet_id = "c-1";
    auto fsm = Make(s);
    ASSERT_EQ(Kinds(fsm.Start(kT0)), V{"SendDelete"});

    s.phase = BootPhase::kActive;
    auto active = Make(s);
    ASSERT_EQ(Kinds(active.Start(kT0)), V{"Done"});
    auto b = active.On(DeleteRequested{}, kT0);
    ASSERT_EQ(Kinds(b), (V{"Record", "SendDelete"}));
    // A second delete while deleting adds no record.
    EXPECT_EQ(Kinds(active.On(DeleteRequested{}, kT0)), V{"SendDelete"});
}

TEST_F(BootFsmTest, AnswersNobodyAwaitsChangeNothing) {
    auto fsm = Make();
    fsm.Start(kT0);
    EXPECT_TRUE(fsm.On(Held{1}, kT0).empty());
    EXPECT_TRUE(fsm.On(Progress{"ACTIVE", {}, nullptr}, kT0).empty());
    EXPECT_TRUE(fsm.On(CreateAnswered{O::kAccepted, "x", {}}, kT0).empty());
    EXPECT_TRUE(fsm.On(Tick{}, kT0).empty());
    EXPECT_EQ(fsm.State().phase, BootPhase::kScheduling);
    EXPECT_EQ(Kinds(fsm.On(LoadsAnswered{{Load("a", 9000)}}, kT0)), V{"Hold"});  // still awaited
}

TEST(BootStateTest, RoundTripsThroughJsonAndRefusesWhatIsNotABootState) {
    BootState s;
    s.phase = BootPhase::kBuilding;
    s.target = "a";
    s.cloudlet_id = "c-1";
    s.failed = {"b"};
    s.fault = "f";
    s.deadline_ms = 12;
    auto back = BootStateFromJson(json::parse(ToJson(s).dump()));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->phase, BootPhase::kBuilding);
    EXPECT_EQ(back->target, "a");
    EXPECT_EQ(back->cloudlet_id, "c-1");
    EXPECT_EQ(back->failed, V{"b"});
    EXPECT_EQ(back->fault, "f");
    EXPECT_EQ(back->deadline_ms, 12);
    for (const char* bad : {R"({})", R"({"phase":"flying"})", R"({"phase":3})", R"([1])",
                            R"({"phase":"building","failed":"a"})", R"({"phase":"building","deadline_ms":"x"})"}) {
        auto r = BootStateFromJson(json::parse(bad));
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << bad;
        }
    }
    for (auto p : {BootPhase::kScheduling, BootPhase::kCreating, BootPhase::kBuilding, BootPhase::kActive,
                   BootPhase::kError, BootPhase::kDeleting})
        EXPECT_EQ(BootPhaseFrom(ToString(p)), p);
}

}  // namespace
}  // namespace shoal::compute
