// A Glance v2 "create image" body as the agent's GlanceProxy::Create reads it:
// http::Request::JsonBody, image::ParseImageCreate, the id set, the body serialised for the home
// cloudlet; then the same document as the cloudlet's answer through Translator::ImageToShoal, as
// every image answer is relayed (create, show, and the JSON-patch update, whose body the proxy
// passes on unread). No exception may escape (the router would answer 500).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "common/ids.hpp"
#include "http/message.hpp"
#include "image/image_create.hpp"
#include "translate/id_translation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    shoal::http::Request req;
    req.method = shoal::http::Method::kPost;
    req.body.assign(reinterpret_cast<const char*>(data), size);
    auto body = req.JsonBody();
    if (!body.ok()) return 0;
    if (auto create = shoal::image::ParseImageCreate(*body); create.ok()) {
        if (create->id && !shoal::IsUuid(*create->id)) {
            std::fprintf(stderr, "ParseImageCreate accepted a non-UUID id\n");
            std::abort();
        }
        create->body["id"] = create->id.value_or("5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f");
        (void)shoal::http::DumpJson(create->body);
    }
    if (body->is_object()) {
        shoal::translate::MemoryIdMap map;
        if (body->contains("id") && (*body)["id"].is_string())
            map.Add(shoal::translate::Kind::kImage, (*body)["id"].get<std::string>(), "c1",
                    (*body)["id"].get<std::string>());
        shoal::translate::Translator t(map, "tenant-t", shoal::translate::AgentUrls{});
        auto shoal_body = t.ImageToShoal(shoal::translate::CloudletContext{"c1", "proj-c1"}, *body);
        if (shoal_body.ok()) (void)shoal::http::DumpJson(*shoal_body);
    }
    return 0;
}
