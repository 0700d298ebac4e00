#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/cloud_user.hpp"
#include "common/result.hpp"
#include "http/client.hpp"
#include "identity/keystone_admin.hpp"

namespace shoal::bench {

// The workload of one benchmark step, after Rally's NovaServers.boot_and_delete_server with
// users each in their own tenant (docs/benchmarks.md, "The load generator").
struct BootPlan {
    int servers_per_user = 4;  // booted concurrently by each user, all users at once
    int repetitions = 1;
    std::string flavor = "m1.tiny";
    std::size_t image_bytes = 1 << 20;
    std::chrono::milliseconds poll{1'000};            // Rally's nova_server_boot_poll_interval
    std::chrono::milliseconds boot_timeout{300'000};  // Rally's nova_server_boot_timeout
    std::chrono::milliseconds delete_timeout{300'000};
    // At most this many API requests in flight from all users together (0: no limit), like a
    // load generator's connection pool; keeps 10,000 concurrent servers within the fd limit.
    int max_requests_in_flight = 0;
};

struct ServerOutcome {
    int user = 0;
    int repetition = 0;
    bool active = false;
    double startup_s = 0;  // request to ACTIVE seen, when active
    std::string failure;   // why not, when not active
    int poll_errors = 0;   // status polls that failed (retried; Rally would have given up)
};

struct RepetitionOutcome {
    std::vector<ServerOutcome> servers;
    // Servers running on each cloudlet (shoal, direct) or compute node (standard) once every
    // boot of the repetition ended, before the deletes.
    std::map<std::string, int> per_host;
    int delete_failures = 0;  // deletes refused, or servers still there after delete_timeout
};

// Counts the servers running on each cloudlet or compute node of the system (as its admin).
using CountServers = std::function<boost::asio::awaitable<Result<std::map<std::string, int>>>()>;

struct Progress {
    std::size_t requested = 0, active = 0, failed = 0;
    int repetition = 0;
};
using OnProgress = std::function<void(const Progress&)>;

// Logs every user in and uploads one image per user (not timed), then per repetition: every user
// boots its servers at once; each server is polled until ACTIVE, ERROR or the boot timeout;
// the servers per host are counted; everything is deleted and waited for. A user whose login
// or upload fails has all its servers counted as failed with that reason.
class BootAndDelete {
public:
    BootAndDelete(boost::asio::any_io_executor executor,
                  http::Client& http,
                  std::vector<identity::PasswordCredentials> users,
                  BootPlan plan,
                  CountServers count,
                  OnProgress progress);
    ~BootAndDelete();

    boost::asio::awaitable<std::vector<RepetitionOutcome>> Run();

private:
    struct User;
    boost::asio::awaitable<void> Setup(User& user);
    boost::asio::awaitable<void> Boot(User& user, int index, int repetition, ServerOutcome& out, std::string& id);
    boost::asio::awaitable<bool> Remove(User& user, std::string id);

    boost::asio::any_io_executor executor_;
    http::Client& http_;
    std::unique_ptr<RequestLimiter> limiter_;
    std::vector<std::unique_ptr<User>> users_;
    BootPlan plan_;
    CountServers count_;
    OnProgress on_progress_;
    Progress progress_;
};

}  // namespace shoal::bench
