// A Nova "create server" body as the agent's NovaProxy::Create reads it: http::Request::JsonBody,
// then compute::ParseServerCreate at microversions 2.1, 2.37 (networks required) and 2.79; then
// what the placement sends each cloudlet ({"server": ...} with the cloudlet's image and flavor,
// one name per instance). No exception may escape: the router would turn it into a 500 for what
// is the client's mistake (a 400).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compute/server_create.hpp"
#include "http/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    shoal::http::Request req;
    req.method = shoal::http::Method::kPost;
    req.body.assign(reinterpret_cast<const char*>(data), size);
    auto body = req.JsonBody();
    if (!body.ok()) return 0;
    for (int mv : {1, 37, 79}) {
        auto create = shoal::compute::ParseServerCreate(*body, mv);
        if (!create.ok()) continue;
        if (create->min_count < 1 || create->min_count > create->max_count ||
            create->max_count > shoal::compute::kMaxInstancesPerCreate || create->name.empty() ||
            create->server.contains("min_count") || create->server.contains("max_count")) {
            std::fprintf(stderr, "ParseServerCreate accepted an invalid create\n");
            std::abort();
        }
        nlohmann::json one = create->server;
        if (create->max_count > 1) one["name"] = create->name + "-" + std::to_string(create->max_count);
        one["imageRef"] = "5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f";
        one["flavorRef"] = create->flavor_ref;
        (void)shoal::http::DumpJson(nlohmann::json{{"server", one}});
    }
    return 0;
}
