#include "image/glance_proxy.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <set>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/secure_random.hpp"
#include "common/spawn.hpp"
#include "common/time_format.hpp"
#include "http/errors.hpp"
#include "identity/caller.hpp"
#include "image/image_create.hpp"
#include "translate/id_translation.hpp"
#include "translate/list_runner.hpp"
#include "translate/owned_resource.hpp"

namespace shoal::image {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
using cloudlet::CloudletCall;
using cloudlet::Service;

Error NoImage(const std::string& id) {
    return MakeError(ErrorCode::kNotFound, "No image found with ID " + id);
}

// An image body in shoal space: the copy's id is the shoal id already; owner becomes the tenant.
Result<json> ToShoal(const std::string& tenant,
                     const std::string& cloudlet,
                     const std::string& project,
                     const json& image) {
    translate::MemoryIdMap map;
    if (image.contains("id") && image["id"].is_string())
        map.Add(translate::Kind::kImage, image["id"].get<std::string>(), cloudlet, image["id"].get<std::string>());
    translate::Translator t(map, tenant, translate::AgentUrls{});
    return t.ImageToShoal(translate::CloudletContext{cloudlet, project}, image);
}

// Relay, with a JSON image body translated.
http::Response RelayImage(const http::Response& from, const std::string& tenant, const std::string& cloudlet) {
    auto r = cloudlet::RelayAnswer(from);
    if (from.status >= 200 && from.status < 300) {
        auto body = from.JsonBody();
        if (body.ok() && body->is_object()) {
            auto t = ToShoal(tenant, cloudlet, cloudlet::CloudletProjectOf(from), *body);
            if (t.ok()) r.body = http::DumpJson(*t);
        }
    }
    return r;
}

json VersionsDocument(const http::Request& r) {
    const std::string base = "http://" + std::string(r.headers.Get("Host").value_or("localhost")) + "/image/v2/";
    json versions = json::array();
    for (const char* v : {"2.16", "2.15", "2.14", "2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"}) {
        versions.push_back({{"id", std::string("v") + v},
                            {"status", std::string(v) == "2.16" ? "CURRENT" : "SUPPORTED"},
                            {"links", json::array({{{"rel", "self"}, {"href", base}}})}});
    }
    return json{{"versions", versions}};
}

std::string StatusOf(const http::Response& r) {
    auto body = r.JsonBody();
    return body.ok() && body->is_object() ? body->value("status", "") : "";
}

}  // namespace

GlanceProxy::GlanceProxy(asio::any_io_executor executor,
                         cloudlet::CloudletGateway& gateway,
                         state::TenantState& state,
                         GlanceProxyOptions options,
                         SelfApiUrl self_api_url)
    : executor_(std::move(executor)),
      gateway_(gateway),
      state_(state),
      options_(std::move(options)),
      self_api_url_(std::move(self_api_url)) {}

void GlanceProxy::AddRoutes(http::Router& router) {
    using M = http::Method;
    auto bind = [this](auto fn) {
        return [this, fn](http::Request& r) -> asio::awaitable<Result<http::Response>> { return (this->*fn)(r); };
    };
    router.SetErrorStyle("/image", http::ErrorStyle::kGlance);
    router.Add(M::kGet, "/image/v2/images", bind(&GlanceProxy::List));
    router.Add(M::kPost, "/image/v2/images", bind(&GlanceProxy::Create));
    router.Add(M::kGet, "/image/v2/images/{image_id}", bind(&GlanceProxy::Show));
    router.Add(M::kPatch, "/image/v2/images/{image_id}", bind(&GlanceProxy::Update));
    router.Add(M::kDelete, "/image/v2/images/{image_id}", bind(&GlanceProxy::Remove));
    http::RouteOptions upload;
    upload.max_body_bytes = std::size_t{8} << 30;
    router.Add(M::kPut, "/image/v2/images/{image_id}/file", bind(&GlanceProxy::Upload), upload);
    router.Add(M::kGet, "/image/v2/images/{image_id}/file", bind(&GlanceProxy::Download));
    router.Add(M::kPut, "/image/v2/images/{image_id}/tags/{tag}", bind(&GlanceProxy::Tags));
    router.Add(M::kDelete, "/image/v2/images/{image_id}/tags/{tag}", bind(&GlanceProxy::Tags));
    for (const char* p : {"/image/v2/schemas/image", "/image/v2/schemas/images", "/image/v2/schemas/member",
                          "/image/v2/schemas/members", "/image/v2/info/import", "/image/v2/info/stores"})
        router.Add(M::kGet, p, bind(&GlanceProxy::HomeCloudlet));
    router.Add(M::kGet, "/image/shoal-data/{tenant}/{image_id}", bind(&GlanceProxy::Data));
    // Version discovery: what Glance's versions.py answers (300 at the root), on this agent's URL.
    router.Add(M::kGet, "/image", [](http::Request& r) -> asio::awaitable<Result<http::Response>> {
        co_return http::Response::Json(300, VersionsDocument(r));
    });
    router.Add(M::kGet, "/image/versions", [](http::Request& r) -> asio::awaitable<Result<http::Response>> {
        co_return http::Response::Json(200, VersionsDocument(r));
    });
}

asio::awaitable<Result<http::Response>> GlanceProxy::Create(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    auto body = req.JsonBody();
    if (!body.ok()) co_return MakeError(ErrorCode::kBadRequest, "Body must be a JSON object describing the image");
    auto create = ParseImageCreate(*body);
    if (!create.ok()) co_return create.error();
    std::string id;
    if (create->id) {
        id = *create->id;
        if (co_await state_.GetResource(who->tenant, id))
            co_return MakeError(ErrorCode::kConflict, "Image with identifier " + id + " already exists!");
    } else {
        id = NewUuid();
    }
    create->body["id"] = id;
    const std::string home = gateway_.SelfId();
    CloudletCall call(Service::kImage, http::Method::kPost, "/v2/images");
    call.body = http::DumpJson(create->body);
    auto answer = co_await gateway_.Call(home, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    if (answer->status != 201) co_return cloudlet::RelayAnswer(*answer);

    // Recorded only once the cloudlet holds it: a failed create leaves nothing to clean.
    state::ResourceRecord rec;
    rec.id = id;
    rec.tenant = who->tenant;
    rec.kind = "image";
    rec.cloudlet = home;
    rec.cloudlet_id = id;
    rec.status = "queued";
    rec.created_at = rec.updated_at = UnixMillis(options_.clock->System());
    auto created = answer->JsonBody();
    if (created.ok()) rec.extra = json{{"values", *created}};
    auto stored = co_await state_.CreateResource(rec);
    if (!stored.ok()) {
        CloudletCall undo(Service::kImage, http::Method::kDelete, "/v2/images/" + id);
        (void)co_await gateway_.Call(home, who->tenant, undo);
        co_return stored.error();
    }
    state::ImageLocation loc;
    loc.image_id = id;
    loc.tenant = who->tenant;
    loc.cloudlet = home;
    loc.cloudlet_id = id;
    loc.status = "primary";
    loc.updated_at = UnixMillis(options_.clock->System());
    (void)co_await state_.PutImageLocation(loc);
    co_return RelayImage(*answer, who->tenant, home);
}

asio::awaitable<Result<http::Response>> GlanceProxy::Show(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "image_id", "image", NoImage);
    if (!found.ok()) co_return found.error();
    const identity::Caller* who = &found->caller;
    state::ResourceRecord* rec = &found->record;
    const std::string& id = rec->id;
    CloudletCall call(Service::kImage, http::Method::kGet, "/v2/images/" + id);
    auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    co_return RelayImage(*answer, who->tenant, rec->cloudlet);
}

asio::awaitable<Result<http::Response>> GlanceProxy::List(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    auto records = co_await state_.ListResources(who->tenant, "image");
    if (!records.ok()) co_return records.error();

    // The primary copies are the list: other copies are skipped by the merge as unmapped rows.
    translate::MemoryIdMap map;
    std::set<std::string> cloudlets;
    std::vector<translate::KnownResource> known;
    for (const auto& r : *records) {
        map.Add(translate::Kind::kImage, r.id, r.cloudlet, r.cloudlet_id);
        cloudlets.insert(r.cloudlet);
        translate::KnownResource k{r.id, r.cloudlet, r.cloudlet_id, r.extra.value("values", json::object())};
        known.push_back(std::move(k));
    }
    const auto urls = translate::AgentUrlsAt(who->api_base);
    translate::Translator translator(map, who->tenant, urls);
    translate::ListContext context{translator, {}, std::move(known)};
    for (const auto& c : cloudlets) context.cloudlets.push_back(translate::CloudletContext{c, ""});

    translate::ListRequest lr;
    lr.kind = translate::ListKind::kImages;
    for (const auto& [k, v] : req.query) lr.query.emplace_back(k, v);
    lr.default_limit = 25;
    const std::string tenant = who->tenant;
    auto fetch_list = [this, tenant](const translate::CloudletQuery& q) -> asio::awaitable<std::optional<json>> {
        CloudletCall call(Service::kImage, http::Method::kGet, q.path);
        if (!q.query.empty()) call.path += "?" + http::EncodeQuery(q.query);
        call.timeout = std::chrono::milliseconds(10'000);
        auto answer = co_await gateway_.Call(q.cloudlet, tenant, call);
        if (!answer.ok() || answer->status != 200) co_return std::nullopt;
        auto body = answer->JsonBody();
        if (!body.ok()) co_return std::nullopt;
        co_return std::move(body).value();
    };
    auto fetch_one = [this, tenant](const translate::CloudletRef& ref) -> asio::awaitable<std::optional<json>> {
        CloudletCall call(Service::kImage, http::Method::kGet, "/v2/images/" + ref.id);
        auto answer = co_await gateway_.Call(ref.cloudlet, tenant, call);
        if (!answer.ok() || answer->status != 200) co_return std::nullopt;
        auto body = answer->JsonBody();
        if (!body.ok()) co_return std::nullopt;
        co_return std::move(body).value();
    };
    auto page = co_await translate::RunListPage(lr, context, fetch_list, fetch_one);
    if (!page.ok()) co_return page.error();
    // Owner: every listed image is the tenant's.
    if (page->contains("images"))
        for (auto& i : (*page)["images"])
            if (i.is_object() && i.contains("owner")) i["owner"] = tenant;
    co_return http::Response::Json(200, *page);
}

asio::awaitable<Result<GlanceProxy::ImageCopies>> GlanceProxy::FindWithCopies(http::Request& req) {
    auto found = co_await translate::FindOwned(state_, req, "image_id", "image", NoImage);
    if (!found.ok()) co_return found.error();
    auto locations = co_await state_.ListImageLocations(found->caller.tenant, found->record.id);
    if (!locations.ok()) co_return locations.error();
    co_return ImageCopies{std::move(*found), std::move(*locations)};
}

asio::awaitable<Result<http::Response>> GlanceProxy::Update(http::Request& req) {
    auto image = co_await FindWithCopies(req);
    if (!image.ok()) co_return image.error();
    const identity::Caller* who = &image->found.caller;
    state::ResourceRecord* rec = &image->found.record;
    const std::string& id = rec->id;
    CloudletCall call(Service::kImage, http::Method::kPatch, "/v2/images/" + id);
    call.body = req.body;
    call.content_type =
        std::string(req.headers.Get("Content-Type").value_or("application/openstack-images-v2.1-json-patch"));
    auto answer = co_await gateway_.Call(rec->cloudlet, who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    if (answer->status == 200) {
        // The other copies follow the primary (best effort: a copy is only ever booted from).
        for (const auto& l : image->copies) {
            if (l.cloudlet == rec->cloudlet) continue;
            auto r = co_await gateway_.Call(l.cloudlet, who->tenant, call);
            if (!r.ok() || r->status != 200) spdlog::warn("image {}: update of the copy at {} failed", id, l.cloudlet);
        }
    }
    co_return RelayImage(*answer, who->tenant, rec->cloudlet);
}

asio::awaitable<Result<http::Response>> GlanceProxy::Remove(http::Request& req) {
    auto image = co_await FindWithCopies(req);
    if (!image.ok()) co_return image.error();
    const identity::Caller* who = &image->found.caller;
    state::ResourceRecord* rec = &image->found.record;
    const std::string& id = rec->id;
    // Every copy goes; one that cannot be reached keeps the image listed, so a retry finishes.
    std::vector<state::ImageLocation>& copies = image->copies;
    bool primary_listed = false;
    for (const auto& l : copies) primary_listed |= l.cloudlet == rec->cloudlet;
    if (!primary_listed) copies.push_back(state::ImageLocation{id, who->tenant, rec->cloudlet, id, "primary", 0, 0});
    for (const auto& l : copies) {
        CloudletCall call(Service::kImage, http::Method::kDelete, "/v2/images/" + l.cloudlet_id);
        auto answer = co_await gateway_.Call(l.cloudlet, who->tenant, call);
        if (!answer.ok())
            co_return Error{ErrorCode::kUnavailable, "image copy at " + l.cloudlet + ": " + answer.error().message};
        if (answer->status == 403 && l.cloudlet == rec->cloudlet)
            co_return cloudlet::RelayAnswer(*answer);  // protected
        if (answer->status >= 300 && answer->status != 404)
            co_return Error{http::ErrorCodeOfStatus(answer->status), http::ErrorMessageOf(*answer)};
        (void)co_await state_.DeleteImageLocation(who->tenant, id, l.cloudlet);
    }
    auto gone = co_await state_.DeleteResource(who->tenant, id);
    if (!gone.ok()) co_return gone.error();
    co_return http::Response::Empty(204);
}

asio::awaitable<Result<http::Response>> GlanceProxy::AtPrimary(http::Request& req, PrimaryCall make_call) {
    auto found = co_await translate::FindOwned(state_, req, "image_id", "image", NoImage);
    if (!found.ok()) co_return found.error();
    auto answer =
        co_await gateway_.Call(found->record.cloudlet, found->caller.tenant, make_call(found->record.id, req));
    if (!answer.ok()) co_return answer.error();
    co_return cloudlet::RelayAnswer(*answer);
}

asio::awaitable<Result<http::Response>> GlanceProxy::Upload(http::Request& req) {
    return AtPrimary(req, [](const std::string& id, http::Request& r) {
        CloudletCall call(Service::kImage, http::Method::kPut, "/v2/images/" + id + "/file");
        call.body = std::move(r.body);
        call.content_type = std::string(r.headers.Get("Content-Type").value_or("application/octet-stream"));
        call.timeout = std::chrono::milliseconds(600'000);
        return call;
    });
}

asio::awaitable<Result<http::Response>> GlanceProxy::Download(http::Request& req) {
    return AtPrimary(req, [](const std::string& id, http::Request&) {
        CloudletCall call(Service::kImage, http::Method::kGet, "/v2/images/" + id + "/file");
        call.accept = "*/*";
        call.timeout = std::chrono::milliseconds(600'000);
        return call;
    });
}

asio::awaitable<Result<http::Response>> GlanceProxy::Tags(http::Request& req) {
    return AtPrimary(req, [](const std::string& id, http::Request& r) {
        return CloudletCall(Service::kImage, r.method, "/v2/images/" + id + "/tags/" + http::UrlEncode(r.Param("tag")));
    });
}

asio::awaitable<Result<http::Response>> GlanceProxy::HomeCloudlet(http::Request& req) {
    auto who = identity::CallerOf(req);
    if (!who.ok()) co_return who.error();
    CloudletCall call(Service::kImage, http::Method::kGet, req.path.substr(std::string_view("/image").size()));
    auto answer = co_await gateway_.Call(gateway_.SelfId(), who->tenant, call);
    if (!answer.ok()) co_return answer.error();
    co_return cloudlet::RelayAnswer(*answer);
}

// ---- copies ------------------------------------------------------------------------------

std::string GlanceProxy::DataSignature(const std::string& tenant,
                                       const std::string& image_id,
                                       std::int64_t expires) const {
    const std::string msg = "shoal/image-data/v1\n" + tenant + "\n" + image_id + "\n" + std::to_string(expires);
    return HexEncode(HmacSha256(options_.secret, msg));
}

std::string GlanceProxy::DataUrl(const std::string& tenant, const std::string& image_id) const {
    const std::int64_t expires = UnixMillis(options_.clock->System()) / 1000 + options_.data_url_ttl.count();
    return self_api_url_() + std::string(kDataPrefix) + http::UrlEncode(tenant) + "/" + http::UrlEncode(image_id) +
           "?expires=" + std::to_string(expires) + "&sig=" + DataSignature(tenant, image_id, expires);
}

asio::awaitable<Result<http::Response>> GlanceProxy::Data(http::Request& req) {
    const std::string& tenant = req.Param("tenant");  // the request outlives the handler
    const std::string& id = req.Param("image_id");
    const auto expires_text = req.Query("expires");
    const auto sig = req.Query("sig");
    std::int64_t expires = 0;
    try {
        if (expires_text) expires = std::stoll(std::string(*expires_text));
    } catch (const std::exception&) {
        expires = 0;
    }
    // Glance fetches this without a token: the signature is the capability. Refused as Swift
    // refuses a bad temp URL: 401, the same for a wrong, expired or missing signature.
    if (!sig || expires < UnixMillis(options_.clock->System()) / 1000 ||
        !ConstantTimeEquals(*sig, DataSignature(tenant, id, expires)))
        co_return MakeError(ErrorCode::kUnauthorized, "invalid or expired image data URL");
    auto rec = co_await state_.GetResource(tenant, id);
    if (!rec.ok() || rec->kind != "image") co_return NoImage(id);
    CloudletCall call(Service::kImage, http::Method::kGet, "/v2/images/" + id + "/file");
    call.accept = "*/*";
    call.timeout = std::chrono::milliseconds(600'000);
    auto answer = co_await gateway_.Call(rec->cloudlet, tenant, call);
    if (!answer.ok()) co_return answer.error();
    http::Response r = cloudlet::RelayAnswer(*answer);
    if (r.status == 200) r.headers.Set("Content-Type", "application/octet-stream");
    co_return r;
}

asio::awaitable<Result<std::string>> GlanceProxy::EnsureCopy(std::string tenant,
                                                             std::string image_id,
                                                             std::string cloudlet) {
    auto locations = co_await state_.ListImageLocations(tenant, image_id);
    if (locations.ok())
        for (const auto& l : *locations)
            if (l.cloudlet == cloudlet && (l.status == "primary" || l.status == "active")) co_return l.cloudlet_id;
    // A named function object: g++ 12 mishandles a capturing lambda built inside co_await.
    cloudlet::SingleFlight<Result<std::string>>::Start start = [this, tenant, image_id, cloudlet]() {
        return Import(tenant, image_id, cloudlet);
    };
    std::string key = tenant + "/" + image_id + "/" + cloudlet;
    co_return co_await imports_.Do(std::move(key), std::move(start));
}

asio::awaitable<void> GlanceProxy::Resume(std::function<bool(const std::string& tenant)> is_home) {
    auto tenants = co_await state_.ListTenants();
    if (!tenants.ok()) co_return;
    std::size_t resumed = 0;
    for (const auto& tenant : *tenants) {
        if (is_home && !is_home(tenant)) continue;
        auto images = co_await state_.ListResources(tenant, "image");
        if (!images.ok()) continue;
        for (const auto& image : *images) {
            auto locations = co_await state_.ListImageLocations(tenant, image.id);
            if (!locations.ok()) continue;
            for (const auto& l : *locations) {
                if (l.status != "importing") continue;
                ++resumed;
                // Through the single flight: an import of it already running here is joined.
                SpawnDetached(executor_, FinishImport(tenant, image.id, l.cloudlet),
                              "image " + image.id + ": resuming its import failed");
            }
        }
    }
    if (resumed > 0) spdlog::info("glance proxy: resumed {} interrupted imports", resumed);
}

asio::awaitable<void> GlanceProxy::FinishImport(std::string tenant, std::string image_id, std::string cloudlet) {
    auto copy = co_await EnsureCopy(tenant, image_id, cloudlet);
    if (!copy.ok())  // Import deleted the half-made copy and its location
        spdlog::info("image {}: the interrupted import into {} was cleaned up: {}", image_id, cloudlet,
                     copy.error().message);
}

asio::awaitable<Result<std::string>> GlanceProxy::Import(std::string tenant,
                                                         std::string image_id,
                                                         std::string cloudlet) {
    auto rec = co_await state_.GetResource(tenant, image_id);
    if (!rec.ok() || rec->kind != "image") co_return NoImage(image_id);
    if (rec->cloudlet == cloudlet) co_return image_id;
    CloudletCall show(Service::kImage, http::Method::kGet, "/v2/images/" + image_id);
    auto primary = co_await gateway_.Call(rec->cloudlet, tenant, show);
    if (!primary.ok()) co_return primary.error();
    auto source = primary->JsonBody();
    if (primary->status != 200 || !source.ok()) co_return NoImage(image_id);
    if (source->value("status", "") != "active")
        co_return MakeError(ErrorCode::kBadRequest, "Image " + image_id + " is not active.");

    json copy = {{"id", image_id}, {"visibility", "private"}};
    for (const char* k : {"name", "disk_format", "container_format", "min_disk", "min_ram", "os_distro", "os_type",
                          "architecture", "hw_disk_bus", "hw_video_model"})
        if (source->contains(k) && !(*source)[k].is_null()) copy[k] = (*source)[k];
    state::ImageLocation loc{image_id, tenant, cloudlet, image_id, "importing", UnixMillis(options_.clock->System()),
                             0};
    (void)co_await state_.PutImageLocation(loc);
    auto fail = [&](Error e) -> asio::awaitable<Result<std::string>> {
        CloudletCall undo(Service::kImage, http::Method::kDelete, "/v2/images/" + image_id);
        (void)co_await gateway_.Call(cloudlet, tenant, undo);
        (void)co_await state_.DeleteImageLocation(tenant, image_id, cloudlet);
        spdlog::warn("image {}: import into {} failed: {}", image_id, cloudlet, e.message);
        co_return e;
    };

    CloudletCall create(Service::kImage, http::Method::kPost, "/v2/images");
    create.body = http::DumpJson(copy);
    auto made = co_await gateway_.Call(cloudlet, tenant, create);
    if (!made.ok()) co_return co_await fail(made.error());
    std::string status = "queued";
    if (made->status == 409) {  // an earlier attempt got this far
        auto again = co_await gateway_.Call(cloudlet, tenant, show);
        if (!again.ok() || again->status != 200)
            co_return co_await fail(MakeError(ErrorCode::kConflict, "copy exists"));
        status = StatusOf(*again);
    } else if (made->status != 201) {
        co_return co_await fail(MakeError(http::ErrorCodeOfStatus(made->status), http::ErrorMessageOf(*made)));
    }
    if (status == "queued") {
        json import = {{"method", {{"name", "web-download"}, {"uri", DataUrl(tenant, image_id)}}}};
        CloudletCall start(Service::kImage, http::Method::kPost, "/v2/images/" + image_id + "/import");
        start.body = http::DumpJson(import);
        auto started = co_await gateway_.Call(cloudlet, tenant, start);
        if (!started.ok()) co_return co_await fail(started.error());
        if (started->status != 202)
            co_return co_await fail(
                MakeError(http::ErrorCodeOfStatus(started->status), http::ErrorMessageOf(*started)));
    }
    // Glance imports in the background: poll until the copy is active.
    const auto deadline = options_.clock->Steady() + options_.import_timeout;
    asio::steady_timer timer(executor_);
    auto poll = options_.import_poll;
    while (true) {
        auto now = co_await gateway_.Call(cloudlet, tenant, show);
        if (now.ok() && now->status == 200) {
            auto s = StatusOf(*now);
            if (s == "active") break;
            if (s == "killed" || s == "deleted" || s == "deactivated")
                co_return co_await fail(MakeError(ErrorCode::kBadGateway, "import ended " + s));
            // Glance answers the import 202 with the image `importing` and its task lock set; a
            // web-download that failed puts it back to queued, drops the lock and names the store
            // in os_glance_failed_import (glance/async_/flows). Waiting on would only time out.
            auto body = now->JsonBody();
            if (s == "queued" && body.ok() &&
                (!body->value("os_glance_failed_import", "").empty() || !body->contains("os_glance_import_task")))
                co_return co_await fail(
                    MakeError(ErrorCode::kBadGateway, "the cloudlet could not fetch the image from its data URL"));
        }
        if (options_.clock->Steady() > deadline)
            co_return co_await fail(MakeError(ErrorCode::kTimeout, "import did not finish in time"));
        // Backing off: a small image is active at the first look, and hundreds of imports
        // polled every 200 ms once took more CPU than the imports themselves (docs/benchmarks.md).
        timer.expires_after(poll);
        co_await timer.async_wait(asio::use_awaitable);
        poll = std::min(poll * 2, options_.import_poll_max);
    }
    loc.status = "active";
    loc.updated_at = UnixMillis(options_.clock->System());
    (void)co_await state_.PutImageLocation(loc);
    spdlog::info("image {} of {} imported into {}", image_id, tenant, cloudlet);
    co_return image_id;
}

}  // namespace shoal::image
