// hostile_client: the attacker of tests/e2e/hostile_clients_test.sh. Raw sockets (Boost.Asio,
// one thread, C++20 coroutines) against a running shoal agent, one scenario per invocation:
//
//   hostile_client slowloris --connections N --interval-ms MS --give-up-s S PORT...
//       N connections per port, each trickling an endless header one byte per MS; every one must
//       be cut by the server (closed, or answered and closed) within S seconds.
//   hostile_client hold --connections N --seconds S [--ready-file F] PORT:PATH...
//       N connections (round-robin over the targets), each served one keep-alive GET PATH (any
//       status < 500) and then held idle; prints "held N" (and touches F) when all are, keeps
//       them S seconds, checks that they are still open, and closes them.
//   hostile_client requests --api-port P --a2a-port Q --token T --revoked-token R [--repeat K]
//       malformed and oversized requests on every JSON route, invalid ids, microversions, bad
//       tokens, broken HTTP framing: each must be answered, 4xx, with a JSON body in the
//       service's own error shape (Nova, Glance, Keystone; shoal's plain shape on A2A / framing).
//
// Each prints its figures and a last line "RESULT <scenario> key=value ..."; exit 1 on a failed
// expectation. No timing is asserted: waits are bounded only so that a hang fails the test.
#include <sys/resource.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

const auto kLoopback = asio::ip::make_address("127.0.0.1");

void RaiseFileLimit(std::size_t want) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < want + 64) {
        lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, want + 64);
        (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < want + 64) {
        std::cerr << "hostile_client: RLIMIT_NOFILE is " << lim.rlim_cur << " (hard " << lim.rlim_max << "), need "
                  << want + 64 << "\n";
        std::exit(2);
    }
}

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(kNoThrow);
}

std::string Seconds(Clock::duration d) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", std::chrono::duration<double>(d).count());
    return b;
}

// --- slowloris -----------------------------------------------------------------------------

struct SlowStats {
    std::size_t connected = 0, connect_failed = 0, cut = 0, answered = 0, bytes = 0;
    Clock::duration first_cut = Clock::duration::max(), last_cut{};
};

asio::awaitable<void> Slowloris(std::uint16_t port,
                                std::chrono::milliseconds interval,
                                Clock::time_point give_up,
                                SlowStats& st) {
    auto ex = co_await asio::this_coro::executor;
    tcp::socket s(ex);
    auto [cec] = co_await s.async_connect({kLoopback, port}, kNoThrow);
    if (cec) {
        ++st.connect_failed;
        co_return;
    }
    ++st.connected;
    const auto start = Clock::now();
    // The server closing (or answering) shows up as a completed read; keep one posted throughout.
    bool closed = false;
    auto buf = std::make_shared<std::array<char, 512>>();
    auto closed_flag = std::make_shared<bool>(false);
    auto answered_flag = std::make_shared<bool>(false);
    std::function<void()> post_read;
    post_read = [&s, buf, closed_flag, answered_flag, &post_read] {
        s.async_read_some(asio::buffer(*buf),
                          [&post_read, closed_flag, answered_flag](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                  *closed_flag = true;
                                  return;
                              }
                              if (n > 0) *answered_flag = true;
                              post_read();
                          });
    };
    post_read();
    const std::string head =
        "GET /compute/v2.1/flavors HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Trickle: ";
    std::size_t i = 0;
    while (Clock::now() < give_up && !*closed_flag) {
        char c = i < head.size() ? head[i] : static_cast<char>('a' + i % 26);
        ++i;
        auto [wec, n] = co_await asio::async_write(s, asio::buffer(&c, 1), kNoThrow);
        if (wec) break;  // reset: the server is gone from this connection
        st.bytes += n;
        co_await Sleep(interval);
    }
    // A write error can come before the read sees the close: give the read a moment.
    for (int k = 0; k < 20 && !*closed_flag && Clock::now() < give_up; ++k)
        co_await Sleep(std::chrono::milliseconds(50));
    closed = *closed_flag;
    if (!closed) {
        // Also a cut if the last write failed: probe once more.
        char c = 'x';
        auto [wec, n] = co_await asio::async_write(s, asio::buffer(&c, 1), kNoThrow);
        (void)n;
        if (wec) closed = true;
    }
    if (closed) {
        ++st.cut;
        if (*answered_flag) ++st.answered;
        auto d = Clock::now() - start;
        st.first_cut = std::min(st.first_cut, d);
        st.last_cut = std::max(st.last_cut, d);
    }
    beast::error_code ignored;
    s.close(ignored);
    // Let the cancelled read finish before `s` and `post_read` go away.
    while (!*closed_flag) co_await Sleep(std::chrono::milliseconds(10));
}

int RunSlowloris(std::size_t connections,
                 std::chrono::milliseconds interval,
                 std::chrono::seconds give_up_after,
                 const std::vector<std::uint16_t>& ports) {
    RaiseFileLimit(connections * ports.size());
    asio::io_context io(1);
    std::map<std::uint16_t, SlowStats> stats;
    const auto give_up = Clock::now() + give_up_after;
    for (auto p : ports)
        for (std::size_t i = 0; i < connections; ++i)
            asio::co_spawn(io, Slowloris(p, interval, give_up, stats[p]), asio::detached);
    io.run();
    bool ok = true;
    std::size_t total = 0, cut = 0, bytes = 0;
    for (auto& [p, st] : stats) {
        std::cout << "slowloris: port " << p << ": " << st.connected << " connected (" << st.connect_failed
                  << " failed), " << st.cut << " cut by the server";
        if (st.cut) std::cout << " after " << Seconds(st.first_cut) << " to " << Seconds(st.last_cut) << " s";
        std::cout << " (" << st.answered << " with an answer), " << st.bytes << " bytes trickled\n";
        if (st.connected != connections || st.cut != connections) ok = false;
        total += st.connected;
        cut += st.cut;
        bytes += st.bytes;
    }
    std::cout << "RESULT slowloris connections=" << total << " cut=" << cut << " bytes=" << bytes << "\n";
    if (!ok)
        std::cout << "FAIL: every slowloris connection must connect and be cut within " << give_up_after.count()
                  << " s\n";
    return ok ? 0 : 1;
}

// --- hold ----------------------------------------------------------------------------------

struct Target {
    std::uint16_t port;
    std::string path;
};

struct HoldStats {
    std::size_t served = 0, failed = 0, still_open = 0;
    std::map<int, std::size_t> statuses;
    std::vector<std::string> errors;
};

asio::awaitable<void> Hold(const Target& t,
                           std::vector<std::unique_ptr<beast::tcp_stream>>& held,
                           HoldStats& st,
                           std::size_t& in_flight) {
    auto ex = co_await asio::this_coro::executor;
    auto s = std::make_unique<beast::tcp_stream>(ex);
    s->expires_after(std::chrono::seconds(60));
    auto [cec] = co_await s->async_connect(tcp::endpoint{kLoopback, t.port}, kNoThrow);
    std::string err;
    if (!cec) {
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path, 11};
        req.set(bhttp::field::host, "127.0.0.1");
        req.keep_alive(true);
        auto [wec, wn] = co_await bhttp::async_write(*s, req, kNoThrow);
        (void)wn;
        if (!wec) {
            beast::flat_buffer buf;
            bhttp::response<bhttp::string_body> res;
            auto [rec, rn] = co_await bhttp::async_read(*s, buf, res, kNoThrow);
            (void)rn;
            if (!rec) {
                ++st.statuses[res.result_int()];
                if (res.result_int() < 500 && res.keep_alive()) {
                    ++st.served;
                    s->expires_never();
                    held.push_back(std::move(s));
                    --in_flight;
                    co_return;
                }
                err = "status " + std::to_string(res.result_int()) + (res.keep_alive() ? "" : " (closed)");
            } else {
                err = "read: " + rec.message();
            }
        } else {
            err = "write: " + wec.message();
        }
    } else {
        err = "connect: " + cec.message();
    }
    ++st.failed;
    if (st.errors.size() < 5) st.errors.push_back(err);
    --in_flight;
}

int RunHold(std::size_t connections,
            std::chrono::seconds seconds,
            const std::string& ready_file,
            const std::vector<Target>& targets) {
    RaiseFileLimit(connections);
    asio::io_context io(1);
    std::vector<std::unique_ptr<beast::tcp_stream>> held;
    HoldStats st;
    bool ok = true;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Waves of 200 handshakes at a time: within any listen backlog, as many at once as a
            // busy server will be asked for; all of them end up open together.
            std::size_t in_flight = 0;
            for (std::size_t i = 0; i < connections; ++i) {
                while (in_flight >= 200) co_await Sleep(std::chrono::milliseconds(2));
                ++in_flight;
                asio::co_spawn(co_await asio::this_coro::executor,
                               Hold(targets[i % targets.size()], held, st, in_flight), asio::detached);
            }
            while (in_flight > 0) co_await Sleep(std::chrono::milliseconds(5));
            std::cout << "held " << held.size() << std::endl;
            if (!ready_file.empty()) std::ofstream(ready_file) << held.size() << "\n";
            co_await Sleep(seconds);
            // Still open? A read that does not complete in 200 ms means the server kept it.
            for (auto& s : held) {
                beast::error_code ec;
                s->socket().non_blocking(true);
                char c;
                s->socket().read_some(asio::buffer(&c, 1), ec);
                if (ec == asio::error::would_block) ++st.still_open;
            }
            for (auto& s : held) s->socket().close();
        },
        asio::detached);
    io.run();
    std::cout << "hold: " << connections << " connections over";
    for (const auto& t : targets) std::cout << " " << t.port << t.path;
    std::cout << ": " << st.served << " served and held, " << st.failed << " failed, " << st.still_open
              << " still open after " << seconds.count() << " s; statuses:";
    for (auto [code, n] : st.statuses) std::cout << " " << code << "x" << n;
    std::cout << "\n";
    for (const auto& e : st.errors) std::cout << "  e.g. " << e << "\n";
    if (st.served != connections || st.still_open != connections) {
        ok = false;
        std::cout << "FAIL: every connection must be served and stay open while held\n";
    }
    std::cout << "RESULT hold connections=" << connections << " served=" << st.served << " still_open=" << st.still_open
              << "\n";
    return ok ? 0 : 1;
}

// --- requests ------------------------------------------------------------------------------

enum class Style { kNova, kGlance, kKeystone, kPlain, kAnyJson };

const char* StyleName(Style s) {
    switch (s) {
        case Style::kNova:
            return "nova";
        case Style::kGlance:
            return "glance";
        case Style::kKeystone:
            return "keystone";
        case Style::kPlain:
            return "plain";
        case Style::kAnyJson:
            return "json";
    }
    return "?";
}

struct Case {
    std::string name;
    std::uint16_t port = 0;
    std::string head;  // request line and headers, without the blank line
    std::string body;
    bool chunked = false;    // send `body` chunked instead of with a Content-Length
    bool no_length = false;  // send neither (the head says what it wants)
    std::set<int> statuses;  // empty: any 4xx
    Style style = Style::kAnyJson;
};

// "" if `j` is an error body of `style` for `status`, else what is wrong.
std::string CheckShape(Style style, int status, const json& j) {
    if (!j.is_object() || j.empty()) return "not a JSON object";
    auto code_msg = [&](const json& o, bool title) -> std::string {
        if (!o.is_object()) return "fault is not an object";
        if (!o.contains("code") || !o["code"].is_number_integer() || o["code"].get<int>() != status)
            return "no code " + std::to_string(status);
        if (!o.contains("message") || !o["message"].is_string() || o["message"].get<std::string>().empty())
            return "no message";
        if (title && (!o.contains("title") || !o["title"].is_string())) return "no title";
        return "";
    };
    switch (style) {
        case Style::kNova: {
            // {"badRequest": {"code": 400, "message": "..."}}: one fault, named by Nova.
            static const std::set<std::string> faults = {
                "badRequest",         "unauthorized", "forbidden",    "itemNotFound",   "badMethod",   "notAcceptable",
                "conflictingRequest", "overLimit",    "badMediaType", "notImplemented", "computeFault"};
            if (j.size() != 1) return "not one fault";
            if (!faults.contains(j.begin().key())) return "fault name '" + j.begin().key() + "' is not Nova's";
            return code_msg(j.begin().value(), false);
        }
        case Style::kKeystone:
            if (j.size() != 1 || !j.contains("error")) return "not {\"error\": ...}";
            return code_msg(j["error"], true);
        case Style::kPlain:
            if (j.size() != 1 || !j.contains("error")) return "not {\"error\": ...}";
            return code_msg(j["error"], false);
        case Style::kGlance: {
            // webob's JSON error: {"code": "400 Bad Request", "title": "Bad Request", "message": "..."}
            if (!j.contains("code") || !j["code"].is_string() ||
                j["code"].get<std::string>().rfind(std::to_string(status) + " ", 0) != 0)
                return "no code \"" + std::to_string(status) + " ...\"";
            if (!j.contains("title") || !j["title"].is_string()) return "no title";
            if (!j.contains("message") || !j["message"].is_string()) return "no message";
            return "";
        }
        case Style::kAnyJson:
            return "";
    }
    return "unknown style";
}

struct Outcome {
    bool ok = false;
    int status = 0;
    std::string detail;
};

asio::awaitable<Outcome> RunCase(const Case& c) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream s(ex);
    // Bounded only so that a hang fails instead of blocking the test.
    s.expires_after(std::chrono::seconds(60));
    Outcome o;
    auto [cec] = co_await s.async_connect(tcp::endpoint{kLoopback, c.port}, kNoThrow);
    if (cec) {
        o.detail = "connect: " + cec.message();
        co_return o;
    }
    std::string head = c.head + "\r\n";
    if (c.chunked)
        head += "Transfer-Encoding: chunked\r\n";
    else if (!c.no_length && (!c.body.empty() || c.head.rfind("POST", 0) == 0 || c.head.rfind("PUT", 0) == 0 ||
                              c.head.rfind("PATCH", 0) == 0))
        head += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
    head += "Connection: close\r\n\r\n";
    // A naive client, like most: the whole request first (write errors noted, not fatal), then
    // the answer. A server that answers early must still let that answer arrive.
    std::string write_error;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(head), kNoThrow);
    (void)wn;
    if (wec) write_error = wec.message();
    if (!wec && !c.body.empty()) {
        if (c.chunked) {
            for (std::size_t off = 0; off < c.body.size() && !wec; off += 64 * 1024) {
                auto piece = std::string_view(c.body).substr(off, 64 * 1024);
                char size[32];
                std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
                std::string chunk = std::string(size) + std::string(piece) + "\r\n";
                std::tie(wec, wn) = co_await asio::async_write(s, asio::buffer(chunk), kNoThrow);
            }
            if (!wec)
                std::tie(wec, wn) = co_await asio::async_write(s, asio::buffer(std::string("0\r\n\r\n")), kNoThrow);
        } else {
            std::tie(wec, wn) = co_await asio::async_write(s, asio::buffer(c.body), kNoThrow);
        }
        if (wec) write_error = wec.message();
    }
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    auto [rec, rn] = co_await bhttp::async_read(s, buf, parser, kNoThrow);
    (void)rn;
    if (rec) {
        o.detail = "no answer (" + rec.message() + (write_error.empty() ? "" : "; write: " + write_error) + ")";
        co_return o;
    }
    auto& res = parser.get();
    o.status = res.result_int();
    const std::string body = res.body();
    auto excerpt = body.substr(0, 160);
    if (o.status < 400 || o.status > 499) {
        o.detail = "status " + std::to_string(o.status) + ": " + excerpt;
        co_return o;
    }
    if (!c.statuses.empty() && !c.statuses.contains(o.status)) {
        o.detail = "status " + std::to_string(o.status) + " not the expected one: " + excerpt;
        co_return o;
    }
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        o.detail = "status " + std::to_string(o.status) + " with a body that is not JSON: '" + excerpt + "'";
        co_return o;
    }
    if (auto why = CheckShape(c.style, o.status, j); !why.empty()) {
        o.detail =
            "status " + std::to_string(o.status) + ", not a " + StyleName(c.style) + " error (" + why + "): " + excerpt;
        co_return o;
    }
    o.ok = true;
    o.detail = excerpt;
    co_return o;
}

// A literal with its NUL bytes.
template <std::size_t N>
std::string Lit(const char (&s)[N]) {
    return std::string(s, N - 1);
}

std::string RandomUuid(std::mt19937_64& rng) {
    const char* hex = "0123456789abcdef";
    std::string u;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) u += '-';
        u += hex[rng() % 16];
    }
    return u;
}

std::vector<Case> BuildCases(std::uint16_t api,
                             std::uint16_t a2a,
                             const std::string& token,
                             const std::string& revoked) {
    std::mt19937_64 rng(7);
    const std::string uuid = RandomUuid(rng);
    const std::string auth = "\r\nHost: 127.0.0.1\r\nX-Auth-Token: " + token;
    const std::string json_ct = "\r\nContent-Type: application/json\r\nAccept: application/json";
    std::vector<Case> cs;
    auto add = [&](std::string name, std::uint16_t port, std::string head, std::string body, std::set<int> statuses,
                   Style style) {
        Case c;
        c.name = std::move(name);
        c.port = port;
        c.head = std::move(head);
        c.body = std::move(body);
        c.statuses = std::move(statuses);
        c.style = style;
        cs.push_back(std::move(c));
        return &cs.back();
    };
    const std::string deep(200'000, '[');
    const std::string bad_utf8 =
        "{\"server\": {\"name\": \"\xff\xfe\xc3\", \"flavorRef\": \"1\", \"imageRef\": \"x\"}}";
    const std::vector<std::pair<std::string, std::string>> bad_json = {
        {"truncated", "{\"server\": "},
        {"not JSON", "this is not json"},
        {"array", "[]"},
        {"null", "null"},
        {"wrong types", "{\"server\": {\"name\": 5, \"flavorRef\": [], \"imageRef\": {}}}"},
        {"string", "{\"server\": \"x\"}"},
        {"deep nesting", deep},
        {"invalid UTF-8", bad_utf8},
        {"NUL bytes", Lit("{\"server\": {\"name\": \"a\0b\"}}")},
        {"huge number", "{\"server\": {\"name\": 1e999999, \"min_count\": 99999999999999999999999}}"},
    };

    // Nova: create, update, action (unknown and malformed ids), list with bad microversions.
    const std::string nova = "/compute/v2.1";
    for (const auto& [what, body] : bad_json) {
        add("nova create, " + what, api, "POST " + nova + "/servers HTTP/1.1" + auth + json_ct, body, {400},
            Style::kNova);
        add("nova update, " + what, api, "PUT " + nova + "/servers/" + uuid + " HTTP/1.1" + auth + json_ct, body,
            {400, 404}, Style::kNova);
        add("nova action, " + what, api, "POST " + nova + "/servers/" + uuid + "/action HTTP/1.1" + auth + json_ct,
            body, {400, 404}, Style::kNova);
    }
    add("nova action, unknown action", api, "POST " + nova + "/servers/" + uuid + "/action HTTP/1.1" + auth + json_ct,
        "{\"selfDestruct\": null}", {400, 404}, Style::kNova);
    add("nova action, reboot type 7", api, "POST " + nova + "/servers/" + uuid + "/action HTTP/1.1" + auth + json_ct,
        "{\"reboot\": {\"type\": 7}}", {400, 404}, Style::kNova);
    add("nova create, text/plain", api, "POST " + nova + "/servers HTTP/1.1" + auth + "\r\nContent-Type: text/plain",
        "{}", {400, 415}, Style::kNova);
    for (const auto& id :
         std::vector<std::string>{"not-a-uuid", "%00", "%zz", "..%2F..%2Fetc%2Fpasswd", "%27%3B%20DROP%20TABLE%20x",
                                  std::string(300, 'f'), uuid, "%F0%9F%92%A9"}) {
        add("nova show server '" + id.substr(0, 24) + "'", api, "GET " + nova + "/servers/" + id + " HTTP/1.1" + auth,
            "", {400, 404}, Style::kNova);
        add("nova delete server '" + id.substr(0, 24) + "'", api,
            "DELETE " + nova + "/servers/" + id + " HTTP/1.1" + auth, "", {400, 404}, Style::kNova);
    }
    add("nova show flavor 'nope'", api, "GET " + nova + "/flavors/nope HTTP/1.1" + auth, "", {404}, Style::kNova);
    add("nova unknown path", api, "GET " + nova + "/no-such-thing HTTP/1.1" + auth, "", {404}, Style::kNova);
    add("nova method not allowed", api, "PATCH " + nova + "/flavors HTTP/1.1" + auth + json_ct, "{}", {404, 405},
        Style::kNova);
    for (const std::string v : {"OpenStack-API-Version: compute 9.99", "OpenStack-API-Version: compute 2.9999",
                                "X-OpenStack-Nova-API-Version: 3.0", "OpenStack-API-Version: compute 1.0"})
        add("nova microversion '" + v + "'", api, "GET " + nova + "/flavors HTTP/1.1" + auth + "\r\n" + v, "", {406},
            Style::kNova);
    for (const std::string v : {"OpenStack-API-Version: compute garbage", "OpenStack-API-Version: compute 2.",
                                "OpenStack-API-Version: compute 2.100000000000000000000000"})
        add("nova microversion '" + v + "'", api, "GET " + nova + "/flavors HTTP/1.1" + auth + "\r\n" + v, "",
            {400, 406}, Style::kNova);

    // Glance: create and patch (json-patch), unknown and invalid ids.
    const std::string glance = "/image/v2/images";
    for (const auto& [what, body] : bad_json) {
        // Glance takes any other string property as a custom one: {"server": "x"} is a valid image.
        if (what == "string") continue;
        add("glance create, " + what, api, "POST " + glance + " HTTP/1.1" + auth + json_ct, body, {400},
            Style::kGlance);
        add("glance patch, " + what, api,
            "PATCH " + glance + "/" + uuid + " HTTP/1.1" + auth +
                "\r\nContent-Type: application/openstack-images-v2.1-json-patch\r\nAccept: application/json",
            body, {400, 404}, Style::kGlance);
    }
    add("glance patch, bad op", api,
        "PATCH " + glance + "/" + uuid + " HTTP/1.1" + auth +
            "\r\nContent-Type: application/openstack-images-v2.1-json-patch\r\nAccept: application/json",
        "[{\"op\": \"explode\", \"path\": \"/name\"}]", {400, 404}, Style::kGlance);
    for (const auto& id : std::vector<std::string>{"not-a-uuid", "%zz", std::string(300, 'f'), uuid}) {
        add("glance show image '" + id.substr(0, 24) + "'", api,
            "GET " + glance + "/" + id + " HTTP/1.1" + auth + "\r\nAccept: application/json", "", {400, 404},
            Style::kGlance);
        add("glance delete image '" + id.substr(0, 24) + "'", api,
            "DELETE " + glance + "/" + id + " HTTP/1.1" + auth + "\r\nAccept: application/json", "", {400, 404},
            Style::kGlance);
    }

    // Keystone: auth/tokens with malformed and ill-typed bodies, a bad subject token.
    const std::string tokens = "/identity/v3/auth/tokens";
    for (const auto& [what, body] : bad_json)
        add("keystone auth, " + what, api, "POST " + tokens + " HTTP/1.1\r\nHost: 127.0.0.1" + json_ct, body, {400},
            Style::kKeystone);
    add("keystone auth, auth is 5", api, "POST " + tokens + " HTTP/1.1\r\nHost: 127.0.0.1" + json_ct, "{\"auth\": 5}",
        {400}, Style::kKeystone);
    add("keystone auth, ill-typed password", api, "POST " + tokens + " HTTP/1.1\r\nHost: 127.0.0.1" + json_ct,
        R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": [], "password": {}}}}}})",
        {400, 401}, Style::kKeystone);
    add("keystone auth, wrong password", api, "POST " + tokens + " HTTP/1.1\r\nHost: 127.0.0.1" + json_ct,
        R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"}, "password": "wrong"}}}}})",
        {401}, Style::kKeystone);
    add("keystone validate garbage subject", api,
        "GET " + tokens + " HTTP/1.1" + auth + "\r\nX-Subject-Token: garbage\r\nAccept: application/json", "",
        {401, 404}, Style::kKeystone);

    // Tokens: none, garbage, huge, binary, revoked; at Nova and at Glance.
    for (const auto& t : std::vector<std::string>{std::string(""), std::string("garbage"), std::string(8000, 'A'),
                                                  std::string("\x01\x7f\xfe tab\there"), revoked}) {
        std::string h = t.empty() ? "" : "\r\nX-Auth-Token: " + t;
        std::string label = t == revoked          ? "revoked"
                            : t.empty()           ? "no"
                            : t.size() > 100      ? "8000-byte"
                            : t.find('\x01') != 0 ? t
                                                  : "control-character";
        add("nova with " + label + " token", api, "GET " + nova + "/flavors HTTP/1.1\r\nHost: 127.0.0.1" + h, "",
            {400, 401}, Style::kNova);
        add("nova create with " + label + " token", api,
            "POST " + nova + "/servers HTTP/1.1\r\nHost: 127.0.0.1" + h + json_ct, "{\"server\": {}}", {400, 401},
            Style::kNova);
        add("glance with " + label + " token", api,
            "GET " + glance + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json" + h, "", {400, 401},
            Style::kGlance);
    }

    // Oversized: headers beyond 16 KiB (one huge header, many small ones, a huge target) on both
    // ports; bodies beyond 1 MiB on every JSON route, with a Content-Length, chunked, and with
    // Expect: 100-continue.
    const std::string big_header = "\r\nX-Junk: " + std::string(20 * 1024, 'h');
    std::string many_headers;
    for (int i = 0; i < 1500; ++i) many_headers += "\r\nX-Junk-" + std::to_string(i) + ": 0123456789";
    for (const auto& [port, path] : std::vector<std::pair<std::uint16_t, std::string>>{
             {api, nova + "/flavors"}, {api, glance}, {api, tokens}, {a2a, "/a2a/v1/status"}}) {
        add("20 KiB header, " + path, port, "GET " + path + " HTTP/1.1" + auth + big_header, "", {400, 431},
            Style::kAnyJson);
        add("1500 headers, " + path, port, "GET " + path + " HTTP/1.1" + auth + many_headers, "", {400, 431},
            Style::kAnyJson);
        add("20 KiB target, " + path, port, "GET " + path + "?q=" + std::string(20 * 1024, 'q') + " HTTP/1.1" + auth,
            "", {400, 414, 431}, Style::kAnyJson);
    }
    const std::string big_body = "{\"server\": {\"name\": \"" + std::string(2 * 1024 * 1024, 'x') + "\"}}";
    struct Route {
        std::string name, method, path, ct;
        Style style;
        std::uint16_t port;
    };
    const std::vector<Route> routes = {
        {"nova create", "POST", nova + "/servers", "application/json", Style::kNova, api},
        {"nova update", "PUT", nova + "/servers/" + uuid, "application/json", Style::kNova, api},
        {"nova action", "POST", nova + "/servers/" + uuid + "/action", "application/json", Style::kNova, api},
        {"glance create", "POST", glance, "application/json", Style::kGlance, api},
        {"glance patch", "PATCH", glance + "/" + uuid, "application/openstack-images-v2.1-json-patch", Style::kGlance,
         api},
        {"keystone auth", "POST", tokens, "application/json", Style::kKeystone, api},
        {"a2a overlay", "POST", "/a2a/v1/overlay", "application/json", Style::kPlain, a2a},
    };
    for (const auto& r : routes) {
        std::string head =
            r.method + " " + r.path + " HTTP/1.1" + auth + "\r\nContent-Type: " + r.ct + "\r\nAccept: application/json";
        // A2A checks the signature before anything: an unsigned giant is refused either way.
        std::set<int> expect = r.port == a2a ? std::set<int>{401, 413} : std::set<int>{413};
        add("2 MiB body, " + r.name, r.port, head, big_body, expect, r.style);
        add("2 MiB body chunked, " + r.name, r.port, head, big_body, expect, r.style)->chunked = true;
        auto* c = add("2 MiB body, Expect: 100-continue, " + r.name, r.port, head + "\r\nExpect: 100-continue", "",
                      expect, r.style);
        c->head += "\r\nContent-Length: " + std::to_string(big_body.size());
        c->no_length = true;  // the body is never sent: the server must answer on the headers
    }

    // A2A: unsigned, forged, and malformed signed-looking requests.
    for (const std::string path : {"/a2a/v1/status", "/a2a/v1/overlay", "/a2a/v1/api?method=GET&target=/", "/nope"}) {
        add("a2a unsigned POST " + path, a2a, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1" + json_ct, "{",
            {401, 404, 405}, Style::kPlain);
        add("a2a forged GET " + path, a2a,
            "GET " + path +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Shoal-Agent: agent1\r\nX-Shoal-Timestamp: 99999999999999999999"
                "\r\nX-Shoal-Nonce: \x01\x02\r\nX-Shoal-Signature: %%%%",
            "", {400, 401, 404}, Style::kPlain);
    }

    // Broken HTTP framing on both ports: answered 400 (any JSON error body), then closed.
    for (auto port : {api, a2a}) {
        const std::string p = port == api ? " (api)" : " (a2a)";
        auto raw = [&](std::string name, std::string bytes) {
            Case* c = add(std::move(name) + p, port, std::move(bytes), "", {400}, Style::kAnyJson);
            c->no_length = true;
        };
        raw("binary garbage", Lit("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                  "garbage"));
        raw("HTTP/9.9", "GET / HTTP/9.9\r\nHost: x");
        raw("bad Content-Length", "POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nContent-Length: abc");
        raw("negative Content-Length", "POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nContent-Length: -5");
        raw("two Content-Lengths",
            "POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7");
        raw("chunked and Content-Length",
            "POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked");
        raw("header without colon", "GET /compute/v2.1 HTTP/1.1\r\nHost: x\r\nthis is no header");
        raw("space before colon", "GET /compute/v2.1 HTTP/1.1\r\nHost : x");
        raw("target not origin-form", "GET compute/v2.1 HTTP/1.1\r\nHost: x");
        raw("NUL in target", Lit("GET /compute/v2.1/\0 HTTP/1.1\r\nHost: x"));
        Case* c = add("bad chunk size" + p, port,
                      "POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "",
                      {400}, Style::kAnyJson);
        c->no_length = true;
    }
    return cs;
}

int RunRequests(std::uint16_t api,
                std::uint16_t a2a,
                const std::string& token,
                const std::string& revoked,
                int repeat,
                bool verbose) {
    auto cases = BuildCases(api, a2a, token, revoked);
    asio::io_context io(1);
    std::vector<std::vector<Outcome>> outcomes(cases.size());
    std::size_t sent = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // 16 at a time: concurrency without turning this into the connection flood scenario.
            std::size_t next = 0, in_flight = 0, total = cases.size() * static_cast<std::size_t>(repeat);
            auto ex = co_await asio::this_coro::executor;
            while (next < total || in_flight > 0) {
                while (next < total && in_flight < 16) {
                    std::size_t i = next++ % cases.size();
                    ++in_flight;
                    ++sent;
                    asio::co_spawn(
                        ex,
                        [&, i]() -> asio::awaitable<void> {
                            outcomes[i].push_back(co_await RunCase(cases[i]));
                            --in_flight;
                        },
                        asio::detached);
                }
                co_await Sleep(std::chrono::milliseconds(2));
            }
        },
        asio::detached);
    io.run();
    std::size_t failed = 0;
    std::map<int, std::size_t> statuses;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        bool all_ok = true;
        for (const auto& o : outcomes[i]) {
            if (o.status) ++statuses[o.status];
            if (!o.ok) {
                ++failed;
                if (all_ok) std::cout << "FAIL: " << cases[i].name << ": " << o.detail << "\n";
                all_ok = false;
            }
        }
        if (all_ok && verbose)
            std::cout << "ok: " << cases[i].name << ": " << outcomes[i].front().status << " "
                      << outcomes[i].front().detail.substr(0, 100) << "\n";
    }
    std::cout << "requests: " << cases.size() << " cases x " << repeat << " = " << sent << " requests, " << failed
              << " failed; statuses:";
    for (auto [code, n] : statuses) std::cout << " " << code << "x" << n;
    std::cout << "\nRESULT requests cases=" << cases.size() << " sent=" << sent << " failed=" << failed << "\n";
    return failed == 0 ? 0 : 1;
}

int Usage() {
    std::cerr << "usage: hostile_client slowloris|hold|requests ... (see the comment at the top of "
                 "tests/e2e/hostile/hostile_client.cpp)\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return Usage();
    const std::string mode = argv[1];
    std::map<std::string, std::string> opt;
    std::vector<std::string> positional;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--verbose") {
            opt[a] = "1";
        } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
            opt[a] = argv[++i];
        } else {
            positional.push_back(a);
        }
    }
    auto num = [&](const std::string& k, long def) { return opt.contains(k) ? std::stol(opt[k]) : def; };
    try {
        if (mode == "slowloris") {
            std::vector<std::uint16_t> ports;
            for (const auto& p : positional) ports.push_back(static_cast<std::uint16_t>(std::stoi(p)));
            if (ports.empty()) return Usage();
            return RunSlowloris(num("--connections", 300), std::chrono::milliseconds(num("--interval-ms", 1000)),
                                std::chrono::seconds(num("--give-up-s", 40)), ports);
        }
        if (mode == "hold") {
            std::vector<Target> targets;
            for (const auto& p : positional) {
                auto colon = p.find(':');
                if (colon == std::string::npos) return Usage();
                targets.push_back({static_cast<std::uint16_t>(std::stoi(p.substr(0, colon))), p.substr(colon + 1)});
            }
            if (targets.empty()) return Usage();
            return RunHold(num("--connections", 5000), std::chrono::seconds(num("--seconds", 5)), opt["--ready-file"],
                           targets);
        }
        if (mode == "requests") {
            if (!opt.contains("--api-port") || !opt.contains("--a2a-port") || !opt.contains("--token")) return Usage();
            return RunRequests(static_cast<std::uint16_t>(num("--api-port", 0)),
                               static_cast<std::uint16_t>(num("--a2a-port", 0)), opt["--token"],
                               opt.contains("--revoked-token") ? opt["--revoked-token"] : "revoked-token-missing",
                               static_cast<int>(num("--repeat", 1)), opt.contains("--verbose"));
        }
    } catch (const std::exception& e) {
        std::cerr << "hostile_client: " << e.what() << "\n";
        return 2;
    }
    return Usage();
}
