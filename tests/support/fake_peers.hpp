#pragma once

#include <boost/asio/awaitable.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "a2a/peer_client.hpp"
#include "a2a/request_signer.hpp"
#include "http/errors.hpp"
#include "http/router.hpp"

namespace shoal::testing {

// The fake of the A2A network: a request to "host:port" runs the A2A router registered at that
// address, in this process, as it would arrive from a socket (method, target, headers and body
// only; an empty context but for the sender, as a2a::Authenticate would set it after checking the
// signature). An address can be cut off, and every request is recorded.
class FakePeers final : public a2a::Peers {
public:
    explicit FakePeers(std::string self_id) : self_id_(std::move(self_id)) {}

    void Register(const std::string& address, const http::Router& a2a_router) { routers_[address] = &a2a_router; }
    void CutOff(const std::string& address) { cut_off_.insert(address); }
    // (address, target) of every request sent.
    const std::vector<std::pair<std::string, std::string>>& Sent() const { return sent_; }

    boost::asio::awaitable<Result<nlohmann::json>> Call(std::string address,
                                                        http::Method method,
                                                        std::string target,
                                                        nlohmann::json body,
                                                        std::chrono::milliseconds timeout) override {
        http::Request request;
        request.method = method;
        request.SetTarget(std::move(target));
        if (!body.is_null()) {
            request.body = http::DumpJson(body);
            request.headers.Set("Content-Type", "application/json");
        }
        auto answer = co_await Send(address, std::move(request), timeout);
        if (!answer.ok()) co_return answer.error();
        if (answer->status < 200 || answer->status > 299)
            co_return MakeError(http::ErrorCodeOfStatus(answer->status),
                                "agent " + address + ": " + http::ErrorMessageOf(*answer));
        if (answer->body.empty()) co_return nlohmann::json::object();
        co_return answer->JsonBody();
    }

    boost::asio::awaitable<Result<http::Response>> Send(std::string address,
                                                        http::Request request,
                                                        std::chrono::milliseconds) override {
        sent_.emplace_back(address, request.target);
        auto it = routers_.find(address);
        if (it == routers_.end() || cut_off_.contains(address))
            co_return MakeError(ErrorCode::kUnavailable, "agent " + address + ": connection refused");
        http::Request arrived;
        arrived.method = request.method;
        arrived.SetTarget(request.target);
        arrived.headers = request.headers;
        arrived.body = std::move(request.body);
        arrived.request_id = request.request_id;
        arrived.context.Set(a2a::SignedBy{self_id_});
        co_return co_await it->second->Dispatch(arrived);
    }

    const std::string& SelfId() const override { return self_id_; }

private:
    std::string self_id_;
    std::map<std::string, const http::Router*> routers_;
    std::set<std::string> cut_off_;
    std::vector<std::pair<std::string, std::string>> sent_;
};

}  // namespace shoal::testing
