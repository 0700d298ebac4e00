#include "http/router.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace shoal::http {

struct Router::Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literal;
    std::unique_ptr<Node> param;
    std::map<Method, Route> routes;
};

namespace {

std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        if (i >= path.size()) break;
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::SetErrorStyle(std::string prefix, ErrorStyle style) {
    styles_.emplace_back(std::move(prefix), style);
}

ErrorStyle Router::StyleFor(std::string_view path) const {
    ErrorStyle best = ErrorStyle::kPlain;
    std::size_t best_len = 0;
    for (const auto& [prefix, style] : styles_) {
        bool under = path.starts_with(prefix) &&
                     (path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/');
        if (under && prefix.size() >= best_len) {
            best = style;
            best_len = prefix.size();
        }
    }
    return best;
}

void Router::Add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
    Node* node = root_.get();
    std::vector<std::string> names;
    for (auto seg : Split(pattern)) {
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            if (!node->param) node->param = std::make_unique<Node>();
            node = node->param.get();
            names.emplace_back(seg.substr(1, seg.size() - 2));
        } else {
            auto& child = node->literal[std::string(seg)];
            if (!child) child = std::make_unique<Node>();
            node = child.get();
        }
    }
    if (!node->routes.contains(method)) patterns_.emplace_back(method, std::string(pattern));
    node->routes[method] = Route{std::move(handler), options, StyleFor(pattern), std::move(names)};
}

void Router::AddSync(Method method, std::string_view pattern, SyncHandler handler, RouteOptions options) {
    Add(
        method, pattern,
        [h = std::move(handler)](Request& req) -> boost::asio::awaitable<Result<Response>> { co_return h(req); },
        options);
}

Router::Match Router::Find(Request& req) const {
    auto segs = Split(req.path);
    Match m;
    m.style = StyleFor(req.path);
    // Depth-first with backtracking: literal children before the parameter child.
    std::vector<std::string> params;
    const Node* found = nullptr;
    std::function<bool(const Node*, std::size_t)> walk = [&](const Node* n, std::size_t i) -> bool {
        if (i == segs.size()) {
            if (n->routes.empty()) return false;
            found = n;
            return true;
        }
        if (auto it = n->literal.find(segs[i]); it != n->literal.end() && walk(it->second.get(), i + 1)) return true;
        if (n->param) {
            params.emplace_back(segs[i]);
            if (walk(n->param.get(), i + 1)) return true;
            params.pop_back();
        }
        return false;
    };
    if (!walk(root_.get(), 0)) {
        m.error = MakeError(ErrorCode::kNotFound, "The resource could not be found.");
        return m;
    }
    auto it = found->routes.find(req.method);
    if (it == found->routes.end()) {
        m.error = MakeError(ErrorCode::kMethodNotAllowed,
                            "The method " + std::string(MethodName(req.method)) + " is not allowed for this resource.");
        return m;
    }
    const auto& names = it->second.param_names;
    for (std::size_t i = 0; i < params.size() && i < names.size(); ++i)
        req.path_params[names[i]] = std::move(params[i]);
    m.route = &it->second;
    m.style = it->second.style;
    return m;
}

boost::asio::awaitable<Response> Router::Invoke(const Match& match, Request& req) const {
    std::string accept(req.headers.Get("Accept").value_or("application/json"));
    if (!match.route) co_return ErrorResponse(match.style, match.error, req.request_id, accept);
    std::optional<Result<Response>> result;
    try {
        if (middleware_)
            result.emplace(co_await middleware_(req, match.route->handler));
        else
            result.emplace(co_await match.route->handler(req));
    } catch (const nlohmann::json::exception& e) {
        // A handler read a field of the wrong JSON type: the client's fault, said plainly.
        result.emplace(
            MakeError(ErrorCode::kBadRequest, std::string("Invalid input for field/attribute: ") + e.what()));
    } catch (const std::exception& e) {
        spdlog::error("{} {} failed: {} ({})", MethodName(req.method), req.path, e.what(), req.request_id);
        result.emplace(MakeError(ErrorCode::kInternal,
                                 "Unexpected API Error. Please report this at the shoal "
                                 "issue tracker and attach the request ID " +
                                     req.request_id + "."));
    }
    if (!result->ok()) co_return ErrorResponse(match.style, result->error(), req.request_id, accept);
    co_return std::move(*result).value();
}

boost::asio::awaitable<Response> Router::Dispatch(Request& req) const {
    auto m = Find(req);
    co_return co_await Invoke(m, req);
}

}  // namespace shoal::http
