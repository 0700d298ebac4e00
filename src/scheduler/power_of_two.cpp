#include "scheduler/power_of_two.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace shoal::scheduler {
namespace {

__extension__ using I128 = __int128;  // __extension__: -Wpedantic accepts it

int Sign(I128 a, I128 b) {
    return a > b ? 1 : (a < b ? -1 : 0);
}

std::string Describe(const FlavorNeed& need) {
    return (need.name.empty() ? std::string("the flavor") : "flavor " + need.name) + " (" +
           std::to_string(need.ram_mb) + " MB RAM)";
}

std::string NoFitMessage(const std::vector<const CloudletLoad*>& candidates, const FlavorNeed& need) {
    std::string m = "No valid host was found. None of the " + std::to_string(candidates.size()) +
                    " candidate cloudlets fits " + Describe(need) + ":";
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const CloudletLoad& c = *candidates[i];
        m += (i == 0 ? " " : "; ") + c.cloudlet + " has " + std::to_string(c.free_ram_mb) +
             " MB free on its best hypervisor, " + std::to_string(EffectiveFreeRamMb(c)) + " MB after " +
             std::to_string(c.in_flight_builds) + " in-flight builds";
    }
    return m;
}

// Choose over pointers, so that Plan can pass a filtered subset without copying loads.
Result<std::size_t> ChooseAmong(const std::vector<const CloudletLoad*>& candidates,
                                const FlavorNeed& need,
                                Rng& rng,
                                Comparison comparison) {
    if (need.ram_mb <= 0) return MakeError(ErrorCode::kBadRequest, "scheduler: the flavor's RAM must be positive");
    if (candidates.empty()) {
        return MakeError(ErrorCode::kUnavailable, "No valid host was found. There are no candidate cloudlets.");
    }
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t best = kNone;
    std::uint64_t ties = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (!Fits(*candidates[i], need)) continue;
        const int c = best == kNone ? 1 : CompareLoads(*candidates[i], *candidates[best], comparison);
        if (c > 0) {
            best = i;
            ties = 1;
        } else if (c == 0 && rng.Uniform(++ties) == 0) {
            best = i;  // reservoir sampling: each of the k tied candidates wins with 1/k
        }
    }
    if (best == kNone) return MakeError(ErrorCode::kUnavailable, NoFitMessage(candidates, need));
    return best;
}

}  // namespace

bool Fits(const CloudletLoad& load, const FlavorNeed& need) {
    return load.total_ram_mb > 0 && EffectiveFreeRamMb(load) >= need.ram_mb;
}

int CompareLoads(const CloudletLoad& a, const CloudletLoad& b, Comparison comparison) {
    if (comparison == Comparison::kFreeFraction) {
        // free_a / total_a vs free_b / total_b, cross-multiplied; a cloudlet without RAM ranks last.
        if (a.total_ram_mb <= 0 || b.total_ram_mb <= 0) return Sign(a.total_ram_mb > 0, b.total_ram_mb > 0);
        const int by_fraction =
            Sign(I128{EffectiveTotalFreeRamMb(a)} * b.total_ram_mb, I128{EffectiveTotalFreeRamMb(b)} * a.total_ram_mb);
        if (by_fraction != 0) return by_fraction;
        return Sign(EffectiveFreeRamMb(a), EffectiveFreeRamMb(b));
    }
    const int by_best = Sign(EffectiveFreeRamMb(a), EffectiveFreeRamMb(b));
    if (by_best != 0) return by_best;
    return Sign(EffectiveTotalFreeRamMb(a), EffectiveTotalFreeRamMb(b));
}

Result<std::size_t> Choose(const std::vector<CloudletLoad>& candidates,
                           const FlavorNeed& need,
                           Rng& rng,
                           Comparison comparison) {
    std::vector<const CloudletLoad*> pointers;
    pointers.reserve(candidates.size());
    for (const auto& c : candidates) pointers.push_back(&c);
    return ChooseAmong(pointers, need, rng, comparison);
}

Plan::Plan(FlavorNeed need, RetryPolicy policy, Comparison comparison)
    : need_(std::move(need)), policy_(policy), comparison_(comparison) {
    policy_.choices = std::max<std::size_t>(policy_.choices, 1);
    policy_.max_choices = std::max(policy_.max_choices, policy_.choices);
}

std::size_t Plan::Choices() const {
    std::size_t d = policy_.choices;
    for (int i = 0; i < no_fit_ && d < policy_.max_choices; ++i) d *= 2;
    return std::min(d, policy_.max_choices);
}

bool Plan::Excludes(std::string_view cloudlet) const {
    return std::find(failed_.begin(), failed_.end(), cloudlet) != failed_.end();
}

bool Plan::Exhausted() const {
    return static_cast<int>(failed_.size()) >= policy_.max_build_attempts || samplings_ >= policy_.max_samplings;
}

Error Plan::ExhaustedError() const {
    std::string m;
    if (static_cast<int>(failed_.size()) >= policy_.max_build_attempts) {
        m = "No valid host was found. Exceeded maximum number of retries: the build of " + Describe(need_) +
            " failed on " + std::to_string(failed_.size()) + " cloudlets (";
        for (std::size_t i = 0; i < failed_.size(); ++i) m += (i == 0 ? "" : ", ") + failed_[i];
        m += ")";
    } else {
        m = "No valid host was found for " + Describe(need_) + " in " + std::to_string(samplings_) +
            " samplings of the overlay";
    }
    if (!last_error_.empty()) m += "; last: " + last_error_;
    // E.g. the cloudlet's quota refused the create, and then no other cloudlet was left to try.
    if (!last_build_error_.empty() && last_build_error_ != last_error_)
        m += "; the last build failed at " + last_build_error_;
    return MakeError(ErrorCode::kUnavailable, std::move(m));
}

Result<std::size_t> Plan::Next(const std::vector<CloudletLoad>& candidates, Rng& rng) {
    if (Exhausted()) return ExhaustedError();
    ++samplings_;
    std::vector<const CloudletLoad*> usable;
    std::vector<std::size_t> index;  // usable[i] is candidates[index[i]]
    for (std::size_t i = 0; i < candidates.size() && usable.size() < Choices(); ++i) {
        const CloudletLoad& c = candidates[i];
        if (Excludes(c.cloudlet)) continue;
        auto same = [&](const CloudletLoad* u) { return u->cloudlet == c.cloudlet; };
        if (std::any_of(usable.begin(), usable.end(), same)) continue;
        usable.push_back(&c);
        index.push_back(i);
    }
    auto pick = ChooseAmong(usable, need_, rng, comparison_);
    if (!pick.ok()) {
        if (pick.error().code != ErrorCode::kUnavailable) return pick.error();
        ++no_fit_;
        last_error_ = pick.error().message;
        return Exhausted() ? ExhaustedError() : pick.error();
    }
    no_fit_ = 0;
    ++build_attempts_;
    return index[*pick];
}

Status Plan::OnBuildFailed(std::string cloudlet, std::string reason) {
    last_error_ = cloudlet + ": " + (reason.empty() ? std::string("build failed") : std::move(reason));
    last_build_error_ = last_error_;
    if (!Excludes(cloudlet)) failed_.push_back(std::move(cloudlet));
    if (Exhausted()) return ExhaustedError();
    return Ok{};
}

}  // namespace shoal::scheduler
