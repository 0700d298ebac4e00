// The emulated Glance's image record: persistence, the API view, schemas and data inspection.
#include <openssl/evp.h>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <span>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "emulator/glance/glance_internal.hpp"

namespace shoal::emulator::glance {

namespace asio = boost::asio;
using nlohmann::json;

const ImageMember* ImageRecord::FindMember(std::string_view project) const {
    for (const auto& m : members)
        if (m.member_id == project) return &m;
    return nullptr;
}

ImageMember* ImageRecord::FindMember(std::string_view project) {
    for (auto& m : members)
        if (m.member_id == project) return &m;
    return nullptr;
}

bool ImageRecord::HasTag(std::string_view tag) const {
    for (const auto& t : tags)
        if (t == tag) return true;
    return false;
}

Error NotFoundImage(std::string_view id) {
    return MakeError(ErrorCode::kNotFound, "No image found with ID " + std::string(id));
}

namespace {

template <class T>
json Nullable(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

template <class T>
std::optional<T> OptionalOf(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<T>();
}

std::string Time(SystemTime t) {
    return FormatIso8601Micro(t);
}

SystemTime TimeOf(const json& j, const char* key) {
    auto parsed = ParseIso8601(j.at(key).get<std::string>());
    if (!parsed) throw std::runtime_error(std::string("bad timestamp in ") + key);
    return *parsed;
}

}  // namespace

json ToStored(const ImageRecord& i) {
    json members = json::array();
    for (const auto& m : i.members)
        members.push_back({{"member_id", m.member_id},
                           {"status", m.status},
                           {"created_at", Time(m.created_at)},
                           {"updated_at", Time(m.updated_at)}});
    json tasks = json::array();
    for (const auto& t : i.tasks)
        tasks.push_back({{"id", t.id},
                         {"status", t.status},
                         {"owner", t.owner},
                         {"user_id", t.user_id},
                         {"request_id", t.request_id},
                         {"message", t.message},
                         {"input", t.input},
                         {"result", t.result},
                         {"created_at", Time(t.created_at)},
                         {"updated_at", Time(t.updated_at)},
                         {"expires_at", t.expires_at ? json(Time(*t.expires_at)) : json(nullptr)}});
    return {{"id", i.id},
            {"name", Nullable(i.name)},
            {"status", i.status},
            {"visibility", i.visibility},
            {"protected", i.is_protected},
            {"os_hidden", i.os_hidden},
            {"checksum", Nullable(i.checksum)},
            {"os_hash_algo", Nullable(i.os_hash_algo)},
            {"os_hash_value", Nullable(i.os_hash_value)},
            {"owner", Nullable(i.owner)},
            {"size", Nullable(i.size)},
            {"virtual_size", Nullable(i.virtual_size)},
            {"disk_format", Nullable(i.disk_format)},
            {"container_format", Nullable(i.container_format)},
            {"min_disk", i.min_disk},
            {"min_ram", i.min_ram},
            {"tags", i.tags},
            {"properties", i.properties},
            {"created_at", Time(i.created_at)},
            {"updated_at", Time(i.updated_at)},
            {"members", members},
            {"tasks", tasks},
            {"has_data", i.has_data},
            {"staged", i.staged}};
}

Result<ImageRecord> FromStored(const json& j) {
    try {
        ImageRecord i;
        i.id = j.at("id").get<std::string>();
        i.name = OptionalOf<std::string>(j, "name");
        i.status = j.at("status").get<std::string>();
        i.visibility = j.at("visibility").get<std::string>();
        i.is_protected = j.at("protected").get<bool>();
        i.os_hidden = j.at("os_hidden").get<bool>();
        i.checksum = OptionalOf<std::string>(j, "checksum");
        i.os_hash_algo = OptionalOf<std::string>(j, "os_hash_algo");
        i.os_hash_value = OptionalOf<std::string>(j, "os_hash_value");
        i.owner = OptionalOf<std::string>(j, "owner");
        i.size = OptionalOf<std::uint64_t>(j, "size");
        i.virtual_size = OptionalOf<std::uint64_t>(j, "virtual_size");
        i.disk_format = OptionalOf<std::string>(j, "disk_format");
        i.container_format = OptionalOf<std::string>(j, "container_format");
        i.min_disk = j.at("min_disk").get<std::int64_t>();
        i.min_ram = j.at("min_ram").get<std::int64_t>();
        i.tags = j.at("tags").get<std::vector<std::string>>();
        i.properties = j.at("properties");
        i.created_at = TimeOf(j, "created_at");
        i.updated_at = TimeOf(j, "updated_at");
        for (const auto& m : j.value("members", json::array()))
            i.members.push_back(ImageMember{m.at("member_id").get<std::string>(), m.at("status").get<std::string>(),
                                            TimeOf(m, "created_at"), TimeOf(m, "updated_at")});
        for (const auto& t : j.value("tasks", json::array())) {
            ImportTask task;
            task.id = t.at("id").get<std::string>();
            task.status = t.at("status").get<std::string>();
            task.owner = t.value("owner", "");
            task.user_id = t.value("user_id", "");
            task.request_id = t.value("request_id", "");
            task.message = t.value("message", "");
            task.input = t.value("input", json::object());
            task.result = t.value("result", json());
            task.created_at = TimeOf(t, "created_at");
            task.updated_at = TimeOf(t, "updated_at");
            if (t.contains("expires_at") && !t["expires_at"].is_null()) task.expires_at = TimeOf(t, "expires_at");
            i.tasks.push_back(std::move(task));
        }
        i.has_data = j.value("has_data", false);
        i.staged = j.value("staged", false);
        if (!i.properties.is_object()) return MakeError(ErrorCode::kInternal, "image properties are not an object");
        return i;
    } catch (const std::exception& e) {
        return MakeError(ErrorCode::kInternal, std::string("unreadable image record: ") + e.what());
    }
}

// glance/api/v2/images.py ResponseSerializer._format_image (no locations, no direct_url, one store).
json ImageView(const ImageRecord& i) {
    json v = i.properties;
    v["name"] = Nullable(i.name);
    v["disk_format"] = Nullable(i.disk_format);
    v["container_format"] = Nullable(i.container_format);
    v["visibility"] = i.visibility;
    v["size"] = Nullable(i.size);
    v["virtual_size"] = Nullable(i.virtual_size);
    v["status"] = i.status;
    v["checksum"] = Nullable(i.checksum);
    v["protected"] = i.is_protected;
    v["min_ram"] = i.min_ram;
    v["min_disk"] = i.min_disk;
    v["owner"] = Nullable(i.owner);
    v["os_hidden"] = i.os_hidden;
    v["os_hash_algo"] = Nullable(i.os_hash_algo);
    v["os_hash_value"] = Nullable(i.os_hash_value);
    v["id"] = i.id;
    v["created_at"] = FormatIso8601(i.created_at);
    v["updated_at"] = FormatIso8601(i.updated_at);
    v["tags"] = i.tags;
    v["self"] = "/v2/images/" + i.id;
    v["file"] = "/v2/images/" + i.id + "/file";
    v["schema"] = "/v2/schemas/image";
    return v;
}

json MemberView(const ImageRecord& i, const ImageMember& m) {
    return {{"member_id", m.member_id},
            {"image_id", i.id},
            {"status", m.status},
            {"created_at", FormatIso8601(m.created_at)},
            {"updated_at", FormatIso8601(m.updated_at)},
            {"schema", "/v2/schemas/member"}};
}

// glance/db/sqlalchemy/api.py tasks_get_by_image: the task row as a dict.
json TaskView(const ImageRecord& i, const ImportTask& t) {
    return {{"id", t.id},
            {"type", "api_image_import"},
            {"status", t.status},
            {"owner", t.owner},
            {"image_id", i.id},
            {"user_id", t.user_id},
            {"request_id", t.request_id},
            {"input", t.input},
            {"result", t.result},
            {"message", t.message},
            {"expires_at", t.expires_at ? json(FormatIso8601(*t.expires_at)) : json(nullptr)},
            {"created_at", FormatIso8601(t.created_at)},
            {"updated_at", FormatIso8601(t.updated_at)},
            {"deleted_at", nullptr},
            {"deleted", false}};
}

// ---------------------------------------------------------------------------------------------
// Schemas: glance/api/v2/images.py get_base_properties() plus devstack's schema-image.json.

const std::vector<std::string>& DiskFormats() {
    static const std::vector<std::string> k = {"ami", "ari",   "aki", "vhd", "vhdx", "vmdk",
                                               "raw", "qcow2", "vdi", "iso", "ploop"};
    return k;
}

const std::vector<std::string>& ContainerFormats() {
    static const std::vector<std::string> k = {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"};
    return k;
}

namespace {

constexpr std::string_view kUuidPattern =
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

json ImageProperties() {
    auto nullable_enum = [](const std::vector<std::string>& values) {
        json e = json::array({nullptr});
        for (const auto& v : values) e.push_back(v);
        return e;
    };
    json p = {
        {"id", {{"type", "string"}, {"description", "An identifier for the image"}, {"pattern", kUuidPattern}}},
        {"name", {{"type", {"null", "string"}}, {"description", "Descriptive name for the image"}, {"maxLength", 255}}},
        {"status",
         {{"type", "string"},
          {"readOnly", true},
          {"description", "Status of the image"},
          {"enum",
           {"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete",
            "deactivated"}}}},
        {"visibility",
         {{"type", "string"},
          {"description", "Scope of image accessibility"},
          {"enum", {"community", "public", "private", "shared"}}}},
        {"protected", {{"type", "boolean"}, {"description", "If true, image will not be deletable."}}},
        {"os_hidden",
         {{"type", "boolean"}, {"description", "If true, image will not appear in default image list response."}}},
        {"checksum",
         {{"type", {"null", "string"}},
          {"readOnly", true},
          {"description", "md5 hash of image contents."},
          {"maxLength", 32}}},
        {"os_hash_algo",
         {{"type", {"null", "string"}},
          {"readOnly", true},
          {"description", "Algorithm to calculate the os_hash_value"},
          {"maxLength", 64}}},
        {"os_hash_value",
         {{"type", {"null", "string"}},
          {"readOnly", true},
          {"description", "Hexdigest of the image contents using the algorithm specified by the os_hash_algo"},
          {"maxLength", 128}}},
        {"owner", {{"type", {"null", "string"}}, {"description", "Owner of the image"}, {"maxLength", 255}}},
        {"size", {{"type", {"null", "integer"}}, {"readOnly", true}, {"description", "Size of image file in bytes"}}},
        {"virtual_size",
         {{"type", {"null", "integer"}}, {"readOnly", true}, {"description", "Virtual size of image in bytes"}}},
        {"container_format",
         {{"type", {"null", "string"}},
          {"description", "Format of the container"},
          {"enum", nullable_enum(ContainerFormats())}}},
        {"disk_format",
         {{"type", {"null", "string"}}, {"description", "Format of the disk"}, {"enum", nullable_enum(DiskFormats())}}},
        {"created_at",
         {{"type", "string"}, {"readOnly", true}, {"description", "Date and time of image registration"}}},
        {"updated_at",
         {{"type", "string"}, {"readOnly", true}, {"description", "Date and time of the last image modification"}}},
        {"tags",
         {{"type", "array"},
          {"description", "List of strings related to the image"},
          {"items", {{"type", "string"}, {"maxLength", 255}}}}},
        {"direct_url",
         {{"type", "string"},
          {"readOnly", true},
          {"description", "URL to access the image file kept in external store"}}},
        {"min_ram", {{"type", "integer"}, {"description", "Amount of ram (in MB) required to boot image."}}},
        {"min_disk", {{"type", "integer"}, {"description", "Amount of disk space (in GB) required to boot image."}}},
        {"self", {{"type", "string"}, {"readOnly", true}, {"description", "An image self url"}}},
        {"file", {{"type", "string"}, {"readOnly", true}, {"description", "An image file url"}}},
        {"stores",
         {{"type", "string"},
          {"readOnly", true},
          {"description",
           "Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be "
           "a comma-separated list of store identifiers."}}},
        {"schema", {{"type", "string"}, {"readOnly", true}, {"description", "An image schema url"}}},
        {"locations",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"url", {{"type", "string"}, {"maxLength", 255}}},
              {"metadata", {{"type", "object"}}},
              {"validation_data",
               {{"description",
                 "Values to be used to populate the corresponding image properties. If the image status is not "
                 "'queued', values must exactly match those already contained in the image properties."},
                {"type", "object"},
                {"writeOnly", true},
                {"additionalProperties", false},
                {"properties",
                 {{"checksum", {{"type", "string"}, {"minLength", 32}, {"maxLength", 32}}},
                  {"os_hash_algo", {{"type", "string"}, {"maxLength", 64}}},
                  {"os_hash_value", {{"type", "string"}, {"maxLength", 128}}}}},
                {"required", {"os_hash_algo", "os_hash_value"}}}}}},
            {"required", {"url", "metadata"}}}},
          {"description", "A set of URLs to access the image file kept in external store"}}},
        // schema-image.json as a Zed devstack serves it; Glance marks these is_base: false.
        {"kernel_id",
         {{"type", {"null", "string"}},
          {"pattern", kUuidPattern},
          {"description",
           "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image."},
          {"is_base", false}}},
        {"ramdisk_id",
         {{"type", {"null", "string"}},
          {"pattern", kUuidPattern},
          {"description",
           "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image."},
          {"is_base", false}}},
        {"instance_uuid",
         {{"type", "string"},
          {"description",
           "Metadata which can be used to record which instance this image is associated with. (Informational only, "
           "does not create an instance snapshot.)"},
          {"is_base", false}}},
        {"architecture",
         {{"description",
           "Operating system architecture as specified in "
           "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html"},
          {"type", "string"},
          {"is_base", false}}},
        {"os_distro",
         {{"description",
           "Common name of operating system distribution as specified in "
           "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html"},
          {"type", "string"},
          {"is_base", false}}},
        {"os_version",
         {{"description", "Operating system version as specified by the distributor."},
          {"type", "string"},
          {"is_base", false}}},
        {"description",
         {{"description", "A human-readable string describing this image."}, {"type", "string"}, {"is_base", false}}},
        {"cinder_encryption_key_id",
         {{"description",
           "Identifier in the OpenStack Key Management Service for the encryption key for the Block Storage Service "
           "to use when mounting a volume created from this image"},
          {"type", "string"},
          {"is_base", false}}},
        {"cinder_encryption_key_deletion_policy",
         {{"description",
           "States the condition under which the Image Service will delete the object associated with the "
           "'cinder_encryption_key_id' image property.  If this property is missing, the Image Service will take no "
           "action"},
          {"type", "string"},
          {"enum", {"on_image_deletion", "do_not_delete"}},
          {"is_base", false}}},
    };
    return p;
}

json CollectionOf(const std::string& name, const json& item) {
    return {{"name", name},
            {"properties",
             {{name, {{"type", "array"}, {"items", item}}},
              {"first", {{"type", "string"}}},
              {"next", {{"type", "string"}}},
              {"schema", {{"type", "string"}}}}},
            {"links",
             {{{"rel", "first"}, {"href", "{first}"}},
              {{"rel", "next"}, {"href", "{next}"}},
              {{"rel", "describedby"}, {"href", "{schema}"}}}}};
}

}  // namespace

const json& ImageSchema() {
    static const json k = {{"name", "image"},
                           {"properties", ImageProperties()},
                           {"additionalProperties", {{"type", "string"}}},
                           {"links",
                            {{{"rel", "self"}, {"href", "{self}"}},
                             {{"rel", "enclosure"}, {"href", "{file}"}},
                             {{"rel", "describedby"}, {"href", "{schema}"}}}}};
    return k;
}

const json& ImagesSchema() {
    static const json k = CollectionOf("images", ImageSchema());
    return k;
}

const json& MemberSchema() {
    static const json k = {
        {"name", "member"},
        {"properties",
         {{"member_id", {{"type", "string"}, {"description", "An identifier for the image member (tenantId)"}}},
          {"image_id", {{"type", "string"}, {"description", "An identifier for the image"}, {"pattern", kUuidPattern}}},
          {"created_at", {{"type", "string"}, {"description", "Date and time of image member creation"}}},
          {"updated_at", {{"type", "string"}, {"description", "Date and time of last modification of image member"}}},
          {"status",
           {{"type", "string"},
            {"description", "The status of this image member"},
            {"enum", {"pending", "accepted", "rejected"}}}},
          {"schema", {{"readOnly", true}, {"type", "string"}}}}},
        {"additionalProperties", false}};
    return k;
}

const json& MembersSchema() {
    static const json k = CollectionOf("members", MemberSchema());
    return k;
}

// glance/api/v2/tasks.py get_task_schema().
const json& TaskSchema() {
    static const json k = {
        {"name", "task"},
        {"properties",
         {{"id", {{"type", "string"}, {"description", "An identifier for the task"}, {"pattern", kUuidPattern}}},
          {"type",
           {{"type", "string"},
            {"description", "The type of task represented by this content"},
            {"enum", {"import", "api_image_import"}}}},
          {"status",
           {{"type", "string"},
            {"description", "The current status of this task"},
            {"enum", {"pending", "processing", "success", "failure"}}}},
          {"input", {{"type", {"null", "object"}}, {"description", "The parameters required by task, JSON blob"}}},
          {"result", {{"type", {"null", "object"}}, {"description", "The result of current task, JSON blob"}}},
          {"owner", {{"type", "string"}, {"description", "An identifier for the owner of this task"}}},
          {"message",
           {{"type", "string"},
            {"description", "Human-readable informative message only included when appropriate (usually on failure)"}}},
          {"image_id", {{"type", "string"}, {"description", "Image associated with the task"}}},
          {"request_id", {{"type", "string"}, {"description", "Human-readable informative request-id"}}},
          {"user_id", {{"type", "string"}, {"description", "User associated with the task"}}},
          {"expires_at",
           {{"type", {"null", "string"}}, {"description", "Datetime when this resource would be subject to removal"}}},
          {"created_at", {{"type", "string"}, {"description", "Datetime when this resource was created"}}},
          {"updated_at", {{"type", "string"}, {"description", "Datetime when this resource was updated"}}},
          {"self", {{"readOnly", true}, {"type", "string"}}},
          {"schema", {{"readOnly", true}, {"type", "string"}}}}},
        {"required", {"type", "input"}},
        {"additionalProperties", false},
        {"links", {{{"rel", "self"}, {"href", "{self}"}}, {{"rel", "describedby"}, {"href", "{schema}"}}}}};
    return k;
}

const json& TasksSchema() {
    static const json k = CollectionOf("tasks", TaskSchema());
    return k;
}

// ---------------------------------------------------------------------------------------------
// A small JSON-schema (draft 4) validator: what Glance's schemas use, with jsonschema's messages.

namespace {

bool IsType(const json& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "integer")
        return v.is_number_integer() ||
               (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
    if (type == "number") return v.is_number();
    if (type == "array") return v.is_array();
    if (type == "object") return v.is_object();
    return false;
}

std::size_t CodePoints(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::optional<std::string> Validate(const json& schema, const json& v, const std::string& where) {
    auto fail = [&](const std::string& what, const std::string& keyword) -> std::optional<std::string> {
        return what + "\n\nFailed validating " + PyRepr(json(keyword)) + " in " + where;
    };
    if (auto t = schema.find("type"); t != schema.end()) {
        bool ok = false;
        if (t->is_string()) {
            ok = IsType(v, t->get<std::string>());
        } else {
            for (const auto& each : *t) ok = ok || IsType(v, each.get<std::string>());
        }
        if (!ok) {
            std::string types;
            if (t->is_string()) {
                types = PyRepr(*t);
            } else {
                for (std::size_t i = 0; i < t->size(); ++i) types += (i ? ", " : "") + PyRepr((*t)[i]);
            }
            return fail(PyRepr(v) + " is not of type " + types, "type");
        }
    }
    if (auto e = schema.find("enum"); e != schema.end()) {
        bool ok = false;
        for (const auto& each : *e) ok = ok || each == v;
        if (!ok) return fail(PyRepr(v) + " is not one of " + PyRepr(*e), "enum");
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (auto m = schema.find("maxLength"); m != schema.end() && CodePoints(s) > m->get<std::size_t>())
            return fail(PyRepr(v) + " is too long", "maxLength");
        if (auto m = schema.find("minLength"); m != schema.end() && CodePoints(s) < m->get<std::size_t>())
            return fail(PyRepr(v) + " is too short", "minLength");
        // Glance's schemas use one pattern, the UUID one; anything else is not checked.
        if (auto p = schema.find("pattern");
            p != schema.end() && p->is_string() && p->get_ref<const std::string&>() == kUuidPattern && !IsUuid(s))
            return fail(PyRepr(v) + " does not match " + PyRepr(*p), "pattern");
    }
    if (v.is_array()) {
        if (auto items = schema.find("items"); items != schema.end())
            for (std::size_t i = 0; i < v.size(); ++i)
                if (auto err = Validate(*items, v[i], where + "['items']")) return err;
    }
    if (v.is_object()) {
        const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
        if (auto r = schema.find("required"); r != schema.end())
            for (const auto& key : *r)
                if (!v.contains(key.get<std::string>()))
                    return fail(PyRepr(key) + " is a required property", "required");
        for (const auto& [key, value] : v.items()) {
            if (props && props->contains(key)) {
                if (auto err = Validate((*props)[key], value, where + "['properties'][" + PyRepr(json(key)) + "]"))
                    return err;
                continue;
            }
            auto extra = schema.find("additionalProperties");
            if (extra == schema.end()) continue;
            if (extra->is_boolean()) {
                if (!extra->get<bool>())
                    return fail("Additional properties are not allowed (" + PyRepr(json(key)) + " was unexpected)",
                                "additionalProperties");
                continue;
            }
            if (auto err = Validate(*extra, value, where + "['additionalProperties']")) return err;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> ValidateSchema(const json& schema, const json& value) {
    return Validate(schema, value, "schema");
}

// glance/api/versions.py with image_cache_dir set and without enabled_backends (devstack's layout).
json VersionsDocument(const std::string& image_url) {
    static constexpr std::array<std::pair<const char*, const char*>, 12> kVersions = {{{"2.16", "CURRENT"},
                                                                                       {"2.15", "SUPPORTED"},
                                                                                       {"2.14", "SUPPORTED"},
                                                                                       {"2.9", "SUPPORTED"},
                                                                                       {"2.7", "SUPPORTED"},
                                                                                       {"2.6", "SUPPORTED"},
                                                                                       {"2.5", "SUPPORTED"},
                                                                                       {"2.4", "SUPPORTED"},
                                                                                       {"2.3", "SUPPORTED"},
                                                                                       {"2.2", "SUPPORTED"},
                                                                                       {"2.1", "SUPPORTED"},
                                                                                       {"2.0", "SUPPORTED"}}};
    json versions = json::array();
    for (const auto& [id, status] : kVersions) {
        versions.push_back({{"id", std::string("v") + id},
                            {"status", status},
                            {"links", json::array({{{"rel", "self"}, {"href", image_url + "/v2/"}}})}});
    }
    return {{"versions", versions}};
}

// ---------------------------------------------------------------------------------------------
// Data.

namespace {

struct EvpDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using EvpPtr = std::unique_ptr<EVP_MD_CTX, EvpDeleter>;

}  // namespace

asio::awaitable<Result<Digests>> HashFile(asio::any_io_executor executor, std::string path) {
    constexpr std::size_t kChunk = 1 << 20;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) co_return MakeError(ErrorCode::kInternal, "Cannot read image data " + path);
    EvpPtr md5(EVP_MD_CTX_new());
    EvpPtr sha(EVP_MD_CTX_new());
    if (!md5 || !sha || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1 ||
        EVP_DigestInit_ex(sha.get(), EVP_sha512(), nullptr) != 1)
        co_return MakeError(ErrorCode::kInternal, "Cannot initialise the image checksums");
    std::vector<unsigned char> buf(kChunk);
    Digests d;
    for (;;) {
        std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
        if (n > 0) {
            EVP_DigestUpdate(md5.get(), buf.data(), n);
            EVP_DigestUpdate(sha.get(), buf.data(), n);
            d.size += n;
        }
        if (n < buf.size()) {
            if (std::ferror(f.get())) co_return MakeError(ErrorCode::kInternal, "Cannot read image data " + path);
            break;
        }
        // Big images must not stall every other request of the cloudlet.
        co_await asio::post(executor, asio::use_awaitable);
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md5.get(), out, &len);
    d.md5 = HexEncode(std::span<const std::uint8_t>(out, len));
    EVP_DigestFinal_ex(sha.get(), out, &len);
    d.sha512 = HexEncode(std::span<const std::uint8_t>(out, len));
    co_return d;
}

std::optional<std::uint64_t> InspectVirtualSize(const std::string& path,
                                                const std::optional<std::string>& disk_format,
                                                std::uint64_t size) {
    if (!disk_format) return std::nullopt;
    if (*disk_format == "raw") return size;
    if (*disk_format != "qcow2") return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    unsigned char header[32];
    if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return std::nullopt;
    if (!(header[0] == 'Q' && header[1] == 'F' && header[2] == 'I' && header[3] == 0xfb)) return std::nullopt;
    std::uint64_t v = 0;
    for (int i = 24; i < 32; ++i) v = (v << 8) | header[i];
    return v;
}

}  // namespace shoal::emulator::glance
