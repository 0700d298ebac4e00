#include "bench/boot_and_delete.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/cloud_user.hpp"
#include "bench/task_group.hpp"

namespace shoal::bench {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct BootAndDelete::User {
    User(http::Client& http, identity::PasswordCredentials c, RequestLimiter* limiter)
        : cloud(http, std::move(c), limiter) {}
    CloudUser cloud;
    std::string image;
    std::string flavor;
    std::string setup_failure;  // non-empty: every server of this user fails with it
};

BootAndDelete::BootAndDelete(asio::any_io_executor executor,
                             http::Client& http,
                             std::vector<identity::PasswordCredentials> users,
                             BootPlan plan,
                             CountServers count,
                             OnProgress progress)
    : executor_(std::move(executor)),
      http_(http),
      limiter_(std::make_unique<RequestLimiter>(plan.max_requests_in_flight)),
      plan_(std::move(plan)),
      count_(std::move(count)),
      on_progress_(std::move(progress)) {
    for (auto& u : users) users_.push_back(std::make_unique<User>(http_, std::move(u), limiter_.get()));
}

BootAndDelete::~BootAndDelete() = default;

namespace {
asio::awaitable<void> Sleep(asio::any_io_executor ex, std::chrono::milliseconds d) {
    asio::steady_timer t(ex, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

asio::awaitable<void> BootAndDelete::Setup(User& user) {
    if (auto in = co_await user.cloud.Login(); !in.ok()) {
        user.setup_failure = "setup: " + in.error().message;
        co_return;
    }
    auto flavor = co_await user.cloud.FlavorId(plan_.flavor);
    if (!flavor.ok()) {
        user.setup_failure = "setup: " + flavor.error().message;
        co_return;
    }
    user.flavor = *flavor;
    // Not all zeros, so that nothing on the way can compress it away.
    std::string bytes(plan_.image_bytes, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
    auto image = co_await user.cloud.UploadImage("bench-image", std::move(bytes));
    if (!image.ok()) {
        user.setup_failure = "setup: " + image.error().message;
        co_return;
    }
    user.image = *image;
}

asio::awaitable<void> BootAndDelete::Boot(User& user, int index, int repetition, ServerOutcome& out, std::string& id) {
    auto finish = [&](bool active, std::string failure) {
        out.active = active;
        out.failure = std::move(failure);
        ++(active ? progress_.active : progress_.failed);
        if (on_progress_) on_progress_(progress_);
    };
    if (!user.setup_failure.empty()) {
        finish(false, user.setup_failure);
        co_return;
    }
    const auto start = Clock::now();
    auto created = co_await user.cloud.CreateServer("bench-" + std::to_string(repetition) + "-" + std::to_string(index),
                                                    user.image, user.flavor);
    if (!created.ok()) {
        finish(false, created.error().message);
        co_return;
    }
    id = *created;
    const auto deadline = start + plan_.boot_timeout;
    while (true) {
        co_await Sleep(executor_, plan_.poll);
        auto state = co_await user.cloud.GetServer(id);
        if (!state.ok()) {
            ++out.poll_errors;
        } else if (state->status == "ACTIVE") {
            out.startup_s = std::chrono::duration<double>(Clock::now() - start).count();
            finish(true, "");
            co_return;
        } else if (state->status == "ERROR") {
            finish(false, "ERROR: " + (state->fault.empty() ? std::string("(no fault)") : state->fault));
            co_return;
        } else if (state->status.empty()) {
            finish(false, "the server vanished while building");
            id.clear();
            co_return;
        }
        if (Clock::now() >= deadline) {
            finish(false, "timeout: not ACTIVE after " + std::to_string(plan_.boot_timeout.count() / 1000) + " s");
            co_return;
        }
    }
}

// Deletes and waits until the server is gone; false if it could not be.
asio::awaitable<bool> BootAndDelete::Remove(User& user, std::string id) {
    const auto deadline = Clock::now() + plan_.delete_timeout;
    bool asked = false;
    while (Clock::now() < deadline) {
        if (!asked) {
            asked = (co_await user.cloud.DeleteServer(id)).ok();
        } else if (auto state = co_await user.cloud.GetServer(id); state.ok() && state->status.empty()) {
            co_return true;
        }
        co_await Sleep(executor_, plan_.poll);
    }
    co_return false;
}

asio::awaitable<std::vector<RepetitionOutcome>> BootAndDelete::Run() {
    {
        TaskGroup setup(executor_);
        for (auto& u : users_) setup.Spawn(Setup(*u));
        co_await setup.Wait();
    }
    std::vector<RepetitionOutcome> reps(static_cast<std::size_t>(plan_.repetitions));
    const auto per_user = static_cast<std::size_t>(plan_.servers_per_user);
    for (int r = 0; r < plan_.repetitions; ++r) {
        auto& rep = reps[static_cast<std::size_t>(r)];
        progress_.repetition = r + 1;
        progress_.requested += users_.size() * per_user;
        if (on_progress_) on_progress_(progress_);
        rep.servers.resize(users_.size() * per_user);
        std::vector<std::string> ids(rep.servers.size());
        {
            TaskGroup boots(executor_);
            for (std::size_t u = 0; u < users_.size(); ++u) {
                for (std::size_t i = 0; i < per_user; ++i) {
                    const auto k = u * per_user + i;
                    rep.servers[k].user = static_cast<int>(u);
                    rep.servers[k].repetition = r;
                    boots.Spawn(Boot(*users_[u], static_cast<int>(i), r, rep.servers[k], ids[k]));
                }
            }
            co_await boots.Wait();
        }
        if (count_) {
            if (auto counted = co_await count_(); counted.ok()) rep.per_host = std::move(counted).value();
        }
        {
            TaskGroup deletes(executor_);
            for (std::size_t k = 0; k < ids.size(); ++k) {
                if (ids[k].empty()) continue;
                auto one = [](BootAndDelete* self, User* user, std::string id, int* failures) -> asio::awaitable<void> {
                    if (!co_await self->Remove(*user, std::move(id))) ++*failures;
                };
                deletes.Spawn(one(this, users_[k / per_user].get(), ids[k], &rep.delete_failures));
            }
            co_await deletes.Wait();
        }
        // A delete is done when the user's API answers 404: then it is gone from its compute node
        // too, through an agent (which keeps the server, task_state deleting, until its cloudlet
        // answers 404) as directly, so the next repetition starts on idle nodes.
    }
    {
        TaskGroup cleanup(executor_);
        for (auto& u : users_) {
            if (u->image.empty()) continue;
            auto one = [](User* user) -> asio::awaitable<void> { (void)co_await user->cloud.DeleteImage(user->image); };
            cleanup.Spawn(one(u.get()));
        }
        co_await cleanup.Wait();
    }
    co_return reps;
}

}  // namespace shoal::bench
