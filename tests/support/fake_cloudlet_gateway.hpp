#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cloudlet/cloudlet_gateway.hpp"

namespace shoal::testing {

// The fake of the boundary between a home agent's proxies and the cloudlets of the shoal
// (cloudlet::CloudletGateway): cloudlets held in memory, each a small Nova and Glance that the test
// steers.
// Builds end at once, or when the test says; a cloudlet can refuse every build (202, then ERROR
// with Nova's "No valid host" fault, as a real cloudlet with broken hypervisors does) or be
// unreachable. Every call is recorded, so a test can check what each cloudlet was sent. No
// sockets, no timers but the build watch's `wait`: a flow runs in milliseconds.
class FakeCloudletGateway final : public cloudlet::CloudletGateway {
public:
    struct Server {
        std::string id;  // the cloudlet's
        std::string tenant;
        std::string status = "BUILD";
        std::string task_state;  // "deleting" once a slow delete began
        std::string fault;
        nlohmann::json request;  // the create's "server" object as the cloudlet received it
    };
    struct Flavor {
        std::string id;  // the cloudlet's (differs per cloudlet, as on real clouds)
        std::string name;
        std::int64_t ram_mb = 0;
    };
    struct Image {
        nlohmann::json body;  // Glance's image document, "status" included
        std::string data;
        std::string tenant;
    };
    // How a cloudlet's Glance fetches a web-download URL (the agent's signed data URL): the test
    // routes it to the proxy in process. The fetched bytes, or why not.
    using FetchUrl = std::function<boost::asio::awaitable<Result<http::Response>>(std::string url)>;
    struct Cloudlet {
        std::string id;
        std::int64_t total_ram_mb = 16384;
        std::int64_t used_ram_mb = 0;      // by servers other than the fake's own
        bool unreachable = false;          // every call and load: kUnavailable
        bool refuse_builds = false;        // creates are accepted, then go ERROR
        bool hold_builds = false;          // builds stay BUILD until Finish()
        bool slow_deletes = false;         // deleted servers stay (task_state deleting) until FinishDeletes()
        bool lose_create_answers = false;  // creates are made, but their answer is lost (kUnavailable)
        std::vector<Flavor> flavors;
        std::map<std::string, Server> servers;
        std::map<std::string, Image> images;          // by id (shoal images keep their id everywhere)
        std::map<std::uint64_t, std::int64_t> holds;  // reservation -> RAM held
        std::string project;                          // the tenant's shadow project there
    };
    struct RecordedCall {
        std::string cloudlet;
        std::string tenant;
        cloudlet::CloudletCall call;
    };

    FakeCloudletGateway(boost::asio::any_io_executor executor, std::string self_id);

    // A cloudlet with the flavors m1.tiny (512 MB), m1.small (2048) and m1.large (8192), under
    // ids of its own.
    Cloudlet& AddCloudlet(const std::string& id, std::int64_t total_ram_mb = 16384);
    Cloudlet& At(const std::string& id);
    // Ends a held build: "ACTIVE", or "ERROR" with a fault message.
    void Finish(const std::string& cloudlet,
                const std::string& server_id,
                std::string status = "ACTIVE",
                std::string fault = {});
    // Removes the servers a slow delete left in task_state deleting.
    void FinishDeletes(const std::string& cloudlet);
    // Servers at a cloudlet in the given status ("" for any).
    std::vector<Server> ServersAt(const std::string& cloudlet, const std::string& status = {}) const;
    // The calls made so far; those of one method and path prefix.
    const std::vector<RecordedCall>& Calls() const { return calls_; }
    std::vector<RecordedCall> CallsTo(const std::string& cloudlet, http::Method method, std::string_view path) const;
    // The candidates Candidates(k) returns (the first k): all cloudlets in the order added unless set.
    void SetCandidates(std::vector<std::string> ids) { candidates_ = std::move(ids); }
    void SetFetchUrl(FetchUrl fetch) { fetch_url_ = std::move(fetch); }
    std::size_t HoldsMade() const { return holds_made_; }

    const std::string& SelfId() const override { return self_id_; }
    boost::asio::awaitable<Result<http::Response>> Call(std::string cloudlet,
                                                        std::string tenant,
                                                        cloudlet::CloudletCall call) override;
    boost::asio::awaitable<Result<scheduler::CloudletLoad>> Load(std::string cloudlet) override;
    std::vector<std::string> Candidates(std::size_t k) override;
    boost::asio::awaitable<Result<cloudlet::BuildProgress>> AwaitBuild(std::string cloudlet,
                                                                       std::string cloudlet_server_id,
                                                                       std::chrono::milliseconds wait) override;
    boost::asio::awaitable<Result<HeldLoad>> LoadHolding(std::string cloudlet, std::int64_t ram_mb) override;
    boost::asio::awaitable<void> Unreserve(std::string cloudlet, std::uint64_t reservation) override;

private:
    http::Response Nova(Cloudlet& c, const std::string& tenant, const cloudlet::CloudletCall& call);
    boost::asio::awaitable<http::Response> Glance(std::string cloudlet,
                                                  std::string tenant,
                                                  cloudlet::CloudletCall call);
    nlohmann::json ServerBody(const Cloudlet& c, const Server& s) const;
    scheduler::CloudletLoad LoadOf(const Cloudlet& c) const;
    void Changed();  // wakes AwaitBuild waiters

    boost::asio::any_io_executor executor_;
    std::string self_id_;
    std::map<std::string, Cloudlet> cloudlets_;
    std::vector<std::string> order_;
    std::vector<std::string> candidates_;
    FetchUrl fetch_url_;
    std::vector<RecordedCall> calls_;
    std::uint64_t next_server_ = 1;
    std::uint64_t next_reservation_ = 1;
    std::size_t holds_made_ = 0;
    std::vector<std::weak_ptr<boost::asio::steady_timer>> waiters_;  // in AwaitBuild
};

}  // namespace shoal::testing
