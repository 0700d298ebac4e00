#include "overlay/home_mapping.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "overlay/membership.hpp"

namespace shoal::overlay {
namespace {

constexpr int kTenants = 10'000;

PeerDescriptor Agent(int i) {
    return {PeerId("agent-" + std::to_string(i)), "10.0.0." + std::to_string(i) + ":7443", 0};
}

std::vector<PeerDescriptor> Agents(int n) {
    std::vector<PeerDescriptor> agents;
    for (int i = 0; i < n; ++i) agents.push_back(Agent(i));
    std::sort(agents.begin(), agents.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return agents;
}

std::string Tenant(int i) {
    return "tenant-" + std::to_string(i);
}

std::vector<std::string> Owners(const std::vector<PeerDescriptor>& members) {
    std::vector<std::string> owners;
    for (int t = 0; t < kTenants; ++t) owners.push_back(RendezvousOwner(Tenant(t), members)->id.str());
    return owners;
}

TEST(HomeMappingTest, StableHashIsPinned) {
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; the value must not depend on the process or library.
    EXPECT_EQ(StableHash(std::string_view("a")), Mix64(0xaf63dc4c8601ec8cULL));
    EXPECT_EQ(StableHash(std::uint64_t{7}), Mix64(7));
    EXPECT_NE(StableHash(std::string_view("agent-1")), StableHash(std::string_view("agent-2")));
}

TEST(HomeMappingTest, RendezvousIsDeterministicAndIndependentOfOrder) {
    auto members = Agents(16);
    const auto owners = Owners(members);
    EXPECT_EQ(Owners(members), owners);
    std::reverse(members.begin(), members.end());
    EXPECT_EQ(Owners(members), owners);
    EXPECT_EQ(RendezvousOwner("t", std::vector<PeerDescriptor>{}), nullptr);
}

TEST(HomeMappingTest, TenThousandTenantsSpreadEvenlyOverSixteenAgents) {
    std::map<std::string, int> load;
    for (const auto& owner : Owners(Agents(16))) ++load[owner];
    ASSERT_EQ(load.size(), 16u);
    // Mean 625, binomial stddev ~24: +-20% is more than 5 sigma.
    for (const auto& [agent, tenants] : load) {
        EXPECT_GT(tenants, 500) << agent;
        EXPECT_LT(tenants, 750) << agent;
    }
}

TEST(HomeMappingTest, RemovingAMemberMovesOnlyItsTenantsAndAddingOneMovesAbout1OverN) {
    const auto members = Agents(16);
    const auto before = Owners(members);

    auto fewer = members;
    const std::string gone = fewer[5].id.str();
    fewer.erase(fewer.begin() + 5);
    const auto after_removal = Owners(fewer);
    int moved = 0;
    for (int t = 0; t < kTenants; ++t) {
        if (before[t] != gone) {
            EXPECT_EQ(after_removal[t], before[t]) << Tenant(t);
        } else {
            ++moved;
        }
    }
    EXPECT_GT(moved, 0);

    auto more = members;
    more.push_back(Agent(16));
    const auto after_join = Owners(more);
    int moved_to_new = 0;
    for (int t = 0; t < kTenants; ++t) {
        if (after_join[t] == before[t]) continue;
        EXPECT_EQ(after_join[t], "agent-16") << "a join only takes tenants";
        ++moved_to_new;
    }
    // 1/17 of 10,000 is 588.
    EXPECT_GT(moved_to_new, 470);
    EXPECT_LT(moved_to_new, 710);
}

TEST(HomeMappingTest, StaticTableWinsWhileItsAgentIsAMember) {
    auto members = Agents(16);
    const std::string rendezvous_home = RendezvousOwner("acme", members)->id.str();
    const PeerId configured(rendezvous_home == "agent-3" ? "agent-4" : "agent-3");
    HomeMapping mapping({{"acme", configured}});
    EXPECT_EQ(mapping.Owner("acme", members, 1)->id, configured);
    EXPECT_EQ(mapping.Owner("other", members, 1)->id, RendezvousOwner("other", members)->id);

    // The configured agent left: rendezvous over the rest, until it is back.
    std::erase_if(members, [&](const auto& m) { return m.id == configured; });
    EXPECT_EQ(mapping.Owner("acme", members, 2)->id.str(), RendezvousOwner("acme", members)->id.str());
    members = Agents(16);
    EXPECT_EQ(mapping.Owner("acme", members, 3)->id, configured);
}

TEST(HomeMappingTest, StaticModeKeepsTheConfiguredHomeWhileItIsDown) {
    auto members = Agents(16);
    const std::string rendezvous_home = RendezvousOwner("acme", members)->id.str();
    const PeerId configured(rendezvous_home == "agent-3" ? "agent-4" : "agent-3");
    HomeMapping mapping({{"acme", configured}}, StaticRule::kAlways);
    EXPECT_EQ(mapping.Owner("acme", members, 1)->id, configured);
    ASSERT_NE(mapping.StaticHome("acme"), nullptr);
    EXPECT_EQ(*mapping.StaticHome("acme"), configured);
    EXPECT_EQ(mapping.StaticHome("other"), nullptr);

    // The configured agent left: no member is acme's home (nothing else may serve its map),
    // while a tenant without an entry still goes to its rendezvous owner.
    std::erase_if(members, [&](const auto& m) { return m.id == configured; });
    EXPECT_EQ(mapping.Owner("acme", members, 2), nullptr);
    EXPECT_EQ(mapping.Owner("acme", members, 2), nullptr) << "cached";
    EXPECT_EQ(mapping.Owner("other", members, 2)->id, RendezvousOwner("other", members)->id);
    members = Agents(16);
    EXPECT_EQ(mapping.Owner("acme", members, 3)->id, configured);
}

TEST(HomeMappingTest, CacheFollowsTheMembershipGeneration) {
    Rng rng(1);
    Membership membership(Agent(0), 1, {}, rng);
    std::vector<MemberUpdate> updates;
    for (int i = 1; i < 16; ++i) updates.push_back({Agent(i), 1, MemberState::kAlive});
    membership.Apply(updates);
    HomeMapping mapping;
    std::map<std::string, std::string> homes;
    for (int t = 0; t < 100; ++t) homes[Tenant(t)] = mapping.Owner(Tenant(t), membership)->id.str();
    EXPECT_EQ(mapping.CacheSize(), 100u);
    EXPECT_EQ(mapping.Owner(Tenant(0), membership)->id.str(), homes[Tenant(0)]);

    // The owner of tenant-0 dies: the cache goes with the generation.
    const PeerId victim(homes[Tenant(0)]);
    membership.Apply({{PeerDescriptor{victim, "", 0}, 1, MemberState::kDead}});
    const auto* now = mapping.Owner(Tenant(0), membership);
    EXPECT_NE(now->id, victim);
    EXPECT_EQ(now->id, RendezvousOwner(Tenant(0), membership.Members())->id);
    EXPECT_EQ(mapping.CacheSize(), 1u);
}

TEST(HomeMappingTest, SimulatorIdsWorkToo) {
    struct Node {
        std::uint32_t id;
        std::uint32_t age;
    };
    std::vector<Node> nodes;
    for (std::uint32_t i = 0; i < 16; ++i) nodes.push_back({i, 0});
    BasicHomeMapping<Node> mapping({{"acme", 9u}});
    EXPECT_EQ(mapping.Owner("acme", nodes, 0)->id, 9u);
    EXPECT_EQ(mapping.Owner("x", nodes, 0), RendezvousOwner("x", nodes));
}

// Not a benchmark and no threshold: prints what a lookup costs, for docs/overlay.md.
TEST(HomeMappingTest, ReportLookupCost) {
    for (const int n : {16, 1000}) {
        const auto members = Agents(n);
        std::vector<std::string> tenants;
        for (int t = 0; t < 2000; ++t) tenants.push_back(Tenant(t));
        HomeMapping mapping;
        const std::uint64_t generation = 1;
        std::size_t sink = 0;
        auto start = std::chrono::steady_clock::now();
        // First sight of each tenant: all misses (the member hashes are computed once, on the first).
        for (const auto& t : tenants) sink += mapping.Owner(t, members, generation)->address.size();
        const double miss_ns =
            std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / 2000;
        start = std::chrono::steady_clock::now();
        constexpr int kHitRounds = 50;
        for (int r = 0; r < kHitRounds; ++r) {
            for (const auto& t : tenants) sink += mapping.Owner(t, members, generation)->address.size();
        }
        const double hit_ns =
            std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
            (2000.0 * kHitRounds);
        EXPECT_GT(sink, 0u);
        std::cout << "[ measured ] home lookup N=" << n << ": miss " << miss_ns << " ns, hit " << hit_ns << " ns"
                  << std::endl;
    }
}

}  // namespace
}  // namespace shoal::overlay
