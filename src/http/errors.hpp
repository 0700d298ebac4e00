#pragma once

#include "common/error.hpp"
#include "http/message.hpp"

namespace shoal::http {

// Each OpenStack service shapes its error bodies differently; clients parse them.
enum class ErrorStyle {
    kNova,       // {"itemNotFound": {"code": 404, "message": "..."}}
    kKeystone,   // {"error": {"code": 404, "message": "...", "title": "Not Found"}}
    kGlance,     // {"code": "404 Not Found", "title": "Not Found", "message": "..."} (webob's JSON)
    kPlacement,  // {"errors": [{"status": 404, "title": "Not Found", "detail": "...", "request_id": "..."}]}
    kPlain,      // {"error": {"code": 404, "message": "..."}} for our own non-OpenStack APIs
};

int StatusOf(ErrorCode code);
std::string_view ReasonOf(int status);  // "Not Found"

// The one mapping from an Error to what goes on the wire. `accept` matters for Glance only:
// like webob, it answers JSON to clients that accept application/json and HTML otherwise
// (glanceclient sends "Accept: */*" and cannot parse a JSON error).
Response ErrorResponse(ErrorStyle style,
                       const Error& error,
                       std::string_view request_id = {},
                       std::string_view accept = "application/json");

// The reverse, for clients: the message inside any of the bodies above (or the raw body).
std::string ErrorMessageOf(const Response& response);
ErrorCode ErrorCodeOfStatus(int status);

}  // namespace shoal::http
