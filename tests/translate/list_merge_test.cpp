#include "translate/list_merge.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::translate {
namespace {

constexpr char kTenant[] = "tenant-t";
const AgentUrls kUrls{"http://127.0.0.1:8774/compute/v2.1", "http://127.0.0.1:9292"};

std::string Last(const QueryParams& q, const std::string& key) {
    std::string v;
    for (const auto& [k, val] : q)
        if (k == key) v = val;
    return v;
}

std::vector<std::string> All(const QueryParams& q, const std::string& key) {
    std::vector<std::string> out;
    for (const auto& [k, v] : q)
        if (k == key) out.push_back(v);
    return out;
}

std::string Created(int second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2024-05-01T10:%02d:%02dZ", second / 60, second % 60);
    return buf;
}

// A cloudlet's Nova (or Glance) list as the real one answers it: filter, sort with the
// service's defaults and its hidden row id as last key, marker lookup unfiltered, limit, a next
// link when the page is full.
class FakeCloudlet {
public:
    FakeCloudlet(std::string name, bool images) : name_(std::move(name)), images_(images) {}

    const std::string& name() const { return name_; }

    // Returns the new item (the cloudlet's id is "<cloudlet>-<row>").
    json& Add(const std::string& item_name, int created_second, const std::string& status = "ACTIVE") {
        int row = next_row_++;
        std::string id = name_ + "-" + std::to_string(1000 + row);
        json item;
        if (images_) {
            item = {{"id", id},
                    {"name", item_name},
                    {"status", "active"},
                    {"visibility", "private"},
                    {"owner", "proj-" + name_},
                    {"created_at", Created(created_second)},
                    {"updated_at", Created(created_second)},
                    {"size", 13167616},
                    {"self", "/v2/images/" + id},
                    {"file", "/v2/images/" + id + "/file"},
                    {"schema", "/v2/schemas/image"}};
        } else {
            std::string base = "http://10.0.0." + name_.substr(1) + ":8774/compute";
            item = {
                {"id", id},
                {"name", item_name},
                {"status", status},
                {"tenant_id", "proj-" + name_},
                {"user_id", "u"},
                {"created", Created(created_second)},
                {"updated", Created(created_second)},
                {"hostId", ""},
                {"image", ""},
                {"flavor",
                 {{"vcpus", 1},
                  {"ram", 512},
                  {"disk", 1},
                  {"ephemeral", 0},
                  {"swap", 0},
                  {"original_name", "m1.tiny"}}},
                {"links", json::array({{{"rel", "self"}, {"href", base + "/v2.1/proj-" + name_ + "/servers/" + id}},
                                       {{"rel", "bookmark"}, {"href", base + "/proj-" + name_ + "/servers/" + id}}})}};
        }
        rows_.push_back({row, item});
        return rows_.back().item;
    }

    void Remove(const std::string& id) {
        rows_.erase(std::remove_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.item["id"] == id; }),
                    rows_.end());
    }

    const json* Find(const std::string& id) const {
        for (const auto& r : rows_)
            if (r.item["id"] == id) return &r.item;
        return nullptr;
    }

    int requests = 0;

    json List(const QueryParams& q) {
        ++requests;
        std::vector<std::pair<std::string, bool>> keys;
        bool default_desc = true;
        if (images_) {
            auto sort = Last(q, "sort");
            if (!sort.empty()) {
                std::size_t start = 0;
                while (start < sort.size()) {
                    auto end = sort.find(',', start);
                    std::string part = sort.substr(start, end == std::string::npos ? std::string::npos : end - start);
                    auto colon = part.find(':');
                    keys.emplace_back(part.substr(0, colon),
                                      colon == std::string::npos || part.substr(colon + 1) == "desc");
                    if (end == std::string::npos) break;
                    start = end + 1;
                }
                default_desc = keys.front().second;
            }
            for (const char* k : {"created_at", "id"})
                if (std::none_of(keys.begin(), keys.end(), [&](const auto& p) { return p.first == k; }))
                    keys.emplace_back(k, default_desc);
        } else {
            auto ks = All(q, "sort_key");
            auto ds = All(q, "sort_dir");
            if (!ds.empty()) default_desc = ds.front() == "desc";
            static const std::map<std::string, std::string> kField = {
                {"created_at", "created"}, {"display_name", "name"}, {"updated_at", "updated"}, {"uuid", "id"}};
            bool has_created = false;
            for (std::size_t i = 0; i < ks.size(); ++i) {
                keys.emplace_back(kField.at(ks[i]), i < ds.size() ? ds[i] == "desc" : default_desc);
                has_created = has_created || ks[i] == "created_at";
            }
            if (!has_created) keys.emplace_back("created", default_desc);
        }
        std::vector<const Row*> sorted;
        for (const auto& r : rows_) sorted.push_back(&r);
        std::stable_sort(sorted.begin(), sorted.end(), [&](const Row* a, const Row* b) {
            for (const auto& [k, desc] : keys) {
                if (a->item[k] == b->item[k]) continue;
                return desc ? a->item[k] > b->item[k] : a->item[k] < b->item[k];
            }
            return default_desc ? a->row > b->row : a->row < b->row;  // Nova's hidden "id" key
        });
        std::size_t from = 0;
        auto marker = Last(q, "marker");
        if (!marker.empty()) {
            auto it = std::find_if(sorted.begin(), sorted.end(), [&](const Row* r) { return r->item["id"] == marker; });
            if (it == sorted.end()) return {{"badRequest", {{"code", 400}, {"message", "marker not found"}}}};
            from = static_cast<std::size_t>(it - sorted.begin()) + 1;
        }
        auto status = Last(q, "status");
        std::size_t limit = std::min<std::size_t>(std::stoul(Last(q, "limit")), 1000);
        json items = json::array();
        for (std::size_t i = from; i < sorted.size() && items.size() < limit; ++i) {
            if (!status.empty() && sorted[i]->item["status"] != status) continue;
            items.push_back(sorted[i]->item);
        }
        json body;
        if (images_) {
            body = {{"images", items}, {"first", "/v2/images"}, {"schema", "/v2/schemas/images"}};
            if (items.size() == limit && limit > 0)
                body["next"] = "/v2/images?marker=" + items.back()["id"].get<std::string>();
        } else {
            body = {{"servers", items}};
            if (items.size() == limit && limit > 0)
                body["servers_links"] = json::array({{{"rel", "next"},
                                                      {"href", "http://10.0.0.9/compute/v2.1/servers/detail?marker=" +
                                                                   items.back()["id"].get<std::string>()}}});
        }
        return body;
    }

private:
    struct Row {
        int row;
        json item;
    };
    std::string name_;
    bool images_;
    int next_row_ = 0;
    std::vector<Row> rows_;
};

// A tenant with servers (or images) on a few cloudlets, and the agent-side loop around
// PlanPage/MergePage.
class Shoal {
public:
    explicit Shoal(bool images, int cloudlets = 3) : images_(images) {
        for (int i = 1; i <= cloudlets; ++i) fakes_.emplace_back("c" + std::to_string(i), images);
    }

    FakeCloudlet& cloudlet(int i) { return fakes_[static_cast<std::size_t>(i - 1)]; }

    // Adds an item on cloudlet i, mapped under shoal id `shoal` (or unmapped when empty).
    std::string Add(
        int i, const std::string& shoal, const std::string& name, int second, const std::string& status = "ACTIVE") {
        json& item = cloudlet(i).Add(name, second, status);
        std::string id = item["id"];
        if (!shoal.empty()) {
            map_.Add(images_ ? Kind::kImage : Kind::kServer, shoal, cloudlet(i).name(), id);
            known_.push_back({shoal, cloudlet(i).name(), id, item});
        }
        return id;
    }

    std::set<std::string> down;
    std::vector<KnownResource>& known() { return known_; }

    ListContext Context() const {
        std::vector<CloudletContext> cs;
        for (const auto& f : fakes_) cs.push_back({f.name(), "proj-" + f.name()});
        return ListContext{translator_, cs, known_};
    }

    // One page as the agent serves it: plan, ask, merge (with refetch rounds).
    Result<json> Page(const ListRequest& req, int* refetches = nullptr) {
        {
            auto first = PlanPage(req, Context());
            if (!first) return first.error();
            if (first->fetch_marker) {  // one GET of the marker, then plan again
                for (auto& k : known_)
                    if (k.cloudlet == first->fetch_marker->cloudlet && k.cloudlet_id == first->fetch_marker->id)
                        k.values = *Fake(k.cloudlet).Find(k.cloudlet_id);
            }
        }
        auto ctx = Context();
        auto plan = PlanPage(req, ctx);
        if (!plan) return plan.error();
        EXPECT_FALSE(plan->fetch_marker);
        last_plan = *plan;
        std::vector<CloudletAnswer> answers;
        for (const auto& q : plan->queries) {
            EXPECT_EQ(q.path, images_ ? "/v2/images" : "/servers/detail");
            if (down.count(q.cloudlet))
                answers.push_back({q.cloudlet, std::nullopt});
            else
                answers.push_back({q.cloudlet, Fake(q.cloudlet).List(q.query)});
        }
        for (int round = 0;; ++round) {
            auto merged = MergePage(req, ctx, *plan, answers, round == 4);
            if (!merged) return merged.error();
            if (merged->refetch.empty()) return merged->body;
            EXPECT_TRUE(merged->body.is_null());
            if (refetches) ++*refetches;
            for (const auto& q : merged->refetch) answers.push_back({q.cloudlet, Fake(q.cloudlet).List(q.query)});
        }
    }

    // Follows next links (by their marker) from the first page; every page's ids in order.
    std::vector<std::vector<std::string>> Walk(ListRequest req, int* refetches = nullptr) {
        std::vector<std::vector<std::string>> pages;
        for (int guard = 0; guard < 1000; ++guard) {
            auto body = Page(req, refetches);
            EXPECT_TRUE(body.ok()) << body.error().message;
            if (!body.ok()) break;
            const json& items = (*body)[images_ ? "images" : "servers"];
            std::vector<std::string> ids;
            for (const auto& i : items) ids.push_back(i["id"]);
            pages.push_back(ids);
            std::string next;
            if (images_ && body->contains("next")) next = (*body)["next"];
            if (!images_ && body->contains("servers_links")) next = (*body)["servers_links"][0]["href"];
            if (next.empty()) break;
            auto at = next.find("marker=");
            EXPECT_NE(at, std::string::npos);
            std::string marker = next.substr(
                at + 7, next.find('&', at) == std::string::npos ? std::string::npos : next.find('&', at) - at - 7);
            EXPECT_EQ(marker, ids.back());
            QueryParams q;
            for (const auto& p : req.query)
                if (p.first != "marker") q.push_back(p);
            q.emplace_back("marker", marker);
            req.query = q;
        }
        return pages;
    }

    PagePlan last_plan;

private:
    FakeCloudlet& Fake(const std::string& name) {
        for (auto& f : fakes_)
            if (f.name() == name) return f;
        throw std::runtime_error("no cloudlet " + name);
    }

    bool images_;
    std::vector<FakeCloudlet> fakes_;
    MemoryIdMap map_;
    std::vector<KnownResource> known_;
    Translator translator_{map_, kTenant, kUrls};
};

std::vector<std::string> Flatten(const std::vector<std::vector<std::string>>& pages) {
    std::vector<std::string> out;
    for (const auto& p : pages) out.insert(out.end(), p.begin(), p.end());
    return out;
}

ListRequest Servers(QueryParams q, int microversion = 1, ListKind kind = ListKind::kServersDetail) {
    ListRequest r;
    r.kind = kind;
    r.query = std::move(q);
    r.microversion = microversion;
    return r;
}

// Twelve servers on three cloudlets, created in interleaved seconds with ties inside and
// across cloudlets. The default order: created desc, then the cloudlet desc, then (within one
// cloudlet) Nova's hidden row id desc.
std::vector<std::string> Populate(Shoal& s) {
    // (cloudlet, shoal id, second)
    const std::vector<std::tuple<int, std::string, int>> items = {
        {1, "s01", 1}, {2, "s02", 1}, {3, "s03", 2}, {1, "s04", 3}, {1, "s05", 3}, {2, "s06", 4},
        {3, "s07", 5}, {3, "s08", 7}, {3, "s09", 7}, {1, "s10", 8}, {2, "s11", 8}, {3, "s12", 9},
    };
    for (const auto& [c, id, second] : items) s.Add(c, id, "vm-" + id, second);
    // created desc; ties: cloudlet desc; same cloudlet: row desc (later Add first).
    return {"s12", "s11", "s10", "s09", "s08", "s07", "s06", "s05", "s04", "s03", "s02", "s01"};
}

// ---- servers ----------------------------------------------------------------------------------

TEST(ServerMerge, DefaultOrderWithTiesInOnePage) {
    Shoal s(false);
    auto want = Populate(s);
    auto body = s.Page(Servers({}));
    ASSERT_TRUE(body.ok()) << body.error().message;
    std::vector<std::string> got;
    for (const auto& v : (*body)["servers"]) got.push_back(v["id"]);
    EXPECT_EQ(got, want);
    EXPECT_FALSE(body->contains("servers_links"));
    // Shoal space: links and tenant are the agent's.
    const json& first = (*body)["servers"][0];
    EXPECT_EQ(first["links"][0]["href"], "http://127.0.0.1:8774/compute/v2.1/servers/s12");
    EXPECT_EQ(first["tenant_id"], kTenant);
    // Cost: one request per cloudlet.
    EXPECT_EQ(s.cloudlet(1).requests + s.cloudlet(2).requests + s.cloudlet(3).requests, 3);
}

TEST(ServerMerge, EveryLimitWalksEveryServerExactlyOnceInOrder) {
    for (int limit = 1; limit <= 13; ++limit) {
        Shoal s(false);
        auto want = Populate(s);
        auto pages = s.Walk(Servers({{"limit", std::to_string(limit)}}));
        EXPECT_EQ(Flatten(pages), want) << "limit " << limit;
        for (std::size_t i = 0; i + 1 < pages.size(); ++i) EXPECT_EQ(pages[i].size(), static_cast<std::size_t>(limit));
        // Per page, one request per cloudlet.
        int requests = s.cloudlet(1).requests + s.cloudlet(2).requests + s.cloudlet(3).requests;
        EXPECT_EQ(requests, 3 * static_cast<int>(pages.size())) << "limit " << limit;
    }
}

TEST(ServerMerge, SortByNameAscendingAcrossCloudlets) {
    Shoal s(false);
    // Names collide across cloudlets; created breaks the tie (Nova appends created_at with the
    // first direction given, here asc), then the cloudlet.
    s.Add(1, "a", "web", 5);
    s.Add(2, "b", "web", 3);
    s.Add(3, "c", "db", 9);
    s.Add(1, "d", "cache", 1);
    s.Add(2, "e", "web", 5);
    s.Add(3, "f", "api", 2);
    for (int limit = 1; limit <= 6; ++limit) {
        auto pages =
            s.Walk(Servers({{"sort_key", "display_name"}, {"sort_dir", "asc"}, {"limit", std::to_string(limit)}}));
        // api, cache, db, web@3 (b), web@5: c1 before c2 (tie asc).
        EXPECT_EQ(Flatten(pages), (std::vector<std::string>{"f", "d", "c", "b", "a", "e"})) << limit;
    }
    // Descending name, then created descending.
    auto pages = s.Walk(Servers({{"sort_key", "display_name"}, {"sort_dir", "desc"}, {"limit", "4"}}));
    EXPECT_EQ(Flatten(pages), (std::vector<std::string>{"e", "a", "b", "c", "d", "f"}));
}

TEST(ServerMerge, NextLinksOnlyOnFullPages) {
    Shoal s(false);
    Populate(s);
    auto body = s.Page(Servers({{"status", "ACTIVE"}, {"limit", "5"}}));
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE(body->contains("servers_links"));
    EXPECT_EQ(
        (*body)["servers_links"],
        json::parse(
            R"([{"rel": "next", "href": "http://127.0.0.1:8774/compute/v2.1/servers/detail?status=ACTIVE&limit=5&marker=s08"}])"));
    auto brief = s.Page(Servers({{"limit", "5"}, {"marker", "s08"}}, 1, ListKind::kServers));
    ASSERT_TRUE(brief.ok());
    EXPECT_EQ((*brief)["servers"][0], json::parse(R"({"id": "s07", "name": "vm-s07", "links": [
                  {"rel": "self", "href": "http://127.0.0.1:8774/compute/v2.1/servers/s07"},
                  {"rel": "bookmark", "href": "http://127.0.0.1:8774/compute/servers/s07"}]})"));
    EXPECT_EQ((*brief)["servers_links"][0]["href"], "http://127.0.0.1:8774/compute/v2.1/servers?limit=5&marker=s03");
    auto last = s.Page(Servers({{"limit", "5"}, {"marker", "s03"}}));
    ASSERT_TRUE(last.ok());
    EXPECT_EQ((*last)["servers"].size(), 2u);
    EXPECT_FALSE(last->contains("servers_links"));
    // Exactly full last page: a next link (as Nova), then an empty page without one.
    auto full = s.Page(Servers({{"limit", "3"}, {"marker", "s04"}}));
    ASSERT_TRUE(full.ok());
    EXPECT_EQ((*full)["servers"].size(), 3u);
    EXPECT_TRUE(full->contains("servers_links"));
    auto empty = s.Page(Servers({{"limit", "3"}, {"marker", "s01"}}));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE((*empty)["servers"].empty());
    EXPECT_FALSE(empty->contains("servers_links"));
}

TEST(ServerMerge, FiltersPassThroughAndPerCloudletMarkers) {
    Shoal s(false);
    Populate(s);
    s.Add(2, "e1", "broken", 6, "ERROR");
    s.Add(3, "e2", "broken", 6, "ERROR");
    auto pages = s.Walk(Servers({{"status", "ERROR"}, {"limit", "1"}}));
    EXPECT_EQ(Flatten(pages), (std::vector<std::string>{"e2", "e1"}));
    // After marker s08 (c3, second 7): c3 resumes at s08 itself; c1 and c2 at their last
    // server before it in the merged order, s10 and s11 (second 8). Local markers need not
    // match the filter: Nova looks markers up unfiltered.
    auto page = s.Page(Servers({{"limit", "2"}, {"marker", "s08"}, {"status", "ACTIVE"}}));
    ASSERT_TRUE(page.ok());
    std::map<std::string, std::string> markers;
    for (const auto& q : s.last_plan.queries) {
        markers[q.cloudlet] = Last(q.query, "marker");
        EXPECT_EQ(Last(q.query, "status"), "ACTIVE");
        EXPECT_EQ(Last(q.query, "limit"), "2");
    }
    EXPECT_EQ(markers["c3"], "c3-1002");
    EXPECT_EQ(markers["c1"], "c1-1003");
    EXPECT_EQ(markers["c2"], "c2-1002");
    std::vector<std::string> ids;
    for (const auto& v : (*page)["servers"]) ids.push_back(v["id"]);
    EXPECT_EQ(ids, (std::vector<std::string>{"s07", "s06"}));
}

TEST(ServerMerge, Errors) {
    Shoal s(false);
    Populate(s);
    auto ctx = s.Context();
    auto r = PlanPage(Servers({{"marker", "nope"}}), ctx);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(r.error().message, "marker [nope] not found");
    for (QueryParams q : {QueryParams{{"limit", "-1"}}, QueryParams{{"limit", "x"}}, QueryParams{{"limit", ""}},
                          QueryParams{{"sort_key", "flavor"}}, QueryParams{{"sort_dir", "asc"}},
                          QueryParams{{"sort_key", "display_name"}, {"sort_dir", "up"}}}) {
        auto e = PlanPage(Servers(q), ctx);
        ASSERT_FALSE(e.ok()) << q[0].first;
        EXPECT_EQ(e.error().code, ErrorCode::kBadRequest);
    }
    auto zero = s.Page(Servers({{"limit", "0"}}));
    ASSERT_TRUE(zero.ok());
    EXPECT_TRUE((*zero)["servers"].empty());
    EXPECT_FALSE(zero->contains("servers_links"));
    // A cloudlet answering nonsense is a bad gateway, not a crash.
    auto plan = PlanPage(Servers({}), ctx);
    ASSERT_TRUE(plan.ok());
    for (json bad : {json::array(), json{{"servers", 3}}, json{{"servers", json::array({{{"name", "x"}}})}}}) {
        auto m = MergePage(Servers({}), ctx, *plan, {{"c1", bad}});
        ASSERT_FALSE(m.ok());
        EXPECT_EQ(m.error().code, ErrorCode::kBadGateway);
    }
    // Limits above max_limit are capped, like Nova.
    ListRequest big = Servers({{"limit", "100000"}});
    big.max_limit = 5;
    auto capped = s.Page(big);
    ASSERT_TRUE(capped.ok());
    EXPECT_EQ((*capped)["servers"].size(), 5u);
}

TEST(ServerMerge, DownCloudletBefore269IsOmitted) {
    Shoal s(false);
    auto want = Populate(s);
    s.down.insert("c2");
    auto pages = s.Walk(Servers({{"limit", "4"}}, 68));
    std::vector<std::string> without;
    for (const auto& id : want)
        if (id != "s02" && id != "s06" && id != "s11") without.push_back(id);
    EXPECT_EQ(Flatten(pages), without);
}

TEST(ServerMerge, DownCloudletFrom269ListsMinimalRecordsInOrder) {
    Shoal s(false);
    auto want = Populate(s);
    s.down.insert("c2");
    for (int limit = 1; limit <= 12; ++limit)
        EXPECT_EQ(Flatten(s.Walk(Servers({{"limit", std::to_string(limit)}}, 69))), want) << limit;

    auto detail = s.Page(Servers({{"limit", "2"}}, 69));
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ((*detail)["servers"][1], json::parse(R"({"id": "s11", "status": "UNKNOWN", "tenant_id": "tenant-t",
        "created": "2024-05-01T10:00:08Z", "links": [
        {"rel": "self", "href": "http://127.0.0.1:8774/compute/v2.1/servers/s11"},
        {"rel": "bookmark", "href": "http://127.0.0.1:8774/compute/servers/s11"}]})"));
    auto brief = s.Page(Servers({{"limit", "2"}}, 79, ListKind::kServers));
    ASSERT_TRUE(brief.ok());
    EXPECT_EQ((*brief)["servers"][1], json::parse(R"({"id": "s11", "status": "UNKNOWN", "links": [
        {"rel": "self", "href": "http://127.0.0.1:8774/compute/v2.1/servers/s11"},
        {"rel": "bookmark", "href": "http://127.0.0.1:8774/compute/servers/s11"}]})"));
    // The marker itself on the down cloudlet.
    auto after = s.Page(Servers({{"limit", "2"}, {"marker", "s11"}}, 69));
    ASSERT_TRUE(after.ok());
    EXPECT_EQ((*after)["servers"][0]["id"], "s10");
    // Every cloudlet down.
    s.down = {"c1", "c2", "c3"};
    EXPECT_EQ(Flatten(s.Walk(Servers({{"limit", "5"}}, 69))), want);
    EXPECT_TRUE(Flatten(s.Walk(Servers({{"limit", "5"}}, 68))).empty());
}

TEST(ServerMerge, UnmappedServersAreNeverListedAndStarvedPagesRefetch) {
    Shoal s(false);
    auto want = Populate(s);
    // Servers created on c1 behind shoal's back, newest of all: they fill c1's answers.
    for (int i = 0; i < 6; ++i) s.Add(1, "", "foreign", 20 + i);
    int refetches = 0;
    auto pages = s.Walk(Servers({{"limit", "2"}}), &refetches);
    EXPECT_EQ(Flatten(pages), want);
    for (std::size_t i = 0; i + 1 < pages.size(); ++i) EXPECT_EQ(pages[i].size(), 2u);
    EXPECT_GT(refetches, 0);
}

TEST(ServerMerge, MarkerWithoutKnownValuesIsFetchedOnce) {
    Shoal s(false);
    auto want = Populate(s);
    for (auto& k : s.known()) k.values = json::object();  // the map never saw the servers' bodies
    auto ctx = s.Context();
    auto plan = PlanPage(Servers({{"marker", "s08"}, {"limit", "3"}}), ctx);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(plan->fetch_marker);
    EXPECT_EQ(plan->fetch_marker->cloudlet, "c3");
    EXPECT_TRUE(plan->queries.empty());
    EXPECT_FALSE(MergePage(Servers({}), ctx, *plan, {}).ok());
    // With only the marker's values known, the other cloudlets start from their beginning and
    // the rows before the marker are dropped: still exact.
    auto pages = s.Walk(Servers({{"limit", "3"}}));
    EXPECT_EQ(Flatten(pages), want);
}

TEST(ServerMerge, RandomisedWalksMatchABruteForceSort) {
    // Random tenants: ties everywhere, foreign servers, a down cloudlet, random sort and limit.
    std::mt19937 rng(20240501);
    for (int round = 0; round < 60; ++round) {
        Shoal s(false);
        struct Item {
            std::string id, name;
            int second, cloudlet, row;
            bool mapped;
        };
        std::vector<Item> items;
        int rows[4] = {0, 0, 0, 0};
        int n = static_cast<int>(rng() % 25);
        for (int i = 0; i < n; ++i) {
            int c = 1 + static_cast<int>(rng() % 3);
            bool mapped = rng() % 6 != 0;
            std::string id = mapped ? "s" + std::to_string(100 + i) : "";
            std::string name = std::string(1, static_cast<char>('a' + rng() % 4));
            int second = static_cast<int>(rng() % 6);
            s.Add(c, id, name, second);
            items.push_back({id, name, second, c, rows[c]++, mapped});
        }
        bool by_name = rng() % 2;
        bool desc = rng() % 2;
        int down = static_cast<int>(rng() % 4);  // 0: none
        int mv = rng() % 2 ? 69 : 60;
        if (down) s.down.insert("c" + std::to_string(down));
        QueryParams q;
        if (by_name) {
            q = {{"sort_key", "display_name"}, {"sort_dir", desc ? "desc" : "asc"}};
        } else if (!desc) {
            q = {{"sort_key", "created_at"}, {"sort_dir", "asc"}};
        }
        q.emplace_back("limit", std::to_string(1 + rng() % 6));

        std::vector<Item> want;
        for (const auto& it : items)
            if (it.mapped && (it.cloudlet != down || mv >= 69)) want.push_back(it);
        std::sort(want.begin(), want.end(), [&](const Item& a, const Item& b) {
            auto flip = [&](bool less) { return desc ? !less : less; };
            if (by_name && a.name != b.name) return flip(a.name < b.name);
            if (a.second != b.second) return flip(a.second < b.second);
            if (a.cloudlet != b.cloudlet) return flip(a.cloudlet < b.cloudlet);
            return flip(a.row < b.row);
        });
        std::vector<std::string> want_ids;
        for (const auto& it : want) want_ids.push_back(it.id);
        auto got = Flatten(s.Walk(Servers(q, mv)));
        ASSERT_EQ(got, want_ids) << "round " << round;
    }
}

// ---- images -----------------------------------------------------------------------------------

TEST(ImageMerge, GlanceShapeCopiesOnceAndPaging) {
    Shoal s(true);
    s.Add(1, "img-a", "cirros", 1);
    s.Add(2, "img-a", "cirros", 5);  // a second copy of img-a, imported later on c2
    s.Add(2, "img-b", "ubuntu", 3);
    s.Add(3, "img-c", "fedora", 3);
    s.Add(3, "img-a", "cirros", 9);  // a third copy
    s.Add(1, "img-d", "debian", 7);
    s.Add(2, "img-e", "alpine", 2);
    ListRequest r;
    r.kind = ListKind::kImages;
    r.default_limit = 25;
    auto body = s.Page(r);
    ASSERT_TRUE(body.ok()) << body.error().message;
    std::vector<std::string> ids;
    for (const auto& i : (*body)["images"]) ids.push_back(i["id"]);
    // created_at desc; img-a listed once, from c1 (the smallest cloudlet with a copy).
    EXPECT_EQ(ids, (std::vector<std::string>{"img-d", "img-c", "img-b", "img-e", "img-a"}));
    EXPECT_EQ((*body)["first"], "/v2/images");
    EXPECT_EQ((*body)["schema"], "/v2/schemas/images");
    EXPECT_FALSE(body->contains("next"));
    EXPECT_EQ((*body)["images"][0]["self"], "/v2/images/img-d");
    EXPECT_EQ((*body)["images"][0]["owner"], kTenant);

    r.query = {{"limit", "2"}};
    auto page = s.Page(r);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ((*page)["next"], "/v2/images?limit=2&marker=img-c");
    EXPECT_EQ((*page)["first"], "/v2/images?limit=2");
    for (int limit = 1; limit <= 6; ++limit) {
        r.query = {{"limit", std::to_string(limit)}};
        EXPECT_EQ(Flatten(s.Walk(r)), ids) << limit;
    }
    // With c1 down, img-a is listed from c2's copy; img-d is gone (Glance has no down cells).
    s.down.insert("c1");
    r.query = {};
    EXPECT_EQ(Flatten(s.Walk(r)), (std::vector<std::string>{"img-a", "img-c", "img-b", "img-e"}));
}

TEST(ImageMerge, SortSyntaxesAndErrors) {
    Shoal s(true);
    s.Add(1, "i1", "b", 1);
    s.Add(2, "i2", "a", 2);
    s.Add(3, "i3", "c", 3);
    s.Add(1, "i4", "a", 4);
    ListRequest r;
    r.kind = ListKind::kImages;
    r.default_limit = 25;
    for (int limit = 1; limit <= 4; ++limit) {
        r.query = {{"sort", "name:asc"}, {"limit", std::to_string(limit)}};
        // name asc, then created_at asc (Glance appends with the first direction).
        EXPECT_EQ(Flatten(s.Walk(r)), (std::vector<std::string>{"i2", "i4", "i1", "i3"})) << limit;
    }
    r.query = {{"sort_key", "name"}, {"sort_dir", "desc"}};
    auto ctx = s.Context();
    auto plan = PlanPage(r, ctx);
    ASSERT_TRUE(plan.ok());
    ASSERT_EQ(plan->sort.size(), 3u);
    EXPECT_EQ(plan->sort[1].field, "created_at");
    EXPECT_EQ(plan->sort[2].field, "id");
    EXPECT_TRUE(plan->sort[2].desc);
    for (QueryParams q : {QueryParams{{"sort", "name:up"}}, QueryParams{{"sort", "flavor"}},
                          QueryParams{{"sort", "name"}, {"sort_key", "name"}}, QueryParams{{"marker", "nope"}},
                          QueryParams{{"sort_key", "name"},
                                      {"sort_key", "id"},
                                      {"sort_dir", "asc"},
                                      {"sort_dir", "asc"},
                                      {"sort_dir", "asc"}}}) {
        r.query = q;
        auto e = PlanPage(r, ctx);
        ASSERT_FALSE(e.ok()) << q[0].first;
        EXPECT_EQ(e.error().code, ErrorCode::kBadRequest);
    }
    // The default limit applies without limit=.
    r.query = {};
    r.default_limit = 3;
    auto body = s.Page(r);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ((*body)["images"].size(), 3u);
    EXPECT_EQ((*body)["next"], "/v2/images?marker=i2");
}

TEST(ImageMerge, ImageFilterSkipsCloudletsWithoutACopy) {
    Shoal s(false);
    Populate(s);
    auto ctx = s.Context();
    // A server filter by image: the image has a copy on c2 only, so only c2 is asked.
    MemoryIdMap map;
    map.Add(Kind::kImage, "img", "c2", "img-on-c2");
    for (const auto& k : ctx.known) map.Add(Kind::kServer, k.shoal_id, k.cloudlet, k.cloudlet_id);
    Translator tr(map, kTenant, kUrls);
    ListContext with_image{tr, ctx.cloudlets, ctx.known};
    auto plan = PlanPage(Servers({{"image", "img"}}), with_image);
    ASSERT_TRUE(plan.ok());
    ASSERT_EQ(plan->queries.size(), 1u);
    EXPECT_EQ(plan->queries[0].cloudlet, "c2");
    EXPECT_EQ(Last(plan->queries[0].query, "image"), "img-on-c2");
}

}  // namespace
}  // namespace shoal::translate
