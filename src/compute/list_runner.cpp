#include "compute/list_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace shoal::compute {
namespace {

namespace asio = boost::asio;

// Every query at once; answers in query order (nullopt for a cloudlet that did not answer).
asio::awaitable<std::vector<CloudletAnswer>> FetchAll(const std::vector<CloudletQuery>& queries,
                                                      const FetchList& fetch) {
    auto answers = std::make_shared<std::vector<CloudletAnswer>>(queries.size());
    auto pending = std::make_shared<std::size_t>(queries.size());
    auto ex = co_await asio::this_coro::executor;
    auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
    for (std::size_t i = 0; i < queries.size(); ++i) {
        (*answers)[i].cloudlet = queries[i].cloudlet;
        auto one = [](CloudletQuery q, FetchList f, std::shared_ptr<std::vector<CloudletAnswer>> out, std::size_t index,
                      std::shared_ptr<std::size_t> left,
                      std::shared_ptr<asio::steady_timer> timer) -> asio::awaitable<void> {
            std::optional<json> body;
            try {
                body = co_await f(q);
            } catch (const std::exception&) {
                body.reset();  // reported as a down cloudlet
            }
            (*out)[index].body = std::move(body);
            if (--*left == 0) timer->cancel();
        };
        asio::co_spawn(ex, one(queries[i], fetch, answers, i, pending, done), asio::detached);
    }
    while (*pending > 0) {
        boost::system::error_code ec;
        co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return std::move(*answers);
}

}  // namespace

asio::awaitable<Result<json>> RunListPage(const ListRequest& request,
                                          ListContext& context,
                                          FetchList fetch_list,
                                          FetchOne fetch_one) {
    auto plan = PlanPage(request, context);
    if (!plan.ok()) co_return plan.error();
    if (plan->fetch_marker) {
        auto ref = *plan->fetch_marker;
        auto body = co_await fetch_one(ref);
        if (!body) co_return MakeError(ErrorCode::kBadRequest, "marker [" + ref.id + "] not found");
        for (auto& k : context.known)
            if (k.cloudlet == ref.cloudlet && k.cloudlet_id == ref.id) k.values = *body;
        plan = PlanPage(request, context);
        if (!plan.ok()) co_return plan.error();
        if (plan->fetch_marker) co_return MakeError(ErrorCode::kBadRequest, "marker not found");
    }
    auto answers = co_await FetchAll(plan->queries, fetch_list);
    constexpr int kMaxRounds = 4;
    for (int round = 1;; ++round) {
        auto merged = MergePage(request, context, *plan, answers, round == kMaxRounds);
        if (!merged.ok()) co_return merged.error();
        if (merged->refetch.empty()) co_return std::move(merged->body);
        auto more = co_await FetchAll(merged->refetch, fetch_list);
        for (auto& a : more) answers.push_back(std::move(a));
    }
}

}  // namespace shoal::compute
