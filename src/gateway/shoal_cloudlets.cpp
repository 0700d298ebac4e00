#include "gateway/shoal_cloudlets.hpp"

#include <algorithm>

#include "a2a/routes.hpp"

namespace shoal::gateway {
namespace {

namespace asio = boost::asio;

// Short questions to a peer (loads, holds): a peer that cannot answer in this time is skipped.
constexpr std::chrono::milliseconds kPeerTimeout{5'000};

}  // namespace

ShoalCloudlets::ShoalCloudlets(std::string self_id,
                               a2a::Peers& peers,
                               MemberList members,
                               CloudletRelay& relay,
                               LoadService& loads,
                               BuildWatch& builds,
                               std::uint64_t rng_seed)
    : self_id_(std::move(self_id)),
      peers_(peers),
      members_(std::move(members)),
      relay_(relay),
      loads_(loads),
      builds_(builds),
      rng_(rng_seed) {}

asio::awaitable<Result<http::Response>> ShoalCloudlets::Call(std::string cloudlet,
                                                             std::string tenant,
                                                             cloudlet::CloudletCall call) {
    if (cloudlet == self_id_) co_return co_await relay_.Call(std::move(tenant), std::move(call));
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    // The remote agent has its own timeout to the cloudlet; allow for the hop.
    const auto timeout = call.timeout.value_or(std::chrono::milliseconds(60'000)) + std::chrono::milliseconds(5'000);
    a2a::CloudletRelayCall relay{std::move(tenant), std::move(call)};
    auto request = a2a::ToRequest(std::move(relay));
    co_return co_await peers_.Send(*address, std::move(request), timeout);
}

asio::awaitable<Result<scheduler::CloudletLoad>> ShoalCloudlets::Load(std::string cloudlet) {
    if (cloudlet == self_id_) co_return co_await loads_.Load();
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    auto request = a2a::ToRequest(a2a::LoadQuery{});
    auto answer = co_await a2a::Ask(peers_, *address, std::move(request), kPeerTimeout);
    if (!answer.ok()) co_return answer.error();
    co_return a2a::FromResponse<scheduler::CloudletLoad>(*answer);
}

asio::awaitable<Result<ShoalCloudlets::HeldLoad>> ShoalCloudlets::LoadHolding(std::string cloudlet,
                                                                              std::int64_t ram_mb) {
    if (cloudlet == self_id_) co_return co_await loads_.Hold(ram_mb);
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    a2a::LoadHoldCall call;
    call.ram_mb = ram_mb;
    auto request = a2a::ToRequest(call);
    auto answer = co_await a2a::Ask(peers_, *address, std::move(request), kPeerTimeout);
    if (!answer.ok()) co_return answer.error();
    co_return a2a::FromResponse<HeldLoad>(*answer);
}

asio::awaitable<void> ShoalCloudlets::Unreserve(std::string cloudlet, std::uint64_t reservation) {
    if (reservation == 0) co_return;
    if (cloudlet == self_id_) {
        loads_.Release(reservation);
        co_return;
    }
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return;  // its agent is gone; the reservation went with it
    a2a::ReleaseCall call;
    call.reservation = reservation;
    auto request = a2a::ToRequest(call);
    (void)co_await a2a::Ask(peers_, *address, std::move(request), kPeerTimeout);
}

asio::awaitable<Result<cloudlet::BuildProgress>> ShoalCloudlets::AwaitBuild(std::string cloudlet,
                                                                            std::string cloudlet_server_id,
                                                                            std::chrono::milliseconds wait) {
    if (cloudlet == self_id_) co_return co_await builds_.Await(std::move(cloudlet_server_id), wait);
    auto address = AddressOf(cloudlet);
    if (!address.ok()) co_return address.error();
    a2a::BuildWatchQuery query;
    query.cloudlet_server_id = std::move(cloudlet_server_id);
    query.wait = wait;
    auto request = a2a::ToRequest(query);
    auto answer = co_await a2a::Ask(peers_, *address, std::move(request), wait + kPeerTimeout);
    if (!answer.ok()) co_return answer.error();
    co_return a2a::FromResponse<cloudlet::BuildProgress>(*answer);
}

std::vector<std::string> ShoalCloudlets::Candidates(std::size_t k) {
    // Drawn from the live member list, not from the Cyclon view: the view changes by one
    // shuffle per period, so a burst of decisions at one home would all draw from the same c
    // peers (measured: 2 of 64 cloudlets never chosen for 768 servers). The member list gives
    // independent, uniform samples; self is one member among n like any other.
    std::vector<std::string> members;
    for (const auto& m : members_())
        if (m.id.str() == self_id_ || !m.address.empty()) members.push_back(m.id.str());
    if (std::find(members.begin(), members.end(), self_id_) == members.end()) members.push_back(self_id_);
    // A partial Fisher-Yates shuffle: the first k are a uniform sample without replacement.
    const std::size_t take = std::min(k, members.size());
    for (std::size_t i = 0; i < take; ++i) {
        const std::size_t j = i + rng_.Uniform(members.size() - i);
        std::swap(members[i], members[j]);
    }
    members.resize(take);
    return members;
}

Result<std::string> ShoalCloudlets::AddressOf(const std::string& agent_id) const {
    for (const auto& m : members_())
        if (m.id.str() == agent_id && !m.address.empty()) return m.address;
    return MakeError(ErrorCode::kUnavailable, "agent " + agent_id + " is not a live member of the shoal");
}

}  // namespace shoal::gateway
