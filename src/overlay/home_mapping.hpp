#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "overlay/peer.hpp"

namespace shoal::overlay {

// Hashes that cross processes (digests, rendezvous weights) must give the same value in every
// agent, whatever its standard library: std::hash<std::string> does not promise that, so these
// are written out. Mix64 is splitmix64's finalizer (a bijection on 64 bits).
constexpr std::uint64_t Mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// FNV-1a over the bytes, then Mix64 so that short keys differing in one byte spread over all bits.
constexpr std::uint64_t StableHash(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return Mix64(h);
}
// Integer ids (the simulator's node index).
constexpr std::uint64_t StableHash(std::uint64_t v) {
    return Mix64(v);
}
inline std::uint64_t StableHash(const PeerId& id) {
    return StableHash(std::string_view(id.str()));
}

// Rendezvous (highest-random-weight) hashing, Thaler and Ravishankar 1998: a key belongs to the
// member with the highest weight(key, member). Removing a member moves only its own keys; adding
// one moves about 1/(N+1) of all keys, each to the newcomer.
constexpr std::uint64_t RendezvousWeight(std::uint64_t key_hash, std::uint64_t member_hash) {
    return Mix64(key_hash ^ Mix64(member_hash));
}

inline constexpr std::size_t kNoOwner = static_cast<std::size_t>(-1);

// Index of the owner among `member_hashes` (StableHash of each member id), kNoOwner when empty.
// Equal weights (never seen with 64 bits) go to the lower index.
inline std::size_t RendezvousIndex(std::uint64_t key_hash, std::span<const std::uint64_t> member_hashes) {
    std::size_t best = kNoOwner;
    std::uint64_t best_weight = 0;
    for (std::size_t i = 0; i < member_hashes.size(); ++i) {
        const std::uint64_t w = RendezvousWeight(key_hash, member_hashes[i]);
        if (best == kNoOwner || w > best_weight) {
            best = i;
            best_weight = w;
        }
    }
    return best;
}

// The member that owns `tenant`, or nullptr when there are no members. O(N) hashes.
template <class P>
const P* RendezvousOwner(std::string_view tenant, const std::vector<P>& members) {
    const std::uint64_t key = StableHash(tenant);
    const P* best = nullptr;
    std::uint64_t best_weight = 0;
    for (const P& m : members) {
        const std::uint64_t w = RendezvousWeight(key, StableHash(m.id));
        if (best == nullptr || w > best_weight) {
            best = &m;
            best_weight = w;
        }
    }
    return best;
}

// What a static table entry means while its agent is not a member (config `mapping.mode`).
enum class StaticRule {
    // "dynamic": the entry wins while its agent is a member; otherwise the tenant goes to the
    // rendezvous owner like any other, and comes back once the agent is a member again.
    kWhileMember,
    // "static" (the paper's configured mapping): the entry decides, member or not; a tenant whose
    // static home is down has no home until it is back (nothing else may serve its map).
    kAlways,
};

// Which agent is a tenant's home (the paper's home-agent mapping), the one rule every agent
// applies: the static table's entry as StaticRule says, else (no entry, or kWhileMember with the
// entry's agent not a member) the rendezvous owner over the members.
//
// Lookups are cached per tenant. The cache holds member indices and is dropped whenever the
// membership generation changes, so a hit is one hash-map probe and a miss costs O(N) weight
// evaluations (plus O(log N) for a static entry). Not thread-safe, like the membership itself.
template <class P>
class BasicHomeMapping {
public:
    using Id = decltype(P::id);

    explicit BasicHomeMapping(std::vector<std::pair<std::string, Id>> static_table = {},
                              StaticRule rule = StaticRule::kWhileMember,
                              std::size_t max_cached = std::size_t{1} << 16)
        : rule_(rule), max_cached_(max_cached) {
        for (auto& [tenant, agent] : static_table) static_.insert_or_assign(std::move(tenant), std::move(agent));
    }

    // The member that is the tenant's home. `members` sorted by id, with the generation it
    // belongs to (Membership::Members() and Membership::Generation()). nullptr when there are no
    // members, or (kAlways) when the tenant's static home is not a member: StaticHome() names it.
    // The pointer lives as long as `members` is unchanged.
    const P* Owner(std::string_view tenant, const std::vector<P>& members, std::uint64_t generation) {
        if (members.empty()) return nullptr;
        if (generation != generation_ || members.size() != member_hashes_.size()) Reset(members, generation);
        if (auto it = cache_.find(tenant); it != cache_.end())
            return it->second == kNotAMember ? nullptr : &members[it->second];
        const std::size_t index = Compute(tenant, members);
        if (cache_.size() >= max_cached_) cache_.clear();
        const auto slot = index == kNoOwner ? kNotAMember : static_cast<std::uint32_t>(index);
        cache_.emplace(std::string(tenant), slot);
        return slot == kNotAMember ? nullptr : &members[index];
    }
    // With anything that has Members() and Generation(), e.g. BasicMembership<P>.
    template <class Membership>
    const P* Owner(std::string_view tenant, const Membership& membership) {
        return Owner(tenant, membership.Members(), membership.Generation());
    }

    // The tenant's static table entry, nullptr when it has none.
    const Id* StaticHome(std::string_view tenant) const {
        auto it = static_.find(tenant);
        return it == static_.end() ? nullptr : &it->second;
    }

    std::size_t CacheSize() const { return cache_.size(); }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };

    void Reset(const std::vector<P>& members, std::uint64_t generation) {
        generation_ = generation;
        cache_.clear();
        member_hashes_.clear();
        member_hashes_.reserve(members.size());
        for (const P& m : members) member_hashes_.push_back(StableHash(m.id));
    }
    std::size_t Compute(std::string_view tenant, const std::vector<P>& members) const {
        if (auto it = static_.find(tenant); it != static_.end()) {
            auto pos = std::lower_bound(members.begin(), members.end(), it->second,
                                        [](const P& m, const Id& id) { return m.id < id; });
            if (pos != members.end() && pos->id == it->second) return static_cast<std::size_t>(pos - members.begin());
            if (rule_ == StaticRule::kAlways) return kNoOwner;
        }
        return RendezvousIndex(StableHash(tenant), member_hashes_);
    }

    static constexpr std::uint32_t kNotAMember = static_cast<std::uint32_t>(-1);

    std::unordered_map<std::string, Id, StringHash, std::equal_to<>> static_;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> cache_;
    std::vector<std::uint64_t> member_hashes_;
    std::uint64_t generation_ = static_cast<std::uint64_t>(-1);
    StaticRule rule_;
    std::size_t max_cached_;
};

using HomeMapping = BasicHomeMapping<PeerDescriptor>;

extern template class BasicHomeMapping<PeerDescriptor>;

}  // namespace shoal::overlay
