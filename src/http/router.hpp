#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/errors.hpp"
#include "http/message.hpp"

namespace shoal::http {

using Handler = std::function<boost::asio::awaitable<Result<Response>>(Request&)>;
using SyncHandler = std::function<Result<Response>(Request&)>;

struct RouteOptions {
    std::size_t max_body_bytes = 0;  // 0: the server's default limit
    bool body_to_file = false;       // stream the body to a spool file (Request::body_file)
};

// A route table that reads like an API reference:
//   router.Get("/v2.1/servers/{server_id}", show_server);
// `{name}` matches one path segment; literal segments win over parameters
// ("/servers/detail" before "/servers/{id}"). A trailing slash is ignored.
class Router {
public:
    struct Route {
        Handler handler;
        RouteOptions options;
        ErrorStyle style;
        // Names of the route's `{params}` in path order: two routes may name the same position
        // differently ("/os-hypervisors/{hypervisor_id}" and "/os-hypervisors/{pattern}/search").
        std::vector<std::string> param_names;
    };
    struct Match {
        const Route* route = nullptr;  // null: `error` says why (404 or 405)
        Error error;
        ErrorStyle style = ErrorStyle::kPlain;
    };

    Router();
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    // Errors (including 404/405) for paths under `prefix` take this shape. Longest prefix wins.
    void SetErrorStyle(std::string prefix, ErrorStyle style);
    ErrorStyle StyleFor(std::string_view path) const;

    void Add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});
    void AddSync(Method method, std::string_view pattern, SyncHandler handler, RouteOptions options = {});

    void Get(std::string_view p, SyncHandler h) { AddSync(Method::kGet, p, std::move(h)); }
    void Head(std::string_view p, SyncHandler h) { AddSync(Method::kHead, p, std::move(h)); }
    void Post(std::string_view p, SyncHandler h) { AddSync(Method::kPost, p, std::move(h)); }
    void Put(std::string_view p, SyncHandler h) { AddSync(Method::kPut, p, std::move(h)); }
    void Patch(std::string_view p, SyncHandler h) { AddSync(Method::kPatch, p, std::move(h)); }
    void Delete(std::string_view p, SyncHandler h) { AddSync(Method::kDelete, p, std::move(h)); }

    // Runs around every matched handler (admission control, auth, metrics). `next` is the route's
    // handler; a middleware may answer without calling it.
    using Middleware = std::function<boost::asio::awaitable<Result<Response>>(Request&, const Handler& next)>;
    void Use(Middleware middleware) { middleware_ = std::move(middleware); }

    // Every route added, as (method, pattern), in the order added: for tests that must cover
    // each route (the tenant isolation matrix) and fail when one is added without a row.
    const std::vector<std::pair<Method, std::string>>& Routes() const { return patterns_; }

    // Finds the route for req.method/req.path and fills req.path_params.
    Match Find(Request& req) const;
    // Runs the matched handler; errors and exceptions become error responses in the route's style.
    boost::asio::awaitable<Response> Invoke(const Match& match, Request& req) const;
    // Find + Invoke, for tests and in-process callers.
    boost::asio::awaitable<Response> Dispatch(Request& req) const;

private:
    struct Node;
    std::unique_ptr<Node> root_;
    std::vector<std::pair<std::string, ErrorStyle>> styles_;
    Middleware middleware_;
    std::vector<std::pair<Method, std::string>> patterns_;
};

}  // namespace shoal::http
