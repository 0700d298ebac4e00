// The emulated Glance v2: routes, image metadata, listing, JSON-patch updates, tags and members.
// Image data and imports live in glance_data.cpp; the record, views and schemas in glance_model.cpp.
#include "emulator/glance/glance_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/ids.hpp"
#include "emulator/glance/glance_state.hpp"

namespace shoal::emulator {

namespace asio = boost::asio;
using glance::ImageRecord;
using nlohmann::json;

namespace {

Error BadRequest(std::string m) {
    return MakeError(ErrorCode::kBadRequest, std::move(m));
}
Error Forbidden(std::string m) {
    return MakeError(ErrorCode::kForbidden, std::move(m));
}
Error Conflict(std::string m) {
    return MakeError(ErrorCode::kConflict, std::move(m));
}

// glance.common.wsgi.JSONRequestDeserializer.default
Result<json> BodyOf(const http::Request& req) {
    if (req.body.empty()) return BadRequest("Body expected in request.");
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) return BadRequest("Malformed JSON in request body.");
    return j;
}

Error SchemaError(const std::string& schema, const std::string& reason) {
    return BadRequest("Provided object does not match schema '" + schema + "': " + reason);
}

std::string ToLower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// The media type of a Content-Type header, as webob's request.content_type.
std::string MediaType(const http::Request& req) {
    auto ct = req.headers.Get("Content-Type");
    if (!ct) return {};
    std::string_view v = *ct;
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return ToLower(v);
}

bool IsReservedName(std::string_view key) {
    return key == "location" || key == "deleted" || key == "deleted_at" || key.starts_with(glance::kReservedNamespace);
}

Error PropertyQuotaError(std::size_t attempted) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     "The limit has been exceeded on the number of allowed image properties. Attempted: " +
                         std::to_string(attempted) + ", Maximum: " + std::to_string(glance::kImagePropertyQuota));
}

std::string TagQuotaMessage(std::size_t attempted) {
    return "The limit has been exceeded on the number of allowed image tags. Attempted: " + std::to_string(attempted) +
           ", Maximum: " + std::to_string(glance::kImageTagQuota);
}

Error NegativeValue(std::string_view param, const json& value) {
    return BadRequest("Invalid value '" + http::DumpJson(value) + "' for parameter '" + std::string(param) +
                      "': Cannot be a negative value");
}

std::vector<std::string> UniqueTags(const json& list) {
    std::vector<std::string> out;
    for (const auto& t : list) {
        auto s = t.get<std::string>();
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    return out;
}

std::optional<std::string> OptString(const json& v) {
    if (v.is_null()) return std::nullopt;
    return v.get<std::string>();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// State helpers.

std::string GlanceService::State::DataPath(std::string_view id) const {
    return ctx.data_dir + "/images/" + std::string(id);
}
std::string GlanceService::State::StagePath(std::string_view id) const {
    return ctx.data_dir + "/images/" + std::string(id) + ".staging";
}
std::string GlanceService::State::ImportPath(std::string_view id, std::string_view task_id) const {
    return ctx.data_dir + "/images/" + std::string(id) + ".import-" + std::string(task_id);
}

void GlanceService::State::RemoveFile(const std::string& path) const {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) spdlog::warn("glance: cannot remove {}: {}", path, ec.message());
}

void GlanceService::State::Save(const ImageRecord& image) {
    if (ctx.store.Durable()) ctx.store.Put("images", image.id, glance::ToStored(image));
}

void GlanceService::State::Forget(std::string_view id) {
    if (ctx.store.Durable()) ctx.store.Erase("images", id);
}

bool GlanceService::State::CanSee(const TokenInfo& who, const ImageRecord& image) {
    if (who.IsAdmin()) return true;
    if (image.visibility == "public" || image.visibility == "community") return true;
    if (image.owner && !who.project_id.empty() && *image.owner == who.project_id) return true;
    return image.visibility == "shared" && !who.project_id.empty() && image.FindMember(who.project_id) != nullptr;
}

bool GlanceService::State::CanModify(const TokenInfo& who, const ImageRecord& image) {
    return who.IsAdmin() || (image.owner && !who.project_id.empty() && *image.owner == who.project_id);
}

Result<ImageRecord*> GlanceService::State::Lookup(const TokenInfo& who, std::string_view id) {
    auto it = images.find(id);
    if (it == images.end() || !CanSee(who, it->second)) return glance::NotFoundImage(id);
    return &it->second;
}

// ---------------------------------------------------------------------------------------------
// Service.

GlanceService::GlanceService(ServiceContext& ctx) : ctx_(ctx), state_(std::make_shared<State>(ctx)) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(ctx_.data_dir) / "images", ec);
    if (ec) spdlog::error("glance: cannot create {}/images: {}", ctx_.data_dir, ec.message());
}

GlanceService::~GlanceService() = default;

void GlanceService::Load() {
    if (!ctx_.store.Durable()) return;
    for (auto& [id, doc] : ctx_.store.LoadAll("images")) {
        auto image = glance::FromStored(doc);
        if (!image.ok()) {
            spdlog::error("glance: skipping image {}: {}", id, image.error().message);
            continue;
        }
        state_->images[image->id] = std::move(image).value();
    }
    state_->RecoverInterrupted();
    spdlog::info("glance: loaded {} images", state_->images.size());
}

Result<BootImage> GlanceService::FindImage(const TokenInfo& who, std::string_view image_id) const {
    auto it = state_->images.find(image_id);
    if (it == state_->images.end() || !State::CanSee(who, it->second)) return glance::NotFoundImage(image_id);
    const auto& i = it->second;
    BootImage b;
    b.id = i.id;
    b.name = i.name.value_or("");
    b.status = i.status;
    b.min_ram_mb = static_cast<int>(i.min_ram);
    b.min_disk_gb = static_cast<int>(i.min_disk);
    b.size = i.size.value_or(0);
    return b;
}

void GlanceService::AddRoutes(http::Router& router) {
    State* s = state_.get();
    std::weak_ptr<State> weak = state_;
    const std::string p(kImagePrefix);

    // Version discovery is not behind keystonemiddleware in Glance.
    router.Get(p, [s](http::Request&) -> Result<http::Response> {
        return http::Response::Json(300, glance::VersionsDocument(s->ctx.ImageUrl()));
    });
    router.Get(p + "/versions", [s](http::Request&) -> Result<http::Response> {
        return http::Response::Json(200, glance::VersionsDocument(s->ctx.ImageUrl()));
    });

    auto schema = [s](const json& doc) {
        return [s, d = &doc](http::Request& req) -> Result<http::Response> {
            auto who = Authenticate(s->ctx, req);
            if (!who.ok()) return who.error();
            return http::Response::Json(200, *d);
        };
    };
    router.Get(p + "/v2/schemas/image", schema(glance::ImageSchema()));
    router.Get(p + "/v2/schemas/images", schema(glance::ImagesSchema()));
    router.Get(p + "/v2/schemas/member", schema(glance::MemberSchema()));
    router.Get(p + "/v2/schemas/members", schema(glance::MembersSchema()));
    router.Get(p + "/v2/schemas/task", schema(glance::TaskSchema()));
    router.Get(p + "/v2/schemas/tasks", schema(glance::TasksSchema()));

    router.Get(p + "/v2/info/import", [s](http::Request& req) -> Result<http::Response> {
        auto who = Authenticate(s->ctx, req);
        if (!who.ok()) return who.error();
        return http::Response::Json(200, {{"import-methods",
                                           {{"description", "Import methods available."},
                                            {"type", "array"},
                                            {"value", {"glance-direct", "web-download"}}}}});
    });
    router.Get(p + "/v2/info/stores", [s](http::Request& req) -> Result<http::Response> {
        auto who = Authenticate(s->ctx, req);
        if (!who.ok()) return who.error();
        return MakeError(ErrorCode::kNotFound, "Multi backend is not supported at this site.");
    });

    auto bind = [s](Result<http::Response> (State::*fn)(http::Request&)) {
        return [s, fn](http::Request& req) { return (s->*fn)(req); };
    };
    const std::string img = p + "/v2/images/{image_id}";
    router.Post(p + "/v2/images", bind(&State::CreateImage));
    router.Get(p + "/v2/images", bind(&State::ListImages));
    router.Get(img, bind(&State::ShowImage));
    router.Patch(img, bind(&State::UpdateImage));
    router.Delete(img, bind(&State::DeleteImage));
    router.Post(img + "/actions/deactivate", [s](http::Request& req) { return s->ImageAction(req, true); });
    router.Post(img + "/actions/reactivate", [s](http::Request& req) { return s->ImageAction(req, false); });
    router.Put(img + "/tags/{tag}", bind(&State::AddTag));
    router.Delete(img + "/tags/{tag}", bind(&State::DeleteTag));
    router.Get(img + "/members", bind(&State::ListMembers));
    router.Post(img + "/members", bind(&State::CreateMember));
    router.Get(img + "/members/{member_id}", bind(&State::ShowMember));
    router.Put(img + "/members/{member_id}", bind(&State::UpdateMember));
    router.Delete(img + "/members/{member_id}", bind(&State::DeleteMember));
    router.Get(img + "/tasks", bind(&State::ListTasks));

    http::RouteOptions data_options{ctx_.config.max_image_bytes, true};
    router.Add(
        http::Method::kPut, img + "/file", [weak](http::Request& req) { return State::UploadData(weak, req); },
        data_options);
    router.Get(img + "/file", bind(&State::DownloadData));
    router.AddSync(http::Method::kPut, img + "/stage", bind(&State::StageData), data_options);
    router.Post(img + "/import", bind(&State::ImportImage));
}

// ---------------------------------------------------------------------------------------------
// Images.

Result<http::Response> GlanceService::State::CreateImage(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto parsed = BodyOf(req);
    if (!parsed.ok()) return parsed.error();
    json body = std::move(parsed).value();
    if (!body.is_object()) return SchemaError("image", glance::PyRepr(body) + " is not of type 'object'");
    for (const char* key : {"direct_url", "self", "file", "schema", "stores"})
        if (body.contains(key)) return Forbidden("Attribute '" + std::string(key) + "' is read-only.");
    if (auto err = glance::ValidateSchema(glance::ImageSchema(), body)) return SchemaError("image", *err);

    json tags = body.contains("tags") ? body["tags"] : json::array();
    body.erase("tags");
    static const std::set<std::string, std::less<>> kBase = {
        "checksum",  "created_at", "container_format", "disk_format", "id",    "min_disk",   "min_ram",
        "name",      "size",       "virtual_size",     "status",      "owner", "updated_at", "visibility",
        "protected", "os_hidden"};
    json base = json::object();
    json extra = json::object();
    for (auto& [k, v] : body.items()) (kBase.contains(k) ? base : extra)[k] = v;
    for (const auto& [k, v] : extra.items()) {
        if (k.size() > 255) return BadRequest("Custom property should not be greater than 255 characters.");
        if (IsReservedName(k) || k == "locations") return Forbidden("Attribute '" + k + "' is reserved.");
        if (k == "os_hash_algo" || k == "os_hash_value") return Forbidden("Attribute '" + k + "' is read-only.");
    }

    std::optional<std::string> owner =
        who->project_id.empty() ? std::nullopt : std::optional<std::string>(who->project_id);
    if (base.contains("owner")) owner = OptString(base["owner"]);
    std::string visibility = base.value("visibility", "shared");
    if (visibility == "public" && !who->IsAdmin())
        return Forbidden("You are not authorized to complete publicize_image action.");
    if (base.contains("owner") && !who->IsAdmin() && owner != std::optional<std::string>(who->project_id))
        return Forbidden("You are not permitted to create images owned by '" + owner.value_or("None") + "'.");
    for (const char* key : {"created_at", "updated_at", "status", "checksum", "size", "virtual_size"})
        if (base.contains(key)) return Forbidden("Attribute '" + std::string(key) + "' is read-only.");

    ImageRecord image;
    image.id = base.contains("id") ? base["id"].get<std::string>() : NewUuid();
    image.name = base.contains("name") ? OptString(base["name"]) : std::nullopt;
    image.visibility = visibility;
    image.owner = owner;
    image.is_protected = base.value("protected", false);
    image.os_hidden = base.value("os_hidden", false);
    if (base.contains("disk_format")) image.disk_format = OptString(base["disk_format"]);
    if (base.contains("container_format")) image.container_format = OptString(base["container_format"]);
    image.min_disk = base.value("min_disk", std::int64_t{0});
    image.min_ram = base.value("min_ram", std::int64_t{0});
    if (image.min_disk < 0) return NegativeValue("min_disk", base["min_disk"]);
    if (image.min_ram < 0) return NegativeValue("min_ram", base["min_ram"]);
    image.tags = UniqueTags(tags);
    image.properties = extra;
    if (image.properties.size() > glance::kImagePropertyQuota) return PropertyQuotaError(image.properties.size());
    if (image.tags.size() > glance::kImageTagQuota)
        return MakeError(ErrorCode::kPayloadTooLarge, TagQuotaMessage(image.tags.size()));
    if (images.contains(image.id)) return Conflict("Image ID " + image.id + " already exists!");
    image.created_at = image.updated_at = std::chrono::system_clock::now();

    auto& stored = images[image.id] = std::move(image);
    Save(stored);
    auto r = http::Response::Json(201, glance::ImageView(stored));
    r.headers.Set("Location", ctx.ImageUrl() + "/v2/images/" + stored.id);
    r.headers.Set("OpenStack-image-import-methods", "glance-direct,web-download");
    return r;
}

Result<http::Response> GlanceService::State::ShowImage(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto image = Lookup(*who, req.Param("image_id"));
    if (!image.ok()) return image.error();
    return http::Response::Json(200, glance::ImageView(**image));
}

namespace {

// One sort criterion of GET /v2/images.
struct SortKey {
    std::string key;
    bool asc = false;
};

template <class T>
int Cmp(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

template <class T>
int CmpOpt(const std::optional<T>& a, const std::optional<T>& b) {
    if (!a || !b) return Cmp(a.has_value(), b.has_value());  // NULL sorts first, as in MySQL
    return Cmp(*a, *b);
}

int CompareBy(const ImageRecord& a, const ImageRecord& b, const std::string& key) {
    if (key == "name") return CmpOpt(a.name, b.name);
    if (key == "status") return Cmp(a.status, b.status);
    if (key == "container_format") return CmpOpt(a.container_format, b.container_format);
    if (key == "disk_format") return CmpOpt(a.disk_format, b.disk_format);
    if (key == "size") return CmpOpt(a.size, b.size);
    if (key == "id") return Cmp(a.id, b.id);
    if (key == "created_at") return Cmp(a.created_at, b.created_at);
    if (key == "updated_at") return Cmp(a.updated_at, b.updated_at);
    return 0;
}

// True when `a` comes before `b` in the listing order.
bool Before(const ImageRecord& a, const ImageRecord& b, const std::vector<SortKey>& keys) {
    for (const auto& k : keys) {
        int c = CompareBy(a, b, k.key);
        if (c != 0) return k.asc ? c < 0 : c > 0;
    }
    return false;
}

const std::vector<std::string>& AvailableSortKeys() {
    static const std::vector<std::string> k = {"name", "status", "container_format", "disk_format",
                                               "size", "id",     "created_at",       "updated_at"};
    return k;
}

Result<std::string> ValidSortKey(std::string key) {
    auto trimmed = key;
    trimmed.erase(0, trimmed.find_first_not_of(' '));
    trimmed.erase(trimmed.find_last_not_of(' ') + 1);
    const auto& keys = AvailableSortKeys();
    if (std::find(keys.begin(), keys.end(), trimmed) == keys.end()) {
        std::string all;
        for (const auto& k : keys) all += (all.empty() ? "" : ", ") + k;
        return BadRequest("Invalid sort key: " + trimmed + ". It must be one of the following: " + all + ".");
    }
    return trimmed;
}

Result<bool> ValidSortDirAsc(std::string dir) {
    dir.erase(0, dir.find_first_not_of(' '));
    dir.erase(dir.find_last_not_of(' ') + 1);
    if (dir != "asc" && dir != "desc") return BadRequest("Invalid sort direction: " + dir);
    return dir == "asc";
}

std::vector<std::string> SplitComma(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (true) {
        auto j = s.find(',', i);
        out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
        if (j == std::string_view::npos) break;
        i = j + 1;
    }
    return out;
}

// `value` or "in:v1,v2" (glance.api.common.split_filter_op for in-able attributes).
bool MatchesInFilter(const std::optional<std::string>& attr, const std::string& filter) {
    if (filter.starts_with("in:")) {
        if (!attr) return false;
        for (auto& v : SplitComma(std::string_view(filter).substr(3))) {
            std::string t = v;
            if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
            if (t == *attr) return true;
        }
        return false;
    }
    return attr && *attr == filter;
}

// created_at / updated_at filters: "[op:]timestamp" with op in gt, gte, lt, lte, eq, neq.
Result<std::function<bool(SystemTime)>> TimeFilter(const std::string& name, const std::string& filter) {
    std::string op = "eq";
    std::string value = filter;
    if (auto colon = filter.find(':'); colon != std::string::npos && colon <= 3) {
        op = filter.substr(0, colon);
        value = filter.substr(colon + 1);
    }
    static const std::set<std::string, std::less<>> kOps = {"gt", "gte", "lt", "lte", "eq", "neq"};
    if (!kOps.contains(op)) return BadRequest("Unable to filter on a unknown operator '" + op + "'.");
    auto t = ParseIso8601(value);
    if (!t) return BadRequest("Invalid time format for " + name + ".");
    auto at = std::chrono::time_point_cast<std::chrono::seconds>(*t);
    return std::function<bool(SystemTime)>([op, at](SystemTime v) {
        auto s = std::chrono::time_point_cast<std::chrono::seconds>(v);
        if (op == "gt") return s > at;
        if (op == "gte") return s >= at;
        if (op == "lt") return s < at;
        if (op == "lte") return s <= at;
        if (op == "neq") return s != at;
        return s == at;
    });
}

}  // namespace

Result<http::Response> GlanceService::State::ListImages(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();

    // RequestDeserializer.index: limit, marker, member_status, tag and sorting come out first.
    std::optional<std::string> limit_param, marker;
    std::string member_status = "accepted";
    std::vector<std::string> tags, sort_keys_raw, sort_dirs_raw;
    std::optional<std::string> sort;
    std::map<std::string, std::string, std::less<>> filters;
    for (const auto& [k, v] : req.query) {
        if (k == "limit") {
            if (!limit_param) limit_param = v;
        } else if (k == "marker") {
            if (!marker) marker = v;
        } else if (k == "member_status") {
            member_status = v;
        } else if (k == "tag") {
            std::string t = v;
            t.erase(0, t.find_first_not_of(' '));
            t.erase(t.find_last_not_of(' ') + 1);
            tags.push_back(t);
        } else if (k == "sort_key") {
            sort_keys_raw.push_back(v);
        } else if (k == "sort_dir") {
            sort_dirs_raw.push_back(v);
        } else if (k == "sort") {
            sort = v;
        } else {
            filters[k] = v;
        }
    }
    if (auto vis = filters.find("visibility"); vis != filters.end()) {
        static const std::set<std::string, std::less<>> kVis = {"community", "public", "private", "shared", "all"};
        if (!vis->second.empty() && !kVis.contains(vis->second))
            return BadRequest("Invalid visibility value: " + vis->second);
    }
    if (filters.contains("changes-since"))
        return BadRequest("The \"changes-since\" filter is no longer available on v2.");
    if (member_status != "pending" && member_status != "accepted" && member_status != "rejected" &&
        member_status != "all")
        return BadRequest("Invalid status: " + member_status);
    std::size_t limit = glance::kLimitParamDefault;
    if (limit_param) {
        long long n = 0;
        std::size_t used = 0;
        try {
            n = std::stoll(*limit_param, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != limit_param->size()) return BadRequest("limit param must be an integer");
        if (n < 0) return BadRequest("limit param must be positive");
        limit = static_cast<std::size_t>(n);
    }
    limit = std::min(limit, glance::kApiLimitMax);

    // _get_sorting_params
    std::vector<SortKey> order;
    if (sort) {
        if (!sort_keys_raw.empty() || !sort_dirs_raw.empty())
            return BadRequest("Old and new sorting syntax cannot be combined");
        std::string s = *sort;
        s.erase(0, s.find_first_not_of(' '));
        s.erase(s.find_last_not_of(' ') + 1);
        for (const auto& part : SplitComma(s)) {
            auto colon = part.find(':');
            auto key = ValidSortKey(part.substr(0, colon));
            if (!key.ok()) return key.error();
            auto asc = ValidSortDirAsc(colon == std::string::npos || colon + 1 == part.size() ? "desc"
                                                                                              : part.substr(colon + 1));
            if (!asc.ok()) return asc.error();
            order.push_back({*key, *asc});
        }
    } else {
        std::vector<std::string> keys;
        std::vector<bool> dirs;
        for (const auto& k : sort_keys_raw) {
            auto key = ValidSortKey(k);
            if (!key.ok()) return key.error();
            keys.push_back(*key);
        }
        for (const auto& d : sort_dirs_raw) {
            auto asc = ValidSortDirAsc(d);
            if (!asc.ok()) return asc.error();
            dirs.push_back(*asc);
        }
        if (dirs.size() > 1 && dirs.size() != keys.size())
            return BadRequest("Number of sort dirs does not match the number of sort keys");
        if (keys.empty()) keys.push_back("created_at");
        for (std::size_t i = 0; i < keys.size(); ++i)
            order.push_back({keys[i], dirs.empty() ? false : dirs[std::min(i, dirs.size() - 1)]});
    }
    // glance.db.sqlalchemy.api: created_at and id always break ties, in the default direction.
    std::size_t dir_count = sort ? order.size() : sort_dirs_raw.size();
    bool default_asc = dir_count == 1 ? order.front().asc : false;
    for (const char* tie : {"created_at", "id"})
        if (std::none_of(order.begin(), order.end(), [&](const SortKey& k) { return k.key == tie; }))
            order.push_back({tie, default_asc});

    // Filters.
    auto take = [&](const char* key) -> std::optional<std::string> {
        auto it = filters.find(key);
        if (it == filters.end()) return std::nullopt;
        auto v = it->second;
        filters.erase(it);
        return v;
    };
    std::string visibility = take("visibility").value_or("");
    std::string os_hidden = ToLower(take("os_hidden").value_or("false"));
    if (os_hidden != "true" && os_hidden != "false")
        return BadRequest("Invalid value '" + os_hidden +
                          "' for 'os_hidden' filter. Valid values are 'true' or 'false'.");
    auto is_protected = take("protected");
    if (is_protected && *is_protected != "true" && *is_protected != "false")
        return BadRequest("Invalid value '" + *is_protected +
                          "' for 'protected' filter. Valid values are 'true' or 'false'.");
    std::optional<std::uint64_t> size_min, size_max;
    for (auto [key, out] : {std::pair{"size_min", &size_min}, std::pair{"size_max", &size_max}}) {
        if (auto v = take(key)) {
            std::size_t used = 0;
            unsigned long long n = 0;
            try {
                if (!v->empty() && (*v)[0] != '-') n = std::stoull(*v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v->size()) return BadRequest("Unable to filter using the specified range.");
            *out = n;
        }
    }
    std::vector<std::function<bool(const ImageRecord&)>> preds;
    for (const char* key : {"created_at", "updated_at"}) {
        if (auto v = take(key)) {
            auto f = TimeFilter(key, *v);
            if (!f.ok()) return f.error();
            bool created = std::string_view(key) == "created_at";
            preds.push_back(
                [f = *f, created](const ImageRecord& i) { return f(created ? i.created_at : i.updated_at); });
        }
    }
    for (const char* key :
         {"id", "name", "status", "container_format", "disk_format", "owner", "checksum", "os_hash_value"}) {
        auto v = take(key);
        if (!v) continue;
        std::string k = key;
        preds.push_back([k, f = *v](const ImageRecord& i) {
            std::optional<std::string> attr;
            if (k == "id") attr = i.id;
            if (k == "name") attr = i.name;
            if (k == "status") attr = i.status;
            if (k == "container_format") attr = i.container_format;
            if (k == "disk_format") attr = i.disk_format;
            if (k == "owner") return i.owner && *i.owner == f;
            if (k == "checksum") return i.checksum && *i.checksum == f;
            if (k == "os_hash_value") return i.os_hash_value && *i.os_hash_value == f;
            return MatchesInFilter(attr, f);
        });
    }
    // Whatever is left filters on extra properties.
    for (const auto& [k, v] : filters) {
        preds.push_back([k, v](const ImageRecord& i) {
            auto it = i.properties.find(k);
            return it != i.properties.end() && it->is_string() && it->get<std::string>() == v;
        });
    }

    const bool admin = who->IsAdmin();
    const std::string& project = who->project_id;
    auto owned = [&](const ImageRecord& i) { return i.owner && !project.empty() && *i.owner == project; };
    auto member_ok = [&](const ImageRecord& i) {
        const auto* m = project.empty() ? nullptr : i.FindMember(project);
        return m && (member_status == "all" || m->status == member_status);
    };
    auto listed = [&](const ImageRecord& i) {
        if (visibility.empty() || visibility == "all") {
            if (i.visibility == "community") return visibility == "all" || owned(i);
            if (admin || i.visibility == "public" || owned(i)) return true;
            return i.visibility == "shared" && member_ok(i);
        }
        if (i.visibility != visibility) return false;
        if (admin || visibility == "public" || visibility == "community" || owned(i)) return true;
        return visibility == "shared" && member_ok(i);
    };

    std::vector<const ImageRecord*> matches;
    for (const auto& [id, i] : images) {
        if (!listed(i)) continue;
        if ((os_hidden == "true") != i.os_hidden) continue;
        if (is_protected && (*is_protected == "true") != i.is_protected) continue;
        if (size_min && (!i.size || *i.size < *size_min)) continue;
        if (size_max && (!i.size || *i.size > *size_max)) continue;
        bool ok = true;
        for (const auto& tag : tags) ok = ok && i.HasTag(tag);
        for (const auto& p : preds) ok = ok && p(i);
        if (!ok) continue;
        matches.push_back(&i);
    }
    std::sort(matches.begin(), matches.end(),
              [&](const ImageRecord* a, const ImageRecord* b) { return Before(*a, *b, order); });

    auto begin = matches.begin();
    if (marker) {
        auto m = images.find(*marker);
        if (m == images.end() || !CanSee(*who, m->second)) return BadRequest("No image found with ID " + *marker);
        const ImageRecord& mark = m->second;
        begin =
            std::find_if(matches.begin(), matches.end(), [&](const ImageRecord* i) { return Before(mark, *i, order); });
    }
    json list = json::array();
    std::string last;
    for (auto it = begin; it != matches.end() && list.size() < limit; ++it) {
        list.push_back(glance::ImageView(**it));
        last = (*it)->id;
    }

    http::QueryParams params;
    for (const auto& [k, v] : req.query)
        if (k != "marker") params.emplace_back(k, v);
    json body = {{"images", list}, {"first", "/v2/images"}, {"schema", "/v2/schemas/images"}};
    if (!params.empty()) body["first"] = "/v2/images?" + http::EncodeQuery(params);
    if (!list.empty() && list.size() == limit) {
        params.emplace_back("marker", last);
        body["next"] = "/v2/images?" + http::EncodeQuery(params);
    }
    return http::Response::Json(200, body);
}

namespace {

struct PatchOp {
    std::string op;
    std::vector<std::string> path;
    json value;
    bool has_value = false;
};

// RequestDeserializer._validate_json_pointer and _decode_json_pointer.
Result<std::vector<std::string>> DecodePointer(const std::string& pointer) {
    auto bad = [&](const std::string& why) { return BadRequest("Pointer `" + pointer + "` " + why); };
    if (pointer.empty() || pointer[0] != '/') return bad("does not start with \"/\".");
    // re.search(r'/\s*?/', pointer[1:])
    for (std::size_t i = 1; i < pointer.size(); ++i) {
        if (pointer[i] != '/') continue;
        std::size_t j = i + 1;
        while (j < pointer.size() && std::isspace(static_cast<unsigned char>(pointer[j]))) ++j;
        if (j < pointer.size() && pointer[j] == '/') return bad("contains adjacent \"/\".");
    }
    if (pointer.size() > 1 && pointer.back() == '/') return bad("end with \"/\".");
    for (std::size_t i = 0; i < pointer.size(); ++i)
        if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
            return bad("contains \"~\" not part of a recognized escape sequence.");
    std::vector<std::string> parts;
    std::string_view rest = std::string_view(pointer).substr(
        pointer.find_first_not_of('/') == std::string::npos ? pointer.size() : pointer.find_first_not_of('/'));
    for (auto& raw : [&] {
             std::vector<std::string> segs;
             std::size_t i = 0;
             while (true) {
                 auto j = rest.find('/', i);
                 segs.emplace_back(rest.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
                 if (j == std::string_view::npos) break;
                 i = j + 1;
             }
             return segs;
         }()) {
        std::string s;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~' && i + 1 < raw.size()) {
                s.push_back(raw[i + 1] == '1' ? '/' : '~');
                ++i;
            } else {
                s.push_back(raw[i]);
            }
        }
        s.erase(0, s.find_first_not_of(" \t\r\n"));
        auto end = s.find_last_not_of(" \t\r\n");
        s.erase(end == std::string::npos ? 0 : end + 1);
        parts.push_back(s);
    }
    return parts;
}

Result<std::vector<PatchOp>> ParsePatch(const json& body, int draft) {
    if (!body.is_array()) return BadRequest("Request body must be a JSON array of operation objects.");
    static const std::vector<std::string> kOps = {"add", "remove", "replace"};
    std::vector<PatchOp> ops;
    for (const auto& raw : body) {
        if (!raw.is_object()) return BadRequest("Operations must be JSON objects.");
        PatchOp op;
        json path;
        if (draft == 10) {
            if (!raw.contains("op"))
                return BadRequest(
                    "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, "
                    "replace.");
            op.op = raw["op"].is_string() ? raw["op"].get<std::string>() : glance::PyRepr(raw["op"]);
            if (std::find(kOps.begin(), kOps.end(), op.op) == kOps.end())
                return BadRequest("Invalid operation: `" + op.op +
                                  "`. It must be one of the following: add, remove, replace.");
            if (!raw.contains("path")) return BadRequest("Unable to find 'path' in JSON Schema change");
            path = raw["path"];
        } else {
            for (const auto& name : kOps) {
                if (!raw.contains(name)) continue;
                if (!op.op.empty())
                    return BadRequest(
                        "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".");
                op.op = name;
            }
            if (op.op.empty())
                return BadRequest(
                    "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".");
            path = raw[op.op];
        }
        if (!path.is_string()) return BadRequest("Invalid JSON pointer for this resource: " + glance::PyRepr(path));
        auto decoded = DecodePointer(path.get<std::string>());
        if (!decoded.ok()) return decoded.error();
        op.path = std::move(decoded).value();
        // _validate_path: only locations may go one level deeper.
        std::size_t depth = 1;
        if (op.path[0] == "locations" && op.op != "replace") depth = 2;
        if (op.path.size() != depth) {
            std::string joined;
            for (const auto& p : op.path) joined += (joined.empty() ? "" : "/") + p;
            return BadRequest("Invalid JSON pointer for this resource: '/" + joined + "'");
        }
        if (op.op != "remove") {
            if (!raw.contains("value"))
                return BadRequest("Operation \"" + op.op + "\" requires a member named \"value\".");
            op.value = raw["value"];
            op.has_value = true;
        }
        // _validate_change
        static const std::set<std::string, std::less<>> kReadOnly = {
            "created_at",    "updated_at", "status", "checksum",        "size", "virtual_size",
            "direct_url",    "self",       "file",   "schema",          "id",   "os_hash_algo",
            "os_hash_value", "image_id",   "member", "extra_properties"};
        const auto& root = op.path[0];
        if (kReadOnly.contains(root)) return Forbidden("Attribute '" + root + "' is read-only.");
        if (IsReservedName(root)) return Forbidden("Attribute '" + root + "' is reserved.");
        if (op.op != "remove") {
            json partial = json::object();
            if (op.path.size() == 1)
                partial[root] = op.value;
            else
                partial[root] = json::array({op.value});
            if (auto err = glance::ValidateSchema(glance::ImageSchema(), partial)) return SchemaError("image", *err);
        }
        ops.push_back(std::move(op));
    }
    return ops;
}

bool IsBaseAttribute(std::string_view name) {
    static const std::set<std::string, std::less<>> k = {
        "name",  "visibility",  "os_hidden",        "min_disk", "min_ram",  "protected",
        "owner", "disk_format", "container_format", "tags",     "locations"};
    return k.contains(name);
}

}  // namespace

Result<http::Response> GlanceService::State::UpdateImage(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    std::string media = MediaType(req);
    int draft = 0;
    if (media == "application/openstack-images-v2.0-json-patch") draft = 4;
    if (media == "application/openstack-images-v2.1-json-patch") draft = 10;
    if (draft == 0) {
        auto r = http::ErrorResponse(http::ErrorStyle::kGlance,
                                     MakeError(ErrorCode::kUnsupportedMedia,
                                               "The request media type " + media + " is not supported by this server."),
                                     req.request_id);
        r.headers.Set("Accept-Patch",
                      "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch");
        return r;
    }
    auto body = BodyOf(req);
    if (!body.ok()) return body.error();
    auto ops = ParsePatch(*body, draft);
    if (!ops.ok()) return ops.error();
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return found.error();
    ImageRecord& current = **found;
    if (!CanModify(*who, current) && !ops->empty())
        return Forbidden("You are not permitted to modify '" + ops->front().path[0] + "' on this image.");

    ImageRecord image = current;  // all operations apply, or none
    for (const auto& op : *ops) {
        const std::string& root = op.path[0];
        if (root == "locations") {
            if (op.op == "replace" && op.value.is_array() && op.value.empty())
                return Forbidden("Cannot set locations to empty list.");
            return Forbidden("It's not allowed to " + std::string(op.op == "replace" ? "update" : op.op) +
                             " locations if locations are invisible.");
        }
        bool base = IsBaseAttribute(root);
        bool present = base || image.properties.contains(root);
        if (op.op == "remove") {
            if (base) return Forbidden("Property " + root + " may not be removed.");
            if (!present) return Conflict("Property " + root + " does not exist.");
            image.properties.erase(root);
            continue;
        }
        if (op.op == "replace" && !present) return Conflict("Property " + root + " does not exist.");
        if (op.op == "add" && draft == 4 && present) return Conflict("Property " + root + " already present.");
        if (!base) {
            image.properties[root] = op.value;
            continue;
        }
        const json& v = op.value;
        if (root == "name") {
            image.name = OptString(v);
        } else if (root == "visibility") {
            auto vis = v.get<std::string>();
            if (vis == "public" && image.visibility != "public" && !who->IsAdmin())
                return Forbidden("You are not authorized to complete publicize_image action.");
            image.visibility = vis;
        } else if (root == "protected") {
            image.is_protected = v.get<bool>();
        } else if (root == "os_hidden") {
            image.os_hidden = v.get<bool>();
        } else if (root == "min_disk" || root == "min_ram") {
            auto n = v.get<std::int64_t>();
            if (n < 0) return NegativeValue(root, v);
            (root == "min_disk" ? image.min_disk : image.min_ram) = n;
        } else if (root == "disk_format" || root == "container_format") {
            if (image.status != "queued" && image.status != "importing")
                return Forbidden("Attribute " + root + " can be only replaced for a queued image.");
            (root == "disk_format" ? image.disk_format : image.container_format) = OptString(v);
        } else if (root == "owner") {
            if (!who->IsAdmin()) return Forbidden("Owner can't be updated by non admin.");
            image.owner = OptString(v);
        } else if (root == "tags") {
            image.tags = UniqueTags(v);
        }
    }
    if (image.properties.size() > glance::kImagePropertyQuota) return PropertyQuotaError(image.properties.size());
    if (image.tags.size() > glance::kImageTagQuota)
        return MakeError(ErrorCode::kPayloadTooLarge, TagQuotaMessage(image.tags.size()));
    if (!ops->empty()) {
        image.updated_at = std::chrono::system_clock::now();
        current = std::move(image);
        Save(current);
    }
    return http::Response::Json(200, glance::ImageView(current));
}

Result<http::Response> GlanceService::State::DeleteImage(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return found.error();
    ImageRecord& image = **found;
    if (!CanModify(*who, image)) return Forbidden("You are not permitted to delete this image.");
    if (image.is_protected) return Forbidden("Image " + image.id + " is protected and cannot be deleted.");
    std::string id = image.id;
    RemoveFile(DataPath(id));
    RemoveFile(StagePath(id));
    // A running import notices the image is gone and removes its own download.
    images.erase(id);
    Forget(id);
    return http::Response::Empty(204);
}

Result<http::Response> GlanceService::State::ImageAction(http::Request& req, bool deactivate) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return found.error();
    ImageRecord& image = **found;
    std::string action = deactivate ? "deactivate" : "reactivate";
    if (!CanModify(*who, image)) return Forbidden("You are not authorized to complete " + action + " action.");
    std::string from = deactivate ? "active" : "deactivated";
    std::string to = deactivate ? "deactivated" : "active";
    if (image.status == to) return http::Response::Empty(204);
    if (image.status != from) return Forbidden("Not allowed to " + action + " image in status '" + image.status + "'");
    image.status = to;
    image.updated_at = std::chrono::system_clock::now();
    Save(image);
    return http::Response::Empty(204);
}

// ---------------------------------------------------------------------------------------------
// Tags (glance/api/v2/image_tags.py).

Result<http::Response> GlanceService::State::AddTag(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    ImageRecord& image = **found;
    if (!CanModify(*who, image)) return Forbidden("Not allowed to update tags for image " + id + ".");
    const auto& tag = req.Param("tag");
    if (auto err = glance::ValidateSchema(glance::ImageSchema(), json{{"tags", json::array({tag})}}))
        return BadRequest("Could not update image: Provided object does not match schema 'image': " + *err);
    if (image.HasTag(tag)) return http::Response::Empty(204);
    if (image.tags.size() + 1 > glance::kImageTagQuota)
        return MakeError(ErrorCode::kPayloadTooLarge, "Image tag limit exceeded for image " + id + ": " +
                                                          TagQuotaMessage(image.tags.size() + 1) + ":");
    image.tags.push_back(tag);
    image.updated_at = std::chrono::system_clock::now();
    Save(image);
    return http::Response::Empty(204);
}

Result<http::Response> GlanceService::State::DeleteTag(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    ImageRecord& image = **found;
    if (!CanModify(*who, image)) return Forbidden("Not allowed to delete tags for image " + id + ".");
    const auto& tag = req.Param("tag");
    if (!image.HasTag(tag)) return MakeError(ErrorCode::kNotFound, "The resource could not be found.");
    std::erase(image.tags, tag);
    image.updated_at = std::chrono::system_clock::now();
    Save(image);
    return http::Response::Empty(204);
}

// ---------------------------------------------------------------------------------------------
// Members (glance/api/v2/image_members.py with the legacy ownership checks of Zed's defaults).

Result<http::Response> GlanceService::State::ListMembers(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    const ImageRecord& image = **found;
    if (image.visibility != "shared")
        return Forbidden("Not allowed to list members for image " + id + ": Only shared images have members.");
    json members = json::array();
    if (CanModify(*who, image)) {
        for (const auto& m : image.members) members.push_back(glance::MemberView(image, m));
    } else if (const auto* m = image.FindMember(who->project_id)) {
        members.push_back(glance::MemberView(image, *m));
    }
    return http::Response::Json(200, {{"members", members}, {"schema", "/v2/schemas/members"}});
}

Result<http::Response> GlanceService::State::CreateMember(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    auto body = BodyOf(req);
    if (!body.ok()) return body.error();
    if (!body->is_object()) return BadRequest("Expected a member in the form: {\"member\": \"image_id\"}");
    if (!body->contains("member")) return BadRequest("Member to be added not specified");
    const json& member = (*body)["member"];
    if (member.is_null() || (member.is_string() && member.get<std::string>().empty()))
        return BadRequest("Member can't be empty");
    if (!member.is_string()) return BadRequest("Expected a member in the form: {\"member\": \"image_id\"}");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    ImageRecord& image = **found;
    if (image.visibility != "shared" || !CanModify(*who, image))
        return Forbidden("Not allowed to create members for image " + id + ".");
    std::string member_id = member.get<std::string>();
    if (image.FindMember(member_id)) return Conflict("Member " + member_id + " is duplicated for image " + id);
    if (image.members.size() + 1 > glance::kImageMemberQuota)
        return MakeError(ErrorCode::kPayloadTooLarge,
                         "Image member limit exceeded for image " + id +
                             ": The limit has been exceeded on the number of allowed image members for this image. "
                             "Attempted: " +
                             std::to_string(image.members.size() + 1) +
                             ", Maximum: " + std::to_string(glance::kImageMemberQuota) + ":");
    auto now = std::chrono::system_clock::now();
    image.members.push_back(glance::ImageMember{member_id, "pending", now, now});
    Save(image);
    return http::Response::Json(200, glance::MemberView(image, image.members.back()));
}

Result<http::Response> GlanceService::State::ShowMember(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    const auto& member_id = req.Param("member_id");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    const ImageRecord& image = **found;
    // Glance turns every refusal here into 404 to avoid leaking memberships.
    if (image.visibility != "shared") return MakeError(ErrorCode::kNotFound, "Only shared images have members.");
    if (!CanModify(*who, image) && member_id != who->project_id)
        return MakeError(ErrorCode::kNotFound, "You cannot get image member for " + member_id);
    const auto* m = image.FindMember(member_id);
    if (!m)
        return MakeError(ErrorCode::kNotFound, member_id + " not found in the member list of the image " + id + ".");
    return http::Response::Json(200, glance::MemberView(image, *m));
}

Result<http::Response> GlanceService::State::UpdateMember(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    const auto& member_id = req.Param("member_id");
    auto body = BodyOf(req);
    if (!body.ok()) return body.error();
    if (!body->is_object()) return BadRequest("Expected a status in the form: {\"status\": \"status\"}");
    if (!body->contains("status")) return BadRequest("Status not specified");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    ImageRecord& image = **found;
    bool owner = image.owner && *image.owner == who->project_id;
    if (image.visibility != "shared" || (!who->IsAdmin() && (owner || member_id != who->project_id)))
        return Forbidden("Not allowed to update members for image " + id + ".");
    auto* m = image.FindMember(member_id);
    if (!m)
        return MakeError(ErrorCode::kNotFound, member_id + " not found in the member list of the image " + id + ".");
    const json& status = (*body)["status"];
    if (!status.is_string() || (status != "pending" && status != "accepted" && status != "rejected"))
        return BadRequest("Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".");
    m->status = status.get<std::string>();
    m->updated_at = std::chrono::system_clock::now();
    Save(image);
    return http::Response::Json(200, glance::MemberView(image, *m));
}

Result<http::Response> GlanceService::State::DeleteMember(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    const auto& member_id = req.Param("member_id");
    auto found = Lookup(*who, id);
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "Image " + id + " not found.");
    ImageRecord& image = **found;
    if (image.visibility != "shared" || !CanModify(*who, image))
        return Forbidden("Not allowed to delete members for image " + id + ".");
    if (!image.FindMember(member_id))
        return MakeError(ErrorCode::kNotFound, member_id + " not found in the member list of the image " + id + ".");
    std::erase_if(image.members, [&](const glance::ImageMember& m) { return m.member_id == member_id; });
    Save(image);
    return http::Response::Empty(204);
}

Result<http::Response> GlanceService::State::ListTasks(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return MakeError(ErrorCode::kNotFound, "The resource could not be found.");
    const ImageRecord& image = **found;
    json tasks = json::array();
    for (auto it = image.tasks.rbegin(); it != image.tasks.rend(); ++it) tasks.push_back(glance::TaskView(image, *it));
    return http::Response::Json(200, {{"tasks", tasks}});
}

}  // namespace shoal::emulator
