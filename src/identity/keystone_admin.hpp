#pragma once

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "common/result.hpp"
#include "http/client.hpp"
#include "openstack/credentials.hpp"
#include "openstack/keystone_admin.hpp"

namespace shoal::identity {

// A user's password credentials, project-scoped, in the default domain.
using PasswordCredentials = openstack::Credentials;

// What an operator does with Keystone's admin API: log in, then make projects and users
// idempotently. Used by `shoal up` (the demo user) and `shoal bench` (one tenant per user).
class KeystoneAdmin {
public:
    KeystoneAdmin(http::Client& http, PasswordCredentials admin) : http_(http), admin_(std::move(admin)) {}

    boost::asio::awaitable<Result<Ok>> Login();
    // Makes (or finds) the project and the user in the default domain, sets the user's password,
    // and grants the user "member" (required) and "reader" (when the Keystone has it) on the
    // project, through the steps the agent uses at cloudlets (openstack/keystone_admin.hpp).
    // Returns the project's id.
    boost::asio::awaitable<Result<std::string>> EnsureMember(std::string project,
                                                             std::string username,
                                                             std::string password);

private:
    boost::asio::awaitable<Result<http::Response>> Call(http::Method method, std::string path, std::string body);
    // Call() with JSON in and out, as openstack/keystone_admin.hpp calls it.
    boost::asio::awaitable<Result<nlohmann::json>> JsonCall(http::Method method, std::string path, nlohmann::json body);
    openstack::KeystoneCall AdminCall();

    http::Client& http_;
    PasswordCredentials admin_;
    std::string token_;
};

// The body of a project-scoped password authentication (POST /v3/auth/tokens).
std::string PasswordAuthBody(const PasswordCredentials& c);

}  // namespace shoal::identity
