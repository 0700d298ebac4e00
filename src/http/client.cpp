#include "http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <vector>

#include "http/big_file_body.hpp"

namespace shoal::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Client::Impl {
    struct Pooled {
        std::unique_ptr<beast::tcp_stream> stream;
        std::chrono::steady_clock::time_point idle_since;
    };
    asio::any_io_executor executor;
    ClientOptions options;
    std::map<std::string, std::vector<Pooled>> idle;
    std::size_t opened = 0;
    std::chrono::steady_clock::time_point next_sweep{};

    // Closes connections idle longer than max_idle_age for every endpoint, not only the one in
    // use: a client that talks to many peers once each (an agent's shuffles) would otherwise keep
    // a socket per peer forever. Amortised: at most twice per max_idle_age.
    void Sweep() {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_sweep) return;
        next_sweep = now + options.max_idle_age / 2;
        for (auto it = idle.begin(); it != idle.end();) {
            std::erase_if(it->second, [&](const Pooled& p) { return now - p.idle_since >= options.max_idle_age; });
            it = it->second.empty() ? idle.erase(it) : std::next(it);
        }
    }

    static std::string Key(const Endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

    std::unique_ptr<beast::tcp_stream> TakeIdle(const std::string& key) {
        auto it = idle.find(key);
        if (it == idle.end()) return nullptr;
        auto now = std::chrono::steady_clock::now();
        while (!it->second.empty()) {
            Pooled p = std::move(it->second.back());
            it->second.pop_back();
            if (now - p.idle_since < options.max_idle_age && p.stream->socket().is_open()) return std::move(p.stream);
        }
        return nullptr;
    }

    void GiveBack(const std::string& key, std::unique_ptr<beast::tcp_stream> s) {
        Sweep();
        auto& v = idle[key];
        if (v.size() >= options.max_idle_per_endpoint) return;
        s->expires_never();
        v.push_back(Pooled{std::move(s), std::chrono::steady_clock::now()});
    }

    asio::awaitable<Result<std::unique_ptr<beast::tcp_stream>>> Connect(const Endpoint& ep) {
        auto stream = std::make_unique<beast::tcp_stream>(executor);
        std::vector<tcp::endpoint> targets;
        beast::error_code ec;
        auto addr = asio::ip::make_address(ep.host, ec);
        if (!ec) {
            targets.emplace_back(addr, ep.port);
        } else {
            tcp::resolver resolver(executor);
            auto [rec, results] = co_await resolver.async_resolve(ep.host, std::to_string(ep.port), kNoThrow);
            if (rec) co_return MakeError(ErrorCode::kUnavailable, "Cannot resolve " + ep.host + ": " + rec.message());
            for (const auto& r : results) targets.push_back(r.endpoint());
        }
        stream->expires_after(options.connect_timeout);
        auto [cec, connected] = co_await stream->async_connect(targets, kNoThrow);
        (void)connected;
        if (cec == beast::error::timeout)
            co_return MakeError(ErrorCode::kTimeout, "Timed out connecting to " + Key(ep) + ".");
        if (cec) co_return MakeError(ErrorCode::kUnavailable, "Cannot connect to " + Key(ep) + ": " + cec.message());
        stream->socket().set_option(tcp::no_delay(true), ec);
        ++opened;
        co_return stream;
    }

    // One exchange on an open stream. `fresh` tells a reused connection that the server had
    // already closed (retry) from a real failure.
    struct Attempt {
        std::optional<Result<Response>> result;
        bool stale = false;  // failed before any response byte on a pooled connection: retry
        bool reusable = false;
    };

    asio::awaitable<Attempt> Exchange(beast::tcp_stream& stream,
                                      const Endpoint& ep,
                                      const Request& req,
                                      std::chrono::milliseconds timeout,
                                      const std::string& download_to,
                                      bool pooled) {
        Attempt a;
        stream.expires_after(timeout);
        beast::error_code wec;
        auto set_common = [&](auto& r) {
            r.version(11);
            r.method_string(std::string(MethodName(req.method)));
            r.target(req.target.empty() ? "/" : req.target);
            for (const auto& [k, v] : req.headers) r.insert(k, v);
            if (!req.headers.Has("Host")) r.set(bhttp::field::host, ep.host + ":" + std::to_string(ep.port));
            r.keep_alive(true);
        };
        if (!req.body_file.empty()) {
            bhttp::request<detail::BigFileBody> r;
            set_common(r);
            r.body().open(req.body_file.c_str(), beast::file_mode::scan, wec);
            if (wec) {
                a.result = MakeError(ErrorCode::kInternal, "Cannot read " + req.body_file + ": " + wec.message());
                co_return a;
            }
            r.prepare_payload();
            auto [ec, n] = co_await bhttp::async_write(stream, r, kNoThrow);
            (void)n;
            wec = ec;
        } else {
            bhttp::request<bhttp::string_body> r;
            set_common(r);
            r.body() = req.body;
            if (!req.body.empty() || req.method == Method::kPost || req.method == Method::kPut ||
                req.method == Method::kPatch)
                r.prepare_payload();
            auto [ec, n] = co_await bhttp::async_write(stream, r, kNoThrow);
            (void)n;
            wec = ec;
        }
        if (wec) {
            a.stale = pooled && wec != beast::error::timeout;
            a.result = NetworkError(wec, ep, "sending");
            co_return a;
        }
        beast::flat_buffer buffer;
        Response resp;
        bhttp::response_parser<bhttp::empty_body> hparser;
        hparser.body_limit(boost::none);
        if (req.method == Method::kHead) hparser.skip(true);
        auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, hparser, kNoThrow);
        (void)hn;
        if (hec) {
            a.stale = pooled && (hec == bhttp::error::end_of_stream || hec == asio::error::connection_reset ||
                                 hec == asio::error::eof);
            a.result = NetworkError(hec, ep, "reading the response from");
            co_return a;
        }
        bool keep_alive = hparser.get().keep_alive();
        resp.status = static_cast<int>(hparser.get().result_int());
        for (const auto& f : hparser.get()) resp.headers.Add(std::string(f.name_string()), std::string(f.value()));
        if (!download_to.empty() && resp.status / 100 == 2) {
            bhttp::response_parser<bhttp::file_body> fparser(std::move(hparser));
            fparser.body_limit(boost::none);
            beast::error_code fec;
            fparser.get().body().open(download_to.c_str(), beast::file_mode::write, fec);
            if (fec) {
                a.result = MakeError(ErrorCode::kInternal, "Cannot write " + download_to + ": " + fec.message());
                co_return a;
            }
            auto [bec, bn] = co_await bhttp::async_read(stream, buffer, fparser, kNoThrow);
            (void)bn;
            fparser.get().body().close();
            if (bec) {
                a.result = NetworkError(bec, ep, "reading the body from");
                co_return a;
            }
            resp.body_file = download_to;
        } else {
            bhttp::response_parser<bhttp::string_body> sparser(std::move(hparser));
            sparser.body_limit(options.max_response_bytes);
            auto [bec, bn] = co_await bhttp::async_read(stream, buffer, sparser, kNoThrow);
            (void)bn;
            if (bec) {
                a.result = NetworkError(bec, ep, "reading the body from");
                co_return a;
            }
            resp.body = std::move(sparser.get().body());
        }
        a.reusable = keep_alive;
        a.result = std::move(resp);
        co_return a;
    }

    static Error NetworkError(const beast::error_code& ec, const Endpoint& ep, std::string_view what) {
        if (ec == beast::error::timeout)
            return MakeError(ErrorCode::kTimeout, "Timed out " + std::string(what) + " " + Key(ep) + ".");
        if (ec == bhttp::error::body_limit)
            return MakeError(ErrorCode::kBadGateway, "Response from " + Key(ep) + " is too large.");
        return MakeError(ErrorCode::kUnavailable,
                         "Connection to " + Key(ep) + " failed while " + std::string(what) + ": " + ec.message());
    }
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(Impl{std::move(executor), options, {}, 0})) {}

Client::~Client() = default;

asio::awaitable<Result<Response>> Client::Send(Endpoint endpoint,
                                               Request request,
                                               std::optional<std::chrono::milliseconds> timeout,
                                               std::string download_to) {
    auto impl = impl_;  // the client may be destroyed while we are suspended; keep the pool alive
    auto key = Impl::Key(endpoint);
    auto limit = timeout.value_or(impl->options.request_timeout);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto stream = impl->TakeIdle(key);
        bool pooled = stream != nullptr;
        if (!stream) {
            auto connected = co_await impl->Connect(endpoint);
            if (!connected.ok()) co_return connected.error();
            stream = std::move(connected).value();
        }
        auto a = co_await impl->Exchange(*stream, endpoint, request, limit, download_to, pooled);
        if (a.stale) continue;  // the server closed an idle keep-alive connection: use a new one
        if (a.reusable) impl->GiveBack(key, std::move(stream));
        co_return std::move(*a.result);
    }
    co_return MakeError(ErrorCode::kUnavailable, "Connection to " + key + " keeps closing.");
}

asio::awaitable<Result<Response>> Client::Send(std::string url,
                                               Request request,
                                               std::optional<std::chrono::milliseconds> timeout,
                                               std::string download_to) {
    auto parsed = ParseUrl(url);
    if (!parsed.ok()) co_return parsed.error();
    request.target = parsed->target;
    co_return co_await Send(Endpoint{parsed->host, parsed->port}, std::move(request), timeout, std::move(download_to));
}

std::size_t Client::IdleConnections() const {
    std::size_t n = 0;
    for (const auto& [k, v] : impl_->idle) n += v.size();
    return n;
}

std::size_t Client::ConnectionsOpened() const {
    return impl_->opened;
}

}  // namespace shoal::http
