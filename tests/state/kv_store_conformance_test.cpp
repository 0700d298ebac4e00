// One conformance suite for every KvStore backend (memory, SQLite, etcd) and TenantState over
// each, plus the backend-specific cases (corrupt SQLite file, unreachable or hung etcd).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "async_test.hpp"
#include "etcd_server.hpp"
#include "state/etcd_kv_store.hpp"
#include "state/kv_store.hpp"
#include "state/sqlite_kv_store.hpp"
#include "state/tenant_state.hpp"

namespace shoal::state {
namespace {

using shoal::testing::FreePort;
using shoal::testing::SharedEtcd;

enum class Backend { kMemory, kSqlite, kEtcd };

std::string BackendName(Backend b) {
    switch (b) {
        case Backend::kMemory:
            return "memory";
        case Backend::kSqlite:
            return "sqlite";
        case Backend::kEtcd:
            return "etcd";
    }
    return "?";
}

// A unique, path-safe name for the running test (its own etcd prefix and temp directory).
std::string TestName() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (auto& c : name) {
        if (c == '/') c = '_';
    }
    return name;
}

std::filesystem::path FreshDir() {
    auto dir = std::filesystem::temp_directory_path() / ("shoal-state-" + std::to_string(getpid()) + "-" + TestName());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::string Bytes0To255() {
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
}

class KvStoreConformance : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::kEtcd) SharedEtcd().Start();  // once per process
        dir_ = FreshDir();
        store_ = Open();
        ASSERT_NE(store_, nullptr);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<KvStore> Open() {
        StoreConfig config;
        config.backend = BackendName(GetParam());
        config.path = (dir_ / "state.db").string();
        if (GetParam() == Backend::kEtcd) {
            config.endpoints = {SharedEtcd().Endpoint()};
            config.prefix = "/shoal-test/" + TestName() + "/";  // tests share one etcd
        }
        auto store = OpenKvStore(config, io_.get_executor());
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }
    // Closes the store and opens it again (SQLite: the same file; etcd: a new client object).
    void Reopen() {
        store_.reset();
        store_ = Open();
        ASSERT_NE(store_, nullptr);
    }

    template <class T>
    T Run(boost::asio::awaitable<T> aw) {
        return shoal::testing::Run(io_, std::move(aw));
    }
    KvStore& kv() { return *store_; }

    std::int64_t MustPut(const std::string& key, const std::string& value) {
        auto r = Run(kv().Put(key, value));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : 0;
    }
    std::optional<KvEntry> MustGet(const std::string& key) {
        auto r = Run(kv().Get(key));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::nullopt;
    }
    std::vector<std::string> Keys(const std::string& prefix, std::size_t limit = 0) {
        auto r = Run(kv().List(prefix, limit));
        EXPECT_TRUE(r) << r.error().message;
        std::vector<std::string> keys;
        if (r) {
            for (const auto& e : *r) keys.push_back(e.key);
        }
        return keys;
    }

    boost::asio::io_context io_;  // declared first: outlives the store
    std::filesystem::path dir_;
    std::unique_ptr<KvStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends,
                         KvStoreConformance,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite, Backend::kEtcd),
                         [](const auto& info) { return BackendName(info.param); });

TEST_P(KvStoreConformance, GetOfMissingKeyIsEmpty) {
    EXPECT_FALSE(MustGet("nothing/here").has_value());
}

TEST_P(KvStoreConformance, PutThenGetAndRevisionsGrow) {
    auto r1 = MustPut("a", "one");
    EXPECT_GT(r1, 0);
    auto got = MustGet("a");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->key, "a");
    EXPECT_EQ(got->value, "one");
    EXPECT_EQ(got->revision, r1);

    auto r2 = MustPut("a", "two");
    EXPECT_GT(r2, r1);
    auto r3 = MustPut("b", "three");  // global counter: another key's write is later still
    EXPECT_GT(r3, r2);
    got = MustGet("a");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value, "two");
    EXPECT_EQ(got->revision, r2);
}

TEST_P(KvStoreConformance, PutIfCreatesComparesAndConflicts) {
    auto created = Run(kv().PutIf("cas", "v1", 0));
    ASSERT_TRUE(created) << created.error().message;

    auto again = Run(kv().PutIf("cas", "v2", 0));  // expected 0 on an existing key
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);

    auto updated = Run(kv().PutIf("cas", "v2", *created));
    ASSERT_TRUE(updated) << updated.error().message;
    EXPECT_GT(*updated, *created);

    auto stale = Run(kv().PutIf("cas", "v3", *created));
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, ErrorCode::kConflict);

    auto missing = Run(kv().PutIf("no-such-key", "v", *updated));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kConflict);
    EXPECT_FALSE(MustGet("no-such-key").has_value());

    auto got = MustGet("cas");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value, "v2");  // failed compares wrote nothing
    EXPECT_EQ(got->revision, *updated);
}

TEST_P(KvStoreConformance, ConcurrentPutIfHasOneWinner) {
    auto base = MustPut("race", "0");
    std::vector<std::future<Result<std::int64_t>>> calls;
    for (int i = 0; i < 5; ++i) {
        calls.push_back(
            boost::asio::co_spawn(io_, kv().PutIf("race", "w" + std::to_string(i), base), boost::asio::use_future));
    }
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto all_ready = [&] {
        return std::all_of(calls.begin(), calls.end(),
                           [](auto& f) { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
    };
    while (!all_ready() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(all_ready());
    int won = 0;
    for (auto& f : calls) {
        auto r = f.get();
        if (r) {
            ++won;
        } else {
            EXPECT_EQ(r.error().code, ErrorCode::kConflict) << r.error().message;
        }
    }
    EXPECT_EQ(won, 1);
}

TEST_P(KvStoreConformance, DeleteReportsWhetherTheKeyExisted) {
    auto r1 = MustPut("gone", "x");
    auto deleted = Run(kv().Delete("gone"));
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_TRUE(*deleted);
    EXPECT_FALSE(MustGet("gone").has_value());
    auto again = Run(kv().Delete("gone"));
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);

    // A re-created key has a new, larger revision: an old CAS cannot hit it.
    auto recreated = Run(kv().PutIf("gone", "y", 0));
    ASSERT_TRUE(recreated) << recreated.error().message;
    EXPECT_GT(*recreated, r1);
    auto stale = Run(kv().PutIf("gone", "z", r1));
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
}

TEST_P(KvStoreConformance, ListIsALiteralPrefixInKeyOrderWithLimit) {
    for (const char* k : {"a/c", "a/bc", "b", "a/b/2", "a/b", "a/b/1", "a", "a/b/10"}) MustPut(k, k);

    // A trailing '/' lists one "directory"; "a/bc" and "a/b" itself are not in it.
    EXPECT_EQ(Keys("a/b/"), (std::vector<std::string>{"a/b/1", "a/b/10", "a/b/2"}));
    // The prefix is literal: "a/b" matches "a/bc" too.
    EXPECT_EQ(Keys("a/b"), (std::vector<std::string>{"a/b", "a/b/1", "a/b/10", "a/b/2", "a/bc"}));
    EXPECT_EQ(Keys("a/"), (std::vector<std::string>{"a/b", "a/b/1", "a/b/10", "a/b/2", "a/bc", "a/c"}));
    EXPECT_EQ(Keys("a/", 2), (std::vector<std::string>{"a/b", "a/b/1"}));
    EXPECT_EQ(Keys("", 3), (std::vector<std::string>{"a", "a/b", "a/b/1"}));
    EXPECT_EQ(Keys("").size(), 8u);
    EXPECT_TRUE(Keys("zzz").empty());

    auto entries = Run(kv().List("b"));
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].value, "b");
    EXPECT_GT((*entries)[0].revision, 0);
}

TEST_P(KvStoreConformance, ListOrdersBytesUnsignedAndHandlesFFPrefix) {
    std::string high = "x/\xff\xff";
    MustPut("x/\x7f", "1");
    MustPut("x/\x80", "2");
    MustPut(high, "3");
    MustPut(high + "a", "4");
    MustPut("y", "5");
    EXPECT_EQ(Keys("x/"), (std::vector<std::string>{"x/\x7f", "x/\x80", high, high + "a"}));
    EXPECT_EQ(Keys(high), (std::vector<std::string>{high, high + "a"}));
}

TEST_P(KvStoreConformance, ValuesAreBinarySafe) {
    std::string bytes = Bytes0To255() + Bytes0To255();
    std::string key = "bin/ключ key~";
    auto rev = MustPut(key, bytes);
    auto got = MustGet(key);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value, bytes);
    EXPECT_EQ(got->revision, rev);

    MustPut("bin/empty", "");
    got = MustGet("bin/empty");
    ASSERT_TRUE(got);  // an empty value is still a value
    EXPECT_EQ(got->value, "");

    auto listed = Run(kv().List("bin/"));
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].key, "bin/empty");
    EXPECT_EQ((*listed)[1].key, key);
    EXPECT_EQ((*listed)[1].value, bytes);
}

TEST_P(KvStoreConformance, LargeValueRoundTrips) {
    std::mt19937 rng(42);
    std::string big(1 << 20, '\0');
    for (auto& c : big) c = static_cast<char>(rng());
    MustPut("big", big);
    auto got = MustGet("big");
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->value == big) << "1 MB value differs (size " << got->value.size() << ")";
}

TEST_P(KvStoreConformance, ManyKeysListInOrder) {
    constexpr int kKeys = 2000;
    std::vector<int> order(kKeys);
    for (int i = 0; i < kKeys; ++i) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    auto key = [](int i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "many/%05d", i);
        return std::string(buf);
    };
    for (int i : order) MustPut(key(i), std::to_string(i));
    MustPut("manz", "after");  // sorts right after "many/..." keys: must not be listed

    auto all = Run(kv().List("many/"));
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), static_cast<std::size_t>(kKeys));
    for (int i = 0; i < kKeys; ++i) {
        ASSERT_EQ((*all)[static_cast<std::size_t>(i)].key, key(i));
        ASSERT_EQ((*all)[static_cast<std::size_t>(i)].value, std::to_string(i));
    }
    EXPECT_EQ(Keys("many/", 10).size(), 10u);
    EXPECT_EQ(Keys("many/01", 0).size(), 1000u);
}

TEST_P(KvStoreConformance, ReopenKeepsDataAndRevisions) {
    if (GetParam() == Backend::kMemory) GTEST_SKIP() << "the memory store is not durable by design";
    MustPut("keep/a", "1");
    auto rb = MustPut("keep/b", Bytes0To255());
    auto gone = MustPut("keep/c", "x");
    ASSERT_TRUE(Run(kv().Delete("keep/c")));
    Reopen();
    auto a = MustGet("keep/a");
    auto b = MustGet("keep/b");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->value, "1");
    EXPECT_EQ(b->value, Bytes0To255());
    EXPECT_EQ(b->revision, rb);
    EXPECT_FALSE(MustGet("keep/c").has_value());
    // The revision counter survived too: new writes are later than everything before.
    auto next = MustPut("keep/d", "2");
    EXPECT_GT(next, gone);
    // CAS with the revision read before the reopen still works.
    auto cas = Run(kv().PutIf("keep/b", "new", rb));
    EXPECT_TRUE(cas) << cas.error().message;
}

TEST_P(KvStoreConformance, DescribeNamesTheBackend) {
    auto d = kv().Describe();
    EXPECT_EQ(d.rfind(BackendName(GetParam()) + ":", 0), 0u) << d;
}

// ---- TenantState over each backend ----

ResourceRecord Server(std::string tenant, std::string id) {
    ResourceRecord r;
    r.id = std::move(id);
    r.tenant = std::move(tenant);
    r.kind = "server";
    r.cloudlet = "agent-1";
    r.cloudlet_id = "c-" + r.id;
    r.status = "BUILD";
    r.created_at = 1'700'000'000'000;
    r.updated_at = 1'700'000'000'001;
    r.extra = {{"name", "vm"}, {"flavor", "m1.small"}, {"bad_utf8", "\xff ok"}};
    return r;
}

TEST_P(KvStoreConformance, TenantStateResourceRoundTrip) {
    TenantState state(kv());
    auto created = Run(state.CreateResource(Server("t1", "s1")));
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_GT(created->revision, 0);

    auto dup = Run(state.CreateResource(Server("t1", "s1")));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, ErrorCode::kConflict);

    auto got = Run(state.GetResource("t1", "s1"));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->id, "s1");
    EXPECT_EQ(got->tenant, "t1");
    EXPECT_EQ(got->kind, "server");
    EXPECT_EQ(got->cloudlet, "agent-1");
    EXPECT_EQ(got->cloudlet_id, "c-s1");
    EXPECT_EQ(got->status, "BUILD");
    EXPECT_EQ(got->created_at, 1'700'000'000'000);
    EXPECT_EQ(got->updated_at, 1'700'000'000'001);
    EXPECT_EQ(got->extra["name"], "vm");
    EXPECT_EQ(got->extra["flavor"], "m1.small");
    EXPECT_EQ(got->revision, created->revision);

    auto image = Server("t1", "i1");
    image.kind = "image";
    ASSERT_TRUE(Run(state.PutResource(image)));
    ASSERT_TRUE(Run(state.CreateResource(Server("t1", "s0"))));
    ASSERT_TRUE(Run(state.CreateResource(Server("t2", "s9"))));  // another tenant

    auto all = Run(state.ListResources("t1"));
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].id, "i1");
    EXPECT_EQ((*all)[1].id, "s0");
    EXPECT_EQ((*all)[2].id, "s1");
    auto servers = Run(state.ListResources("t1", "server"));
    ASSERT_TRUE(servers);
    ASSERT_EQ(servers->size(), 2u);
    EXPECT_EQ((*servers)[0].id, "s0");

    auto missing = Run(state.GetResource("t1", "nope"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

    auto deleted = Run(state.DeleteResource("t1", "s1"));
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(*deleted);
    auto after = Run(state.GetResource("t1", "s1"));
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code, ErrorCode::kNotFound);
}

TEST_P(KvStoreConformance, TenantStateReadsAnOlderRecordWithDefaultsAndRefusesAMistypedOne) {
    TenantState state(kv());
    ASSERT_TRUE(Run(state.CreateResource(Server("t1", "s1"))));  // makes the tenant known
    // Written before `extra` and `created_at` existed: read with their defaults.
    ASSERT_TRUE(Run(kv().PutIf("tenants/t1/resources/old", R"({"id":"old","tenant":"t1","kind":"server"})", 0)));
    auto old = Run(state.GetResource("t1", "old"));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ(old->kind, "server");
    EXPECT_EQ(old->created_at, 0);
    EXPECT_TRUE(old->extra.is_object());
    // A status that is not a string is damage, not an empty status.
    ASSERT_TRUE(Run(kv().PutIf("tenants/t1/resources/bad", R"({"id":"bad","tenant":"t1","status":7})", 0)));
    auto bad = Run(state.GetResource("t1", "bad"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
    EXPECT_NE(bad.error().message.find("tenants/t1/resources/bad"), std::string::npos) << bad.error().message;
}

TEST_P(KvStoreConformance, TenantStateCasOnResourceRevision) {
    TenantState state(kv());
    ASSERT_TRUE(Run(state.CreateResource(Server("t1", "s1"))));
    auto a = Run(state.GetResource("t1", "s1"));
    auto b = Run(state.GetResource("t1", "s1"));  // two agents read the same revision
    ASSERT_TRUE(a && b);

    a->status = "ACTIVE";
    auto first = Run(state.PutResource(*a));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_GT(first->revision, a->revision);

    b->status = "ERROR";
    auto second = Run(state.PutResource(*b));  // lost the race
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::kConflict);

    auto now = Run(state.GetResource("t1", "s1"));
    ASSERT_TRUE(now);
    EXPECT_EQ(now->status, "ACTIVE");
    EXPECT_EQ(now->revision, first->revision);

    // CreateResource with a revision is a CAS too; PutResource with revision 0 overwrites.
    now->status = "DELETED";
    auto cas = Run(state.CreateResource(*now));
    ASSERT_TRUE(cas) << cas.error().message;
    auto blind = Server("t1", "s1");
    blind.status = "SHUTOFF";
    auto overwrite = Run(state.PutResource(blind));
    ASSERT_TRUE(overwrite) << overwrite.error().message;
    EXPECT_GT(overwrite->revision, cas->revision);
}

TEST_P(KvStoreConformance, TenantStateImageLocationsAndOperations) {
    TenantState state(kv());
    for (const char* cloudlet : {"agent-2", "agent-1"}) {
        ImageLocation l;
        l.image_id = "img";
        l.tenant = "t1";
        l.cloudlet = cloudlet;
        l.cloudlet_id = std::string("g-") + cloudlet;
        l.status = "importing";
        l.updated_at = 5;
        auto put = Run(state.PutImageLocation(l));
        ASSERT_TRUE(put) << put.error().message;
        EXPECT_GT(put->revision, 0);
    }
    ImageLocation other;
    other.image_id = "img2";
    other.tenant = "t1";
    other.cloudlet = "agent-1";
    ASSERT_TRUE(Run(state.PutImageLocation(other)));

    auto locations = Run(state.ListImageLocations("t1", "img"));
    ASSERT_TRUE(locations) << locations.error().message;
    ASSERT_EQ(locations->size(), 2u);
    EXPECT_EQ((*locations)[0].cloudlet, "agent-1");
    EXPECT_EQ((*locations)[0].cloudlet_id, "g-agent-1");
    EXPECT_EQ((*locations)[0].image_id, "img");
    EXPECT_EQ((*locations)[0].tenant, "t1");
    EXPECT_EQ((*locations)[0].status, "importing");
    EXPECT_EQ((*locations)[0].updated_at, 5);
    EXPECT_EQ((*locations)[1].cloudlet, "agent-2");

    auto l = (*locations)[0];
    l.status = "active";
    auto activated = Run(state.PutImageLocation(l));
    ASSERT_TRUE(activated);
    auto stale = Run(state.PutImageLocation(l));  // same (now old) revision
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, ErrorCode::kConflict);

    auto removed = Run(state.DeleteImageLocation("t1", "img", "agent-2"));
    ASSERT_TRUE(removed);
    EXPECT_TRUE(*removed);
    locations = Run(state.ListImageLocations("t1", "img"));
    ASSERT_TRUE(locations);
    ASSERT_EQ(locations->size(), 1u);
    EXPECT_EQ((*locations)[0].status, "active");

    Operation op;
    op.id = "op1";
    op.tenant = "t1";
    op.kind = "server.create";
    op.owner = "agent-1";
    op.state = {{"step", "scheduled"}, {"candidates", {"agent-1", "agent-2"}}};
    op.started_at = 10;
    op.updated_at = 11;
    auto started = Run(state.PutOperation(op));
    ASSERT_TRUE(started) << started.error().message;
    auto ops = Run(state.ListOperations("t1"));
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 1u);
    EXPECT_EQ((*ops)[0].id, "op1");
    EXPECT_EQ((*ops)[0].tenant, "t1");
    EXPECT_EQ((*ops)[0].kind, "server.create");
    EXPECT_EQ((*ops)[0].owner, "agent-1");
    EXPECT_EQ((*ops)[0].state, op.state);
    EXPECT_EQ((*ops)[0].started_at, 10);
    EXPECT_EQ((*ops)[0].updated_at, 11);
    EXPECT_EQ((*ops)[0].revision, started->revision);

    // A take-over agent claims the operation with a CAS on its revision.
    auto claim = (*ops)[0];
    claim.owner = "agent-2";
    ASSERT_TRUE(Run(state.PutOperation(claim)));
    auto rival = (*ops)[0];
    rival.owner = "agent-3";
    auto lost = Run(state.PutOperation(rival));
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, ErrorCode::kConflict);

    auto finished = Run(state.FinishOperation("t1", "op1"));
    ASSERT_TRUE(finished);
    EXPECT_TRUE(*finished);
    ops = Run(state.ListOperations("t1"));
    ASSERT_TRUE(ops);
    EXPECT_TRUE(ops->empty());
}

TEST_P(KvStoreConformance, TenantStateListsTenants) {
    {
        TenantState state(kv());
        auto none = Run(state.ListTenants());
        ASSERT_TRUE(none);
        EXPECT_TRUE(none->empty());
        ASSERT_TRUE(Run(state.CreateResource(Server("t2", "a"))));
        ASSERT_TRUE(Run(state.CreateResource(Server("t1", "a"))));
        ASSERT_TRUE(Run(state.CreateResource(Server("t1", "b"))));
        ImageLocation l;
        l.image_id = "img";
        l.tenant = "t3";
        l.cloudlet = "agent-1";
        ASSERT_TRUE(Run(state.PutImageLocation(l)));
        Operation op;
        op.id = "op";
        op.tenant = "t4";
        ASSERT_TRUE(Run(state.PutOperation(op)));
    }
    TenantState fresh(kv());  // no cache: its first write for t1 meets the existing marker
    ASSERT_TRUE(Run(fresh.CreateResource(Server("t1", "c"))));
    auto tenants = Run(fresh.ListTenants());
    ASSERT_TRUE(tenants) << tenants.error().message;
    EXPECT_EQ(*tenants, (std::vector<std::string>{"t1", "t2", "t3", "t4"}));
}

TEST_P(KvStoreConformance, TenantStateRejectsBadInput) {
    TenantState state(kv());
    auto expect_bad = [](const auto& r, const char* what) {
        ASSERT_FALSE(r) << what;
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << what;
    };
    expect_bad(Run(state.CreateResource(Server("", "s1"))), "empty tenant");
    expect_bad(Run(state.CreateResource(Server("t1", ""))), "empty id");
    expect_bad(Run(state.CreateResource(Server("t/1", "s1"))), "tenant with /");
    expect_bad(Run(state.PutResource(Server("t1", "s/1"))), "id with /");
    auto negative = Server("t1", "s1");
    negative.revision = -1;
    expect_bad(Run(state.PutResource(negative)), "negative revision");
    expect_bad(Run(state.GetResource("t1", "")), "get empty id");
    expect_bad(Run(state.GetResource("../t1", "x")), "get tenant with /");
    expect_bad(Run(state.ListResources("")), "list empty tenant");
    expect_bad(Run(state.DeleteResource("t1", "a/b")), "delete id with /");

    ImageLocation l;
    l.tenant = "t1";
    l.image_id = "img";
    expect_bad(Run(state.PutImageLocation(l)), "empty cloudlet");
    l.cloudlet = "agent-1";
    l.image_id = "img/../x";
    expect_bad(Run(state.PutImageLocation(l)), "image id with /");
    expect_bad(Run(state.ListImageLocations("t1", "")), "list empty image");
    expect_bad(Run(state.DeleteImageLocation("t1", "img", "a/b")), "delete cloudlet with /");

    Operation op;
    op.tenant = "t1";
    expect_bad(Run(state.PutOperation(op)), "empty operation id");
    expect_bad(Run(state.ListOperations("a/b")), "list ops tenant with /");
    expect_bad(Run(state.FinishOperation("", "op")), "finish empty tenant");

    EXPECT_TRUE(Keys("").empty()) << "a rejected call wrote something";
}

// ---- OpenKvStore ----

TEST(OpenKvStoreTest, RejectsBadConfig) {
    boost::asio::io_context io;
    StoreConfig config;
    config.backend = "zookeeper";
    auto r = OpenKvStore(config, io.get_executor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);

    config.backend = "sqlite";  // no path
    r = OpenKvStore(config, io.get_executor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);

    config.backend = "etcd";  // no endpoint
    r = OpenKvStore(config, io.get_executor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);

    config.endpoints = {"https://127.0.0.1:2379"};  // TLS is not supported
    r = OpenKvStore(config, io.get_executor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);

    config.backend = "memory";
    r = OpenKvStore(config, io.get_executor());
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->Describe(), "memory:");
}

// ---- SQLite specifics ----

TEST(SqliteKvStoreTest, CorruptFileIsInternalError) {
    auto dir = FreshDir();
    auto path = (dir / "state.db").string();
    {
        std::ofstream out(path, std::ios::binary);
        std::string junk(16384, '\0');
        std::mt19937 rng(1);
        for (auto& c : junk) c = static_cast<char>(rng());
        out << "this is not a database" << junk;
    }
    auto r = SqliteKvStore::Open(path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("not a database"), std::string::npos) << r.error().message;
    std::filesystem::remove_all(dir);
}

TEST(SqliteKvStoreTest, UnopenablePathIsInternalError) {
    boost::asio::io_context io;
    StoreConfig config;
    config.backend = "sqlite";
    config.path = "/nonexistent-shoal-dir/sub/state.db";
    auto r = OpenKvStore(config, io.get_executor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_NE(r.error().message.find(config.path), std::string::npos) << r.error().message;
}

// ---- etcd specifics ----

TEST(EtcdKvStoreTest, NothingListeningIsUnavailableQuickly) {
    boost::asio::io_context io;
    EtcdOptions options;
    options.endpoints = {"http://127.0.0.1:" + std::to_string(FreePort())};
    auto store = EtcdKvStore::Create(io.get_executor(), options);
    ASSERT_TRUE(store);
    auto start = std::chrono::steady_clock::now();
    auto get = shoal::testing::Run(io, (*store)->Get("k"));
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code, ErrorCode::kUnavailable) << get.error().message;
    auto put = shoal::testing::Run(io, (*store)->Put("k", "v"));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
    auto cas = shoal::testing::Run(io, (*store)->PutIf("k", "v", 0));
    ASSERT_FALSE(cas);
    EXPECT_EQ(cas.error().code, ErrorCode::kUnavailable);
    auto del = shoal::testing::Run(io, (*store)->Delete("k"));
    ASSERT_FALSE(del);
    EXPECT_EQ(del.error().code, ErrorCode::kUnavailable);
    auto list = shoal::testing::Run(io, (*store)->List("k"));
    ASSERT_FALSE(list);
    EXPECT_EQ(list.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(EtcdKvStoreTest, HungServerIsTimeout) {
    // A socket that listens but never accepts: the connection completes (backlog), no answer.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);

    boost::asio::io_context io;
    EtcdOptions options;
    options.endpoints = {"http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
    options.timeout = std::chrono::milliseconds(300);
    auto store = EtcdKvStore::Create(io.get_executor(), options);
    ASSERT_TRUE(store);
    auto start = std::chrono::steady_clock::now();
    auto get = shoal::testing::Run(io, (*store)->Get("k"));
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code, ErrorCode::kTimeout) << get.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    store->reset();
    close(fd);
}

TEST(EtcdKvStoreTest, TriesTheNextEndpointAndIsolatesPrefixes) {
    SharedEtcd().Start();
    boost::asio::io_context io;
    EtcdOptions a;
    a.endpoints = {"http://127.0.0.1:" + std::to_string(FreePort()), SharedEtcd().Endpoint()};
    a.prefix = "/shoal-test/iso-a/";
    EtcdOptions b;
    b.endpoints = {SharedEtcd().Endpoint()};
    b.prefix = "/shoal-test/iso-b/";
    auto sa = EtcdKvStore::Create(io.get_executor(), a);
    auto sb = EtcdKvStore::Create(io.get_executor(), b);
    ASSERT_TRUE(sa && sb);
    EXPECT_EQ((*sa)->Describe(), "etcd:" + a.endpoints[0] + "," + a.endpoints[1]);

    auto pa = shoal::testing::Run(io, (*sa)->Put("k", "from-a"));  // first endpoint is dead
    ASSERT_TRUE(pa) << pa.error().message;
    auto pb = shoal::testing::Run(io, (*sb)->Put("k", "from-b"));
    ASSERT_TRUE(pb) << pb.error().message;
    EXPECT_GT(*pb, *pa);  // one etcd, one revision counter

    auto ga = shoal::testing::Run(io, (*sa)->Get("k"));
    ASSERT_TRUE(ga && ga->has_value());
    EXPECT_EQ((*ga)->value, "from-a");
    auto la = shoal::testing::Run(io, (*sa)->List(""));
    ASSERT_TRUE(la);
    ASSERT_EQ(la->size(), 1u);
    EXPECT_EQ((*la)[0].key, "k");
    EXPECT_EQ((*la)[0].value, "from-a");
}

}  // namespace
}  // namespace shoal::state
