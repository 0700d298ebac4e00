// The pure parts of the identity proxy: catalog, URL rewriting, token bodies.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "identity/caller.hpp"
#include "identity/rewrite.hpp"
#include "identity/token_cache.hpp"

namespace shoal::identity {
namespace {

using json = nlohmann::json;

TEST(CallerOf, ReadsTheRequestContextNeverAHeader) {
    Caller alice;
    alice.tenant = "alpha";
    alice.user_name = "alice";
    alice.is_admin = true;
    http::Request forged;
    forged.headers.Set("X-Shoal-Caller", EncodeCaller(alice));
    auto none = CallerOf(forged);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kUnauthorized);

    http::Request admitted;
    admitted.context.Set(alice);
    auto who = CallerOf(admitted);
    ASSERT_TRUE(who.ok());
    EXPECT_EQ(who->tenant, "alpha");
    EXPECT_TRUE(who->is_admin);
}

TEST(DecodeCaller, RoundTripsAndRefusesWrongTypesWithoutThrowing) {
    Caller c;
    c.tenant = "t";
    c.roles = {"member"};
    c.api_base = "http://agent:8080";
    auto back = DecodeCaller(EncodeCaller(c));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->tenant, "t");
    EXPECT_EQ(back->roles, std::vector<std::string>{"member"});
    EXPECT_EQ(back->api_base, "http://agent:8080");
    for (const char* bad : {"", "[]", "not json", R"({"tenant": 7})", R"({"tenant": ""})", R"({"user_id": "u"})"})
        EXPECT_FALSE(DecodeCaller(bad).ok()) << bad;
    auto odd = DecodeCaller(R"({"tenant": "t", "is_admin": "yes", "roles": [1, "reader"], "user_name": null})");
    ASSERT_TRUE(odd.ok());
    EXPECT_FALSE(odd->is_admin);
    EXPECT_EQ(odd->roles, std::vector<std::string>{"reader"});
}

TEST(IdentityBase, StripsVersionAndSlashes) {
    EXPECT_EQ(IdentityBase("http://h:1/identity/v3"), "http://h:1/identity");
    EXPECT_EQ(IdentityBase("http://h:1/identity/v3/"), "http://h:1/identity");
    EXPECT_EQ(IdentityBase("http://h:5000/v3"), "http://h:5000");
    EXPECT_EQ(IdentityBase("http://h:5000/"), "http://h:5000");
}

TEST(StableId, StableAndDistinct) {
    EXPECT_EQ(StableId("a/endpoint/identity/public"), StableId("a/endpoint/identity/public"));
    EXPECT_NE(StableId("a/endpoint/identity/public"), StableId("b/endpoint/identity/public"));
    EXPECT_EQ(StableId("x").size(), 32u);
    EXPECT_EQ(StableId("x").find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(AgentCatalog, ListsOnlyAgentEndpoints) {
    CatalogOptions o;
    o.id_seed = "agent-1";
    o.placement = true;
    json c = AgentCatalog(o, "http://10.0.0.1:8080/", "RegionX");
    ASSERT_EQ(c.size(), 4u);
    std::set<std::string> ids;
    std::map<std::string, std::string> url_of;
    for (const auto& s : c) {
        ASSERT_EQ(s["endpoints"].size(), 3u);
        ids.insert(s["id"].get<std::string>());
        for (const auto& ep : s["endpoints"]) {
            EXPECT_EQ(ep["region"], "RegionX");
            EXPECT_EQ(ep["region_id"], "RegionX");
            ids.insert(ep["id"].get<std::string>());
            url_of[s["type"].get<std::string>()] = ep["url"].get<std::string>();
        }
    }
    EXPECT_EQ(ids.size(), 4u + 12u);  // every id distinct
    EXPECT_EQ(url_of["identity"], "http://10.0.0.1:8080/identity");
    EXPECT_EQ(url_of["image"], "http://10.0.0.1:8080/image");
    EXPECT_EQ(url_of["compute"], "http://10.0.0.1:8080/compute/v2.1");
    EXPECT_EQ(url_of["placement"], "http://10.0.0.1:8080/placement");
    o.placement = false;
    o.image = false;
    EXPECT_EQ(AgentCatalog(o, "http://a", "R").size(), 2u);
    // Same agent, same ids.
    EXPECT_EQ(AgentCatalog(o, "http://a", "R"), AgentCatalog(o, "http://a", "R"));
}

TEST(CatalogRegion, FirstEndpointsRegion) {
    json c = json::parse(R"([{"type":"x","endpoints":[]},{"endpoints":[{"region_id":"R2","region":"R2"}]}])");
    EXPECT_EQ(CatalogRegion(c), "R2");
    EXPECT_EQ(CatalogRegion(json::array()), "");
    EXPECT_EQ(CatalogRegion(json("nope")), "");
}

TEST(RewriteUrl, IdpUrlsBecomeAgentUrls) {
    const std::string idp = "http://127.0.0.1:5000/identity", agent = "http://a:80/identity";
    EXPECT_EQ(RewriteUrl("http://127.0.0.1:5000/identity/v3/projects?limit=2", idp, agent),
              "http://a:80/identity/v3/projects?limit=2");
    EXPECT_EQ(RewriteUrl("http://127.0.0.1:5000/identity", idp, agent), "http://a:80/identity");
    // Not a path boundary: not ours.
    EXPECT_EQ(RewriteUrl("http://127.0.0.1:5000/identityx/v2", idp, agent), "http://127.0.0.1:5000/identityx/v2");
    // The IdP's public name differs from ours: its /v3 URLs still move.
    EXPECT_EQ(RewriteUrl("https://keystone.example.com/v3/users/1", idp, agent), "http://a:80/identity/v3/users/1");
    EXPECT_EQ(RewriteUrl("https://keystone.example.com/v3x/users", idp, agent),
              "https://keystone.example.com/v3x/users");
    EXPECT_EQ(RewriteUrl("not a url", idp, agent), "not a url");
}

TEST(RewriteLinks, OnlyUnderLinks) {
    json doc = json::parse(R"({
        "projects": [{"id": "p", "description": "http://idp/identity/v3/x",
                      "links": {"self": "http://idp/identity/v3/projects/p"}}],
        "links": {"self": "http://idp/identity/v3/projects", "next": null, "previous": null},
        "versions": {"values": [{"links": [{"rel": "self", "href": "http://idp/identity/v3/"}]}]}})");
    RewriteLinks(doc, "http://idp/identity", "http://a/identity");
    EXPECT_EQ(doc["projects"][0]["links"]["self"], "http://a/identity/v3/projects/p");
    EXPECT_EQ(doc["projects"][0]["description"], "http://idp/identity/v3/x");
    EXPECT_EQ(doc["links"]["self"], "http://a/identity/v3/projects");
    EXPECT_TRUE(doc["links"]["next"].is_null());
    EXPECT_EQ(doc["versions"]["values"][0]["links"][0]["href"], "http://a/identity/v3/");
}

TEST(ParseTokenInfo, ProjectScopedToken) {
    json body = json::parse(R"({"token": {
        "methods": ["password"], "expires_at": "2030-01-02T03:04:05.000000Z",
        "user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"}},
        "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
        "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}]}})");
    auto info = ParseTokenInfo(body);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->user_id, "u1");
    EXPECT_EQ(info->user_name, "alice");
    EXPECT_EQ(info->user_domain_id, "default");
    EXPECT_EQ(info->project_id, "p1");
    EXPECT_EQ(info->project_name, "demo");
    EXPECT_EQ(info->project_domain_id, "default");
    EXPECT_EQ(info->roles, (std::vector<std::string>{"member", "reader"}));
    EXPECT_FALSE(info->is_admin);
    EXPECT_TRUE(info->HasRole("reader"));
    EXPECT_EQ(FormatIso8601(info->expires_at), "2030-01-02T03:04:05Z");

    body["token"]["roles"].push_back({{"id", "r3"}, {"name", "admin"}});
    EXPECT_TRUE(ParseTokenInfo(body)->is_admin);
    body["token"].erase("expires_at");
    EXPECT_EQ(ParseTokenInfo(body).error().code, ErrorCode::kBadGateway);
    EXPECT_EQ(ParseTokenInfo(json::object()).error().code, ErrorCode::kBadGateway);
}

}  // namespace
}  // namespace shoal::identity
