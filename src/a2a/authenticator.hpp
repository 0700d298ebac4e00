#pragma once

#include "a2a/request_signer.hpp"
#include "http/router.hpp"

namespace shoal::a2a {

// Router middleware for the A2A port: every request must carry a valid signature (see
// request_signer.hpp), otherwise it is answered 401 before any handler runs and counted in
// the verifier. The verified sender is in the request's context (SignedBy) for handlers.
http::Router::Middleware Authenticate(RequestVerifier& verifier);

}  // namespace shoal::a2a
