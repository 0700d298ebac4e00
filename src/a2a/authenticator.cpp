#include "a2a/authenticator.hpp"

#include <spdlog/spdlog.h>

namespace shoal::a2a {

http::Router::Middleware Authenticate(RequestVerifier& verifier) {
    return [&verifier](http::Request& request,
                       const http::Handler& next) -> boost::asio::awaitable<Result<http::Response>> {
        auto sender = verifier.Verify(request, std::chrono::system_clock::now());
        if (!sender.ok()) {
            spdlog::warn("a2a: refused {} {}: {}", http::MethodName(request.method), request.path,
                         sender.error().message);
            co_return sender.error();
        }
        request.context.Set(SignedBy{std::move(sender).value()});
        co_return co_await next(request);
    };
}

}  // namespace shoal::a2a
