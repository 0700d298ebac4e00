#pragma once

#include "emulator/core/py_repr.hpp"

// Internals of the emulated Glance, shared by glance_*.cpp. Not part of any public interface.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time_format.hpp"
#include "emulator/core/identity.hpp"
#include "emulator/core/service_context.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace shoal::emulator::glance {

// Glance's defaults (glance-api.conf) that clients can observe.
inline constexpr std::size_t kLimitParamDefault = 25;
inline constexpr std::size_t kApiLimitMax = 1000;
inline constexpr std::size_t kImagePropertyQuota = 128;
inline constexpr std::size_t kImageTagQuota = 128;
inline constexpr std::size_t kImageMemberQuota = 128;
// Import tasks kept per image (Glance expires them after 48 hours; we keep the latest few).
inline constexpr std::size_t kTasksKeptPerImage = 16;
inline constexpr std::string_view kHashAlgo = "sha512";
inline constexpr std::string_view kReservedNamespace = "os_glance";
inline constexpr std::string_view kImportingStoresKey = "os_glance_importing_to_stores";
inline constexpr std::string_view kFailedImportKey = "os_glance_failed_import";
inline constexpr std::string_view kImportLockKey = "os_glance_import_task";

struct ImageMember {
    std::string member_id;
    std::string status = "pending";
    SystemTime created_at;
    SystemTime updated_at;
};

// An api_image_import task, as GET /v2/images/{id}/tasks shows it.
struct ImportTask {
    std::string id;
    std::string status = "pending";  // pending, processing, success, failure
    std::string owner;
    std::string user_id;
    std::string request_id;
    std::string message;
    nlohmann::json input = nlohmann::json::object();
    nlohmann::json result;  // null until success
    SystemTime created_at;
    SystemTime updated_at;
    std::optional<SystemTime> expires_at;
};

struct ImageRecord {
    std::string id;
    std::optional<std::string> name;
    std::string status = "queued";
    std::string visibility = "shared";
    bool is_protected = false;
    bool os_hidden = false;
    std::optional<std::string> checksum;
    std::optional<std::string> os_hash_algo;
    std::optional<std::string> os_hash_value;
    std::optional<std::string> owner;
    std::optional<std::uint64_t> size;
    std::optional<std::uint64_t> virtual_size;
    std::optional<std::string> disk_format;
    std::optional<std::string> container_format;
    std::int64_t min_disk = 0;
    std::int64_t min_ram = 0;
    std::vector<std::string> tags;                         // unique, in insertion order
    nlohmann::json properties = nlohmann::json::object();  // extra properties, string values
    SystemTime created_at;
    SystemTime updated_at;
    std::vector<ImageMember> members;
    std::vector<ImportTask> tasks;
    bool has_data = false;  // the data file exists (active or deactivated)
    bool staged = false;    // the staging file exists (uploading)

    const ImageMember* FindMember(std::string_view project) const;
    ImageMember* FindMember(std::string_view project);
    bool HasTag(std::string_view tag) const;
};

// Persistence and the API view.
nlohmann::json ToStored(const ImageRecord& image);
Result<ImageRecord> FromStored(const nlohmann::json& j);
nlohmann::json ImageView(const ImageRecord& image);
nlohmann::json MemberView(const ImageRecord& image, const ImageMember& member);
nlohmann::json TaskView(const ImageRecord& image, const ImportTask& task);

// Schemas as GET /v2/schemas/... serves them, and validation against them.
const nlohmann::json& ImageSchema();
const nlohmann::json& ImagesSchema();
const nlohmann::json& MemberSchema();
const nlohmann::json& MembersSchema();
const nlohmann::json& TaskSchema();
const nlohmann::json& TasksSchema();
const std::vector<std::string>& DiskFormats();
const std::vector<std::string>& ContainerFormats();
// jsonschema's error for `value` against `schema`, nullopt when valid. The message has the form
// Glance puts after "Provided object does not match schema 'image': ".
std::optional<std::string> ValidateSchema(const nlohmann::json& schema, const nlohmann::json& value);
// Python's repr() of a JSON value, as Glance's messages show values.
using emulator::PyRepr;

// The version document of GET /image and /image/versions.
nlohmann::json VersionsDocument(const std::string& image_url);

// md5 + sha512 of a file, computed in chunks that yield to the executor between them.
struct Digests {
    std::string md5;
    std::string sha512;
    std::uint64_t size = 0;
};
boost::asio::awaitable<Result<Digests>> HashFile(boost::asio::any_io_executor executor, std::string path);
// Glance's format inspector: the virtual size for raw and qcow2 data, nullopt otherwise.
std::optional<std::uint64_t> InspectVirtualSize(const std::string& path,
                                                const std::optional<std::string>& disk_format,
                                                std::uint64_t size);

Error NotFoundImage(std::string_view id);

}  // namespace shoal::emulator::glance
