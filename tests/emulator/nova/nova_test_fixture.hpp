#pragma once

// The in-process Nova fixture shared by the Nova test files: one NovaService and its FakeCompute
// on a test io_context, three tokens (an admin and two members), and Glance's answer about images.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "async_test.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/image_lookup.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/nova/fake_compute.hpp"
#include "emulator/nova/nova_service.hpp"
#include "http/client.hpp"
#include "http/router.hpp"

namespace shoal::emulator::nova_test {

using nlohmann::json;
using shoal::testing::MakeRequest;
using namespace std::chrono_literals;

inline constexpr const char* kAdmin = "tok-admin";
inline constexpr const char* kAlice = "tok-alice";
inline constexpr const char* kBob = "tok-bob";
inline const std::string kImage = "6a1d7c3e-0b7f-4a59-9f4e-2a0d8c0b1a11";
inline const std::string kQueuedImage = "0f2c3a4b-5d6e-4f70-8192-a3b4c5d6e7f8";
inline const std::string kBigImage = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
inline const std::string kBase = "http://127.0.0.1:5000";

class NovaTokens final : public TokenValidator {
public:
    NovaTokens() {
        Add(kAdmin, "p-admin", {"admin", "member", "reader"});
        Add(kAlice, "p-alice", {"member", "reader"});
        Add(kBob, "p-bob", {"member", "reader"});
    }
    Result<TokenInfo> Validate(std::string_view token) const override {
        auto it = tokens_.find(std::string(token));
        if (it == tokens_.end()) return MakeError(ErrorCode::kUnauthorized, "unknown token");
        return it->second;
    }

private:
    void Add(std::string token, std::string project, std::vector<std::string> roles) {
        TokenInfo t;
        t.token_id = token;
        t.user_id = "u-" + project;
        t.project_id = project;
        t.roles = std::move(roles);
        tokens_[token] = t;
    }
    std::map<std::string, TokenInfo> tokens_;
};

// Glance's answer about three images: one bootable, one still queued, one needing a big disk.
class NovaImages final : public ImageLookup {
public:
    Result<BootImage> FindImage(const TokenInfo&, std::string_view id) const override {
        if (id == kImage) return BootImage{kImage, "cirros", "active", 0, 0, 16 * 1024 * 1024};
        if (id == kQueuedImage) return BootImage{kQueuedImage, "empty", "queued", 0, 0, 0};
        if (id == kBigImage) return BootImage{kBigImage, "big", "active", 1024, 10, 1ull << 30};
        return MakeError(ErrorCode::kNotFound, "No image found with ID " + std::string(id));
    }
};

// True when `v` is a string shaped like `pattern`: 'd' a decimal digit, 'x' a lower-case hex digit,
// anything else itself.
inline bool Shaped(const json& v, std::string_view pattern) {
    if (!v.is_string()) return false;
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i], p = pattern[i];
        bool digit = c >= '0' && c <= '9';
        if (p == 'd' ? !digit : p == 'x' ? !(digit || (c >= 'a' && c <= 'f')) : c != p) return false;
    }
    return true;
}

inline CloudletConfig TestConfig() {
    CloudletConfig c;
    c.name = "t";
    c.hypervisors.count = 2;
    c.hypervisors.vcpus = 4;
    c.hypervisors.memory_mb = 8192;
    c.hypervisors.disk_gb = 100;
    c.hypervisors.reserved_host_memory_mb = 512;
    c.hypervisors.cpu_allocation_ratio = 4.0;
    c.boot_delay = 5ms;
    c.action_delay = 5ms;
    // Long enough that a test sees "deleting" and can delete twice even on a loaded ASan run
    // (at 5 ms the second delete sometimes found the server gone).
    c.delete_delay = 150ms;
    c.flavors = CloudletConfig::DefaultFlavors();
    return c;
}

// One Nova with its fake compute on a test io_context; `store` decides durability.
struct Stack {
    Stack(boost::asio::io_context& io,
          const CloudletConfig& config,
          DocumentStore& store,
          const TokenValidator& tokens,
          http::Client& client)
        : ctx{config, io.get_executor(), store, client, &tokens, "", [] { return kBase; }} {
        compute = std::make_unique<FakeCompute>(ctx);
        compute->Load();
        nova = std::make_unique<NovaService>(ctx, images, *compute);
        nova->Load();
        router.SetErrorStyle(std::string(kComputePrefix), http::ErrorStyle::kNova);
        nova->AddRoutes(router);
    }
    ~Stack() { compute->Stop(); }

    ServiceContext ctx;
    NovaImages images;
    std::unique_ptr<FakeCompute> compute;
    std::unique_ptr<NovaService> nova;
    http::Router router;
};

class NovaTest : public ::testing::Test {
protected:
    NovaTest() : config_(TestConfig()), client_(io_.get_executor()), store_(MakeMemoryStore()) {}

    void SetUp() override { Start(); }
    void Start() { stack_ = std::make_unique<Stack>(io_, config_, *store_, tokens_, client_); }

    http::Response Send(http::Method method,
                        const std::string& path,
                        const json& body = nullptr,
                        const char* token = kAlice,
                        const std::string& version = {}) {
        auto req = MakeRequest(method, path, body.is_null() ? std::string() : body.dump(), token ? token : "");
        if (!version.empty()) req.headers.Set("OpenStack-API-Version", "compute " + version);
        return shoal::testing::Run(io_, stack_->router.Dispatch(req));
    }
    http::Response Get(const std::string& path, const char* token = kAlice, const std::string& version = {}) {
        return Send(http::Method::kGet, "/compute/v2.1" + path, nullptr, token, version);
    }
    http::Response Post(const std::string& path,
                        const json& body,
                        const char* token = kAlice,
                        const std::string& version = {}) {
        return Send(http::Method::kPost, "/compute/v2.1" + path, body, token, version);
    }
    http::Response Raw(http::Method method, const std::string& path, std::string body, const char* token = kAlice) {
        auto req = MakeRequest(method, "/compute/v2.1" + path, std::move(body), token);
        return shoal::testing::Run(io_, stack_->router.Dispatch(req));
    }
    static json Body(const http::Response& r) {
        auto j = r.JsonBody();
        EXPECT_TRUE(j.ok()) << r.body;
        return j.ok() ? *j : json();
    }
    // The message of a Nova fault body, e.g. {"badRequest": {"code": 400, "message": "..."}}.
    static std::string Message(const http::Response& r) {
        auto j = Body(r);
        if (!j.is_object() || j.empty()) return r.body;
        auto inner = j.begin().value();
        EXPECT_EQ(inner["code"], r.status);
        return inner.value("message", "");
    }

    json ServerBody(const std::string& name, const json& extra = json::object()) {
        json s = {{"name", name}, {"imageRef", kImage}, {"flavorRef", "1"}, {"networks", "none"}};
        for (const auto& [k, v] : extra.items()) s[k] = v;
        return {{"server", s}};
    }
    std::string Create(const std::string& name, const char* token = kAlice, const json& extra = json::object()) {
        auto r = Post("/servers", ServerBody(name, extra), token, "2.37");
        EXPECT_EQ(r.status, 202) << r.body;
        return Body(r)["server"].value("id", "");
    }
    json Show(const std::string& id, const char* token = kAlice, const std::string& version = {}) {
        auto r = Get("/servers/" + id, token, version);
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r)["server"];
    }
    // Lets timers run until `done` holds (bounded by a generous number of rounds, not by time).
    bool RunUntil(const std::function<bool()>& done) {
        for (int i = 0; i < 2000 && !done(); ++i) shoal::testing::RunFor(io_, 2ms);
        return done();
    }
    bool WaitStatus(const std::string& id, const std::string& status, const char* token = kAlice) {
        return RunUntil([&] {
            auto* s = stack_->compute->Find(id);
            return s && Show(id, token)["status"] == status && !s->task_state;
        });
    }
    bool WaitGone(const std::string& id) {
        return RunUntil([&] { return stack_->compute->Find(id) == nullptr; });
    }
    std::string Action(const std::string& id,
                       const json& body,
                       int expect,
                       const char* token = kAlice,
                       const std::string& version = {}) {
        auto r = Post("/servers/" + id + "/action", body, token, version);
        EXPECT_EQ(r.status, expect) << r.body;
        return r.status >= 400 ? Message(r) : "";
    }

    boost::asio::io_context io_;
    CloudletConfig config_;
    NovaTokens tokens_;
    http::Client client_;
    std::unique_ptr<DocumentStore> store_;
    std::unique_ptr<Stack> stack_;
};

}  // namespace shoal::emulator::nova_test
