#include "http/errors.hpp"

namespace shoal::http {

int StatusOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return 400;
        case ErrorCode::kUnauthorized:
            return 401;
        case ErrorCode::kForbidden:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kNotAcceptable:
            return 406;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMedia:
            return 415;
        case ErrorCode::kTooManyRequests:
            return 429;
        case ErrorCode::kInternal:
            return 500;
        case ErrorCode::kNotImplemented:
            return 501;
        case ErrorCode::kBadGateway:
            return 502;
        case ErrorCode::kUnavailable:
            return 503;
        case ErrorCode::kTimeout:
            return 504;
    }
    return 500;
}

ErrorCode ErrorCodeOfStatus(int status) {
    switch (status) {
        case 400:
            return ErrorCode::kBadRequest;
        case 401:
            return ErrorCode::kUnauthorized;
        case 403:
            return ErrorCode::kForbidden;
        case 404:
            return ErrorCode::kNotFound;
        case 405:
            return ErrorCode::kMethodNotAllowed;
        case 406:
            return ErrorCode::kNotAcceptable;
        case 409:
            return ErrorCode::kConflict;
        case 413:
            return ErrorCode::kPayloadTooLarge;
        case 415:
            return ErrorCode::kUnsupportedMedia;
        case 429:
            return ErrorCode::kTooManyRequests;
        case 501:
            return ErrorCode::kNotImplemented;
        case 502:
            return ErrorCode::kBadGateway;
        case 503:
            return ErrorCode::kUnavailable;
        case 504:
            return ErrorCode::kTimeout;
        default:
            return status >= 500 ? ErrorCode::kInternal : ErrorCode::kBadRequest;
    }
}

std::string_view ReasonOf(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 409:
            return "Conflict";
        case 413:
            return "Request Entity Too Large";
        case 415:
            return "Unsupported Media Type";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Error";
    }
}

namespace {

// nova/api/openstack/wsgi.py Fault._fault_names
std::string_view NovaFaultName(int status) {
    switch (status) {
        case 400:
            return "badRequest";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "itemNotFound";
        case 405:
            return "badMethod";
        case 406:
            return "notAcceptable";
        case 409:
            return "conflictingRequest";
        case 413:
            return "overLimit";
        case 415:
            return "badMediaType";
        case 429:
            return "overLimit";
        case 501:
            return "notImplemented";
        case 503:
            return "serviceUnavailable";
        default:
            return "computeFault";
    }
}

}  // namespace

Response ErrorResponse(ErrorStyle style, const Error& error, std::string_view request_id, std::string_view accept) {
    int status = StatusOf(error.code);
    std::string title(ReasonOf(status));
    if (style == ErrorStyle::kGlance && accept.find("application/json") == std::string_view::npos) {
        Response r;
        r.status = status;
        r.headers.Set("Content-Type", "text/html; charset=UTF-8");
        std::string head = std::to_string(status) + " " + title;
        r.body = "<html>\n <head>\n  <title>" + head + "</title>\n </head>\n <body>\n  <h1>" + head + "</h1>\n  " +
                 error.message + "<br /><br />\n\n\n\n </body>\n</html>";
        return r;
    }
    nlohmann::json body;
    switch (style) {
        case ErrorStyle::kNova:
            body[std::string(NovaFaultName(status))] = {{"code", status}, {"message", error.message}};
            break;
        case ErrorStyle::kKeystone:
            body["error"] = {{"code", status}, {"message", error.message}, {"title", title}};
            break;
        case ErrorStyle::kGlance:
            body = {{"code", std::to_string(status) + " " + title}, {"title", title}, {"message", error.message}};
            break;
        case ErrorStyle::kPlacement:
            body["errors"] = nlohmann::json::array({{{"status", status},
                                                     {"title", title},
                                                     {"detail", error.message},
                                                     {"request_id", std::string(request_id)}}});
            break;
        case ErrorStyle::kPlain:
            body["error"] = {{"code", status}, {"message", error.message}};
            break;
    }
    auto r = Response::Json(status, body);
    if (status == 401 && style == ErrorStyle::kKeystone) r.headers.Set("WWW-Authenticate", "Keystone uri=\"\"");
    return r;
}

std::string ErrorMessageOf(const Response& response) {
    auto parsed = response.JsonBody();
    if (!parsed.ok() || !parsed->is_object()) return response.body;
    const auto& j = *parsed;
    if (j.contains("message") && j["message"].is_string()) return j["message"];
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() && j["errors"][0].contains("detail"))
        return j["errors"][0]["detail"].get<std::string>();
    for (const auto& [key, value] : j.items())
        if (value.is_object() && value.contains("message") && value["message"].is_string()) return value["message"];
    return response.body;
}

}  // namespace shoal::http
