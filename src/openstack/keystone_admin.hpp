#pragma once

#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "http/message.hpp"

namespace shoal::openstack {

// The Keystone v3 admin steps that both the agent (a tenant's project and shadow user at each
// cloudlet, cloudlet::CloudletClient) and an operator's tools (the demo and benchmark users at
// the identity provider, identity::KeystoneAdmin) take, written once. They run over the
// caller's own transport and token:
//
// One admin API call: method, path under /v3 ("/projects?name=x"), JSON body (null: none) ->
// the answer's JSON (null when empty). A non-2xx answer must come back as an Error whose code is
// the status's (http::ErrorCodeOfStatus), so that a 409 reads as kConflict.
using KeystoneCall =
    std::function<boost::asio::awaitable<Result<nlohmann::json>>(http::Method, std::string, nlohmann::json)>;

// The id of the first entry of body[collection] ("" when there is none).
std::string FirstId(const nlohmann::json& body, std::string_view collection);

// A domain's id from its name or id ("Default" or "default").
boost::asio::awaitable<Result<std::string>> DomainId(KeystoneCall call, std::string domain);

struct FoundOrCreated {
    std::string id;
    bool created = false;  // made by this call
    bool raced = false;    // a create refused as a duplicate: someone made it meanwhile, theirs is used
};
// The `entity` ("project", "user") named `name` in `collection` ("projects", "users") of the
// domain, made with `fields` when there is none. Safe against concurrent creators (another
// agent process, an operator): a create refused as a duplicate is looked up again.
boost::asio::awaitable<Result<FoundOrCreated>> FindOrCreate(KeystoneCall call,
                                                            std::string collection,
                                                            std::string entity,
                                                            std::string name,
                                                            std::string domain_id,
                                                            nlohmann::json fields);

// The roles a tenant's users get, as (name, id): "member" (or "_member_", what clouds older
// than Rocky call it; kNotFound when neither exists) and "reader" when the Keystone has it.
boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> MemberRoles(KeystoneCall call);

// Grants each role to the user on the project (idempotent PUTs).
boost::asio::awaitable<Status> GrantRoles(KeystoneCall call,
                                          std::string project_id,
                                          std::string user_id,
                                          std::vector<std::pair<std::string, std::string>> roles);

}  // namespace shoal::openstack
