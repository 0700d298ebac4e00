// The emulated Glance's image data: upload, download, staging and the interoperable import
// (web-download and glance-direct), run in the background like Glance's taskflow.
#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>

#include <filesystem>
#include <fstream>

#include "common/ids.hpp"
#include "common/spawn.hpp"
#include "emulator/glance/glance_state.hpp"

namespace shoal::emulator {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using glance::ImageRecord;
using nlohmann::json;

namespace {

constexpr int kMaxRedirects = 5;
constexpr std::chrono::hours kTaskTimeToLive{48};
constexpr std::chrono::milliseconds kDownloadTimeout{3'600'000};

Error Unavailable() {
    return MakeError(ErrorCode::kUnavailable, "The image service is shutting down.");
}

// The media type of a Content-Type header, as webob's request.content_type.
std::optional<std::string> MediaTypeOf(const http::Request& req) {
    auto ct = req.headers.Get("Content-Type");
    if (!ct) return std::nullopt;
    std::string v(ct->substr(0, ct->find(';')));
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    return v;
}

// glance.common.wsgi.Request.get_content_type(('application/octet-stream',))
std::optional<Error> RequireOctetStream(const http::Request& req) {
    auto media = MediaTypeOf(req);
    if (media && *media == "application/octet-stream") return std::nullopt;
    return MakeError(ErrorCode::kUnsupportedMedia, "Invalid content type " + media.value_or("None"));
}

std::optional<Error> MissingFormats(const ImageRecord& image) {
    std::vector<std::string> missing;
    if (!image.disk_format) missing.push_back("disk_format");
    if (!image.container_format) missing.push_back("container_format");
    if (missing.empty()) return std::nullopt;
    if (missing.size() == 1)
        return MakeError(ErrorCode::kBadRequest, "Property " + missing[0] + " must be set prior to saving data.");
    return MakeError(ErrorCode::kBadRequest,
                     "Properties " + missing[0] + ", " + missing[1] + " must be set prior to saving data.");
}

Error BadTransition(const std::string& from, const std::string& to) {
    return MakeError(ErrorCode::kConflict, "Image status transition from " + from + " to " + to + " is not allowed");
}

// Moves a request's spooled body to `dest`; the server deletes whatever is left at body_file.
Status TakeBody(http::Request& req, const std::string& dest) {
    std::error_code ec;
    if (req.body_file.empty()) {
        // In-process callers may hand the data in memory.
        std::ofstream out(dest, std::ios::binary | std::ios::trunc);
        out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
        if (!out) return MakeError(ErrorCode::kInternal, "Cannot store image data.");
        return Ok{};
    }
    fs::rename(req.body_file, dest, ec);
    if (ec) {
        // A spool directory on another file system: copy instead.
        ec.clear();
        fs::copy_file(req.body_file, dest, fs::copy_options::overwrite_existing, ec);
        if (ec) return MakeError(ErrorCode::kInternal, "Cannot store image data: " + ec.message());
    }
    req.body_file.clear();
    return Ok{};
}

// glance.common.utils.validate_import_uri with [import_filtering_opts]: http only (our client
// speaks nothing else) and, when allowed_hosts is set, only those hosts.
bool PassesImportFilter(const CloudletConfig& config, const std::string& uri) {
    auto parsed = boost::urls::parse_absolute_uri(uri);
    if (!parsed || parsed->scheme() != "http") return false;
    std::string host = parsed->host();
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return false;
    const auto& allowed = config.import_allowed_hosts;
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), host) != allowed.end();
}

std::string ResolveLocation(const std::string& base, const std::string& location) {
    if (location.starts_with("http://") || location.starts_with("https://")) return location;
    auto parsed = http::ParseUrl(base);
    if (!parsed.ok()) return location;
    if (location.starts_with("/")) return parsed->Origin() + location;
    auto path = parsed->target.substr(0, parsed->target.find('?'));
    return parsed->Origin() + path.substr(0, path.rfind('/') + 1) + location;
}

glance::ImportTask* FindTask(ImageRecord& image, const std::string& task_id) {
    for (auto& t : image.tasks)
        if (t.id == task_id) return &t;
    return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Upload and download (glance/api/v2/image_data.py).

asio::awaitable<Result<http::Response>> GlanceService::State::UploadData(std::weak_ptr<State> weak,
                                                                         http::Request& req) {
    auto self = weak.lock();
    if (!self) co_return Unavailable();
    auto who = Authenticate(self->ctx, req);
    if (!who.ok()) co_return who.error();
    if (auto err = RequireOctetStream(req)) co_return *err;
    auto found = self->Lookup(*who, req.Param("image_id"));
    if (!found.ok()) co_return found.error();
    ImageRecord& image = **found;
    if (!CanModify(*who, image))
        co_return MakeError(ErrorCode::kForbidden, "Not allowed to upload image data for image " + image.id);
    if (image.status != "queued") co_return BadTransition(image.status, "saving");
    if (auto err = MissingFormats(image)) co_return *err;

    const std::string id = image.id;
    const std::string path = self->DataPath(id);
    if (auto moved = TakeBody(req, path); !moved.ok()) co_return moved.error();
    image.status = "saving";
    image.updated_at = std::chrono::system_clock::now();
    self->Save(image);

    auto executor = self->ctx.executor;
    self.reset();  // not held while hashing: the service may be destroyed meanwhile
    auto digests = co_await glance::HashFile(executor, path);
    self = weak.lock();
    if (!self) co_return Unavailable();
    auto it = self->images.find(id);
    if (it == self->images.end() || it->second.status != "saving") {
        self->RemoveFile(path);
        // Glance answers 410 Gone here; the shared error mapping has no such code.
        co_return MakeError(ErrorCode::kConflict, "Image " + id +
                                                      " could not be found after upload. The image may have been "
                                                      "deleted during the upload, cleaning up the chunks uploaded.");
    }
    ImageRecord& saved = it->second;
    saved.updated_at = std::chrono::system_clock::now();
    if (!digests.ok()) {
        self->RemoveFile(path);
        saved.status = "queued";
        self->Save(saved);
        co_return digests.error();
    }
    saved.size = digests->size;
    saved.checksum = digests->md5;
    saved.os_hash_algo = std::string(glance::kHashAlgo);
    saved.os_hash_value = digests->sha512;
    saved.virtual_size = glance::InspectVirtualSize(path, saved.disk_format, digests->size);
    saved.has_data = true;
    saved.status = "active";
    self->Save(saved);
    co_return http::Response::Empty(204);
}

Result<http::Response> GlanceService::State::DownloadData(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return found.error();
    const ImageRecord& image = **found;
    if (image.status == "deactivated" && !who->IsAdmin())
        return MakeError(ErrorCode::kForbidden,
                         "The requested image has been deactivated. Image data download is forbidden.");
    std::string path = DataPath(image.id);
    std::error_code ec;
    if (!image.has_data || !fs::is_regular_file(path, ec)) return http::Response::Empty(204);
    http::Response r;
    r.status = 200;
    r.body_file = path;
    r.headers.Set("Content-Type", "application/octet-stream");
    if (image.checksum) r.headers.Set("Content-MD5", *image.checksum);
    r.headers.Set("Content-Length", std::to_string(fs::file_size(path, ec)));
    return r;
}

Result<http::Response> GlanceService::State::StageData(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    if (auto err = RequireOctetStream(req)) return *err;
    auto found = Lookup(*who, req.Param("image_id"));
    if (!found.ok()) return found.error();
    ImageRecord& image = **found;
    if (!CanModify(*who, image))
        return MakeError(ErrorCode::kForbidden, "You are not authorized to complete modify_image action.");
    if (image.status != "queued") return BadTransition(image.status, "uploading");
    // A queued image has nothing staged; whatever a crash left behind is replaced.
    std::string path = StagePath(image.id);
    std::error_code ec;
    if (auto moved = TakeBody(req, path); !moved.ok()) return moved.error();
    image.size = fs::file_size(path, ec);
    image.staged = true;
    image.status = "uploading";
    image.updated_at = std::chrono::system_clock::now();
    Save(image);
    return http::Response::Empty(204);
}

// ---------------------------------------------------------------------------------------------
// Import (glance/api/v2/images.py import_image and glance/async_/flows/api_image_import.py).

namespace {

struct ImportJob {
    std::string image_id;
    std::string task_id;
    std::string method;  // web-download or glance-direct
    std::string uri;
};

// What a finished import does to the image; called only while the image still holds the lock.
void FinishImport(ImageRecord& image, const std::string& task_id, std::optional<std::string> failure) {
    auto now = std::chrono::system_clock::now();
    image.properties[std::string(glance::kImportingStoresKey)] = "";
    image.properties[std::string(glance::kFailedImportKey)] = "";
    image.properties.erase(std::string(glance::kImportLockKey));
    if (failure) {
        image.status = "queued";
        image.size.reset();
        image.virtual_size.reset();
        image.staged = false;
    }
    image.updated_at = now;
    if (auto* task = FindTask(image, task_id)) {
        task->status = failure ? "failure" : "success";
        task->message = failure.value_or("");
        if (!failure) task->result = {{"image_id", image.id}};
        task->updated_at = now;
        task->expires_at = now + kTaskTimeToLive;
    }
}

bool HoldsLock(const ImageRecord& image, const std::string& task_id) {
    auto it = image.properties.find(std::string(glance::kImportLockKey));
    return it != image.properties.end() && *it == task_id;
}

}  // namespace

Result<http::Response> GlanceService::State::ImportImage(http::Request& req) {
    auto who = Authenticate(ctx, req);
    if (!who.ok()) return who.error();
    const auto& id = req.Param("image_id");
    if (req.body.empty()) return MakeError(ErrorCode::kBadRequest, "Body expected in request.");
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return MakeError(ErrorCode::kBadRequest, "Malformed JSON in request body.");
    // RequestDeserializer._validate_import_body
    if (!body.is_object() || !body.contains("method"))
        return MakeError(ErrorCode::kBadRequest, "Import request requires a 'method' field.");
    const json& method = body["method"];
    if (!method.is_object() || !method.contains("name"))
        return MakeError(ErrorCode::kBadRequest, "Import request requires a 'name' field.");
    std::string name = method["name"].is_string() ? method["name"].get<std::string>() : glance::PyRepr(method["name"]);
    if (name != "glance-direct" && name != "web-download")
        return MakeError(ErrorCode::kBadRequest, "Unknown import method name '" + name + "'.");
    if (body.contains("all_stores_must_succeed") && !body["all_stores_must_succeed"].is_boolean())
        return MakeError(ErrorCode::kBadRequest, "'all_stores_must_succeed' must be boolean value only");
    if (body.contains("all_stores") && !body["all_stores"].is_boolean())
        return MakeError(ErrorCode::kBadRequest, "'all_stores' must be boolean value only");
    std::optional<std::string> uri;
    if (method.contains("uri") && !method["uri"].is_null())
        uri = method["uri"].is_string() ? method["uri"].get<std::string>() : http::DumpJson(method["uri"]);

    auto found = Lookup(*who, id);
    if (!found.ok()) return found.error();
    ImageRecord& image = **found;
    if (image.status == "active")
        return MakeError(ErrorCode::kConflict, "Image with status active cannot be target for import");
    if (name == "web-download" && image.status != "queued")
        return MakeError(ErrorCode::kConflict, "Image needs to be in 'queued' state to use 'web-download' method");
    if (name == "glance-direct" && image.status != "uploading")
        return MakeError(ErrorCode::kConflict, "Image needs to be staged before 'glance-direct' method can be used");
    if (!image.container_format)
        return MakeError(ErrorCode::kConflict, "'container_format' needs to be set before import");
    if (!image.disk_format) return MakeError(ErrorCode::kConflict, "'disk_format' needs to be set before import");
    if (!CanModify(*who, image))
        return MakeError(ErrorCode::kForbidden, "You are not authorized to complete modify_image action.");
    if (image.properties.contains(std::string(glance::kImportLockKey)))
        return MakeError(ErrorCode::kConflict, "Image has active task");
    if (body.contains("all_stores_must_succeed") && !body["all_stores_must_succeed"].get<bool>())
        return MakeError(ErrorCode::kBadRequest,
                         "All_stores_must_succeed can only be set with enabled_backends " + uri.value_or("None"));
    if (name == "web-download" && (!uri || !PassesImportFilter(ctx.config, *uri)))
        return MakeError(ErrorCode::kBadRequest,
                         "URI for web-download does not pass filtering: " + uri.value_or("None"));

    auto now = std::chrono::system_clock::now();
    glance::ImportTask task;
    task.id = NewUuid();
    task.status = "processing";
    task.owner = who->project_id;
    task.user_id = who->user_id;
    task.request_id = req.request_id;
    task.input = {{"image_id", id}, {"import_req", body}, {"backend", json::array({nullptr})}};
    task.created_at = task.updated_at = now;
    image.tasks.push_back(task);
    if (image.tasks.size() > glance::kTasksKeptPerImage) image.tasks.erase(image.tasks.begin());
    // The import lock and the progress markers Glance sets before its flow runs.
    image.properties[std::string(glance::kImportLockKey)] = task.id;
    image.properties[std::string(glance::kImportingStoresKey)] = "";
    image.properties[std::string(glance::kFailedImportKey)] = "";
    image.status = "importing";
    image.updated_at = now;
    Save(image);

    ImportJob job{id, task.id, name, uri.value_or("")};
    std::weak_ptr<State> weak = weak_from_this();
    auto run = [](std::weak_ptr<State> weak, ImportJob job) -> asio::awaitable<void> {
        std::string path;
        std::optional<std::string> failure;
        asio::any_io_executor executor;
        http::Client* client = nullptr;
        std::uint64_t max_bytes = 0;
        {
            auto self = weak.lock();
            if (!self) co_return;
            path = job.method == "glance-direct" ? self->StagePath(job.image_id)
                                                 : self->ImportPath(job.image_id, job.task_id);
            executor = self->ctx.executor;
            client = &self->ctx.client;
            max_bytes = self->ctx.config.max_image_bytes;
        }
        if (job.method == "web-download") {
            std::string url = job.uri;
            for (int hop = 0;; ++hop) {
                http::Request get;
                get.method = http::Method::kGet;
                get.headers.Set("Accept", "*/*");
                // The client outlives every request it started, even if the service goes away.
                auto response = co_await client->Send(url, std::move(get), kDownloadTimeout, path);
                auto self = weak.lock();
                if (!self) {
                    std::error_code ec;
                    fs::remove(path, ec);
                    co_return;
                }
                client = &self->ctx.client;
                if (!response.ok()) {
                    failure = "Failed to download " + url + ": " + response.error().message;
                    break;
                }
                int status = response->status;
                auto location = response->headers.Get("Location");
                if (status >= 300 && status < 400 && location) {
                    url = ResolveLocation(url, std::string(*location));
                    if (hop + 1 >= kMaxRedirects) {
                        failure = "Too many redirects while downloading " + job.uri;
                        break;
                    }
                    if (!PassesImportFilter(self->ctx.config, url)) {
                        failure = "URI for web-download does not pass filtering: " + url;
                        break;
                    }
                    continue;
                }
                if (status != 200) failure = "Failed to download " + url + ": HTTP " + std::to_string(status);
                break;
            }
            std::error_code ec;
            if (!failure && fs::file_size(path, ec) > max_bytes)
                failure = "The incoming image is too large: the limit is " + std::to_string(max_bytes) + " bytes.";
        }
        Result<glance::Digests> digests = MakeError(ErrorCode::kInternal, "not hashed");
        if (!failure) {
            digests = co_await glance::HashFile(executor, path);
            if (!digests.ok()) failure = digests.error().message;
        }
        auto self = weak.lock();
        if (!self) co_return;
        auto it = self->images.find(job.image_id);
        if (it == self->images.end() || !HoldsLock(it->second, job.task_id)) {
            self->RemoveFile(path);  // deleted meanwhile
            co_return;
        }
        ImageRecord& image = it->second;
        if (failure) {
            spdlog::warn("glance: import of image {} failed: {}", job.image_id, *failure);
            self->RemoveFile(path);
            FinishImport(image, job.task_id, failure);
            self->Save(image);
            co_return;
        }
        std::string dest = self->DataPath(job.image_id);
        std::error_code ec;
        fs::rename(path, dest, ec);
        if (ec) {
            self->RemoveFile(path);
            FinishImport(image, job.task_id, "Cannot store image data: " + ec.message());
            self->Save(image);
            co_return;
        }
        image.size = digests->size;
        image.checksum = digests->md5;
        image.os_hash_algo = std::string(glance::kHashAlgo);
        image.os_hash_value = digests->sha512;
        image.virtual_size = glance::InspectVirtualSize(dest, image.disk_format, digests->size);
        image.has_data = true;
        image.staged = false;
        image.status = "active";
        FinishImport(image, job.task_id, std::nullopt);
        self->Save(image);
    };
    SpawnDetached(ctx.executor, run(std::move(weak), std::move(job)), "glance: import of image " + id + " died");
    return http::Response::Empty(202);
}

void GlanceService::State::RecoverInterrupted() {
    for (auto& [id, image] : images) {
        bool changed = false;
        if (image.status == "saving") {
            RemoveFile(DataPath(id));
            image.status = "queued";
            image.has_data = false;
            changed = true;
        } else if (image.status == "importing") {
            auto lock = image.properties.find(std::string(glance::kImportLockKey));
            std::string task_id = lock != image.properties.end() && lock->is_string() ? lock->get<std::string>() : "";
            RemoveFile(ImportPath(id, task_id));
            RemoveFile(StagePath(id));
            FinishImport(image, task_id, "Import interrupted by a restart of the image service");
            changed = true;
        } else if (image.status == "uploading" && !fs::exists(StagePath(id))) {
            image.status = "queued";
            image.size.reset();
            image.staged = false;
            changed = true;
        }
        if (changed) {
            image.updated_at = std::chrono::system_clock::now();
            Save(image);
        }
    }
}

}  // namespace shoal::emulator
