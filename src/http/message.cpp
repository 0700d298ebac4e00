#include "http/message.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>

namespace shoal::http {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string_view MethodName(Method m) {
    switch (m) {
        case Method::kGet:
            return "GET";
        case Method::kHead:
            return "HEAD";
        case Method::kPost:
            return "POST";
        case Method::kPut:
            return "PUT";
        case Method::kPatch:
            return "PATCH";
        case Method::kDelete:
            return "DELETE";
        case Method::kOptions:
            return "OPTIONS";
        case Method::kUnknown:
            break;
    }
    return "UNKNOWN";
}

Method ParseMethod(std::string_view name) {
    for (Method m :
         {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete, Method::kOptions})
        if (MethodName(m) == name) return m;
    return Method::kUnknown;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
    for (const auto& [k, v] : fields_)
        if (IEquals(k, name)) return std::string_view(v);
    return std::nullopt;
}

void Headers::Set(std::string name, std::string value) {
    Remove(name);
    fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
    std::erase_if(fields_, [&](const auto& f) { return IEquals(f.first, name); });
}

bool Request::SetTarget(std::string t) {
    target = std::move(t);
    path.clear();
    query.clear();
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return false;
    path = parsed->path();  // decoded
    if (path.empty()) path = "/";
    for (auto param : parsed->params()) query.emplace_back(param.key, param.has_value ? param.value : "");
    return true;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
    for (const auto& [k, v] : query)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> Request::QueryAll(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : query)
        if (k == name) out.emplace_back(v);
    return out;
}

const std::string& Request::Param(std::string_view name) const {
    static const std::string kEmpty;
    auto it = path_params.find(name);
    return it == path_params.end() ? kEmpty : it->second;
}

namespace {
Result<nlohmann::json> ParseJson(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return MakeError(ErrorCode::kBadRequest, "Malformed request body: not valid JSON.");
    return j;
}
}  // namespace

Result<nlohmann::json> Request::JsonBody() const {
    return ParseJson(body);
}
Result<nlohmann::json> Response::JsonBody() const {
    return ParseJson(body);
}

std::string DumpJson(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response Response::Json(int status, const nlohmann::json& body) {
    Response r;
    r.status = status;
    r.headers.Set("Content-Type", "application/json");
    r.body = DumpJson(body);
    return r;
}

Response Response::Empty(int status) {
    Response r;
    r.status = status;
    return r;
}

std::string UrlEncode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    return out;
}

std::string EncodeQuery(const QueryParams& q) {
    std::string out;
    for (const auto& [k, v] : q) {
        if (!out.empty()) out.push_back('&');
        out += UrlEncode(k);
        out.push_back('=');
        out += UrlEncode(v);
    }
    return out;
}

std::string Url::Origin() const {
    return "http://" + host + ":" + std::to_string(port);
}

Result<Url> ParseUrl(std::string_view s) {
    auto parsed = boost::urls::parse_absolute_uri(s);
    if (!parsed) return MakeError(ErrorCode::kBadRequest, "Invalid URL: " + std::string(s));
    if (parsed->scheme() != "http")
        return MakeError(ErrorCode::kBadRequest, "Only http:// URLs are supported: " + std::string(s));
    Url url;
    url.host = parsed->host();
    if (url.host.empty()) return MakeError(ErrorCode::kBadRequest, "URL without a host: " + std::string(s));
    // No host name or address needs percent-encoding; decoded, "a%2Fb" would be another URL's
    // host and path once put back into one (Origin()).
    if (std::string(parsed->encoded_host()).find('%') != std::string::npos)
        return MakeError(ErrorCode::kBadRequest, "Invalid host in URL: " + std::string(s));
    if (parsed->has_port()) {
        auto port = parsed->port_number();
        if (port == 0) return MakeError(ErrorCode::kBadRequest, "Invalid port in URL: " + std::string(s));
        url.port = port;
    }
    url.target = parsed->encoded_path();
    // Boost.URL 1.81 reads "http://127.0.0.10.0.1:80/x" as host 127.0.0.10 and the path
    // ".0.1:80/x"; after an authority, RFC 3986 allows only an empty path or one starting "/".
    if (!url.target.empty() && url.target.front() != '/')
        return MakeError(ErrorCode::kBadRequest, "Invalid URL: " + std::string(s));
    if (url.target.empty()) url.target = "/";
    if (parsed->has_query()) {
        url.target += "?";
        url.target += parsed->encoded_query();
    }
    return url;
}

}  // namespace shoal::http
