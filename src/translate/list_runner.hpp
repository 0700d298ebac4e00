#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>

#include "translate/list_merge.hpp"

namespace shoal::translate {

// The I/O half of list merging: asks the cloudlets a PagePlan names (all at once), runs the
// refetch rounds MergePage asks for, and fetches an unknown marker's values. A cloudlet whose
// fetch answers nullopt (down, timed out, refused) is reported as down by MergePage.
using FetchList = std::function<boost::asio::awaitable<std::optional<json>>(const CloudletQuery& query)>;
// The cloudlet-space body of one resource (for a marker the agent never saw), nullopt if unknown.
using FetchOne = std::function<boost::asio::awaitable<std::optional<json>>(const CloudletRef& ref)>;

// `context.known` gains the marker's values when it had to be fetched.
boost::asio::awaitable<Result<json>> RunListPage(const ListRequest& request,
                                                 ListContext& context,
                                                 FetchList fetch_list,
                                                 FetchOne fetch_one);

}  // namespace shoal::translate
