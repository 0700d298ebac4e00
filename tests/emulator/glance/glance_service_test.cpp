// The emulated Glance v2, driven in-process through its routes as the openstack CLI would.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "async_test.hpp"
#include "common/ids.hpp"
#include "emulator/core/document_store.hpp"
#include "emulator/core/service_context.hpp"
#include "emulator/glance/glance_service.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace shoal::emulator {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kAdmin = "tok-admin";
constexpr const char* kAlice = "tok-alice";
constexpr const char* kBob = "tok-bob";
constexpr const char* kPatch = "application/openstack-images-v2.1-json-patch";

class FakeTokens final : public TokenValidator {
public:
    FakeTokens() {
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
        t.user_name = project;
        t.project_id = project;
        t.project_name = project;
        t.roles = std::move(roles);
        tokens_[token] = t;
    }
    std::map<std::string, TokenInfo> tokens_;
};

std::string Hash(const EVP_MD* md, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) {
        s.push_back(kHex[out[i] >> 4]);
        s.push_back(kHex[out[i] & 0xf]);
    }
    return s;
}

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Payload(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
    return s;
}

class GlanceTest : public ::testing::Test {
protected:
    GlanceTest() {
        dir_ = (fs::temp_directory_path() / ("glance-test-" + NewHexId())).string();
        fs::create_directories(dir_ + "/spool");
        store_ = MakeMemoryStore();
        Start();
    }

    ~GlanceTest() override {
        glance_.reset();
        ctx_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void Start() {
        router_ = http::Router();
        router_.SetErrorStyle("/image", http::ErrorStyle::kGlance);
        ctx_.reset(new ServiceContext{config_, io_.get_executor(), *store_, client_, &tokens_, dir_,
                                      [] { return std::string("http://127.0.0.1:5555"); }});
        glance_ = std::make_unique<GlanceService>(*ctx_);
        glance_->Load();
        glance_->AddRoutes(router_);
    }

    http::Response Send(http::Request req) {
        return testing::Run(io_, [](const http::Router& r, http::Request q) -> asio::awaitable<http::Response> {
            co_return co_await r.Dispatch(q);
        }(router_, std::move(req)));
    }

    http::Response Call(http::Method m,
                        std::string target,
                        const char* token,
                        std::string body = {},
                        std::string content_type = "application/json") {
        auto req = testing::MakeRequest(m, std::move(target), std::move(body), token ? token : "");
        if (!req.body.empty()) req.headers.Set("Content-Type", content_type);
        return Send(std::move(req));
    }

    http::Response Get(std::string target, const char* token = kAlice) {
        return Call(http::Method::kGet, std::move(target), token);
    }

    http::Response Post(std::string target, const json& body, const char* token = kAlice) {
        return Call(http::Method::kPost, std::move(target), token, body.dump());
    }

    http::Response Patch(const std::string& id,
                         const json& ops,
                         const char* token = kAlice,
                         std::string content_type = kPatch) {
        return Call(http::Method::kPatch, "/image/v2/images/" + id, token, ops.dump(), std::move(content_type));
    }

    // PUT of image data the way the server hands it over: spooled to a file.
    http::Response PutData(const std::string& id,
                           const std::string& data,
                           const char* token = kAlice,
                           const std::string& what = "file",
                           const char* content_type = "application/octet-stream") {
        auto req = testing::MakeRequest(http::Method::kPut, "/image/v2/images/" + id + "/" + what, {}, token);
        if (content_type) req.headers.Set("Content-Type", content_type);
        req.body_file = dir_ + "/spool/upload-" + NewHexId();
        std::ofstream(req.body_file, std::ios::binary) << data;
        return Send(std::move(req));
    }

    json Body(const http::Response& r) {
        auto j = json::parse(r.body, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.body;
        return j;
    }

    std::string Message(const http::Response& r) { return Body(r).value("message", ""); }

    json Create(json body = {{"name", "img"}, {"disk_format", "raw"}, {"container_format", "bare"}},
                const char* token = kAlice) {
        auto r = Post("/image/v2/images", body, token);
        EXPECT_EQ(r.status, 201) << r.body;
        return Body(r);
    }

    json Show(const std::string& id, const char* token = kAlice) {
        auto r = Get("/image/v2/images/" + id, token);
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r);
    }

    std::vector<std::string> ListIds(const std::string& query = "", const char* token = kAlice) {
        auto r = Get("/image/v2/images" + query, token);
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<std::string> ids;
        json body = Body(r);
        for (const auto& i : body["images"]) ids.push_back(i["id"]);
        return ids;
    }

    // Lets background imports run until the image leaves "importing" (or 20 s pass).
    json WaitImported(const std::string& id) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        json image = Show(id);
        while (image["status"] == "importing" && std::chrono::steady_clock::now() < deadline) {
            testing::RunFor(io_, std::chrono::milliseconds(5));
            image = Show(id);
        }
        return image;
    }

    asio::io_context io_;
    FakeTokens tokens_;
    CloudletConfig config_;
    std::unique_ptr<DocumentStore> store_;
    http::Client client_{io_.get_executor()};
    std::string dir_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<GlanceService> glance_;
    http::Router router_;
};

// A web server that web-download imports fetch from.
class SourceServer {
public:
    explicit SourceServer(asio::io_context& io) {
        router_.Get("/disk.raw", [this](http::Request&) -> Result<http::Response> {
            http::Response r;
            r.body = data;
            r.headers.Set("Content-Type", "application/octet-stream");
            return r;
        });
        router_.Get("/moved", [this](http::Request&) -> Result<http::Response> {
            http::Response r = http::Response::Empty(302);
            r.headers.Set("Location", "/disk.raw");
            return r;
        });
        router_.Get("/gone", [](http::Request&) -> Result<http::Response> {
            return MakeError(ErrorCode::kNotFound, "no such file");
        });
        server_ = std::make_unique<http::Server>(io.get_executor(), router_);
        port_ = server_->Listen("127.0.0.1", 0).value();
    }
    std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

    std::string data = Payload(300'000);

private:
    http::Router router_;
    std::unique_ptr<http::Server> server_;
    std::uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------

TEST_F(GlanceTest, VersionDiscoveryListsV2WithoutAuthentication) {
    auto r = Get("/image", nullptr);
    EXPECT_EQ(r.status, 300);
    auto versions = Body(r)["versions"];
    ASSERT_FALSE(versions.empty());
    EXPECT_EQ(versions[0]["id"], "v2.16");
    EXPECT_EQ(versions[0]["status"], "CURRENT");
    EXPECT_EQ(versions[0]["links"][0]["href"], "http://127.0.0.1:5555/image/v2/");
    EXPECT_EQ(versions.back()["id"], "v2.0");
    EXPECT_EQ(Get("/image/", nullptr).status, 300);
    auto explicit_list = Get("/image/versions", nullptr);
    EXPECT_EQ(explicit_list.status, 200);
    EXPECT_EQ(Body(explicit_list), Body(r));
}

TEST_F(GlanceTest, RequestsWithoutValidTokenAreUnauthorized) {
    EXPECT_EQ(Get("/image/v2/images", nullptr).status, 401);
    EXPECT_EQ(Get("/image/v2/images", "tok-nobody").status, 401);
    EXPECT_EQ(Get("/image/v2/schemas/image", nullptr).status, 401);
}

TEST_F(GlanceTest, CreateReturnsGlanceImageDocument) {
    auto r = Post("/image/v2/images", {{"name", "cirros"},
                                       {"disk_format", "qcow2"},
                                       {"container_format", "bare"},
                                       {"min_ram", 64},
                                       {"tags", {"a", "b", "a"}},
                                       {"os_distro", "cirros"},
                                       {"owner_specified.openstack.md5", ""}});
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.headers.Get("OpenStack-image-import-methods").value_or(""), "glance-direct,web-download");
    auto img = Body(r);
    EXPECT_EQ(r.headers.Get("Location").value_or(""),
              "http://127.0.0.1:5555/image/v2/images/" + img["id"].get<std::string>());
    std::set<std::string> keys;
    for (const auto& [k, v] : img.items()) keys.insert(k);
    std::set<std::string> expected = {"id",           "name",
                                      "status",       "visibility",
                                      "protected",    "checksum",
                                      "os_hash_algo", "os_hash_value",
                                      "size",         "virtual_size",
                                      "min_disk",     "min_ram",
                                      "disk_format",  "container_format",
                                      "owner",        "created_at",
                                      "updated_at",   "tags",
                                      "file",         "self",
                                      "schema",       "os_hidden",
                                      "os_distro",    "owner_specified.openstack.md5"};
    EXPECT_EQ(keys, expected);
    std::string id = img["id"];
    EXPECT_TRUE(IsUuid(id));
    EXPECT_EQ(img["status"], "queued");
    EXPECT_EQ(img["visibility"], "shared");  // Glance's default since Ocata
    EXPECT_EQ(img["owner"], "p-alice");
    EXPECT_EQ(img["protected"], false);
    EXPECT_EQ(img["os_hidden"], false);
    EXPECT_TRUE(img["size"].is_null());
    EXPECT_TRUE(img["checksum"].is_null());
    EXPECT_EQ(img["min_ram"], 64);
    EXPECT_EQ(img["min_disk"], 0);
    EXPECT_EQ(img["tags"], json({"a", "b"}));
    EXPECT_EQ(img["self"], "/v2/images/" + id);
    EXPECT_EQ(img["file"], "/v2/images/" + id + "/file");
    EXPECT_EQ(img["schema"], "/v2/schemas/image");
    EXPECT_TRUE(ParseIso8601(img["created_at"].get<std::string>()).has_value());
    EXPECT_EQ(img["created_at"].get<std::string>().size(), 20u);  // 2024-01-02T03:04:05Z
    EXPECT_EQ(Show(id), img);
}

TEST_F(GlanceTest, CreateAcceptsSuppliedIdAndRejectsDuplicates) {
    std::string id = NewUuid();
    auto img = Create({{"id", id}, {"name", "fixed"}});
    EXPECT_EQ(img["id"], id);
    EXPECT_TRUE(img["disk_format"].is_null());
    auto dup = Post("/image/v2/images", {{"id", id}});
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(Message(dup), "Image ID " + id + " already exists!");
}

TEST_F(GlanceTest, CreateRejectsEveryKindOfBadInput) {
    auto status = [&](const std::string& raw, const char* token = kAlice) {
        return Call(http::Method::kPost, "/image/v2/images", token, raw).status;
    };
    auto create = [&](const json& body, const char* token = kAlice) { return Post("/image/v2/images", body, token); };
    EXPECT_EQ(status("{not json"), 400);
    EXPECT_EQ(status("[]"), 400);
    EXPECT_EQ(Message(create(json::array())),
              "Provided object does not match schema 'image': [] is not of type 'object'");
    EXPECT_EQ(create({{"name", 5}}).status, 400);
    EXPECT_EQ(create({{"name", std::string(256, 'x')}}).status, 400);
    auto fmt = create({{"disk_format", "floppy"}});
    EXPECT_EQ(fmt.status, 400);
    EXPECT_NE(Message(fmt).find("'floppy' is not one of"), std::string::npos) << Message(fmt);
    EXPECT_EQ(create({{"container_format", "box"}}).status, 400);
    EXPECT_EQ(create({{"visibility", "everyone"}}).status, 400);
    EXPECT_EQ(create({{"protected", "yes"}}).status, 400);
    EXPECT_EQ(create({{"min_disk", "1"}}).status, 400);
    EXPECT_EQ(create({{"id", "not-a-uuid"}}).status, 400);
    EXPECT_EQ(create({{"tags", {1}}}).status, 400);
    EXPECT_EQ(create({{"kernel_id", "nope"}}).status, 400);
    EXPECT_EQ(create({{"my_prop", 5}}).status, 400);  // extra properties are strings
    auto neg = create({{"min_ram", -1}});
    EXPECT_EQ(neg.status, 400);
    EXPECT_EQ(Message(neg), "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value");
    EXPECT_EQ(create({{std::string(256, 'k'), "v"}}).status, 400);
    for (auto [ro, value] : std::vector<std::pair<const char*, json>>{{"status", "active"},
                                                                      {"size", 1},
                                                                      {"virtual_size", 1},
                                                                      {"checksum", "abc"},
                                                                      {"created_at", "x"},
                                                                      {"self", "x"},
                                                                      {"file", "x"},
                                                                      {"schema", "x"}}) {
        auto r = create({{ro, value}});
        EXPECT_EQ(r.status, 403) << ro << ": " << r.body;
        EXPECT_EQ(Message(r), "Attribute '" + std::string(ro) + "' is read-only.");
    }
    for (const char* reserved : {"os_glance_import_task", "deleted", "location"}) {
        auto r = create({{reserved, "x"}});
        EXPECT_EQ(r.status, 403) << reserved;
        EXPECT_EQ(Message(r), "Attribute '" + std::string(reserved) + "' is reserved.");
    }
    auto pub = create({{"visibility", "public"}});
    EXPECT_EQ(pub.status, 403);
    EXPECT_EQ(create({{"visibility", "public"}}, kAdmin).status, 201);
    EXPECT_EQ(create({{"owner", "p-bob"}}).status, 403);
    EXPECT_EQ(create({{"owner", "p-bob"}}, kAdmin).status, 201);
    json many = json::object();
    for (int i = 0; i < 129; ++i) many["p" + std::to_string(i)] = "v";
    EXPECT_EQ(create(many).status, 413);
    EXPECT_EQ(ListIds("", kAlice).size(), 1u);  // only the admin's public image; nothing half-created
}

TEST_F(GlanceTest, UnknownOrMalformedImageIdIsNotFound) {
    std::string id = NewUuid();
    auto r = Get("/image/v2/images/" + id);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Message(r), "No image found with ID " + id);
    EXPECT_EQ(Body(r)["code"], "404 Not Found");
    EXPECT_EQ(Get("/image/v2/images/cirros").status, 404);  // what openstacksdk's find() relies on
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id, kAlice).status, 404);
    EXPECT_EQ(Patch(id, json::array()).status, 404);
    EXPECT_EQ(PutData(id, "x").status, 404);
    EXPECT_EQ(Get("/image/v2/images/" + id + "/file").status, 404);
}

TEST_F(GlanceTest, PrivateImagesAreVisibleOnlyToTheirProjectAndAdmin) {
    std::string priv = Create({{"name", "mine"}, {"visibility", "private"}})["id"];
    std::string pub = Create({{"name", "everyone"}, {"visibility", "public"}}, kAdmin)["id"];
    std::string community = Create({{"name", "comm"}, {"visibility", "community"}})["id"];
    EXPECT_EQ(Get("/image/v2/images/" + priv, kBob).status, 404);
    EXPECT_EQ(Show(priv, kAdmin)["id"], priv);
    EXPECT_EQ(Show(pub, kBob)["id"], pub);
    EXPECT_EQ(Show(community, kBob)["id"], community);

    auto bob = ListIds("", kBob);
    EXPECT_EQ(bob, std::vector<std::string>{pub});  // community images are not listed by default
    auto bob_comm = ListIds("?visibility=community", kBob);
    EXPECT_EQ(bob_comm, std::vector<std::string>{community});
    auto alice = ListIds("", kAlice);
    EXPECT_EQ(alice.size(), 3u);
    EXPECT_EQ(ListIds("?visibility=private", kBob).size(), 0u);
    EXPECT_EQ(ListIds("?visibility=private", kAlice), std::vector<std::string>{priv});
    EXPECT_EQ(ListIds("", kAdmin).size(), 2u);  // admin: everything but others' community images
    EXPECT_EQ(ListIds("?visibility=all", kAdmin).size(), 3u);

    // Others may read a public image but not change or delete it.
    EXPECT_EQ(Patch(pub, json::array({{{"op", "replace"}, {"path", "/name"}, {"value", "x"}}}), kBob).status, 403);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + pub, kBob).status, 403);
    EXPECT_EQ(PutData(pub, "data", kBob).status, 403);
}

TEST_F(GlanceTest, SharedImagesReachMembersThroughMembership) {
    std::string id = Create()["id"];
    EXPECT_EQ(Get("/image/v2/images/" + id, kBob).status, 404);
    auto add = Post("/image/v2/images/" + id + "/members", {{"member", "p-bob"}});
    ASSERT_EQ(add.status, 200) << add.body;
    auto m = Body(add);
    EXPECT_EQ(m["member_id"], "p-bob");
    EXPECT_EQ(m["image_id"], id);
    EXPECT_EQ(m["status"], "pending");
    EXPECT_EQ(m["schema"], "/v2/schemas/member");
    EXPECT_EQ(Show(id, kBob)["id"], id);     // a pending member can read it
    EXPECT_TRUE(ListIds("", kBob).empty());  // but only accepted ones list it
    EXPECT_EQ(ListIds("?member_status=pending", kBob), std::vector<std::string>{id});

    auto accept = Call(http::Method::kPut, "/image/v2/images/" + id + "/members/p-bob", kBob,
                       json{{"status", "accepted"}}.dump());
    ASSERT_EQ(accept.status, 200) << accept.body;
    EXPECT_EQ(Body(accept)["status"], "accepted");
    EXPECT_EQ(ListIds("", kBob), std::vector<std::string>{id});

    auto list = Get("/image/v2/images/" + id + "/members");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(Body(list)["members"].size(), 1u);
    EXPECT_EQ(Body(list)["schema"], "/v2/schemas/members");
    EXPECT_EQ(Get("/image/v2/images/" + id + "/members/p-bob", kBob).status, 200);

    // Bad member requests.
    EXPECT_EQ(Post("/image/v2/images/" + id + "/members", {{"member", "p-bob"}}).status, 409);
    EXPECT_EQ(Post("/image/v2/images/" + id + "/members", {{"nobody", "x"}}).status, 400);
    EXPECT_EQ(Post("/image/v2/images/" + id + "/members", {{"member", ""}}).status, 400);
    EXPECT_EQ(Post("/image/v2/images/" + id + "/members", {{"member", "p-x"}}, kBob).status, 403);
    EXPECT_EQ(
        Call(http::Method::kPut, "/image/v2/images/" + id + "/members/p-bob", kBob, json{{"status", "maybe"}}.dump())
            .status,
        400);
    EXPECT_EQ(Call(http::Method::kPut, "/image/v2/images/" + id + "/members/p-bob", kAlice,
                   json{{"status", "rejected"}}.dump())
                  .status,
              403);  // only the member decides
    EXPECT_EQ(Get("/image/v2/images/" + id + "/members/p-nobody").status, 404);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id + "/members/p-bob", kBob).status, 403);

    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id + "/members/p-bob", kAlice).status, 204);
    EXPECT_EQ(Get("/image/v2/images/" + id, kBob).status, 404);

    std::string priv = Create({{"visibility", "private"}})["id"];
    auto refused = Post("/image/v2/images/" + priv + "/members", {{"member", "p-bob"}});
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(Message(refused), "Not allowed to create members for image " + priv + ".");
}

TEST_F(GlanceTest, ListPaginatesWithMarkerAndNextLinks) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(Create({{"name", "img-" + std::to_string(i)}})["id"]);
    auto r = Get("/image/v2/images?limit=2&sort_key=name&sort_dir=asc");
    ASSERT_EQ(r.status, 200);
    auto page = Body(r);
    EXPECT_EQ(page["schema"], "/v2/schemas/images");
    EXPECT_EQ(page["first"], "/v2/images?limit=2&sort_key=name&sort_dir=asc");
    ASSERT_EQ(page["images"].size(), 2u);
    EXPECT_EQ(page["images"][0]["id"], ids[0]);
    EXPECT_EQ(page["images"][1]["id"], ids[1]);
    EXPECT_EQ(page["next"], "/v2/images?limit=2&sort_key=name&sort_dir=asc&marker=" + ids[1]);

    std::vector<std::string> seen;
    std::string next = "/v2/images?limit=2&sort_key=name&sort_dir=asc";
    while (!next.empty()) {
        auto p = Body(Get("/image" + next));
        for (const auto& i : p["images"]) seen.push_back(i["id"]);
        next = p.value("next", "");
    }
    EXPECT_EQ(seen, ids);

    auto all = Body(Get("/image/v2/images"));
    EXPECT_FALSE(all.contains("next"));
    EXPECT_EQ(all["first"], "/v2/images");
    EXPECT_EQ(all["images"].size(), 5u);
    // Default order: newest first.
    EXPECT_EQ(all["images"][0]["id"], ids[4]);

    EXPECT_EQ(ListIds("?sort=name:desc&limit=1"), std::vector<std::string>{ids[4]});
    EXPECT_EQ(ListIds("?sort_key=name&sort_dir=asc&marker=" + ids[3]), std::vector<std::string>{ids[4]});
}

TEST_F(GlanceTest, ListFiltersLikeGlance) {
    std::string a = Create({{"name", "alpha"},
                            {"disk_format", "raw"},
                            {"container_format", "bare"},
                            {"tags", {"x86", "prod"}},
                            {"os_distro", "ubuntu"},
                            {"protected", true}})["id"];
    std::string b =
        Create({{"name", "beta"}, {"disk_format", "qcow2"}, {"container_format", "bare"}, {"tags", {"x86"}}})["id"];
    std::string hidden = Create({{"name", "ghost"}, {"os_hidden", true}})["id"];
    ASSERT_EQ(PutData(b, "12345").status, 204);

    EXPECT_EQ(ListIds("?name=alpha"), std::vector<std::string>{a});
    EXPECT_EQ(ListIds("?name=in:alpha,beta&sort_key=name&sort_dir=asc"), (std::vector<std::string>{a, b}));
    EXPECT_EQ(ListIds("?status=active"), std::vector<std::string>{b});
    EXPECT_EQ(ListIds("?disk_format=raw"), std::vector<std::string>{a});
    EXPECT_EQ(ListIds("?tag=x86&tag=prod"), std::vector<std::string>{a});
    EXPECT_EQ(ListIds("?tag=x86").size(), 2u);
    EXPECT_EQ(ListIds("?size_min=5&size_max=5"), std::vector<std::string>{b});
    EXPECT_EQ(ListIds("?size_min=6").size(), 0u);
    EXPECT_EQ(ListIds("?protected=true"), std::vector<std::string>{a});
    EXPECT_EQ(ListIds("?os_distro=ubuntu"), std::vector<std::string>{a});
    EXPECT_EQ(ListIds("?owner=p-alice").size(), 2u);
    EXPECT_EQ(ListIds("?id=" + b), std::vector<std::string>{b});
    EXPECT_EQ(ListIds("?os_hidden=True"), std::vector<std::string>{hidden});  // openstacksdk sends "True"
    EXPECT_EQ(ListIds("?limit=0").size(), 0u);
    EXPECT_EQ(ListIds("?created_at=lte:2100-01-01T00:00:00Z").size(), 2u);

    for (const char* bad :
         {"?limit=abc", "?limit=-1", "?sort_key=owner", "?sort_dir=up", "?sort=name:up", "?sort=name&sort_key=id",
          "?sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc", "?visibility=friends", "?member_status=maybe",
          "?size_min=big", "?protected=yes", "?os_hidden=maybe", "?changes-since=2020-01-01",
          "?created_at=about:2020-01-01T00:00:00Z"}) {
        auto r = Get(std::string("/image/v2/images") + bad);
        EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    }
    auto marker = Get("/image/v2/images?marker=" + NewUuid());
    EXPECT_EQ(marker.status, 400);
    EXPECT_NE(Message(marker).find("No image found with ID"), std::string::npos);
    auto key = Get("/image/v2/images?sort_key=owner");
    EXPECT_EQ(Message(key),
              "Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, "
              "size, id, created_at, updated_at.");
}

TEST_F(GlanceTest, PatchAppliesJsonPatchOperations) {
    std::string id = Create({{"name", "before"}, {"os_distro", "cirros"}})["id"];
    auto r = Patch(id, {{{"op", "replace"}, {"path", "/name"}, {"value", "after"}},
                        {{"op", "add"}, {"path", "/hw_disk_bus"}, {"value", "scsi"}},
                        {{"op", "remove"}, {"path", "/os_distro"}},
                        {{"op", "add"}, {"path", "/tags"}, {"value", {"t1", "t2"}}},
                        {{"op", "add"}, {"path", "/min_disk"}, {"value", 2}},
                        {{"op", "replace"}, {"path", "/visibility"}, {"value", "private"}},
                        {{"op", "add"}, {"path", "/a~1b"}, {"value", "slash"}}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto img = Body(r);
    EXPECT_EQ(img["name"], "after");
    EXPECT_EQ(img["hw_disk_bus"], "scsi");
    EXPECT_FALSE(img.contains("os_distro"));
    EXPECT_EQ(img["tags"], json({"t1", "t2"}));
    EXPECT_EQ(img["min_disk"], 2);
    EXPECT_EQ(img["visibility"], "private");
    EXPECT_EQ(img["a/b"], "slash");
    EXPECT_EQ(Show(id), img);

    // The draft-4 dialect of application/openstack-images-v2.0-json-patch.
    auto old =
        Patch(id, {{{"replace", "/name"}, {"value", "v20"}}}, kAlice, "application/openstack-images-v2.0-json-patch");
    ASSERT_EQ(old.status, 200) << old.body;
    EXPECT_EQ(Body(old)["name"], "v20");
    EXPECT_EQ(
        Patch(id, {{{"add", "/hw_disk_bus"}, {"value", "ide"}}}, kAlice, "application/openstack-images-v2.0-json-patch")
            .status,
        409);
}

TEST_F(GlanceTest, PatchRejectsBadRequestsWithoutPartialChanges) {
    std::string id = Create({{"name", "keep"}})["id"];
    auto op = [](const char* o, const char* path, json value = nullptr) {
        json j = {{"op", o}, {"path", path}};
        if (!value.is_null()) j["value"] = value;
        return json::array({j});
    };
    auto unsupported = Patch(id, op("replace", "/name", "x"), kAlice, "application/json");
    EXPECT_EQ(unsupported.status, 415);
    EXPECT_EQ(unsupported.headers.Get("Accept-Patch").value_or(""),
              "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch");
    EXPECT_EQ(Message(Patch(id, op("replace", "/status", "active"))), "Attribute 'status' is read-only.");
    EXPECT_EQ(Patch(id, op("replace", "/id", NewUuid())).status, 403);
    EXPECT_EQ(Patch(id, op("add", "/checksum", "abc")).status, 403);
    EXPECT_EQ(Patch(id, op("add", "/os_glance_foo", "x")).status, 403);
    EXPECT_EQ(Message(Patch(id, op("remove", "/name"))), "Property name may not be removed.");
    EXPECT_EQ(Patch(id, op("remove", "/name")).status, 403);
    EXPECT_EQ(Message(Patch(id, op("replace", "/nothing", "x"))), "Property nothing does not exist.");
    EXPECT_EQ(Patch(id, op("remove", "/nothing")).status, 409);
    EXPECT_EQ(Patch(id, op("move", "/name", "x")).status, 400);
    EXPECT_EQ(Patch(id, json::array({{{"path", "/name"}, {"value", "x"}}})).status, 400);
    EXPECT_EQ(Patch(id, json::array({{{"op", "add"}, {"path", "/name"}}})).status, 400);
    EXPECT_EQ(Patch(id, op("add", "name", "x")).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/a//b", "x")).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/tags/1", "x")).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/a~2", "x")).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/name", 7)).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/prop", 7)).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/min_ram", -5)).status, 400);
    EXPECT_EQ(Patch(id, op("add", "/visibility", "public")).status, 403);
    EXPECT_EQ(Patch(id, op("add", "/owner", "p-bob")).status, 403);
    EXPECT_EQ(Patch(id, op("add", "/locations", json::array())).status, 400);  // needs /locations/N
    EXPECT_EQ(Message(Patch(id, op("replace", "/locations", json::array()))), "Cannot set locations to empty list.");
    EXPECT_EQ(Patch(id, json::object()).status, 400);
    EXPECT_EQ(Patch(id, json::array({"op"})).status, 400);
    EXPECT_EQ(Call(http::Method::kPatch, "/image/v2/images/" + id, kAlice, "{oops", kPatch).status, 400);
    // A failing operation leaves the earlier ones unapplied.
    auto mixed = Patch(
        id, {{{"op", "replace"}, {"path", "/name"}, {"value", "changed"}}, {{"op", "remove"}, {"path", "/nothing"}}});
    EXPECT_EQ(mixed.status, 409);
    EXPECT_EQ(Show(id)["name"], "keep");
}

TEST_F(GlanceTest, UploadThenDownloadReturnsIdenticalBytesAndChecksums) {
    auto img = Create();
    std::string id = img["id"];
    std::string data = Payload(3'000'000);  // several hashing chunks
    auto up = PutData(id, data);
    ASSERT_EQ(up.status, 204) << up.body;
    auto shown = Show(id);
    EXPECT_EQ(shown["status"], "active");
    EXPECT_EQ(shown["size"], data.size());
    EXPECT_EQ(shown["virtual_size"], data.size());  // raw
    EXPECT_EQ(shown["checksum"], Hash(EVP_md5(), data));
    EXPECT_EQ(shown["os_hash_algo"], "sha512");
    EXPECT_EQ(shown["os_hash_value"], Hash(EVP_sha512(), data));

    auto down = Get("/image/v2/images/" + id + "/file");
    ASSERT_EQ(down.status, 200);
    EXPECT_EQ(down.headers.Get("Content-Type").value_or(""), "application/octet-stream");
    EXPECT_EQ(down.headers.Get("Content-MD5").value_or(""), Hash(EVP_md5(), data));
    EXPECT_EQ(down.headers.Get("Content-Length").value_or(""), std::to_string(data.size()));
    ASSERT_FALSE(down.body_file.empty());
    EXPECT_EQ(ReadFile(down.body_file), data);

    auto again = PutData(id, "other");
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(Message(again), "Image status transition from active to saving is not allowed");
    EXPECT_EQ(ReadFile(down.body_file), data);
}

TEST_F(GlanceTest, UploadRejectsBadRequests) {
    std::string id = Create()["id"];
    auto ct = PutData(id, "data", kAlice, "file", "application/json");
    EXPECT_EQ(ct.status, 415);
    EXPECT_EQ(Message(ct), "Invalid content type application/json");
    EXPECT_EQ(PutData(id, "data", kAlice, "file", nullptr).status, 415);
    std::string bare = Create({{"name", "no-formats"}})["id"];
    auto formats = PutData(bare, "data");
    EXPECT_EQ(formats.status, 400);
    EXPECT_EQ(Message(formats), "Properties disk_format, container_format must be set prior to saving data.");
    EXPECT_EQ(Show(bare)["status"], "queued");
    EXPECT_EQ(Get("/image/v2/images/" + id + "/file").status, 204);  // no data yet
    // Bob cannot even see Alice's shared image.
    EXPECT_EQ(PutData(id, "data", kBob).status, 404);
}

TEST_F(GlanceTest, QcowVirtualSizeComesFromTheHeader) {
    std::string id = Create({{"disk_format", "qcow2"}, {"container_format", "bare"}})["id"];
    std::string header(512, '\0');
    header[0] = 'Q';
    header[1] = 'F';
    header[2] = 'I';
    header[3] = '\xfb';
    std::uint64_t vsize = 1ull << 30;
    for (int i = 0; i < 8; ++i) header[24 + i] = static_cast<char>((vsize >> (56 - 8 * i)) & 0xff);
    ASSERT_EQ(PutData(id, header).status, 204);
    auto img = Show(id);
    EXPECT_EQ(img["virtual_size"], vsize);
    EXPECT_EQ(img["size"], 512);
}

TEST_F(GlanceTest, DeleteRemovesImageAndData) {
    std::string id = Create()["id"];
    ASSERT_EQ(PutData(id, "bytes").status, 204);
    EXPECT_TRUE(fs::exists(dir_ + "/images/" + id));
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id, kBob).status, 404);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id, kAlice).status, 204);
    EXPECT_FALSE(fs::exists(dir_ + "/images/" + id));
    EXPECT_EQ(Get("/image/v2/images/" + id).status, 404);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id, kAlice).status, 404);

    std::string prot = Create({{"protected", true}})["id"];
    auto refused = Call(http::Method::kDelete, "/image/v2/images/" + prot, kAlice);
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(Message(refused), "Image " + prot + " is protected and cannot be deleted.");
    ASSERT_EQ(Patch(prot, {{{"op", "replace"}, {"path", "/protected"}, {"value", false}}}).status, 200);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + prot, kAlice).status, 204);
}

TEST_F(GlanceTest, TagsCanBeAddedAndRemoved) {
    std::string id = Create()["id"];
    EXPECT_EQ(Call(http::Method::kPut, "/image/v2/images/" + id + "/tags/gold", kAlice).status, 204);
    EXPECT_EQ(Call(http::Method::kPut, "/image/v2/images/" + id + "/tags/gold", kAlice).status, 204);
    EXPECT_EQ(Show(id)["tags"], json({"gold"}));
    EXPECT_EQ(Call(http::Method::kPut, "/image/v2/images/" + id + "/tags/x", kBob).status, 404);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id + "/tags/silver", kAlice).status, 404);
    EXPECT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id + "/tags/gold", kAlice).status, 204);
    EXPECT_EQ(Show(id)["tags"], json::array());
    EXPECT_EQ(Call(http::Method::kPut, "/image/v2/images/" + id + "/tags/" + std::string(256, 't'), kAlice).status,
              400);
}

TEST_F(GlanceTest, SchemasDescribeTheDocuments) {
    auto image = Body(Get("/image/v2/schemas/image"));
    EXPECT_EQ(image["name"], "image");
    EXPECT_EQ(image["additionalProperties"], json({{"type", "string"}}));
    EXPECT_EQ(image["properties"]["name"]["type"], json({"null", "string"}));
    EXPECT_EQ(image["properties"]["os_distro"]["is_base"], false);
    EXPECT_EQ(image["links"][0], json({{"rel", "self"}, {"href", "{self}"}}));
    auto images = Body(Get("/image/v2/schemas/images"));
    EXPECT_EQ(images["properties"]["images"]["items"], image);
    EXPECT_EQ(Body(Get("/image/v2/schemas/member"))["properties"]["status"]["enum"],
              json({"pending", "accepted", "rejected"}));
    EXPECT_EQ(Body(Get("/image/v2/schemas/members"))["name"], "members");
    EXPECT_EQ(Get("/image/v2/schemas/nothing").status, 404);
}

TEST_F(GlanceTest, ImportDiscovery) {
    auto info = Get("/image/v2/info/import");
    ASSERT_EQ(info.status, 200);
    EXPECT_EQ(Body(info), json({{"import-methods",
                                 {{"description", "Import methods available."},
                                  {"type", "array"},
                                  {"value", {"glance-direct", "web-download"}}}}}));
    auto stores = Get("/image/v2/info/stores");
    EXPECT_EQ(stores.status, 404);
    EXPECT_EQ(Message(stores), "Multi backend is not supported at this site.");
}

TEST_F(GlanceTest, WebDownloadImportFetchesTheUri) {
    SourceServer source(io_);
    std::string id = Create()["id"];
    auto r = Post("/image/v2/images/" + id + "/import",
                  {{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}});
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_TRUE(r.body.empty());
    auto during = Show(id);
    EXPECT_EQ(during["status"], "importing");
    EXPECT_TRUE(during.contains("os_glance_import_task"));
    // A second import while one runs is refused.
    EXPECT_EQ(Post("/image/v2/images/" + id + "/import",
                   {{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}})
                  .status,
              409);

    auto img = WaitImported(id);
    EXPECT_EQ(img["status"], "active");
    EXPECT_EQ(img["size"], source.data.size());
    EXPECT_EQ(img["checksum"], Hash(EVP_md5(), source.data));
    EXPECT_EQ(img["os_hash_value"], Hash(EVP_sha512(), source.data));
    EXPECT_EQ(img["os_glance_importing_to_stores"], "");
    EXPECT_EQ(img["os_glance_failed_import"], "");
    EXPECT_FALSE(img.contains("os_glance_import_task"));
    auto down = Get("/image/v2/images/" + id + "/file");
    ASSERT_EQ(down.status, 200);
    EXPECT_EQ(ReadFile(down.body_file), source.data);

    auto tasks = Body(Get("/image/v2/images/" + id + "/tasks"));
    ASSERT_EQ(tasks["tasks"].size(), 1u);
    EXPECT_EQ(tasks["tasks"][0]["status"], "success");
    EXPECT_EQ(tasks["tasks"][0]["type"], "api_image_import");
    EXPECT_EQ(tasks["tasks"][0]["result"]["image_id"], id);

    EXPECT_EQ(Message(Post("/image/v2/images/" + id + "/import",
                           {{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}})),
              "Image with status active cannot be target for import");
}

TEST_F(GlanceTest, WebDownloadFollowsRedirects) {
    SourceServer source(io_);
    std::string id = Create()["id"];
    ASSERT_EQ(Post("/image/v2/images/" + id + "/import",
                   {{"method", {{"name", "web-download"}, {"uri", source.Url("/moved")}}}})
                  .status,
              202);
    auto img = WaitImported(id);
    EXPECT_EQ(img["status"], "active");
    EXPECT_EQ(img["checksum"], Hash(EVP_md5(), source.data));
}

TEST_F(GlanceTest, FailedWebDownloadReturnsImageToQueued) {
    SourceServer source(io_);
    std::string id = Create()["id"];
    ASSERT_EQ(Post("/image/v2/images/" + id + "/import",
                   {{"method", {{"name", "web-download"}, {"uri", source.Url("/gone")}}}})
                  .status,
              202);
    auto img = WaitImported(id);
    EXPECT_EQ(img["status"], "queued");
    EXPECT_EQ(img["os_glance_failed_import"], "");
    EXPECT_EQ(img["os_glance_importing_to_stores"], "");
    EXPECT_FALSE(img.contains("os_glance_import_task"));
    EXPECT_TRUE(img["size"].is_null());
    EXPECT_EQ(Body(Get("/image/v2/images/" + id + "/tasks"))["tasks"][0]["status"], "failure");
    // Nothing is left behind; the image can be imported again.
    for (const auto& e : fs::directory_iterator(dir_ + "/images"))
        EXPECT_EQ(e.path().filename().string().find(".import-"), std::string::npos);
    ASSERT_EQ(Post("/image/v2/images/" + id + "/import",
                   {{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}})
                  .status,
              202);
    EXPECT_EQ(WaitImported(id)["status"], "active");
}

TEST_F(GlanceTest, ImportRejectsBadRequests) {
    SourceServer source(io_);
    std::string id = Create()["id"];
    auto import = [&](const json& body, const char* token = kAlice, std::string target = {}) {
        return Post(target.empty() ? "/image/v2/images/" + id + "/import" : target, body, token);
    };
    EXPECT_EQ(Message(import(json::object())), "Import request requires a 'method' field.");
    EXPECT_EQ(Message(import({{"method", json::object()}})), "Import request requires a 'name' field.");
    EXPECT_EQ(Message(import({{"method", {{"name", "copy-image"}}}})), "Unknown import method name 'copy-image'.");
    EXPECT_EQ(import({{"method", {{"name", "web-download"}}}, {"all_stores", "yes"}}).status, 400);
    auto filtered = import({{"method", {{"name", "web-download"}, {"uri", "http://example.com/x.img"}}}});
    EXPECT_EQ(filtered.status, 400);
    EXPECT_EQ(Message(filtered), "URI for web-download does not pass filtering: http://example.com/x.img");
    EXPECT_EQ(import({{"method", {{"name", "web-download"}, {"uri", "ftp://127.0.0.1/x"}}}}).status, 400);
    EXPECT_EQ(import({{"method", {{"name", "web-download"}}}}).status, 400);
    EXPECT_EQ(Message(import({{"method", {{"name", "glance-direct"}}}})),
              "Image needs to be staged before 'glance-direct' method can be used");
    EXPECT_EQ(import({{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}}, kBob).status, 404);
    EXPECT_EQ(import({{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}}, kAlice,
                     "/image/v2/images/" + NewUuid() + "/import")
                  .status,
              404);
    std::string bare = Create({{"name", "no-formats"}})["id"];
    auto formats = import({{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}}, kAlice,
                          "/image/v2/images/" + bare + "/import");
    EXPECT_EQ(formats.status, 409);
    EXPECT_EQ(Message(formats), "'container_format' needs to be set before import");
    EXPECT_EQ(Call(http::Method::kPost, "/image/v2/images/" + id + "/import", kAlice, "nope").status, 400);
    EXPECT_EQ(Show(id)["status"], "queued");  // none of that touched the image
}

TEST_F(GlanceTest, GlanceDirectImportUsesStagedData) {
    std::string id = Create()["id"];
    std::string data = Payload(70'000);
    ASSERT_EQ(PutData(id, data, kAlice, "stage").status, 204);
    auto staged = Show(id);
    EXPECT_EQ(staged["status"], "uploading");
    EXPECT_EQ(staged["size"], data.size());
    EXPECT_EQ(PutData(id, data, kAlice, "stage").status, 409);
    EXPECT_EQ(PutData(id, data, kAlice, "file").status, 409);
    ASSERT_EQ(Post("/image/v2/images/" + id + "/import", {{"method", {{"name", "glance-direct"}}}}).status, 202);
    auto img = WaitImported(id);
    EXPECT_EQ(img["status"], "active");
    EXPECT_EQ(img["checksum"], Hash(EVP_md5(), data));
    EXPECT_EQ(ReadFile(Get("/image/v2/images/" + id + "/file").body_file), data);
    EXPECT_FALSE(fs::exists(dir_ + "/images/" + id + ".staging"));
    EXPECT_EQ(PutData(id, data, kAlice, "stage", "text/plain").status, 415);
}

TEST_F(GlanceTest, DeletingDuringImportLeavesNothingBehind) {
    SourceServer source(io_);
    std::string id = Create()["id"];
    ASSERT_EQ(Post("/image/v2/images/" + id + "/import",
                   {{"method", {{"name", "web-download"}, {"uri", source.Url("/disk.raw")}}}})
                  .status,
              202);
    ASSERT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + id, kAlice).status, 204);
    // The download finishes in the background and its file is removed, not turned into an image.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (client_.IdleConnections() == 0 && std::chrono::steady_clock::now() < deadline)
        testing::RunFor(io_, std::chrono::milliseconds(5));
    EXPECT_EQ(client_.IdleConnections(), 1u);  // the download completed
    EXPECT_TRUE(fs::is_empty(dir_ + "/images"));
    EXPECT_EQ(Get("/image/v2/images/" + id).status, 404);
}

TEST_F(GlanceTest, DeactivatedImagesCannotBeDownloadedByUsers) {
    std::string id = Create()["id"];
    EXPECT_EQ(Call(http::Method::kPost, "/image/v2/images/" + id + "/actions/deactivate", kAlice).status, 403);
    ASSERT_EQ(PutData(id, "bytes").status, 204);
    EXPECT_EQ(Call(http::Method::kPost, "/image/v2/images/" + id + "/actions/deactivate", kAlice).status, 204);
    EXPECT_EQ(Show(id)["status"], "deactivated");
    EXPECT_EQ(Get("/image/v2/images/" + id + "/file").status, 403);
    EXPECT_EQ(Get("/image/v2/images/" + id + "/file", kAdmin).status, 200);
    EXPECT_EQ(Call(http::Method::kPost, "/image/v2/images/" + id + "/actions/reactivate", kAlice).status, 204);
    EXPECT_EQ(Get("/image/v2/images/" + id + "/file").status, 200);
}

TEST_F(GlanceTest, FindImageServesNova) {
    std::string id = Create({{"name", "boot"},
                             {"min_ram", 128},
                             {"min_disk", 1},
                             {"disk_format", "raw"},
                             {"container_format", "bare"}})["id"];
    ASSERT_EQ(PutData(id, "bootable").status, 204);
    TokenInfo alice = tokens_.Validate(kAlice).value();
    TokenInfo bob = tokens_.Validate(kBob).value();
    auto found = glance_->FindImage(alice, id);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->name, "boot");
    EXPECT_EQ(found->status, "active");
    EXPECT_EQ(found->min_ram_mb, 128);
    EXPECT_EQ(found->min_disk_gb, 1);
    EXPECT_EQ(found->size, 8u);
    EXPECT_EQ(glance_->FindImage(bob, id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(glance_->FindImage(alice, NewUuid()).error().code, ErrorCode::kNotFound);
}

TEST_F(GlanceTest, DurableStateSurvivesARestart) {
    glance_.reset();
    store_ = OpenSqliteStore(dir_ + "/state.db").value();
    Start();
    std::string id = Create({{"name", "persist"},
                             {"disk_format", "raw"},
                             {"container_format", "bare"},
                             {"tags", {"keep"}},
                             {"hw_rng_model", "virtio"}})["id"];
    ASSERT_EQ(PutData(id, "persistent bytes").status, 204);
    ASSERT_EQ(Post("/image/v2/images/" + id + "/members", {{"member", "p-bob"}}).status, 200);
    std::string gone = Create({{"name", "deleted"}})["id"];
    ASSERT_EQ(Call(http::Method::kDelete, "/image/v2/images/" + gone, kAlice).status, 204);
    auto before = Show(id);

    glance_.reset();
    Start();
    EXPECT_EQ(Show(id), before);
    EXPECT_EQ(Get("/image/v2/images/" + gone).status, 404);
    EXPECT_EQ(ReadFile(Get("/image/v2/images/" + id + "/file").body_file), "persistent bytes");
    EXPECT_EQ(Get("/image/v2/images/" + id + "/members/p-bob").status, 200);
}

}  // namespace
}  // namespace shoal::emulator
