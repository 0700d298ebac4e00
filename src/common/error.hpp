#pragma once

#include <string>

namespace shoal {

// Protocol-agnostic failure kinds. The mapping to HTTP status and to each OpenStack
// service's error body lives in one place: src/http/errors.cpp.
enum class ErrorCode {
    kBadRequest,        // 400
    kUnauthorized,      // 401
    kForbidden,         // 403
    kNotFound,          // 404
    kMethodNotAllowed,  // 405
    kNotAcceptable,     // 406 (unsupported microversion)
    kConflict,          // 409
    kPayloadTooLarge,   // 413
    kUnsupportedMedia,  // 415
    kTooManyRequests,   // 429
    kInternal,          // 500
    kNotImplemented,    // 501
    kBadGateway,        // 502 (an upstream answered nonsense)
    kUnavailable,       // 503 (overloaded, or an upstream cannot be reached)
    kTimeout,           // 504
};

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
};

inline Error MakeError(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

}  // namespace shoal
