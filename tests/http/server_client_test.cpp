#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <fstream>

#include "async_test.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

namespace shoal::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

class ServerClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        router_.SetErrorStyle("/compute", ErrorStyle::kNova);
        router_.Get("/compute/hello", [](Request& r) -> Result<Response> {
            return Response::Json(200, {{"hello", r.Query("name").value_or("world")}});
        });
        router_.Post("/compute/echo", [](Request& r) -> Result<Response> {
            return Response::Json(200, {{"size", r.body.size()}});
        });
        router_.Add(
            Method::kPut, "/compute/big",
            [](Request& r) -> asio::awaitable<Result<Response>> {
                co_return Response::Json(200, {{"size", r.body.size()}});
            },
            RouteOptions{.max_body_bytes = 4 * 1024 * 1024});
        router_.Add(
            Method::kPut, "/upload",
            [this](Request& r) -> asio::awaitable<Result<Response>> {
                stored_ =
                    (std::filesystem::temp_directory_path() / ("shoal-test-" + std::to_string(getpid()))).string();
                std::filesystem::rename(r.body_file, stored_);
                co_return Response::Empty(204);
            },
            RouteOptions{.max_body_bytes = 64 * 1024 * 1024, .body_to_file = true});
        router_.Get("/download", [this](Request&) -> Result<Response> {
            Response r;
            r.headers.Set("Content-Type", "application/octet-stream");
            r.body_file = stored_;
            return r;
        });
        router_.Add(Method::kGet, "/slow", [this](Request&) -> asio::awaitable<Result<Response>> {
            in_slow_handler_ = true;
            asio::steady_timer t(io_, slow_);
            co_await t.async_wait(asio::use_awaitable);
            co_return Response::Json(200, {{"slow", true}});
        });
    }
    void TearDown() override {
        if (!stored_.empty()) std::filesystem::remove(stored_);
    }

    std::uint16_t StartServer(ServerOptions opts = {}) {
        server_ = std::make_unique<Server>(io_.get_executor(), router_, opts);
        auto port = server_->Listen("127.0.0.1", 0);
        EXPECT_TRUE(port.ok());
        return *port;
    }

    Result<Response> Get(Client& c, std::string target, std::optional<std::chrono::milliseconds> timeout = {}) {
        Request req;
        req.target = std::move(target);
        return shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, req, timeout));
    }

    // Writes raw bytes on a fresh socket and reads until the server closes it.
    std::string RawExchange(std::string bytes, bool stall_open = true) {
        return shoal::testing::Run(
            io_, [](std::uint16_t port, std::string bytes, bool) -> asio::awaitable<std::string> {
                tcp::socket s(co_await asio::this_coro::executor);
                co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
                co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
                std::string out;
                char buf[4096];
                for (;;) {
                    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
                    out.append(buf, n);
                    if (ec) break;
                }
                co_return out;
            }(server_->Port(), std::move(bytes), stall_open));
    }

    asio::io_context io_;
    Router router_;
    std::unique_ptr<Server> server_;
    std::string stored_;
    std::chrono::milliseconds slow_{300};
    bool in_slow_handler_ = false;
};

TEST_F(ServerClientTest, EveryResponseCarriesARequestId) {
    StartServer();
    Client c(io_.get_executor());
    auto r = Get(c, "/compute/hello?name=shoal");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->JsonBody().value()["hello"], "shoal");
    auto id = r->headers.Get("x-openstack-request-id");
    ASSERT_TRUE(id.has_value());
    EXPECT_TRUE(id->starts_with("req-"));
    auto missing = Get(c, "/compute/missing");
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->status, 404);
    EXPECT_TRUE(missing->headers.Has("x-openstack-request-id"));
}

TEST_F(ServerClientTest, KeepAliveReusesOneConnection) {
    StartServer();
    Client c(io_.get_executor());
    for (int i = 0; i < 20; ++i) ASSERT_EQ(Get(c, "/compute/hello")->status, 200);
    EXPECT_EQ(c.ConnectionsOpened(), 1u);
    EXPECT_EQ(c.IdleConnections(), 1u);
}

TEST_F(ServerClientTest, ManyConcurrentClientsAllServed) {
    StartServer();
    Client c(io_.get_executor());
    int ok = 0;
    auto worker = [&](int) -> asio::awaitable<void> {
        for (int i = 0; i < 20; ++i) {
            Request req;
            req.target = "/compute/hello";
            auto r = co_await c.Send(Endpoint{"127.0.0.1", server_->Port()}, req);
            if (r.ok() && r->status == 200) ++ok;
        }
    };
    shoal::testing::Run(io_, [&]() -> asio::awaitable<void> {
        std::vector<std::future<void>> fs;
        for (int w = 0; w < 50; ++w) fs.push_back(asio::co_spawn(io_, worker(w), asio::use_future));
        asio::steady_timer t(io_);
        for (auto& f : fs)
            while (f.wait_for(0s) != std::future_status::ready) {
                t.expires_after(1ms);
                co_await t.async_wait(asio::use_awaitable);
            }
    }());
    EXPECT_EQ(ok, 50 * 20);
    EXPECT_LE(c.ConnectionsOpened(), 50u);
}

TEST_F(ServerClientTest, OversizeBodyIs413InTheServiceStyle) {
    ServerOptions o;
    o.max_body_bytes = 1024;
    StartServer(o);
    Client c(io_.get_executor());
    Request req;
    req.method = Method::kPost;
    req.target = "/compute/echo";
    req.body = std::string(2048, 'x');
    auto r = shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, req));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->JsonBody().value()["overLimit"]["code"], 413);
    // A route may allow more.
    req.method = Method::kPut;
    req.target = "/compute/big";
    auto big = shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, req));
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(big->status, 200);
    EXPECT_EQ(big->JsonBody().value()["size"], 2048);
}

TEST_F(ServerClientTest, ChunkedOversizeBodyIs413) {
    ServerOptions o;
    o.max_body_bytes = 16;
    StartServer(o);
    auto out = RawExchange("POST /compute/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                           std::string(32, 'a') + "\r\n0\r\n\r\n");
    EXPECT_NE(out.find("413"), std::string::npos) << out;
}

TEST_F(ServerClientTest, SlowHeadersAreCutOff) {
    ServerOptions o;
    o.header_timeout = 200ms;
    StartServer(o);
    // Half a request line and then nothing: the server must hang up on its own.
    auto out = RawExchange("GET /compute/hel");
    EXPECT_EQ(out, "");
    EXPECT_EQ(server_->OpenConnections(), 0u);
}

TEST_F(ServerClientTest, SlowBodyIsCutOff) {
    ServerOptions o;
    o.body_timeout = 200ms;
    StartServer(o);
    auto out = RawExchange("POST /compute/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-ten!!");
    EXPECT_EQ(out, "");
}

TEST_F(ServerClientTest, IdleKeepAliveConnectionsAreClosedAndTheClientRecovers) {
    ServerOptions o;
    o.idle_timeout = 100ms;
    StartServer(o);
    Client c(io_.get_executor());
    ASSERT_EQ(Get(c, "/compute/hello")->status, 200);
    // The server drops the idle connection on its own (polled: no timing assumption).
    for (int i = 0; i < 1000 && server_->OpenConnections() > 0; ++i) shoal::testing::RunFor(io_, 10ms);
    EXPECT_EQ(server_->OpenConnections(), 0u);
    auto again = Get(c, "/compute/hello");  // the pooled connection is dead: transparently replaced
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->status, 200);
    EXPECT_EQ(c.ConnectionsOpened(), 2u);
}

TEST_F(ServerClientTest, MalformedRequestIs400) {
    StartServer();
    auto out = RawExchange("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_NE(out.find("400"), std::string::npos) << out;
}

// A body that does not parse is answered, not dropped (tests/e2e/hostile_clients_test.sh).
TEST_F(ServerClientTest, MalformedChunkedBodyIs400InTheServiceStyle) {
    StartServer();
    auto out = RawExchange("POST /compute/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
    EXPECT_NE(out.find("\"badRequest\""), std::string::npos) << out;
}

// Requests that do not parse still get the error shape of the service their path names.
TEST_F(ServerClientTest, UnparsedRequestsGetTheStyleOfTheirPath) {
    StartServer();
    for (const auto& raw : std::vector<std::string>{
             std::string("GET /compute/servers/%zz HTTP/1.1\r\nHost: x\r\n\r\n"),                   // bad target
             std::string("GET /compute/hello HTTP/1.1\r\nX-Auth-Token: \x01\r\n\r\n"),              // bad header value
             "GET /compute/hello HTTP/1.1\r\nX-Junk: " + std::string(20 * 1024, 'j') + "\r\n\r\n",  // too large
         }) {
        auto out = RawExchange(raw);
        EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
        EXPECT_NE(out.find("\"badRequest\""), std::string::npos) << raw.substr(0, 60) << ": " << out;
    }
    auto other = RawExchange("GET /elsewhere/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(other.find("{\"error\""), std::string::npos) << other;
}

TEST_F(ServerClientTest, ExpectContinueIsHonoured) {
    StartServer();
    auto out = RawExchange(
        "POST /compute/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: "
        "close\r\n\r\nabc");
    EXPECT_NE(out.find("100 Continue"), std::string::npos);
    EXPECT_NE(out.find("\"size\":3"), std::string::npos) << out;
}

TEST_F(ServerClientTest, LargeBodiesStreamToAndFromDisk) {
    StartServer();
    Client c(io_.get_executor());
    auto src = std::filesystem::temp_directory_path() / ("shoal-src-" + std::to_string(getpid()));
    {
        std::ofstream out(src, std::ios::binary);
        for (int i = 0; i < 3 * 1024 * 1024; ++i) out.put(static_cast<char>(i * 7));
    }
    Request up;
    up.method = Method::kPut;
    up.target = "/upload";
    up.headers.Set("Content-Type", "application/octet-stream");
    up.body_file = src.string();
    auto r = shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, up));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(ReadFile(stored_), ReadFile(src.string()));

    auto dst = src.string() + ".out";
    Request down;
    down.target = "/download";
    auto d = shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, down, std::nullopt, dst));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->status, 200);
    EXPECT_EQ(ReadFile(dst), ReadFile(src.string()));
    std::filesystem::remove(src);
    std::filesystem::remove(dst);
}

TEST_F(ServerClientTest, ClientTimeoutIsATypedError) {
    slow_ = 2000ms;
    StartServer();
    Client c(io_.get_executor());
    auto r = Get(c, "/slow", 100ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
}

TEST_F(ServerClientTest, RefusedConnectionIsUnavailable) {
    StartServer();
    auto port = server_->Port();
    shoal::testing::Run(io_, server_->Shutdown(100ms));
    Client c(io_.get_executor());
    Request req;
    req.target = "/compute/hello";
    auto r = shoal::testing::Run(io_, c.Send(Endpoint{"127.0.0.1", port}, req));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST_F(ServerClientTest, GracefulShutdownFinishesRequestsInFlight) {
    StartServer();
    Client c(io_.get_executor());
    Request req;
    req.target = "/slow";
    auto pending = asio::co_spawn(io_, c.Send(Endpoint{"127.0.0.1", server_->Port()}, req), asio::use_future);
    io_.restart();
    while (!in_slow_handler_) io_.run_one_for(10ms);  // the request is now inside the handler
    shoal::testing::Run(io_, server_->Shutdown(5000ms));
    io_.restart();
    for (int i = 0; i < 500 && pending.wait_for(0s) != std::future_status::ready; ++i) io_.run_one_for(10ms);
    ASSERT_EQ(pending.wait_for(0s), std::future_status::ready);
    auto r = pending.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers.Get("Connection").value_or(""), "close");
    EXPECT_EQ(server_->OpenConnections(), 0u);
    auto after = Get(c, "/compute/hello");
    EXPECT_FALSE(after.ok());
}

}  // namespace
}  // namespace shoal::http
