// The Glance proxy's user flows in process: the proxy a home agent runs, over the fake gateway's
// in-memory cloudlets (tests/support/fake_cloudlet_gateway.hpp), whose Glance fetches the agent's
// signed data URL through the proxy itself, as a real cloudlet's web-download does over HTTP.
#include "image/glance_proxy.hpp"

#include <gtest/gtest.h>

#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async_test.hpp"
#include "fake_cloudlet_gateway.hpp"
#include "identity/caller.hpp"
#include "state/memory_kv_store.hpp"

namespace shoal::image {
namespace {

using nlohmann::json;
using shoal::testing::FakeCloudletGateway;
using M = http::Method;

constexpr const char* kApiBase = "http://agent-a.example:8774";

identity::Caller Tenant(const std::string& project) {
    identity::Caller c;
    c.tenant = project;
    c.project_name = "name-of-" + project;
    c.user_id = "user-of-" + project;
    c.user_name = "user";
    c.api_base = kApiBase;
    return c;
}

class GlanceProxyTest : public ::testing::Test {
protected:
    GlanceProxyTest() {
        gateway_.AddCloudlet("agent-a");
        gateway_.AddCloudlet("agent-b");
        GlanceProxyOptions options;
        options.secret = "data-url-secret-0123456789";
        options.import_poll = std::chrono::milliseconds(1);
        proxy_ = std::make_unique<GlanceProxy>(io_.get_executor(), gateway_, state_, options,
                                               [] { return std::string(kApiBase); });
        proxy_->AddRoutes(router_);
        // A cloudlet's Glance fetching a web-download URL: the URL must be this agent's, and is
        // fetched without a token, the signature being the capability.
        gateway_.SetFetchUrl([this](std::string url) -> boost::asio::awaitable<Result<http::Response>> {
            fetched_.push_back(url);
            if (url.rfind(kApiBase, 0) != 0) co_return MakeError(ErrorCode::kUnavailable, "not the agent: " + url);
            if (tamper_) url.back() = url.back() == '0' ? '1' : '0';
            // The fetch takes a moment, as over a network: concurrent boots find it running.
            boost::asio::steady_timer transfer(io_, std::chrono::milliseconds(2));
            co_await transfer.async_wait(boost::asio::use_awaitable);
            auto req = shoal::testing::MakeRequest(M::kGet, url.substr(std::string_view(kApiBase).size()));
            co_return co_await router_.Dispatch(req);
        });
    }
    template <class T>
    T Await(boost::asio::awaitable<T> aw) {
        return shoal::testing::Run(io_, std::move(aw));
    }
    // What a home that died mid-import leaves: the copy created at `at`, never imported, and its
    // location still `importing`.
    void LeaveHalfDoneImport(const std::string& id, const std::string& at) {
        cloudlet::CloudletCall create(cloudlet::Service::kImage, M::kPost, "/v2/images");
        create.body =
            json{{"id", id}, {"name", "cirros"}, {"disk_format", "qcow2"}, {"container_format", "bare"}}.dump();
        ASSERT_EQ(Await(gateway_.Call(at, alice_.tenant, create))->status, 201);
        ASSERT_TRUE(Await(state_.PutImageLocation({id, alice_.tenant, at, id, "importing", 1, 0})).ok());
    }
    // Runs the proxy's background work until `done` holds (false after 10 s).
    bool RunUntil(const std::function<bool()>& done) {
        for (int i = 0; i < 10'000 && !done(); ++i) shoal::testing::RunFor(io_, std::chrono::milliseconds(1));
        return done();
    }
    http::Response Send(const identity::Caller& who,
                        M method,
                        const std::string& path,
                        std::string body = {},
                        const std::string& content_type = "application/json") {
        auto req = shoal::testing::MakeRequest(method, path, std::move(body));
        if (!req.body.empty()) req.headers.Set("Content-Type", content_type);
        req.context.Set(who);
        return Await(router_.Dispatch(req));
    }
    // An image of `who` with `data` uploaded; its id.
    std::string Upload(const identity::Caller& who, const std::string& data) {
        auto created = Send(who, M::kPost, "/image/v2/images",
                            R"({"name":"cirros","disk_format":"qcow2","container_format":"bare"})");
        EXPECT_EQ(created.status, 201) << created.body;
        std::string id = json::parse(created.body)["id"];
        auto put = Send(who, M::kPut, "/image/v2/images/" + id + "/file", data, "application/octet-stream");
        EXPECT_EQ(put.status, 204) << put.body;
        return id;
    }

    boost::asio::io_context io_;
    FakeCloudletGateway gateway_{io_.get_executor(), "agent-a"};
    state::MemoryKvStore store_;
    state::TenantState state_{store_};
    std::unique_ptr<GlanceProxy> proxy_;
    http::Router router_;
    identity::Caller alice_ = Tenant("alice0000000000000000000000000001");
    identity::Caller bob_ = Tenant("bob00000000000000000000000000002");
    std::vector<std::string> fetched_;
    bool tamper_ = false;
};

TEST_F(GlanceProxyTest, AnImageIsCreatedAndUploadedOnceAtTheHomesCloudletAndReadBackAsTheTenants) {
    const std::string id = Upload(alice_, "disk bytes");
    auto shown = Send(alice_, M::kGet, "/image/v2/images/" + id);
    ASSERT_EQ(shown.status, 200) << shown.body;
    const json image = json::parse(shown.body);
    EXPECT_EQ(image["status"], "active");
    EXPECT_EQ(image["owner"], alice_.tenant);  // not the shadow project of the cloudlet
    EXPECT_EQ(image["name"], "cirros");
    auto data = Send(alice_, M::kGet, "/image/v2/images/" + id + "/file");
    EXPECT_EQ(data.status, 200);
    EXPECT_EQ(data.body, "disk bytes");
    // Held at the home's cloudlet only, under its shoal id.
    EXPECT_TRUE(gateway_.At("agent-a").images.contains(id));
    EXPECT_TRUE(gateway_.At("agent-b").images.empty());
    const json listed = json::parse(Send(alice_, M::kGet, "/image/v2/images").body);
    ASSERT_EQ(listed["images"].size(), 1u);
    EXPECT_EQ(listed["images"][0]["id"], id);
}

TEST_F(GlanceProxyTest, AnotherCloudletImportsTheImageOnceFromTheSignedDataUrlConcurrentBootsJoining) {
    const std::string id = Upload(alice_, std::string(100'000, 'x') + "end");
    std::vector<boost::asio::awaitable<Result<std::string>>> boots;
    for (int i = 0; i < 3; ++i) boots.push_back(proxy_->EnsureCopy(alice_.tenant, id, "agent-b"));
    for (const auto& copy : shoal::testing::RunAll(io_, std::move(boots))) {
        ASSERT_TRUE(copy.ok()) << copy.error().message;
        EXPECT_EQ(*copy, id);  // every copy keeps the image's id
    }
    EXPECT_EQ(proxy_->Imports(), 1u);
    EXPECT_EQ(proxy_->ImportsJoined(), 2u);
    ASSERT_EQ(fetched_.size(), 1u);
    EXPECT_NE(fetched_[0].find("/image/shoal-data/"), std::string::npos);
    EXPECT_EQ(gateway_.At("agent-b").images.at(id).data, std::string(100'000, 'x') + "end");
    // Known now: the next boot there imports nothing.
    EXPECT_TRUE(Await(proxy_->EnsureCopy(alice_.tenant, id, "agent-b")).ok());
    EXPECT_EQ(proxy_->Imports(), 1u);
    // A delete removes every copy.
    EXPECT_EQ(Send(alice_, M::kDelete, "/image/v2/images/" + id).status, 204);
    EXPECT_TRUE(gateway_.At("agent-a").images.empty());
    EXPECT_TRUE(gateway_.At("agent-b").images.empty());
    EXPECT_EQ(Send(alice_, M::kGet, "/image/v2/images/" + id).status, 404);
}

TEST_F(GlanceProxyTest, ADataUrlWithABadSignatureIsRefusedAndTheImportFailsCleanly) {
    const std::string id = Upload(alice_, "secret bytes");
    tamper_ = true;
    auto copy = Await(proxy_->EnsureCopy(alice_.tenant, id, "agent-b"));
    EXPECT_FALSE(copy.ok());
    EXPECT_FALSE(gateway_.At("agent-b").images.contains(id));  // the failed copy is deleted there
    auto unsigned_fetch = shoal::testing::MakeRequest(M::kGet, "/image/shoal-data/" + alice_.tenant + "/" + id);
    auto refused = Await(router_.Dispatch(unsigned_fetch));
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(refused.body.find("secret bytes"), std::string::npos);
}

// A home that died mid-import leaves the copy's location `importing` and the copy made at the
// cloudlet but never imported (the crash came before POST .../import). A restarted home finishes
// it: the copy becomes active with the image's bytes, its location too.
TEST_F(GlanceProxyTest, AnImportACrashInterruptedIsFinishedWhenTheHomeResumes) {
    const std::string id = Upload(alice_, "bytes of a half-done import");
    LeaveHalfDoneImport(id, "agent-b");

    Await(proxy_->Resume());
    auto copy_at_b = [&] {
        auto locations = Await(state_.ListImageLocations(alice_.tenant, id));
        std::string status;
        if (locations.ok())
            for (const auto& l : *locations)
                if (l.cloudlet == "agent-b") status = l.status;
        return status;
    };
    ASSERT_TRUE(RunUntil([&] { return copy_at_b() == "active"; })) << copy_at_b();
    EXPECT_EQ(gateway_.At("agent-b").images.at(id).data, "bytes of a half-done import");
    EXPECT_EQ(gateway_.At("agent-b").images.at(id).body["status"], "active");
    EXPECT_EQ(fetched_.size(), 1u);
}

// One that cannot be finished (here: the cloudlet cannot fetch the data URL) is cleaned up: the
// copy is deleted at the cloudlet and the location removed, so a later boot imports it afresh.
TEST_F(GlanceProxyTest, AnInterruptedImportThatCannotFinishIsCleanedUpWhenTheHomeResumes) {
    const std::string id = Upload(alice_, "bytes");
    LeaveHalfDoneImport(id, "agent-b");
    tamper_ = true;

    Await(proxy_->Resume());
    ASSERT_TRUE(RunUntil([&] { return !gateway_.At("agent-b").images.contains(id); }));
    auto locations = Await(state_.ListImageLocations(alice_.tenant, id));
    ASSERT_TRUE(locations.ok());
    for (const auto& l : *locations) EXPECT_NE(l.cloudlet, "agent-b") << l.status;
    EXPECT_TRUE(gateway_.At("agent-a").images.contains(id));  // the primary is untouched
}

TEST_F(GlanceProxyTest, AnImageThatHasNoDataYetCannotBeCopied) {
    auto created =
        Send(alice_, M::kPost, "/image/v2/images", R"({"name":"empty","disk_format":"raw","container_format":"bare"})");
    const std::string id = json::parse(created.body)["id"];
    auto copy = Await(proxy_->EnsureCopy(alice_.tenant, id, "agent-b"));
    ASSERT_FALSE(copy.ok());
    EXPECT_EQ(copy.error().code, ErrorCode::kBadRequest);
    EXPECT_TRUE(fetched_.empty());
}

TEST_F(GlanceProxyTest, AnotherTenantsImageIsNotFoundForEveryRouteAndStaysIntact) {
    const std::string id = Upload(alice_, "alice's disk");
    const std::string path = "/image/v2/images/" + id;
    for (auto [method, p, body] : std::vector<std::tuple<M, std::string, std::string>>{
             {M::kGet, path, ""},
             {M::kGet, path + "/file", ""},
             {M::kPut, path + "/file", "bob's bytes"},
             {M::kPatch, path, R"([{"op":"replace","path":"/name","value":"bob's"}])"},
             {M::kPut, path + "/tags/mine", ""},
             {M::kDelete, path, ""}}) {
        auto r =
            Send(bob_, method, p, body,
                 method == M::kPatch ? "application/openstack-images-v2.1-json-patch" : "application/octet-stream");
        EXPECT_EQ(r.status, 404) << http::MethodName(method) << " " << p << ": " << r.body;
    }
    EXPECT_EQ(json::parse(Send(bob_, M::kGet, "/image/v2/images").body)["images"], json::array());
    EXPECT_EQ(json::parse(Send(alice_, M::kGet, path).body)["name"], "cirros");
    EXPECT_EQ(Send(alice_, M::kGet, path + "/file").body, "alice's disk");
    EXPECT_EQ(Await(proxy_->EnsureCopy(bob_.tenant, id, "agent-b")).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace shoal::image
