#include "openstack/keystone_admin.hpp"

namespace shoal::openstack {

namespace asio = boost::asio;
using nlohmann::json;

std::string FirstId(const json& body, std::string_view collection) {
    if (!body.is_object()) return {};
    auto list = body.find(collection);
    if (list == body.end() || !list->is_array() || list->empty()) return {};
    const json& first = (*list)[0];
    return first.is_object() && first.contains("id") && first["id"].is_string() ? first["id"].get<std::string>()
                                                                                : std::string();
}

asio::awaitable<Result<std::string>> DomainId(KeystoneCall call, std::string domain) {
    auto by_name = co_await call(http::Method::kGet, "/domains?name=" + http::UrlEncode(domain), nullptr);
    if (!by_name.ok()) co_return by_name.error();
    std::string id = FirstId(*by_name, "domains");
    if (id.empty()) {
        // Not a name: maybe an id ("default").
        auto by_id = co_await call(http::Method::kGet, "/domains/" + http::UrlEncode(domain), nullptr);
        if (!by_id.ok()) {
            if (by_id.error().code == ErrorCode::kNotFound)
                co_return MakeError(ErrorCode::kNotFound, "no domain '" + domain + "' in Keystone");
            co_return by_id.error();
        }
        if (by_id->contains("domain") && (*by_id)["domain"].contains("id") && (*by_id)["domain"]["id"].is_string())
            id = (*by_id)["domain"]["id"];
    }
    if (id.empty()) co_return MakeError(ErrorCode::kBadGateway, "Keystone answered a domain without id");
    co_return id;
}

asio::awaitable<Result<FoundOrCreated>> FindOrCreate(KeystoneCall call,
                                                     std::string collection,
                                                     std::string entity,
                                                     std::string name,
                                                     std::string domain_id,
                                                     json fields) {
    const std::string query =
        "/" + collection + "?name=" + http::UrlEncode(name) + "&domain_id=" + http::UrlEncode(domain_id);
    auto found = co_await call(http::Method::kGet, query, nullptr);
    if (!found.ok()) co_return found.error();
    if (auto id = FirstId(*found, collection); !id.empty()) co_return FoundOrCreated{id, false, false};

    fields["name"] = name;
    fields["domain_id"] = domain_id;
    json body = json::object();
    body[entity] = std::move(fields);
    auto made = co_await call(http::Method::kPost, "/" + collection, std::move(body));
    if (made.ok()) {
        if (made->contains(entity) && (*made)[entity].contains("id") && (*made)[entity]["id"].is_string())
            co_return FoundOrCreated{(*made)[entity]["id"].get<std::string>(), true, false};
        co_return MakeError(ErrorCode::kBadGateway, "Keystone created a " + entity + " without an id");
    }
    if (made.error().code != ErrorCode::kConflict) co_return made.error();
    auto again = co_await call(http::Method::kGet, query, nullptr);
    if (!again.ok()) co_return again.error();
    if (auto id = FirstId(*again, collection); !id.empty()) co_return FoundOrCreated{id, false, true};
    co_return MakeError(ErrorCode::kConflict, "Keystone refused to create " + entity + " " + name +
                                                  " as a duplicate, but lists none: " + made.error().message);
}

asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> MemberRoles(KeystoneCall call) {
    std::vector<std::pair<std::string, std::string>> roles;
    for (const char* name : {"member", "_member_", "reader"}) {
        if (std::string_view(name) == "_member_" && !roles.empty()) continue;
        auto r = co_await call(http::Method::kGet, std::string("/roles?name=") + name, nullptr);
        if (!r.ok()) co_return r.error();
        if (auto id = FirstId(*r, "roles"); !id.empty()) roles.emplace_back(name, id);
    }
    if (roles.empty() || roles.front().first == "reader")
        co_return MakeError(ErrorCode::kNotFound, "Keystone has no member role");
    co_return roles;
}

asio::awaitable<Status> GrantRoles(KeystoneCall call,
                                   std::string project_id,
                                   std::string user_id,
                                   std::vector<std::pair<std::string, std::string>> roles) {
    for (const auto& [name, role_id] : roles) {
        auto r = co_await call(http::Method::kPut,
                               "/projects/" + http::UrlEncode(project_id) + "/users/" + http::UrlEncode(user_id) +
                                   "/roles/" + http::UrlEncode(role_id),
                               nullptr);
        if (!r.ok()) co_return Error{r.error().code, "granting " + name + ": " + r.error().message};
    }
    co_return Ok{};
}

}  // namespace shoal::openstack
