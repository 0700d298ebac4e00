#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/message.hpp"

namespace shoal::openstack {

// OpenStack wire knowledge shared by the agent's proxies and the embedded cloudlet: which
// microversion a client asked for, as oslo's microversion_parse reads it.

// The version asked of `service` ("compute", "placement", ...): `OpenStack-API-Version:
// <service> <version>`, folded over repeated fields and comma lists, the last entry for the
// service winning (service names are case-insensitive); else the legacy header, if named
// (Nova's X-OpenStack-Nova-API-Version). nullopt when the client asked for none.
std::optional<std::string> RequestedMicroversion(const http::Headers& headers,
                                                 std::string_view service,
                                                 std::string_view legacy_header = {});

// A request's Nova microversion once parsed, in its http::RequestContext: handlers read it there.
struct NovaVersion {
    int minor = 1;  // 2.<minor>
};

// Nova's microversion of a request, as its minor (2.<minor>): none asked is 2.1, "latest" is
// the maximum; a malformed one is 400 and one outside 2.1 .. 2.<max_minor> is 406, with Nova's
// messages.
Result<int> NovaMicroversion(const http::Headers& headers, int max_minor);

// The headers every Nova answer carries for the version it was served at.
void SetNovaVersionHeaders(http::Response& response, int minor);

}  // namespace shoal::openstack
