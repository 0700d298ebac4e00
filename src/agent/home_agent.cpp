#include "agent/home_agent.hpp"

#include <chrono>

#include "common/ids.hpp"
#include "common/time_format.hpp"

namespace shoal::agent {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

constexpr std::string_view kForwardedBy = "via";

Error Bad(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

Result<std::string> StringField(const json& j, const char* key, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) return Bad(std::string("resource: '") + key + "' is required");
        return std::string();
    }
    if (!it->is_string()) return Bad(std::string("resource: '") + key + "' must be a string");
    return it->get<std::string>();
}

}  // namespace

void HomeAgent::AddRoutes(http::Router& router) {
    const std::string base = "/a2a/v1/tenants/{tenant}";
    router.AddSync(http::Method::kGet, base + "/home", [this](http::Request& request) -> Result<http::Response> {
        const auto home = home_of_(request.Param("tenant"));
        return http::Response::Json(200, json{{"tenant", request.Param("tenant")},
                                              {"home", {{"id", home.id.str()}, {"address", home.address}}}});
    });
    auto add = [&](http::Method method, const std::string& pattern, auto member) {
        router.Add(method, pattern, [this, member](http::Request& request) {
            return Route(request, [this, member](http::Request& r) { return (this->*member)(r); });
        });
    };
    add(http::Method::kPost, base + "/resources", &HomeAgent::Create);
    add(http::Method::kGet, base + "/resources", &HomeAgent::List);
    add(http::Method::kGet, base + "/resources/{id}", &HomeAgent::Show);
    add(http::Method::kDelete, base + "/resources/{id}", &HomeAgent::Remove);
}

asio::awaitable<Result<http::Response>> HomeAgent::Route(http::Request& request, Local local) {
    const std::string tenant = request.Param("tenant");
    const auto home = home_of_(tenant);
    if (home.id.str() == self_id_ || request.Query(kForwardedBy)) {
        ++served_;
        co_return co_await local(request);
    }
    if (home.address.empty()) {
        co_return MakeError(ErrorCode::kUnavailable,
                            "home agent " + home.id.str() + " of tenant " + tenant + " is not in the overlay");
    }
    ++forwarded_;
    std::string target = request.target + (request.query.empty() ? "?" : "&") + std::string(kForwardedBy) + "=" +
                         http::UrlEncode(self_id_);
    json body;
    if (!request.body.empty()) {
        auto parsed = request.JsonBody();
        if (!parsed.ok()) co_return parsed.error();
        body = std::move(parsed).value();
    }
    auto answer = co_await peers_.Call(home.address, request.method, std::move(target), std::move(body),
                                       std::chrono::milliseconds(10'000));
    if (!answer.ok()) {
        // The home is unreachable (dead, but not yet out of every member list): say so; the
        // caller retries and lands on the next home once membership has caught up.
        if (answer.error().code == ErrorCode::kUnavailable || answer.error().code == ErrorCode::kTimeout) {
            co_return MakeError(ErrorCode::kUnavailable,
                                "home agent " + home.id.str() + " of tenant " + tenant + " is unreachable");
        }
        co_return answer.error();
    }
    co_return http::Response::Json(request.method == http::Method::kPost ? 201 : 200, *answer);
}

asio::awaitable<Result<http::Response>> HomeAgent::Create(http::Request& request) {
    auto body = request.JsonBody();
    if (!body.ok()) co_return body.error();
    auto it = body->find("resource");
    if (it == body->end() || !it->is_object()) co_return Bad("body must be {\"resource\": {...}}");
    const json& r = *it;
    state::ResourceRecord record;
    record.tenant = request.Param("tenant");
    auto id = StringField(r, "id", false);
    auto kind = StringField(r, "kind", true);
    auto cloudlet = StringField(r, "cloudlet", false);
    auto cloudlet_id = StringField(r, "cloudlet_id", false);
    auto status = StringField(r, "status", false);
    for (const auto* field : {&id, &kind, &cloudlet, &cloudlet_id, &status}) {
        if (!field->ok()) co_return field->error();
    }
    record.id = id->empty() ? NewUuid() : *id;
    record.kind = *kind;
    record.cloudlet = *cloudlet;
    record.cloudlet_id = *cloudlet_id;
    record.status = *status;
    if (auto extra = r.find("extra"); extra != r.end()) {
        if (!extra->is_object()) co_return Bad("resource: 'extra' must be an object");
        record.extra = *extra;
    }
    record.created_at = record.updated_at = UnixMillisNow();
    auto created = co_await state_.CreateResource(std::move(record));
    if (!created.ok()) co_return created.error();
    co_return http::Response::Json(201, json{{"resource", state::ToJson(*created)}, {"served_by", self_id_}});
}

asio::awaitable<Result<http::Response>> HomeAgent::List(http::Request& request) {
    std::string kind(request.Query("kind").value_or(""));
    auto records = co_await state_.ListResources(request.Param("tenant"), kind);
    if (!records.ok()) co_return records.error();
    json out = json::array();
    for (const auto& r : *records) out.push_back(state::ToJson(r));
    co_return http::Response::Json(200, json{{"resources", std::move(out)}, {"served_by", self_id_}});
}

asio::awaitable<Result<http::Response>> HomeAgent::Show(http::Request& request) {
    auto record = co_await state_.GetResource(request.Param("tenant"), request.Param("id"));
    if (!record.ok()) co_return record.error();
    co_return http::Response::Json(200, json{{"resource", state::ToJson(*record)}, {"served_by", self_id_}});
}

asio::awaitable<Result<http::Response>> HomeAgent::Remove(http::Request& request) {
    auto deleted = co_await state_.DeleteResource(request.Param("tenant"), request.Param("id"));
    if (!deleted.ok()) co_return deleted.error();
    co_return http::Response::Json(200, json{{"deleted", *deleted}, {"served_by", self_id_}});
}

}  // namespace shoal::agent
