#include "fake_cloudlet_gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace shoal::testing {
namespace {

using cloudlet::CloudletCall;
using nlohmann::json;

http::Response NovaError(int status, const std::string& kind, const std::string& message) {
    return http::Response::Json(status, json{{kind, {{"code", status}, {"message", message}}}});
}

std::vector<std::string> Segments(std::string_view path) {
    std::vector<std::string> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        out.emplace_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return out;
}

}  // namespace

FakeCloudletGateway::FakeCloudletGateway(boost::asio::any_io_executor executor, std::string self_id)
    : executor_(std::move(executor)), self_id_(std::move(self_id)) {}

FakeCloudletGateway::Cloudlet& FakeCloudletGateway::AddCloudlet(const std::string& id, std::int64_t total_ram_mb) {
    Cloudlet c;
    c.id = id;
    c.total_ram_mb = total_ram_mb;
    c.project = "project-of-tenant-at-" + id;
    int n = 1;
    for (const auto& [name, ram] : {std::pair{"m1.tiny", 512}, {"m1.small", 2048}, {"m1.large", 8192}})
        c.flavors.push_back(Flavor{id + "-flavor-" + std::to_string(n++), name, ram});
    order_.push_back(id);
    return cloudlets_[id] = std::move(c);
}

FakeCloudletGateway::Cloudlet& FakeCloudletGateway::At(const std::string& id) {
    auto it = cloudlets_.find(id);
    if (it == cloudlets_.end()) throw std::invalid_argument("no fake cloudlet " + id);
    return it->second;
}

void FakeCloudletGateway::Finish(const std::string& cloudlet,
                                 const std::string& server_id,
                                 std::string status,
                                 std::string fault) {
    auto& s = At(cloudlet).servers.at(server_id);
    s.status = std::move(status);
    s.fault = std::move(fault);
    Changed();
}

void FakeCloudletGateway::FinishDeletes(const std::string& cloudlet) {
    std::erase_if(At(cloudlet).servers, [](const auto& s) { return s.second.task_state == "deleting"; });
    Changed();
}

std::vector<FakeCloudletGateway::Server> FakeCloudletGateway::ServersAt(const std::string& cloudlet,
                                                                        const std::string& status) const {
    std::vector<Server> out;
    for (const auto& [id, s] : cloudlets_.at(cloudlet).servers)
        if (status.empty() || s.status == status) out.push_back(s);
    return out;
}

std::vector<FakeCloudletGateway::RecordedCall> FakeCloudletGateway::CallsTo(const std::string& cloudlet,
                                                                            http::Method method,
                                                                            std::string_view path) const {
    std::vector<RecordedCall> out;
    for (const auto& c : calls_)
        if (c.cloudlet == cloudlet && c.call.method == method && c.call.path.starts_with(path)) out.push_back(c);
    return out;
}

boost::asio::awaitable<Result<http::Response>> FakeCloudletGateway::Call(std::string cloudlet,
                                                                         std::string tenant,
                                                                         CloudletCall call) {
    calls_.push_back(RecordedCall{cloudlet, tenant, call});
    auto it = cloudlets_.find(cloudlet);
    if (it == cloudlets_.end()) co_return MakeError(ErrorCode::kUnavailable, "no agent " + cloudlet + " in the shoal");
    if (it->second.unreachable) co_return MakeError(ErrorCode::kUnavailable, "agent " + cloudlet + " unreachable");
    http::Response answer;
    if (call.service == cloudlet::Service::kCompute)
        answer = Nova(it->second, tenant, call);
    else if (call.service == cloudlet::Service::kImage)
        answer = co_await Glance(cloudlet, tenant, call);
    else
        answer = http::Response::Json(501, json{{"message", "the fake cloudlet has only Nova and Glance"}});
    answer.headers.Set(std::string(cloudlet::kCloudletProjectHeader), it->second.project);
    if (it->second.lose_create_answers && call.method == http::Method::kPost && call.path == "/servers")
        co_return MakeError(ErrorCode::kUnavailable, "agent " + cloudlet + ": connection reset");
    co_return answer;
}

http::Response FakeCloudletGateway::Nova(Cloudlet& c, const std::string& tenant, const CloudletCall& call) {
    using M = http::Method;
    const auto path = std::string_view(call.path).substr(0, call.path.find('?'));
    const auto seg = Segments(path);
    if (!seg.empty() && seg[0] == "flavors") {
        if (seg.size() == 3 && seg[2] == "os-extra_specs" && call.method == M::kGet)
            return http::Response::Json(200, json{{"extra_specs", json::object()}});
        json list = json::array();
        for (const auto& f : c.flavors)
            list.push_back({{"id", f.id},
                            {"name", f.name},
                            {"ram", f.ram_mb},
                            {"vcpus", 1},
                            {"disk", 1},
                            {"OS-FLV-EXT-DATA:ephemeral", 0},
                            {"swap", ""},
                            {"links", json::array()}});
        return http::Response::Json(200, json{{"flavors", list}});
    }
    if (seg.empty() || seg[0] != "servers") return NovaError(404, "itemNotFound", "The resource could not be found.");

    if (seg.size() == 1 && call.method == M::kPost) {
        const json body = json::parse(call.body, nullptr, false);
        if (!body.is_object() || !body.contains("server") || !body["server"].is_object())
            return NovaError(400, "badRequest", "Malformed request body");
        const json& server = body["server"];
        const std::string flavor_ref = server.value("flavorRef", "");
        const Flavor* flavor = nullptr;
        for (const auto& f : c.flavors)
            if (f.id == flavor_ref) flavor = &f;
        if (!flavor) return NovaError(400, "badRequest", "Flavor " + flavor_ref + " could not be found.");
        if (call.reservation != 0) c.holds.erase(call.reservation);  // the create takes the hold over
        Server s;
        s.id = c.id + "-server-" + std::to_string(next_server_++);
        s.tenant = tenant;
        s.request = server;
        if (c.refuse_builds) {
            s.status = "ERROR";
            s.fault = "No valid host was found. There are not enough hosts available.";
        } else if (!c.hold_builds) {
            s.status = "ACTIVE";
        }
        const std::string id = s.id;
        c.servers[id] = std::move(s);
        Changed();
        return http::Response::Json(
            202, json{{"server", {{"id", id}, {"links", ServerBody(c, c.servers[id])["links"]}, {"adminPass", "x"}}}});
    }
    if (seg.size() == 1 || (seg.size() == 2 && seg[1] == "detail")) {
        json list = json::array();
        for (const auto& [id, s] : c.servers)
            if (s.tenant == tenant) list.push_back(ServerBody(c, s));
        return http::Response::Json(200, json{{"servers", list}});
    }
    auto it = c.servers.find(seg[1]);
    if (it == c.servers.end() || it->second.tenant != tenant)
        return NovaError(404, "itemNotFound", "Instance " + seg[1] + " could not be found.");
    if (seg.size() == 3 && seg[2] == "action" && call.method == M::kPost) return http::Response::Empty(202);
    if (seg.size() != 2) return NovaError(404, "itemNotFound", "The resource could not be found.");
    switch (call.method) {
        case M::kGet:
            return http::Response::Json(200, json{{"server", ServerBody(c, it->second)}});
        case M::kPut: {
            const json body = json::parse(call.body, nullptr, false);
            if (body.is_object() && body.contains("server") && body["server"].contains("name"))
                it->second.request["name"] = body["server"]["name"];
            return http::Response::Json(200, json{{"server", ServerBody(c, it->second)}});
        }
        case M::kDelete:
            if (c.slow_deletes) {
                it->second.task_state = "deleting";  // as Nova: accepted again while it deletes
            } else {
                c.servers.erase(it);
            }
            Changed();
            return http::Response::Empty(204);
        default:
            return NovaError(405, "badMethod", "Method not allowed");
    }
}

// Glance v2 as far as the Glance proxy uses it: create with a chosen id, show, list, patch
// (replace/add/remove of top-level properties), delete, upload, download, tags, web-download import.
boost::asio::awaitable<http::Response> FakeCloudletGateway::Glance(std::string cloudlet,
                                                                   std::string tenant,
                                                                   CloudletCall call) {
    using M = http::Method;
    auto glance_error = [](int status, const std::string& message) {
        http::Response r;
        r.status = status;
        r.headers.Set("Content-Type", "text/html; charset=UTF-8");
        r.body = "<html><body><h1>" + std::to_string(status) + "</h1>" + message + "</body></html>";
        return r;
    };
    Cloudlet* c = &At(cloudlet);
    const auto path = std::string_view(call.path).substr(0, call.path.find('?'));
    const auto seg = Segments(path);  // v2 images {id} [file|import|tags {tag}]
    if (seg.size() >= 2 && seg[1] == "schemas") co_return http::Response::Json(200, json{{"name", "image"}});
    if (seg.size() < 2 || seg[1] != "images") co_return glance_error(404, "The resource could not be found.");
    if (seg.size() == 2 && call.method == M::kPost) {
        json body = json::parse(call.body, nullptr, false);
        if (!body.is_object()) co_return glance_error(400, "Body must be a JSON object");
        const std::string id = body.value("id", c->id + "-image-" + std::to_string(next_server_++));
        if (c->images.contains(id)) co_return glance_error(409, "Image with identifier " + id + " already exists!");
        body["id"] = id;
        body["status"] = "queued";
        body["owner"] = c->project;
        body["visibility"] = body.value("visibility", "shared");
        body["size"] = nullptr;
        body["checksum"] = nullptr;
        body["tags"] = body.value("tags", json::array());
        body["self"] = "/v2/images/" + id;
        body["file"] = "/v2/images/" + id + "/file";
        body["schema"] = "/v2/schemas/image";
        c->images[id] = Image{body, "", tenant};
        co_return http::Response::Json(201, body);
    }
    if (seg.size() == 2 && call.method == M::kGet) {
        json list = json::array();
        for (const auto& [id, i] : c->images)
            if (i.tenant == tenant) list.push_back(i.body);
        co_return http::Response::Json(200, json{{"images", list}});
    }
    auto it = c->images.find(seg[2]);
    if (it == c->images.end() || it->second.tenant != tenant)
        co_return glance_error(404, "No image found with ID " + seg[2]);
    Image& image = it->second;
    if (seg.size() == 3) {
        if (call.method == M::kGet) co_return http::Response::Json(200, image.body);
        if (call.method == M::kDelete) {
            c->images.erase(it);
            co_return http::Response::Empty(204);
        }
        if (call.method == M::kPatch) {
            const json ops = json::parse(call.body, nullptr, false);
            if (!ops.is_array()) co_return glance_error(400, "Invalid JSON patch");
            for (const auto& op : ops) {
                const std::string key = op.value("path", "/").substr(1);
                if (op.value("op", "") == "remove")
                    image.body.erase(key);
                else
                    image.body[key] = op.value("value", json());
            }
            co_return http::Response::Json(200, image.body);
        }
    }
    if (seg.size() == 4 && seg[3] == "file") {
        if (call.method == M::kPut) {
            if (image.body["status"] != "queued") co_return glance_error(409, "Image status is not queued");
            image.data = call.body;
            image.body["status"] = "active";
            image.body["size"] = image.data.size();
            co_return http::Response::Empty(204);
        }
        if (call.method == M::kGet) {
            if (image.body["status"] != "active") co_return http::Response::Empty(204);
            http::Response r;
            r.status = 200;
            r.headers.Set("Content-Type", "application/octet-stream");
            r.body = image.data;
            co_return r;
        }
    }
    if (seg.size() == 4 && seg[3] == "import" && call.method == M::kPost) {
        const json body = json::parse(call.body, nullptr, false);
        if (!body.is_object() || body.value("method", json::object()).value("name", "") != "web-download")
            co_return glance_error(400, "Import method not supported");
        const std::string uri = body["method"].value("uri", "");
        const std::string& id = seg[2];
        image.body["status"] = "importing";
        image.body["os_glance_import_task"] = "task-of-" + id;  // Glance's import lock
        // Glance answers 202 and imports in the background; here the fetch runs first and the
        // copy is active (or failed back to queued) by the next read.
        // (Not a conditional expression around co_await: g++ 12 frees its temporary early.)
        Result<http::Response> fetched = MakeError(ErrorCode::kUnavailable, "the test set no FetchUrl");
        if (fetch_url_) fetched = co_await fetch_url_(uri);
        c = &At(cloudlet);
        auto again = c->images.find(id);
        if (again != c->images.end()) {
            again->second.body.erase("os_glance_import_task");
            if (fetched.ok() && fetched->status == 200) {
                again->second.data = fetched->body;
                again->second.body["status"] = "active";
                again->second.body["size"] = fetched->body.size();
            } else {
                again->second.body["status"] = "queued";  // as Glance leaves a failed web-download
                again->second.body["os_glance_failed_import"] = "default_backend";
            }
        }
        co_return http::Response::Empty(202);
    }
    if (seg.size() == 5 && seg[3] == "tags") {
        json kept = json::array();
        for (const auto& t : image.body["tags"])
            if (t != seg[4]) kept.push_back(t);
        if (call.method == M::kPut) kept.push_back(seg[4]);
        image.body["tags"] = kept;
        co_return http::Response::Empty(204);
    }
    co_return glance_error(405, "Method not allowed");
}

json FakeCloudletGateway::ServerBody(const Cloudlet& c, const Server& s) const {
    const std::string base = "http://" + c.id + ".cloudlet.test/compute/v2.1/";
    std::string flavor_id = s.request.value("flavorRef", "");
    json server = {
        {"id", s.id},
        {"name", s.request.value("name", "")},
        {"status", s.status},
        {"tenant_id", c.project},
        {"user_id", "shadow-user"},
        {"hostId", "host-of-" + s.id},
        {"image", {{"id", s.request.value("imageRef", "")}}},
        {"flavor", {{"id", flavor_id}}},
        {"metadata", s.request.value("metadata", json::object())},
        {"addresses", json::object()},
        {"links",
         json::array({{{"rel", "self"}, {"href", base + c.project + "/servers/" + s.id}},
                      {{"rel", "bookmark"},
                       {"href", "http://" + c.id + ".cloudlet.test/compute/" + c.project + "/servers/" + s.id}}})},
    };
    if (s.status == "ERROR") server["fault"] = {{"code", 500}, {"message", s.fault}};
    server["OS-EXT-STS:task_state"] = s.task_state.empty() ? json() : json(s.task_state);
    return server;
}

scheduler::CloudletLoad FakeCloudletGateway::LoadOf(const Cloudlet& c) const {
    std::int64_t used = c.used_ram_mb;
    std::int64_t in_flight = 0;
    int building = 0;
    for (const auto& [id, s] : c.servers) {
        std::int64_t ram = 0;
        for (const auto& f : c.flavors)
            if (f.id == s.request.value("flavorRef", "")) ram = f.ram_mb;
        if (s.status == "ACTIVE") used += ram;
        if (s.status == "BUILD") in_flight += ram, ++building;
    }
    for (const auto& [r, ram] : c.holds) in_flight += ram, ++building;
    scheduler::CloudletLoad load;
    load.cloudlet = c.id;
    load.total_ram_mb = c.total_ram_mb;
    load.total_free_ram_mb = load.free_ram_mb = std::max<std::int64_t>(c.total_ram_mb - used, 0);
    load.in_flight_ram_mb = in_flight;
    load.in_flight_builds = building;
    return load;
}

boost::asio::awaitable<Result<scheduler::CloudletLoad>> FakeCloudletGateway::Load(std::string cloudlet) {
    auto it = cloudlets_.find(cloudlet);
    if (it == cloudlets_.end() || it->second.unreachable)
        co_return MakeError(ErrorCode::kUnavailable, "agent " + cloudlet + " unreachable");
    co_return LoadOf(it->second);
}

std::vector<std::string> FakeCloudletGateway::Candidates(std::size_t k) {
    std::vector<std::string> all = candidates_.empty() ? order_ : candidates_;
    if (all.size() > k) all.resize(k);
    return all;
}

boost::asio::awaitable<Result<cloudlet::BuildProgress>> FakeCloudletGateway::AwaitBuild(
    std::string cloudlet, std::string cloudlet_server_id, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
        auto it = cloudlets_.find(cloudlet);
        if (it == cloudlets_.end() || it->second.unreachable)
            co_return MakeError(ErrorCode::kUnavailable, "agent " + cloudlet + " unreachable");
        auto s = it->second.servers.find(cloudlet_server_id);
        if (s == it->second.servers.end()) co_return cloudlet::BuildProgress{};  // not watched: ask the cloudlet
        if (s->second.status != "BUILD" || std::chrono::steady_clock::now() >= deadline)
            co_return cloudlet::BuildProgress{s->second.status, s->second.fault};
        // Woken by the next change (Finish, a create or a delete), or at the deadline.
        auto timer = std::make_shared<boost::asio::steady_timer>(executor_, deadline);
        waiters_.push_back(timer);
        co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
}

void FakeCloudletGateway::Changed() {
    for (auto& w : waiters_)
        if (auto t = w.lock()) t->cancel();
    waiters_.clear();
}

boost::asio::awaitable<Result<cloudlet::CloudletGateway::HeldLoad>> FakeCloudletGateway::LoadHolding(
    std::string cloudlet, std::int64_t ram_mb) {
    auto load = co_await Load(cloudlet);
    if (!load.ok()) co_return load.error();
    HeldLoad held{*load, next_reservation_++};
    cloudlets_.at(cloudlet).holds[held.reservation] = ram_mb;
    ++holds_made_;
    co_return held;
}

boost::asio::awaitable<void> FakeCloudletGateway::Unreserve(std::string cloudlet, std::uint64_t reservation) {
    if (auto it = cloudlets_.find(cloudlet); it != cloudlets_.end()) it->second.holds.erase(reservation);
    co_return;
}

}  // namespace shoal::testing
