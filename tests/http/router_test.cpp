#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "async_test.hpp"
#include "http/router.hpp"

namespace shoal::http {
namespace {

using shoal::testing::MakeRequest;

Result<Response> Echo(const std::string& what, Request& r) {
    nlohmann::json j = {{"route", what}};
    for (const auto& [k, v] : r.path_params) j[k] = v;
    return Response::Json(200, j);
}

class RouterTest : public ::testing::Test {
protected:
    RouterTest() {
        router_.SetErrorStyle("/compute", ErrorStyle::kNova);
        router_.SetErrorStyle("/identity", ErrorStyle::kKeystone);
        router_.Get("/compute/v2.1/servers/detail", [](Request& r) { return Echo("detail", r); });
        router_.Get("/compute/v2.1/servers/{server_id}", [](Request& r) { return Echo("show", r); });
        router_.Delete("/compute/v2.1/servers/{server_id}", [](Request& r) { return Echo("delete", r); });
        router_.Post("/compute/v2.1/servers/{server_id}/action", [](Request& r) { return Echo("action", r); });
        router_.Get("/compute/v2.1/fail",
                    [](Request&) -> Result<Response> { return MakeError(ErrorCode::kConflict, "nope"); });
        router_.Get("/compute/v2.1/throw", [](Request&) -> Result<Response> { throw std::runtime_error("bug"); });
        router_.Post("/compute/v2.1/typed", [](Request& r) -> Result<Response> {
            auto j = r.JsonBody();
            if (!j.ok()) return j.error();
            int n = (*j)["n"].get<int>();  // throws on a string: the client's fault
            return Response::Json(200, {{"n", n}});
        });
    }

    Response Call(Method m, std::string target, std::string body = {}) {
        auto req = MakeRequest(m, std::move(target), std::move(body));
        return shoal::testing::Run(io_, router_.Dispatch(req));
    }

    boost::asio::io_context io_;
    Router router_;
};

TEST_F(RouterTest, LiteralSegmentsWinOverParameters) {
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/servers/detail").JsonBody().value()["route"], "detail");
    auto show = Call(Method::kGet, "/compute/v2.1/servers/abc").JsonBody().value();
    EXPECT_EQ(show["route"], "show");
    EXPECT_EQ(show["server_id"], "abc");
    EXPECT_EQ(Call(Method::kPost, "/compute/v2.1/servers/abc/action").JsonBody().value()["route"], "action");
}

TEST_F(RouterTest, RoutesMayNameTheSamePositionDifferently) {
    router_.Get("/compute/v2.1/os-hypervisors/{hypervisor_id}", [](Request& r) { return Echo("show", r); });
    router_.Get("/compute/v2.1/os-hypervisors/{pattern}/search", [](Request& r) { return Echo("search", r); });
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/os-hypervisors/7").JsonBody().value()["hypervisor_id"], "7");
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/os-hypervisors/c1/search").JsonBody().value()["pattern"], "c1");
}

TEST_F(RouterTest, TrailingSlashIsIgnored) {
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/servers/abc/").status, 200);
}

TEST_F(RouterTest, UnknownRouteIs404InTheServiceStyle) {
    auto r = Call(Method::kGet, "/compute/v2.1/nothing");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(r.JsonBody().value().contains("itemNotFound"));
    auto k = Call(Method::kGet, "/identity/v3/nothing");
    EXPECT_EQ(k.status, 404);
    EXPECT_EQ(k.JsonBody().value()["error"]["code"], 404);
}

TEST_F(RouterTest, WrongMethodIs405) {
    auto r = Call(Method::kPut, "/compute/v2.1/servers/abc");
    EXPECT_EQ(r.status, 405);
    EXPECT_TRUE(r.JsonBody().value().contains("badMethod"));
}

TEST_F(RouterTest, HandlerErrorsAreMappedOnce) {
    auto r = Call(Method::kGet, "/compute/v2.1/fail");
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.JsonBody().value()["conflictingRequest"]["message"], "nope");
}

TEST_F(RouterTest, ExceptionsBecome500NotCrashes) {
    auto r = Call(Method::kGet, "/compute/v2.1/throw");
    EXPECT_EQ(r.status, 500);
    EXPECT_TRUE(r.JsonBody().value().contains("computeFault"));
}

TEST_F(RouterTest, WrongJsonTypesAre400) {
    EXPECT_EQ(Call(Method::kPost, "/compute/v2.1/typed", R"({"n": 3})").status, 200);
    auto r = Call(Method::kPost, "/compute/v2.1/typed", R"({"n": "three"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.JsonBody().value().contains("badRequest"));
    EXPECT_EQ(Call(Method::kPost, "/compute/v2.1/typed", "{not json").status, 400);
}

TEST_F(RouterTest, MiddlewareRunsAroundHandlersAndMayAnswerAlone) {
    int calls = 0;
    router_.Use([&](Request& r, const Handler& next) -> boost::asio::awaitable<Result<Response>> {
        ++calls;
        if (r.headers.Has("X-Block")) co_return MakeError(ErrorCode::kUnavailable, "busy");
        co_return co_await next(r);
    });
    EXPECT_EQ(Call(Method::kGet, "/compute/v2.1/servers/a").status, 200);
    auto req = MakeRequest(Method::kGet, "/compute/v2.1/servers/a");
    req.headers.Set("X-Block", "1");
    EXPECT_EQ(shoal::testing::Run(io_, router_.Dispatch(req)).status, 503);
    EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace shoal::http
