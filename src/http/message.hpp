#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>
#include <vector>

#include "common/result.hpp"

// Our own HTTP value types: handlers and clients never see Beast.
namespace shoal::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kUnknown };

std::string_view MethodName(Method m);
Method ParseMethod(std::string_view name);

// Ordered, case-insensitive header list (repeated fields allowed).
class Headers {
public:
    std::optional<std::string_view> Get(std::string_view name) const;
    void Set(std::string name, std::string value);  // replaces every field of that name
    void Add(std::string name, std::string value);
    void Remove(std::string_view name);
    bool Has(std::string_view name) const { return Get(name).has_value(); }

    auto begin() const { return fields_.begin(); }
    auto end() const { return fields_.end(); }
    std::size_t size() const { return fields_.size(); }

private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What this process itself established about a request, one typed value per kind: the caller
// (identity::Caller, set by the API gateway once the token checked out, or by its A2A route from
// a signed peer's call) and the agent that signed it (a2a). Never read from the wire: the server
// starts every request with an empty context, so no header, query or body field a client sends
// can stand in for it (docs/security.md).
class RequestContext {
public:
    template <class T>
    void Set(T value) {
        for (auto& [type, slot] : slots_)
            if (type == typeid(T)) {
                slot = std::make_shared<const T>(std::move(value));
                return;
            }
        slots_.emplace_back(typeid(T), std::make_shared<const T>(std::move(value)));
    }
    template <class T>
    const T* Get() const {
        for (const auto& [type, slot] : slots_)
            if (type == typeid(T)) return static_cast<const T*>(slot.get());
        return nullptr;
    }

private:
    std::vector<std::pair<std::type_index, std::shared_ptr<const void>>> slots_;
};

struct Request {
    Method method = Method::kGet;
    std::string target;  // path and query as on the wire ("/v2.1/servers?limit=2")
    std::string path;    // percent-decoded path, without the query
    QueryParams query;   // percent-decoded, in order
    Headers headers;
    std::string body;
    // Set instead of `body` when the route asked for its body on disk (image uploads). The
    // server deletes the file after the handler returns unless the handler moved it away.
    std::string body_file;
    std::map<std::string, std::string, std::less<>> path_params;  // filled by the Router
    std::string request_id;                                       // our x-openstack-request-id
    RequestContext context;                                       // set in process only, never parsed

    // Sets target and derives path and query from it; false when the target is malformed.
    bool SetTarget(std::string target);
    std::optional<std::string_view> Query(std::string_view name) const;
    std::vector<std::string_view> QueryAll(std::string_view name) const;
    const std::string& Param(std::string_view name) const;  // path parameter; "" if absent
    // Parses the JSON body; a malformed body is an Error{kBadRequest}.
    Result<nlohmann::json> JsonBody() const;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;
    std::string body_file;  // when set, the body is streamed from this file

    static Response Json(int status, const nlohmann::json& body);
    static Response Empty(int status);
    Result<nlohmann::json> JsonBody() const;
};

// Serialises untrusted strings safely (invalid UTF-8 is replaced, never thrown on).
std::string DumpJson(const nlohmann::json& j);

// Percent-encodes one path segment or query value.
std::string UrlEncode(std::string_view s);
// Joins query parameters into "a=1&b=2" (encoded), empty when none.
std::string EncodeQuery(const QueryParams& q);

// An absolute http:// URL split for the client.
struct Url {
    std::string host;
    std::uint16_t port = 80;
    std::string target;          // path + query, at least "/"
    std::string Origin() const;  // "http://host:port"
};
Result<Url> ParseUrl(std::string_view url);

}  // namespace shoal::http
