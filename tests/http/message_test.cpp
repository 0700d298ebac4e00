#include <gtest/gtest.h>

#include "http/errors.hpp"
#include "http/message.hpp"

namespace shoal::http {
namespace {

TEST(Request, SetTargetDecodesPathAndQuery) {
    Request r;
    ASSERT_TRUE(r.SetTarget("/v2.1/servers%2Fx/detail?name=web%20a&limit=2&tag=a&tag=b"));
    EXPECT_EQ(r.path, "/v2.1/servers/x/detail");
    EXPECT_EQ(r.Query("name").value(), "web a");
    EXPECT_EQ(r.Query("limit").value(), "2");
    EXPECT_EQ(r.QueryAll("tag").size(), 2u);
    EXPECT_FALSE(r.Query("marker").has_value());
}

TEST(Request, MalformedTargetIsRejected) {
    Request r;
    EXPECT_FALSE(r.SetTarget("http//not a target"));
}

TEST(Request, MalformedJsonBodyIsBadRequest) {
    Request r;
    r.body = "{\"server\": ";
    auto j = r.JsonBody();
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.error().code, ErrorCode::kBadRequest);
}

TEST(Headers, LookupIsCaseInsensitiveAndSetReplaces) {
    Headers h;
    h.Add("X-Auth-Token", "a");
    h.Add("x-auth-token", "b");
    EXPECT_EQ(h.Get("X-AUTH-TOKEN").value(), "a");
    h.Set("X-Auth-Token", "c");
    EXPECT_EQ(h.size(), 1u);
    EXPECT_EQ(h.Get("x-auth-token").value(), "c");
}

TEST(Json, InvalidUtf8IsReplacedNotThrown) {
    nlohmann::json j = {{"name", std::string("\xff\xfe")}};
    EXPECT_NO_THROW(DumpJson(j));
}

TEST(Url, ParsesHostPortAndTarget) {
    auto u = ParseUrl("http://127.0.0.1:9292/image/v2/images?limit=1");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 9292);
    EXPECT_EQ(u->target, "/image/v2/images?limit=1");
    EXPECT_FALSE(ParseUrl("ftp://x/y").ok());
    EXPECT_FALSE(ParseUrl("not a url").ok());
}

TEST(ErrorResponse, EachServiceGetsItsOwnShape) {
    Error e{ErrorCode::kNotFound, "Instance x could not be found."};
    auto nova = ErrorResponse(ErrorStyle::kNova, e).JsonBody().value();
    EXPECT_EQ(nova["itemNotFound"]["code"], 404);
    EXPECT_EQ(nova["itemNotFound"]["message"], e.message);

    auto ks = ErrorResponse(ErrorStyle::kKeystone, e).JsonBody().value();
    EXPECT_EQ(ks["error"]["title"], "Not Found");

    auto pl = ErrorResponse(ErrorStyle::kPlacement, e, "req-1").JsonBody().value();
    EXPECT_EQ(pl["errors"][0]["status"], 404);
    EXPECT_EQ(pl["errors"][0]["request_id"], "req-1");

    auto bad = ErrorResponse(ErrorStyle::kNova, Error{ErrorCode::kBadRequest, "x"}).JsonBody().value();
    EXPECT_EQ(bad["badRequest"]["code"], 400);
    EXPECT_EQ(ErrorResponse(ErrorStyle::kNova, Error{ErrorCode::kUnavailable, "x"}).status, 503);
}

TEST(ErrorResponse, GlanceAnswersHtmlUnlessJsonIsAccepted) {
    Error e{ErrorCode::kNotFound, "No image found with ID x"};
    auto html = ErrorResponse(ErrorStyle::kGlance, e, "", "*/*");
    EXPECT_EQ(html.status, 404);
    EXPECT_EQ(html.headers.Get("Content-Type").value(), "text/html; charset=UTF-8");
    EXPECT_NE(html.body.find("<title>404 Not Found</title>"), std::string::npos);
    auto json = ErrorResponse(ErrorStyle::kGlance, e, "", "application/json");
    EXPECT_EQ(json.JsonBody().value()["message"], e.message);
}

TEST(ErrorMessageOf, ReadsEveryStyleBack) {
    Error e{ErrorCode::kConflict, "busy"};
    for (auto style :
         {ErrorStyle::kNova, ErrorStyle::kKeystone, ErrorStyle::kGlance, ErrorStyle::kPlacement, ErrorStyle::kPlain})
        EXPECT_EQ(ErrorMessageOf(ErrorResponse(style, e)), "busy");
}

}  // namespace
}  // namespace shoal::http
