#include "a2a/peer_client.hpp"

#include <charconv>

#include "a2a/request_signer.hpp"
#include "http/errors.hpp"

namespace shoal::a2a {

Result<http::Endpoint> ParseAddress(std::string_view address) {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return MakeError(ErrorCode::kBadRequest, "peer address must be host:port: " + std::string(address));
    }
    unsigned port = 0;
    const auto digits = address.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
        return MakeError(ErrorCode::kBadRequest, "bad port in peer address: " + std::string(address));
    }
    return http::Endpoint(std::string(address.substr(0, colon)), static_cast<std::uint16_t>(port));
}

boost::asio::awaitable<Result<nlohmann::json>> PeerClient::Call(std::string address,
                                                                http::Method method,
                                                                std::string target,
                                                                nlohmann::json body,
                                                                std::chrono::milliseconds timeout) {
    auto endpoint = ParseAddress(address);
    if (!endpoint.ok()) co_return endpoint.error();
    http::Request request;
    request.method = method;
    request.SetTarget(std::move(target));
    if (!body.is_null()) {
        request.body = http::DumpJson(body);
        request.headers.Set("Content-Type", "application/json");
    }
    request.headers.Set("Accept", "application/json");
    SignRequest(request, secret_, self_id_, std::chrono::system_clock::now());
    auto response = co_await http_.Send(*endpoint, std::move(request), timeout);
    if (!response.ok()) co_return response.error();
    if (response->status < 200 || response->status > 299) {
        co_return MakeError(http::ErrorCodeOfStatus(response->status),
                            "agent " + address + ": " + http::ErrorMessageOf(*response));
    }
    if (response->body.empty()) co_return nlohmann::json::object();
    co_return response->JsonBody();
}

boost::asio::awaitable<Result<http::Response>> PeerClient::Send(std::string address,
                                                                http::Request request,
                                                                std::chrono::milliseconds timeout) {
    auto endpoint = ParseAddress(address);
    if (!endpoint.ok()) co_return endpoint.error();
    SignRequest(request, secret_, self_id_, std::chrono::system_clock::now());
    auto response = co_await http_.Send(*endpoint, std::move(request), timeout);
    if (!response.ok()) co_return Error{response.error().code, "agent " + address + ": " + response.error().message};
    co_return response;
}

}  // namespace shoal::a2a
