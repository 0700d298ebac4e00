#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cloudlet/cloudlet_gateway.hpp"
#include "common/async_mutex.hpp"
#include "common/clock.hpp"
#include "compute/boot_fsm.hpp"
#include "http/router.hpp"
#include "scheduler/power_of_two.hpp"
#include "state/tenant_state.hpp"
#include "translate/id_translation.hpp"

namespace shoal::compute {

struct NovaProxyOptions {
    int max_build_attempts = 3;                        // builds per server before it goes ERROR
    std::chrono::milliseconds build_timeout{180'000};  // a build not ACTIVE by then has failed
    std::chrono::milliseconds list_timeout{10'000};    // a cloudlet slower than this is a down cell
    std::chrono::milliseconds poll{500};               // build progress checks without a watcher
    std::chrono::milliseconds backoff{1'000};          // first pause before asking an unreachable cloudlet again
    std::chrono::milliseconds load_timeout{3'000};     // a candidate's load not in by then is left out
    std::chrono::seconds unanswered_pause{10};         // ... and it is not asked again for this long
    std::chrono::milliseconds build_wait{5'000};       // long poll of the cloudlet's agent's build watch
    std::chrono::seconds flavor_cache{300};
    Clock* clock = &SystemClock();  // build deadlines, the flavor cache, the times users see
    std::uint64_t seed = 0;         // the placement's Rng; 0: one from the CSPRNG
};

// The image a boot needs, at the chosen cloudlet: its copy's id there (imported if needed).
using ImageCopier = std::function<boost::asio::awaitable<Result<std::string>>(
    std::string tenant, std::string image, std::string cloudlet)>;

// The agent's Nova v2.1 (paper IV-E, IV-G), served at the tenant's home agent. A server create is
// answered at once with a shoal id; each instance then boots as a BootFsm whose actions this class
// carries out (placed by power of two choices over cloudlet loads, built at the chosen cloudlet
// through its agent, watched until ACTIVE, a failed build undone and placed again elsewhere),
// with its phase recorded before every step, so a crash neither loses nor orphans it; a delete
// stays visible until the cloudlet answers 404. Reads merge the tenant's cloudlets (list_merge);
// everything else goes to the cloudlet that holds the server. Ids and links are translated both
// ways (id_translation). Flavors are matched across cloudlets by name, and a flavor's shoal id is
// its name. docs/compute.md.
class NovaProxy {
public:
    struct Stats {
        std::uint64_t creates = 0;             // instances accepted
        std::uint64_t builds = 0;              // builds sent to cloudlets
        std::uint64_t build_failures = 0;      // builds that went ERROR or timed out (then re-placed)
        std::uint64_t placement_failures = 0;  // instances that ended ERROR
        std::uint64_t undone = 0;              // servers built and then deleted again (failed or unwanted builds)
    };

    NovaProxy(boost::asio::any_io_executor executor,
              cloudlet::CloudletGateway& gateway,
              state::TenantState& state,
              ImageCopier ensure_image,
              NovaProxyOptions options = {});
    ~NovaProxy();

    void AddRoutes(http::Router& router);  // under /compute
    const Stats& GetStats() const { return stats_; }
    // Resumes every unfinished boot, delete and undo in the state store of the tenants for which
    // `is_home` holds (all when empty): at the agent's start, and when it becomes a tenant's home
    // (a take-over). A boot already running here is left alone.
    boost::asio::awaitable<void> Resume(std::function<bool(const std::string& tenant)> is_home = {});
    // Boots (and deletes) being run by this proxy now.
    std::size_t Running() const { return running_.size(); }
    static constexpr int kMaxMicroversion = 79;

private:
    struct Flavor {
        std::string id;  // the cloudlet's
        std::string name;
        std::int64_t ram_mb = 0;
        nlohmann::json body;  // the cloudlet's detailed flavor
    };
    struct FlavorList {
        Clock::SteadyTime fetched;
        std::vector<Flavor> flavors;
    };

    boost::asio::awaitable<Result<http::Response>> Versions(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Create(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> List(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Show(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Update(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Remove(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Action(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> Flavors(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> ShowFlavor(http::Request& req);
    boost::asio::awaitable<Result<http::Response>> FlavorExtraSpecs(http::Request& req);

    // ---- the boot shell (docs/compute.md, "Life of a boot"): carries a BootFsm's actions out.
    struct BootRun;
    struct BootStep;
    static constexpr const char* kUndoOperation = "server.undo";
    // Starts the runner of one server's boot or delete, unless one runs here already.
    void StartBoot(const std::string& tenant, const std::string& id);
    boost::asio::awaitable<void> Boot(std::string tenant, std::string id);
    boost::asio::awaitable<BootStep> Carry(BootRun& run, const BootAction& action);
    boost::asio::awaitable<BootStep> CarryLoads(BootRun& run, const AskLoads& a);
    boost::asio::awaitable<BootStep> CarryRecord(BootRun& run, const Record& r);
    void Recorded(BootRun& run, const BootState& state);  // the stats of a state once it is written
    boost::asio::awaitable<BootStep> CarryCreate(BootRun& run, const SendCreate& a);
    boost::asio::awaitable<BootStep> CarryWatch(BootRun& run, const Watch& a);
    // The cloudlet's id of the server tagged with `server_id` there ("" when none is).
    boost::asio::awaitable<Result<std::string>> FindTagged(std::string cloudlet,
                                                           std::string tenant,
                                                           std::string server_id);
    // Deletes a server nobody keeps (a failed or abandoned build): recorded as a state::Operation
    // first, then retried until the cloudlet answers 404, across restarts.
    boost::asio::awaitable<void> StartUndo(std::string tenant,
                                           std::string server_id,
                                           std::string cloudlet,
                                           std::string cloudlet_id);
    boost::asio::awaitable<void> RunUndo(state::Operation op);
    boost::asio::awaitable<void> Pause(std::chrono::milliseconds d);

    boost::asio::awaitable<Result<std::vector<Flavor>>> FlavorsAt(std::string cloudlet, std::string tenant);
    boost::asio::awaitable<Result<Flavor>> FindFlavor(std::string cloudlet, std::string tenant, std::string ref);
    boost::asio::awaitable<void> AddFlavors(translate::MemoryIdMap& map, std::string cloudlet, std::string tenant);

    boost::asio::any_io_executor executor_;
    cloudlet::CloudletGateway& gateway_;
    state::TenantState& state_;
    ImageCopier ensure_image_;
    NovaProxyOptions options_;
    std::map<std::string, FlavorList, std::less<>> flavors_;
    std::map<std::string, std::string, std::less<>> projects_;  // "cloudlet/tenant" -> project id there
    Rng rng_;
    Stats stats_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);        // expires with this proxy
    AsyncMutex decision_turn_;                                          // one placement decision at a time
    std::map<std::string, Clock::SteadyTime, std::less<>> unanswered_;  // candidates left out until then
    std::set<std::string, std::less<>> running_;                        // "tenant/server" with a runner here
    std::set<std::string, std::less<>> undoing_;                        // "tenant/operation" being undone here
};

}  // namespace shoal::compute
