// The bytes of one HTTP/1.1 request, read the way http::Server reads them: Beast's
// request_parser with the server's default limits (16 KiB of header, 1 MiB of body), then
// shoal's http::Request (method, header fields in order, SetTarget, body) and Router::Find on
// the agent's route shapes (the identity proxy's real routes, Nova's and Glance's patterns).
// Then what handlers do with a request: Query/QueryAll/Param, JsonBody, the error body of a
// 404/405, and two round trips: EncodeQuery(query) re-parsed gives the same query, and a parsed
// http:// URL rebuilt from Origin() + target parses to the same URL.
//
// The Beast -> http::Request step lives inside src/http/server.cpp (Impl::Serve, CopyHeaders);
// it is repeated here in four lines. Extracting it as `Result<Request> RequestFromHeader(const
// beast::http::request_header<>&)` beside server.cpp would let this target call it instead.
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/errors.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "identity/identity_proxy.hpp"

namespace {

namespace bhttp = boost::beast::http;
using shoal::http::Method;

void Check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz check failed: %s\n", what);
        std::abort();
    }
}

struct Routes {
    boost::asio::io_context io;
    shoal::identity::IdentityProxy identity{io.get_executor(), {.idp_auth_url = "http://127.0.0.1:5000/identity/v3"}};
    shoal::http::Router router;

    Routes() {
        identity.AddRoutes(router);
        auto none = [](shoal::http::Request&) -> shoal::Result<shoal::http::Response> {
            return shoal::http::Response::Empty(204);
        };
        router.SetErrorStyle("/compute", shoal::http::ErrorStyle::kNova);
        router.SetErrorStyle("/image", shoal::http::ErrorStyle::kGlance);
        router.SetErrorStyle("/placement", shoal::http::ErrorStyle::kPlacement);
        const std::pair<Method, const char*> routes[] = {
            {Method::kGet, "/compute"},
            {Method::kGet, "/compute/v2.1"},
            {Method::kGet, "/compute/v2.1/servers"},
            {Method::kGet, "/compute/v2.1/servers/detail"},
            {Method::kPost, "/compute/v2.1/servers"},
            {Method::kGet, "/compute/v2.1/servers/{server_id}"},
            {Method::kPut, "/compute/v2.1/servers/{server_id}"},
            {Method::kDelete, "/compute/v2.1/servers/{server_id}"},
            {Method::kPost, "/compute/v2.1/servers/{server_id}/action"},
            {Method::kGet, "/compute/v2.1/flavors/{flavor_id}/os-extra_specs/{key}"},
            {Method::kGet, "/compute/v2.1/os-hypervisors/{hypervisor_id}"},
            {Method::kGet, "/compute/v2.1/os-hypervisors/{pattern}/search"},
            {Method::kGet, "/image/v2/images"},
            {Method::kPost, "/image/v2/images"},
            {Method::kGet, "/image/v2/images/{image_id}"},
            {Method::kPatch, "/image/v2/images/{image_id}"},
            {Method::kPut, "/image/v2/images/{image_id}/file"},
            {Method::kPut, "/image/v2/images/{image_id}/tags/{tag}"},
            {Method::kGet, "/image/shoal-data/{tenant}/{image_id}"},
            {Method::kGet, "/placement/resource_providers/{uuid}/inventories"},
            {Method::kPost, "/a2a/cyclon"},
        };
        for (const auto& [m, p] : routes) router.AddSync(m, p, none);
    }
};

void FuzzUrl(const std::string& s) {
    auto url = shoal::http::ParseUrl(s);
    if (!url.ok()) return;
    Check(!url->host.empty() && !url->target.empty() && url->target.front() == '/', "ParseUrl: host and target");
    auto again = shoal::http::ParseUrl(url->Origin() + url->target);
    Check(again.ok(), "ParseUrl(Origin() + target) parses");
    Check(again->host == url->host && again->port == url->port && again->target == url->target,
          "ParseUrl(Origin() + target) is the same URL");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Routes* routes = new Routes();  // built once; never destroyed (libFuzzer exits with _exit)
    const shoal::http::ServerOptions limits;

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
    auto& msg = parser.get();

    shoal::http::Request req;
    req.method = shoal::http::ParseMethod(std::string_view(msg.method_string().data(), msg.method_string().size()));
    for (const auto& f : msg) req.headers.Add(std::string(f.name_string()), std::string(f.value()));
    if (!req.SetTarget(std::string(msg.target()))) return 0;
    req.body = std::move(msg.body());
    Check(!req.path.empty() && req.path.front() == '/', "SetTarget: the path starts with /");

    auto match = routes->router.Find(req);
    if (match.route) {
        for (const auto& name : match.route->param_names) (void)req.Param(name);
    } else {
        auto r = shoal::http::ErrorResponse(match.style, match.error, req.request_id,
                                            req.headers.Get("Accept").value_or("application/json"));
        Check(r.status == 404 || r.status == 405, "a route miss is 404 or 405");
    }
    for (const auto& [k, v] : req.query) {
        Check(req.Query(k).has_value(), "Query finds every key");
        Check(!req.QueryAll(k).empty(), "QueryAll finds every key");
    }
    if (auto body = req.JsonBody(); body.ok()) (void)shoal::http::DumpJson(*body);

    // The query as a client would send it again (http::Client, the proxies' cloudlet calls).
    shoal::http::Request again;
    Check(again.SetTarget("/x?" + shoal::http::EncodeQuery(req.query)), "EncodeQuery gives a valid target");
    Check(again.query == req.query || (req.query.empty() && again.query.size() == 1 && again.query[0].first.empty()),
          "EncodeQuery round trip");

    for (const auto& [name, value] : req.headers)
        if (value.starts_with("http")) FuzzUrl(value);  // Location, Referer, ...: absolute URLs
    if (auto host = req.headers.Get("Host")) FuzzUrl("http://" + std::string(*host) + req.target);
    return 0;
}
