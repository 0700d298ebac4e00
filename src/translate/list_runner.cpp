#include "translate/list_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shoal::translate {
namespace {

namespace asio = boost::asio;

// Every query at once; answers in query order (nullopt for a cloudlet that did not answer).
asio::awaitable<std::vector<CloudletAnswer>> FetchAll(const std::vector<CloudletQuery>& queries,
                                                      const FetchList& fetch) {
    auto ex = co_await asio::this_coro::executor;
    using Fetch = decltype(asio::co_spawn(ex, fetch(queries.front()), asio::deferred));
    std::vector<Fetch> fetches;
    for (const auto& q : queries) fetches.push_back(asio::co_spawn(ex, fetch(q), asio::deferred));
    std::vector<CloudletAnswer> answers(queries.size());
    if (queries.empty()) co_return answers;
    auto [order, failures, bodies] = co_await asio::experimental::make_parallel_group(std::move(fetches))
                                         .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    for (std::size_t i = 0; i < queries.size(); ++i) {
        answers[i].cloudlet = queries[i].cloudlet;
        if (!failures[i]) answers[i].body = std::move(bodies[i]);  // a throw is a down cloudlet
    }
    co_return answers;
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

}  // namespace shoal::translate
