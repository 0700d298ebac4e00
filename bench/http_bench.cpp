// Requests per second of a trivial JSON route: shoal's HTTP server (router, request id,
// error mapping, JSON) against a bare Beast coroutine server in the same run (the baseline).
// Each server runs on ONE thread; the load comes from raw keep-alive sockets on another.
#include <benchmark/benchmark.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>

#include "http/router.hpp"
#include "http/server.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr int kConnections = 32;

// The baseline: the smallest correct keep-alive Beast server.
asio::awaitable<void> BareSession(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        bhttp::request<bhttp::string_body> req;
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_type, "application/json");
        res.body() = R"({"hello": "world"})";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        if (wec) break;
    }
}

asio::awaitable<void> BareAccept(tcp::acceptor& acc) {
    for (;;) {
        auto [ec, s] = co_await acc.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        asio::co_spawn(acc.get_executor(), BareSession(std::move(s)), asio::detached);
    }
}

// Drives `total` requests over kConnections keep-alive connections; returns when done.
void Load(std::uint16_t port, std::int64_t total) {
    asio::io_context io(1);
    std::atomic<std::int64_t> left{total};
    const std::string request = "GET /compute/hello?name=world HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (int c = 0; c < kConnections; ++c) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                tcp::socket s(io);
                co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
                s.set_option(tcp::no_delay(true));
                beast::flat_buffer buffer;
                while (left.fetch_sub(1) > 0) {
                    co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
                    bhttp::response<bhttp::string_body> res;
                    co_await bhttp::async_read(s, buffer, res, asio::use_awaitable);
                    if (res.result_int() != 200) throw std::runtime_error("bad status");
                }
            },
            asio::detached);
    }
    io.run();
}

struct ServerThread {
    asio::io_context io{1};
    std::thread thread;
    ~ServerThread() { Stop(); }
    void Stop() {
        io.stop();
        if (thread.joinable()) thread.join();
    }
    void Start() {
        thread = std::thread([this] { io.run(); });
    }
};

void BM_BareBeastBaseline(benchmark::State& state) {
    ServerThread st;
    tcp::acceptor acc(st.io, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acc.local_endpoint().port();
    asio::co_spawn(st.io, BareAccept(acc), asio::detached);
    st.Start();
    for (auto _ : state) Load(port, state.range(0));
    state.SetItemsProcessed(state.iterations() * state.range(0));
    asio::post(st.io, [&] { acc.close(); });
}

void BM_ShoalServer(benchmark::State& state) {
    ServerThread st;
    shoal::http::Router router;
    router.SetErrorStyle("/compute", shoal::http::ErrorStyle::kNova);
    router.Get("/compute/hello", [](shoal::http::Request& r) -> shoal::Result<shoal::http::Response> {
        return shoal::http::Response::Json(200, {{"hello", r.Query("name").value_or("")}});
    });
    shoal::http::Server server(st.io.get_executor(), router);
    auto port = server.Listen("127.0.0.1", 0);
    if (!port.ok()) {
        state.SkipWithError(port.error().message.c_str());
        return;
    }
    st.Start();
    for (auto _ : state) Load(*port, state.range(0));
    state.SetItemsProcessed(state.iterations() * state.range(0));
    st.Stop();  // the server belongs to its thread: stop that thread before destroying it
}

}  // namespace

BENCHMARK(BM_BareBeastBaseline)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ShoalServer)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
