#pragma once

#include <string>

namespace shoal::openstack {

// A Keystone v3 password login scoped to a project, as an openrc's OS_* variables give it. The
// agent's service account at its cloudlet, an operator's admin at the identity provider and a
// benchmark's users are all one of these.
struct Credentials {
    std::string auth_url;  // Keystone, with or without /v3: http://127.0.0.1:5000/identity/v3
    std::string username = "admin";
    std::string password;
    std::string project = "admin";
    std::string user_domain = "Default";     // names, as in OS_USER_DOMAIN_NAME
    std::string project_domain = "Default";  // OS_PROJECT_DOMAIN_NAME
    std::string region = "RegionOne";
};

}  // namespace shoal::openstack
