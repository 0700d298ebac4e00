#include "http/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <list>
#include <string_view>

#include "common/ids.hpp"
#include "common/spawn.hpp"
#include "http/big_file_body.hpp"

namespace shoal::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    struct Session {
        beast::tcp_stream* stream = nullptr;
        bool busy = false;
    };

    asio::any_io_executor executor;
    const Router& router;
    ServerOptions options;
    tcp::acceptor acceptor;
    std::list<Session> sessions;
    bool stopping = false;
    std::uint16_t port = 0;

    Impl(asio::any_io_executor ex, const Router& r, ServerOptions o)
        : executor(ex), router(r), options(std::move(o)), acceptor(ex) {
        if (options.spool_dir.empty()) options.spool_dir = std::filesystem::temp_directory_path().string();
    }

    asio::awaitable<void> AcceptLoop() {
        auto self = shared_from_this();
        while (!stopping) {
            auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
            if (ec) {
                if (ec == asio::error::operation_aborted || stopping) break;
                spdlog::warn("http: accept failed: {}", ec.message());
                // EMFILE and friends: back off instead of spinning.
                asio::steady_timer t(executor, std::chrono::milliseconds(50));
                co_await t.async_wait(kNoThrow);
                continue;
            }
            SpawnDetached(executor, RunSession(std::move(socket)), "http: session died");
        }
    }

    asio::awaitable<void> RunSession(tcp::socket socket) {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        if (sessions.size() >= options.max_connections) {
            Response r = ErrorResponse(ErrorStyle::kPlain, MakeError(ErrorCode::kUnavailable, "Too many connections."));
            bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
            res.set(bhttp::field::content_type, "application/json");
            res.set(bhttp::field::connection, "close");
            res.body() = r.body;
            res.prepare_payload();
            stream.expires_after(std::chrono::seconds(1));
            co_await bhttp::async_write(stream, res, kNoThrow);
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            co_return;
        }
        sessions.push_back(Session{&stream, false});
        auto me = std::prev(sessions.end());
        try {
            co_await Serve(stream, *me);
        } catch (...) {
            sessions.erase(me);
            throw;
        }
        sessions.erase(me);
    }

    static void CopyHeaders(const bhttp::fields& from, Headers& to) {
        for (const auto& f : from) to.Add(std::string(f.name_string()), std::string(f.value()));
    }

    template <class Body>
    asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, bhttp::response<Body>& res) {
        stream.expires_after(options.write_timeout);
        auto [ec, n] = co_await bhttp::async_write(stream, res, kNoThrow);
        (void)n;
        co_return !ec;
    }

    asio::awaitable<bool> Send(beast::tcp_stream& stream, Response& r, bool head, bool keep_alive, unsigned version) {
        auto fill = [&](auto& res) {
            res.version(version);
            res.result(static_cast<unsigned>(r.status));
            for (const auto& [k, v] : r.headers) res.insert(k, v);
            res.keep_alive(keep_alive);
        };
        if (!r.body_file.empty() && !head) {
            bhttp::response<detail::BigFileBody> res;
            fill(res);
            beast::error_code ec;
            res.body().open(r.body_file.c_str(), beast::file_mode::scan, ec);
            if (ec) {
                Response err =
                    ErrorResponse(router.StyleFor("/"), MakeError(ErrorCode::kInternal, "Data unavailable."));
                r.status = err.status;
                r.body = err.body;
                r.body_file.clear();
                r.headers.Set("Content-Type", "application/json");
                co_return co_await Send(stream, r, head, keep_alive, version);
            }
            res.prepare_payload();
            co_return co_await WriteResponse(stream, res);
        }
        bhttp::response<bhttp::string_body> res;
        fill(res);
        if (head) {
            res.content_length(r.body.size());
        } else {
            res.body() = std::move(r.body);
            // 204 and 304 must carry no body and no Content-Length.
            if (r.status == 204 || r.status == 304)
                res.body().clear();
            else
                res.prepare_payload();
        }
        co_return co_await WriteResponse(stream, res);
    }

    asio::awaitable<void> Serve(beast::tcp_stream& stream, Session& state) {
        beast::flat_buffer buffer;
        bool first = true;
        for (;;) {
            if (stopping) break;
            state.busy = false;
            stream.expires_after(first ? options.header_timeout : options.idle_timeout);
            first = false;
            auto hparser = std::make_unique<bhttp::request_parser<bhttp::empty_body>>();
            hparser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
            hparser->body_limit(boost::none);
            auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, *hparser, kNoThrow);
            (void)n;
            if (ec) {
                if (ec == bhttp::error::header_limit) {
                    Response r = ErrorResponse(StyleOfUnparsed(*hparser, buffer),
                                               MakeError(ErrorCode::kBadRequest, "Request header fields too large."));
                    co_await Send(stream, r, false, false, 11);
                } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                           ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                           ec != asio::error::eof && ec != asio::error::bad_descriptor) {
                    Response r = ErrorResponse(StyleOfUnparsed(*hparser, buffer),
                                               MakeError(ErrorCode::kBadRequest, "Malformed HTTP request."));
                    co_await Send(stream, r, false, false, 11);
                }
                break;
            }
            state.busy = true;
            const auto& hdr = hparser->get();
            unsigned version = hdr.version();
            Request req;
            req.method = ParseMethod(std::string_view(hdr.method_string().data(), hdr.method_string().size()));
            req.request_id = NewRequestId();
            CopyHeaders(hdr, req.headers);
            bool keep_alive = hdr.keep_alive() && !stopping;
            bool head = req.method == Method::kHead;
            if (!req.SetTarget(std::string(hdr.target()))) {
                Response r = ErrorResponse(StyleOfUnparsed(*hparser, buffer),
                                           MakeError(ErrorCode::kBadRequest, "Malformed request target."));
                Finish(r, req);
                co_await Send(stream, r, head, false, version);
                break;
            }
            auto match = router.Find(req);
            std::size_t limit = options.max_body_bytes;
            if (match.route && match.route->options.max_body_bytes) limit = match.route->options.max_body_bytes;
            auto content_length = hparser->content_length();
            if ((content_length && *content_length > limit)) {
                Response r = ErrorResponse(
                    match.style,
                    MakeError(ErrorCode::kPayloadTooLarge, "Request is too large: " + std::to_string(*content_length) +
                                                               " bytes, the limit is " + std::to_string(limit) + "."),
                    req.request_id, AcceptOf(req));
                Finish(r, req);
                co_await Send(stream, r, head, false, version);  // the unread body makes the connection unusable
                break;
            }
            if (auto expect = req.headers.Get("Expect"); expect && beast::iequals(*expect, "100-continue")) {
                bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
                if (!co_await WriteResponse(stream, cont)) break;
            }

            stream.expires_after(options.body_timeout);
            beast::error_code body_ec;
            if (match.route && match.route->options.body_to_file) {
                bhttp::request_parser<bhttp::file_body> fparser(std::move(*hparser));
                fparser.body_limit(limit);
                req.body_file = (std::filesystem::path(options.spool_dir) / ("shoal-spool-" + NewHexId())).string();
                beast::error_code fec;
                fparser.get().body().open(req.body_file.c_str(), beast::file_mode::write, fec);
                if (fec) {
                    spdlog::error("http: cannot open spool file {}: {}", req.body_file, fec.message());
                    Response r = ErrorResponse(
                        match.style, MakeError(ErrorCode::kInternal, "Cannot store the request body."), req.request_id);
                    Finish(r, req);
                    co_await Send(stream, r, head, false, version);
                    break;
                }
                auto [bec, bn] = co_await bhttp::async_read(stream, buffer, fparser, kNoThrow);
                (void)bn;
                fparser.get().body().close();
                body_ec = bec;
            } else {
                bhttp::request_parser<bhttp::string_body> sparser(std::move(*hparser));
                sparser.body_limit(limit);
                auto [bec, bn] = co_await bhttp::async_read(stream, buffer, sparser, kNoThrow);
                (void)bn;
                body_ec = bec;
                if (!bec) req.body = std::move(sparser.get().body());
            }
            if (body_ec) {
                RemoveSpool(req);
                // A body that does not parse (a bad chunk) is answered like bad headers; a client
                // that went away or stalled (end of stream, partial message, timeout) is not.
                const bool malformed =
                    body_ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
                    body_ec != bhttp::error::end_of_stream && body_ec != bhttp::error::partial_message &&
                    body_ec != bhttp::error::body_limit;
                if (malformed) {
                    Response r =
                        ErrorResponse(match.style, MakeError(ErrorCode::kBadRequest, "Malformed request body."),
                                      req.request_id, AcceptOf(req));
                    Finish(r, req);
                    co_await Send(stream, r, head, false, version);
                } else if (body_ec == bhttp::error::body_limit) {
                    Response r =
                        ErrorResponse(match.style,
                                      MakeError(ErrorCode::kPayloadTooLarge, "Request is too large: the limit is " +
                                                                                 std::to_string(limit) + " bytes."),
                                      req.request_id, AcceptOf(req));
                    Finish(r, req);
                    co_await Send(stream, r, head, false, version);
                }
                break;
            }
            stream.expires_never();  // the handler may take long (an image import); the client decides
            Response r = co_await router.Invoke(match, req);
            RemoveSpool(req);
            Finish(r, req);
            keep_alive = keep_alive && !stopping;
            if (!co_await Send(stream, r, head, keep_alive, version)) break;
            if (!keep_alive) break;
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.close();
    }

    // The error shape for a request that did not parse: the service's own when its request line
    // names a path the router knows a style for (a Nova client gets {"badRequest": ...}), else
    // shoal's plain one. The parser holds the target once the start line parsed; before that (a
    // header over the limit) the line is still in the buffer.
    ErrorStyle StyleOfUnparsed(const bhttp::request_parser<bhttp::empty_body>& parser,
                               const beast::flat_buffer& buffer) const {
        std::string_view target(parser.get().target().data(), parser.get().target().size());
        if (target.empty()) {
            std::string_view raw(static_cast<const char*>(buffer.data().data()), buffer.size());
            raw = raw.substr(0, raw.find_first_of("\r\n"));
            auto sp = raw.find(' ');
            if (sp == std::string_view::npos) return ErrorStyle::kPlain;
            target = raw.substr(sp + 1);
            target = target.substr(0, target.find(' '));
        }
        target = target.substr(0, target.find_first_of("?#"));
        if (target.empty() || target.front() != '/') return ErrorStyle::kPlain;
        return router.StyleFor(target);
    }

    // As Router::Invoke: Glance answers HTML to a client that does not accept JSON.
    static std::string AcceptOf(const Request& req) {
        return std::string(req.headers.Get("Accept").value_or("application/json"));
    }

    static void RemoveSpool(Request& req) {
        if (req.body_file.empty()) return;
        std::error_code ec;
        std::filesystem::remove(req.body_file, ec);
        req.body_file.clear();
    }

    static void Finish(Response& r, const Request& req) {
        if (!r.headers.Has("x-openstack-request-id")) r.headers.Set("x-openstack-request-id", req.request_id);
        if (!r.headers.Has("Content-Type") && (!r.body.empty() || !r.body_file.empty()))
            r.headers.Set("Content-Type", "application/json");
    }
};

Server::Server(asio::any_io_executor executor, const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), router, std::move(options))) {}

Server::~Server() {
    beast::error_code ignored;
    impl_->stopping = true;
    impl_->acceptor.close(ignored);
    for (auto& s : impl_->sessions) s.stream->socket().close(ignored);
}

Result<std::uint16_t> Server::Listen(const std::string& address, std::uint16_t port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return MakeError(ErrorCode::kBadRequest, "Invalid listen address '" + address + "': " + ec.message());
    tcp::endpoint ep(addr, port);
    auto& acc = impl_->acceptor;
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        acc.close();
        return MakeError(ErrorCode::kUnavailable,
                         "Cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    }
    impl_->port = acc.local_endpoint().port();
    SpawnDetached(impl_->executor, impl_->AcceptLoop(), "http: accept loop died");
    return impl_->port;
}

std::uint16_t Server::Port() const {
    return impl_->port;
}

std::size_t Server::OpenConnections() const {
    return impl_->sessions.size();
}

asio::awaitable<void> Server::Shutdown(std::chrono::milliseconds grace) {
    auto impl = impl_;
    impl->stopping = true;
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto& s : impl->sessions)
        if (!s.busy) s.stream->socket().close(ignored);
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer timer(impl->executor);
    while (!impl->sessions.empty() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(kNoThrow);
        for (auto& s : impl->sessions)
            if (!s.busy) s.stream->socket().close(ignored);
    }
    for (auto& s : impl->sessions) s.stream->socket().close(ignored);
    while (!impl->sessions.empty()) {
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(kNoThrow);
    }
}

}  // namespace shoal::http
