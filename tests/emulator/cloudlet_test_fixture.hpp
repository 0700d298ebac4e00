#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "async_test.hpp"
#include "emulator/cloudlet.hpp"
#include "http/client.hpp"

namespace shoal::emulator {

// A whole embedded cloudlet on 127.0.0.1:0, driven over real HTTP.
class CloudletFixture : public ::testing::Test {
protected:
    void StartCloudlet(CloudletConfig config) {
        cloudlet_ = std::make_unique<Cloudlet>(io_.get_executor(), std::move(config));
        auto port = cloudlet_->Start();
        ASSERT_TRUE(port.ok()) << port.error().message;
        client_ = std::make_unique<http::Client>(io_.get_executor());
    }
    void TearDown() override {
        if (cloudlet_) shoal::testing::Run(io_, cloudlet_->Stop());
    }

    http::Response Call(http::Method method,
                        const std::string& path,
                        const std::string& body = {},
                        const std::string& token = {},
                        const http::Headers& extra = {}) {
        http::Request req;
        req.method = method;
        req.body = body;
        if (!body.empty()) req.headers.Set("Content-Type", "application/json");
        if (!token.empty()) req.headers.Set("X-Auth-Token", token);
        for (const auto& [k, v] : extra) req.headers.Set(k, v);
        auto r = shoal::testing::Run(io_, client_->Send(cloudlet_->BaseUrl() + path, std::move(req)));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? std::move(r).value() : http::Response{};
    }

    std::string Token(const std::string& user, const std::string& password, const std::string& project) {
        nlohmann::json body = {
            {"auth",
             {{"identity",
               {{"methods", {"password"}},
                {"password", {{"user", {{"name", user}, {"domain", {{"id", "default"}}}, {"password", password}}}}}}},
              {"scope", {{"project", {{"name", project}, {"domain", {{"id", "default"}}}}}}}}}};
        auto r = Call(http::Method::kPost, "/identity/v3/auth/tokens", body.dump());
        EXPECT_EQ(r.status, 201) << r.body;
        return std::string(r.headers.Get("X-Subject-Token").value_or(""));
    }

    std::string AdminToken() {
        const auto& c = cloudlet_->Config();
        return Token(c.admin_user, c.admin_password, c.admin_project);
    }

    // Creates project `name` with user `name` (password "pw") holding the member role.
    std::string CreateTenant(const std::string& admin, const std::string& name) {
        auto p = Call(http::Method::kPost, "/identity/v3/projects",
                      nlohmann::json{{"project", {{"name", name}, {"domain_id", "default"}}}}.dump(), admin);
        EXPECT_EQ(p.status, 201) << p.body;
        std::string project_id = p.JsonBody().value()["project"]["id"];
        auto u = Call(http::Method::kPost, "/identity/v3/users",
                      nlohmann::json{{"user", {{"name", name}, {"domain_id", "default"}, {"password", "pw"}}}}.dump(),
                      admin);
        EXPECT_EQ(u.status, 201) << u.body;
        std::string user_id = u.JsonBody().value()["user"]["id"];
        auto roles = Call(http::Method::kGet, "/identity/v3/roles?name=member", {}, admin);
        std::string role_id = roles.JsonBody().value()["roles"][0]["id"];
        auto grant = Call(http::Method::kPut,
                          "/identity/v3/projects/" + project_id + "/users/" + user_id + "/roles/" + role_id, {}, admin);
        EXPECT_EQ(grant.status, 204) << grant.body;
        return Token(name, "pw", name);
    }

    boost::asio::io_context io_;
    std::unique_ptr<Cloudlet> cloudlet_;
    std::unique_ptr<http::Client> client_;
};

}  // namespace shoal::emulator
