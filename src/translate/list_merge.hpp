#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "translate/id_translation.hpp"

// One page of a tenant's servers or images, merged from several cloudlets the way Nova merges
// cells: each cloudlet sorts and filters its own, the agent merges the sorted streams. Two calls
// per page, no I/O: PlanPage says what to ask each cloudlet, MergePage builds the answer from
// what came back. Algorithm, per-cloudlet markers and cost: docs/compute.md.
namespace shoal::translate {

enum class ListKind { kServers, kServersDetail, kImages };

struct ListRequest {
    ListKind kind = ListKind::kServersDetail;
    QueryParams query;              // the user's query, shoal space (filters, sort, limit, marker)
    int microversion = 1;           // the minor of 2.x (servers only; 69 turns on down-cloudlet records)
    std::size_t max_limit = 1000;   // Nova's [api]max_limit, Glance's api_limit_max
    std::size_t default_limit = 0;  // without limit=; 0 means max_limit (Nova). Glance's default is 25.
};

// One row of the tenant's map, with what the agent last saw of it.
struct KnownResource {
    std::string shoal_id;
    std::string cloudlet;
    std::string cloudlet_id;
    // The resource's last seen cloudlet-space body (or just its sort fields: "created", "name",
    // ...). created never changes, so the default order always positions exactly.
    json values = json::object();
};

struct ListContext {
    const Translator& translator;
    std::vector<CloudletContext> cloudlets;  // the tenant's cloudlets
    std::vector<KnownResource> known;        // every server, or every image copy, of the tenant
};

struct SortKey {
    std::string field;  // a field of the (detailed) cloudlet body, "." for nesting ("image.id")
    bool desc = true;
};

// What to ask one cloudlet: GET <its compute or image endpoint><path>?<query>.
struct CloudletQuery {
    std::string cloudlet;
    std::string path;  // "/servers/detail" (always detailed: the merge needs the sort fields) or "/v2/images"
    QueryParams query;
};

struct PagePlan {
    std::vector<SortKey> sort;  // the merged order, service defaults appended
    bool tie_desc = true;       // direction of the last tie-break (Nova's internal id)
    std::size_t limit = 0;
    std::optional<std::string> marker;     // shoal id
    std::optional<CloudletRef> marker_at;  // the copy whose position the marker is
    // Set alone when the marker's sort values are unknown: GET that resource from its cloudlet,
    // store the body as the KnownResource's values and plan again (one extra request).
    std::optional<CloudletRef> fetch_marker;
    std::vector<CloudletQuery> queries;  // one per cloudlet that can hold a matching item
};

// kBadRequest for a bad limit, sort key or direction, or a marker the map does not know
// (Nova's "marker [X] not found").
Result<PagePlan> PlanPage(const ListRequest& request, const ListContext& context);

struct CloudletAnswer {
    std::string cloudlet;
    std::optional<json> body;  // the cloudlet's list body; nullopt: it did not answer in time
};

struct MergeResult {
    json body;  // {"servers", "servers_links"?} or Glance's {"images", "first", "schema", "next"?}
    // Only when a cloudlet's answer ran out before the page filled (its rows were unmapped,
    // duplicate image copies or stale): nothing else is set. Ask these, append their answers
    // (same cloudlet again, in order) and merge again.
    std::vector<CloudletQuery> refetch;
};

// `answers` may hold several bodies per cloudlet (first answer, then refetches), in order; a
// planned cloudlet without any answer counts as down. final_round: answer a short page with a
// next link rather than ask for a refetch.
Result<MergeResult> MergePage(const ListRequest& request,
                              const ListContext& context,
                              const PagePlan& plan,
                              const std::vector<CloudletAnswer>& answers,
                              bool final_round = false);

}  // namespace shoal::translate
