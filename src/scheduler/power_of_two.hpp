#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/rng.hpp"
#include "scheduler/cloudlet_load.hpp"

namespace shoal::scheduler {

// What a server create needs from a cloudlet. The placement policy balances memory (paper IV-G,
// Nova's default RAM weigher), so RAM is all the decision looks at.
struct FlavorNeed {
    std::string name;  // for messages only, e.g. "m1.small"
    std::int64_t ram_mb = 0;
};

// How two fitting candidates are ranked (docs/scheduler.md measures both).
enum class Comparison {
    // Fraction of the cloudlet's RAM still free after its in-flight builds; ties by the absolute
    // free RAM on its best hypervisor. Unequal cloudlets fill in proportion to their size.
    kFreeFraction,
    // The paper's literal rule: most free RAM on the best hypervisor. A cloudlet twice as big
    // takes everything until its free RAM comes down to the small ones'.
    kAbsoluteFree,
};

// True if the flavor fits on the candidate's best hypervisor after its in-flight builds.
bool Fits(const CloudletLoad& load, const FlavorNeed& need);
// > 0 if `a` is the better target, < 0 if `b` is, 0 for a tie. Exact (no floating point).
int CompareLoads(const CloudletLoad& a, const CloudletLoad& b, Comparison comparison);

// Power of two (or d) choices: the index of the best candidate that fits, ties broken uniformly
// at random. kBadRequest if need.ram_mb <= 0; kUnavailable ("No valid host was found ...", with
// each candidate's effective free RAM) when no candidate fits. Usually two candidates from the
// peer sampling service, but any number works (the centralized baseline passes all of them).
Result<std::size_t> Choose(const std::vector<CloudletLoad>& candidates,
                           const FlavorNeed& need,
                           Rng& rng,
                           Comparison comparison = Comparison::kFreeFraction);

struct RetryPolicy {
    int max_build_attempts = 3;   // builds sent per create; Nova's [scheduler] max_attempts is 3
    int max_samplings = 6;        // decisions per create, including those where nothing fitted
    std::size_t choices = 2;      // d: candidates compared per decision
    std::size_t max_choices = 8;  // d doubles after each decision where nothing fitted, up to this
};

// One server create's placement across retries, at its home agent:
//
//   Plan plan(need, policy);
//   while (true) {
//       loads = <ask the agents of gateway.Candidates(plan.SampleSize()) for their loads>;
//       auto pick = plan.Next(loads, rng);
//       if (!pick) { if (plan.Exhausted()) fail(pick.error()); continue; }  // fresh sample
//       if (<forward the create to loads[*pick], wait for ACTIVE>) done;
//       if (auto s = plan.OnBuildFailed(loads[*pick].cloudlet, why); !s) fail(s.error());
//   }
//
// A cloudlet where the build failed is never picked again for this create; every retry decides
// over a fresh sample, since the loads that led to the failed choice are stale by then.
class Plan {
public:
    explicit Plan(FlavorNeed need, RetryPolicy policy = {}, Comparison comparison = Comparison::kFreeFraction);

    const FlavorNeed& Need() const { return need_; }
    // Candidates the next decision compares (d).
    std::size_t Choices() const;
    // Peers to ask the sampler for: Choices() plus one per failed cloudlet, which Next skips, so
    // that d fresh candidates remain even if the sample contains every failed one.
    std::size_t SampleSize() const { return Choices() + failed_.size(); }
    bool Excludes(std::string_view cloudlet) const;

    // One decision over the sampler's answer, passed as is: skips failed cloudlets and
    // duplicates, compares the first Choices() of the rest, and returns an index into
    // `candidates`. kUnavailable when nothing fits (retry with a fresh sample unless
    // Exhausted()) and, with the whole story, once the plan is exhausted.
    Result<std::size_t> Next(const std::vector<CloudletLoad>& candidates, Rng& rng);
    // The build sent to `cloudlet` went to ERROR (or timed out). kUnavailable once no attempt is
    // left; ok means: sample again and call Next.
    Status OnBuildFailed(std::string cloudlet, std::string reason);

    bool Exhausted() const;
    int Samplings() const { return samplings_; }
    int BuildAttempts() const { return build_attempts_; }
    const std::vector<std::string>& FailedCloudlets() const { return failed_; }

private:
    Error ExhaustedError() const;

    FlavorNeed need_;
    RetryPolicy policy_;
    Comparison comparison_;
    int samplings_ = 0;
    int no_fit_ = 0;  // decisions in a row where nothing fitted
    int build_attempts_ = 0;
    std::vector<std::string> failed_;
    std::string last_error_;
    std::string last_build_error_;  // kept when later samplings fail otherwise: the user's real cause
};

}  // namespace shoal::scheduler
