// One JSON document through every translation of translate::Translator, both ways (it is a
// cloudlet's answer to ServerBodyToShoal/ImageToShoal/..., a user's request to
// CreateServerToCloudlet/ActionToCloudlet), every string in it as an href, and
// the list merge: the document's string members as a list query (PlanPage at both cloudlets'
// ListQueryToCloudlet), the document as both cloudlets' answer (MergePage), for servers, detailed
// servers and images. The map knows two cloudlets c1, c2 and the ids the corpus uses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "translate/id_translation.hpp"
#include "translate/list_merge.hpp"

namespace {

using namespace shoal::translate;

struct World {
    MemoryIdMap map;
    std::vector<KnownResource> servers, images;
    World() {
        map.Add(Kind::kServer, "3f1c1e8a-5b0e-4d8e-9a57-7c6d5e4f3a21", "c1", "9d2b7c44-1f3e-4b6a-8c5d-2e1f0a9b8c7d");
        map.Add(Kind::kServer, "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "c2", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e");
        map.Add(Kind::kImage, "5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f", "c1", "5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f");
        map.Add(Kind::kImage, "5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f", "c2", "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9");
        map.Add(Kind::kVolume, "v-1", "c1", "c1-vol-1");
        map.Add(Kind::kNetwork, "n-1", "c1", "c1-net-1");
        map.Add(Kind::kPort, "p-1", "c1", "c1-port-1");
        map.Add(Kind::kServerGroup, "g-1", "c1", "c1-group-1");
        map.PassThrough(Kind::kFlavor);
        servers.push_back({"3f1c1e8a-5b0e-4d8e-9a57-7c6d5e4f3a21",
                           "c1",
                           "9d2b7c44-1f3e-4b6a-8c5d-2e1f0a9b8c7d",
                           {{"created", "2024-05-01T10:00:00Z"}, {"name", "vm-1"}}});
        servers.push_back(
            {"8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "c2", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", json::object()});
        images.push_back({"5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f",
                          "c1",
                          "5a8f3c1e-0d3b-4d6e-9d47-1c2b3a4d5e6f",
                          {{"created_at", "2024-05-01T10:00:00Z"}, {"name", "cirros"}}});
    }
};

void Strings(const json& j, std::vector<std::string>& out) {
    if (j.is_string()) {
        out.push_back(j.get<std::string>());
    } else if (j.is_structured()) {
        for (const auto& v : j) Strings(v, out);
    }
}

void Lists(const World& w, const Translator& t, const json& doc) {
    QueryParams query;
    if (doc.is_object())
        for (const auto& [k, v] : doc.items())
            if (v.is_string()) query.emplace_back(k, v.get<std::string>());
    const std::vector<CloudletContext> cloudlets = {{"c1", "proj-c1"}, {"c2", "proj-c2"}};
    for (const auto& c : cloudlets) (void)t.ListQueryToCloudlet(c, query);
    for (ListKind kind : {ListKind::kServers, ListKind::kServersDetail, ListKind::kImages}) {
        ListRequest request;
        request.kind = kind;
        request.query = query;
        request.microversion = kind == ListKind::kServers ? 79 : 1;
        request.default_limit = kind == ListKind::kImages ? 25 : 0;
        ListContext context{t, cloudlets, kind == ListKind::kImages ? w.images : w.servers};
        auto plan = PlanPage(request, context);
        if (!plan.ok() || plan->fetch_marker) continue;
        std::vector<CloudletAnswer> answers;
        for (const auto& q : plan->queries) answers.push_back({q.cloudlet, doc});
        for (bool final_round : {false, true}) {
            auto page = MergePage(request, context, *plan, answers, final_round);
            if (page.ok()) (void)shoal::http::DumpJson(page->body);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const World* world = new World();
    shoal::http::Request req;
    req.body.assign(reinterpret_cast<const char*>(data), size);
    auto parsed = req.JsonBody();
    if (!parsed.ok()) return 0;
    const json& doc = *parsed;

    for (bool admin : {false, true}) {
        TranslatorOptions options;
        options.show_admin_fields = admin;
        Translator t(world->map, "tenant-t", AgentUrlsAt("http://127.0.0.1:8080"), options);
        const CloudletContext c1{"c1", "proj-c1"};
        for (auto r : {t.ServerBodyToShoal(c1, doc), t.ServerToShoal(c1, doc), t.ImageToShoal(c1, doc),
                       t.CreateServerToCloudlet(c1, doc), t.ActionToCloudlet(c1, doc)})
            if (r.ok()) (void)shoal::http::DumpJson(*r);
        if (admin) continue;
        std::vector<std::string> strings;
        Strings(doc, strings);
        for (const auto& s : strings) {
            (void)t.ComputeHrefToShoal("c1", s);
            (void)t.ImageHrefToShoal("c2", s);
            (void)t.HostIdToShoal("c1", s);
            (void)IdFromHref(s);
        }
        Lists(*world, t, doc);
    }
    return 0;
}
