#include "state/tenant_state.hpp"

#include <utility>

namespace shoal::state {
namespace {

const std::string kTenantIndex = "index/tenants/";

std::optional<Error> CheckSegment(const char* what, const std::string& value) {
    if (value.empty()) return MakeError(ErrorCode::kBadRequest, std::string(what) + " is empty");
    if (value.find('/') != std::string::npos) {
        return MakeError(ErrorCode::kBadRequest, std::string(what) + " must not contain '/'");
    }
    return std::nullopt;
}

// The first failing check, if any.
std::optional<Error> Check(std::initializer_list<std::pair<const char*, const std::string*>> fields) {
    for (const auto& [what, value] : fields) {
        if (auto e = CheckSegment(what, *value)) return e;
    }
    return std::nullopt;
}

std::optional<Error> CheckRevision(std::int64_t revision) {
    if (revision < 0) return MakeError(ErrorCode::kBadRequest, "revision must not be negative");
    return std::nullopt;
}

std::string TenantPrefix(const std::string& tenant) {
    return "tenants/" + tenant + "/";
}
std::string ResourcesPrefix(const std::string& tenant) {
    return TenantPrefix(tenant) + "resources/";
}
std::string LocationsPrefix(const std::string& tenant, const std::string& image_id) {
    return TenantPrefix(tenant) + "images/" + image_id + "/locations/";
}
std::string OperationsPrefix(const std::string& tenant) {
    return TenantPrefix(tenant) + "operations/";
}

// Never throws on invalid UTF-8 (user-supplied names end up in `extra`).
std::string Dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<nlohmann::json> ParseObject(const KvEntry& entry) {
    auto j = nlohmann::json::parse(entry.value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return MakeError(ErrorCode::kInternal, "state record " + entry.key + " is not a JSON object");
    }
    return j;
}

// A record as the store keeps it: the type's JSON (tenant_state.hpp), without its revision.
template <class T>
std::string Encode(const T& record) {
    return Dump(nlohmann::json(record));
}

// Missing fields read as their defaults (records written before a field existed); a field of
// the wrong type is an error, never a silent empty value.
template <class T>
Result<T> Decode(const KvEntry& entry) {
    auto j = ParseObject(entry);
    if (!j) return j.error();
    try {
        T record = j->get<T>();
        record.revision = entry.revision;
        return record;
    } catch (const nlohmann::json::exception& e) {
        return MakeError(ErrorCode::kInternal, "state record " + entry.key + ": " + e.what());
    }
}

template <class T>
Result<std::vector<T>> DecodeAll(const std::vector<KvEntry>& entries) {
    std::vector<T> out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        auto r = Decode<T>(e);
        if (!r) return r.error();
        out.push_back(std::move(*r));
    }
    return out;
}

}  // namespace

nlohmann::json ToJson(const ResourceRecord& r) {
    return r;
}

boost::asio::awaitable<Status> TenantState::EnsureTenant(std::string tenant) {
    if (known_tenants_.count(tenant) > 0) co_return Ok{};
    nlohmann::json marker = {{"tenant", tenant}};
    auto r = co_await store_.PutIf(kTenantIndex + tenant, Dump(marker), 0);
    if (!r && r.error().code != ErrorCode::kConflict) co_return r.error();  // kConflict: already there
    known_tenants_.insert(std::move(tenant));
    co_return Ok{};
}

boost::asio::awaitable<Result<std::int64_t>> TenantState::Write(std::string tenant,
                                                                std::string key,
                                                                std::string value,
                                                                std::optional<std::int64_t> expected) {
    // The marker first: a crash in between leaves a listed tenant without records, never a
    // record that a take-over scan cannot find.
    auto marked = co_await EnsureTenant(std::move(tenant));
    if (!marked) co_return marked.error();
    if (expected) co_return co_await store_.PutIf(std::move(key), std::move(value), *expected);
    co_return co_await store_.Put(std::move(key), std::move(value));
}

boost::asio::awaitable<Result<ResourceRecord>> TenantState::CreateResource(ResourceRecord record) {
    if (auto e = Check({{"tenant", &record.tenant}, {"resource id", &record.id}})) co_return *e;
    if (auto e = CheckRevision(record.revision)) co_return *e;
    auto revision =
        co_await Write(record.tenant, ResourcesPrefix(record.tenant) + record.id, Encode(record), record.revision);
    if (!revision) co_return revision.error();
    record.revision = *revision;
    co_return record;
}

boost::asio::awaitable<Result<ResourceRecord>> TenantState::PutResource(ResourceRecord record) {
    if (auto e = Check({{"tenant", &record.tenant}, {"resource id", &record.id}})) co_return *e;
    if (auto e = CheckRevision(record.revision)) co_return *e;
    std::optional<std::int64_t> expected;
    if (record.revision > 0) expected = record.revision;
    auto revision = co_await Write(record.tenant, ResourcesPrefix(record.tenant) + record.id, Encode(record), expected);
    if (!revision) co_return revision.error();
    record.revision = *revision;
    co_return record;
}

boost::asio::awaitable<Result<ResourceRecord>> TenantState::GetResource(std::string tenant, std::string id) {
    if (auto e = Check({{"tenant", &tenant}, {"resource id", &id}})) co_return *e;
    auto entry = co_await store_.Get(ResourcesPrefix(tenant) + id);
    if (!entry) co_return entry.error();
    if (!entry->has_value()) co_return MakeError(ErrorCode::kNotFound, "resource " + id + " not found");
    co_return Decode<ResourceRecord>(**entry);
}

boost::asio::awaitable<Result<std::vector<ResourceRecord>>> TenantState::ListResources(std::string tenant,
                                                                                       std::string kind) {
    if (auto e = Check({{"tenant", &tenant}})) co_return *e;
    auto entries = co_await store_.List(ResourcesPrefix(tenant));
    if (!entries) co_return entries.error();
    auto records = DecodeAll<ResourceRecord>(*entries);
    if (!records || kind.empty()) co_return records;
    std::vector<ResourceRecord> out;
    for (auto& r : *records) {
        if (r.kind == kind) out.push_back(std::move(r));
    }
    co_return out;
}

boost::asio::awaitable<Result<bool>> TenantState::DeleteResource(std::string tenant, std::string id) {
    if (auto e = Check({{"tenant", &tenant}, {"resource id", &id}})) co_return *e;
    co_return co_await store_.Delete(ResourcesPrefix(tenant) + id);
}

boost::asio::awaitable<Result<ImageLocation>> TenantState::PutImageLocation(ImageLocation location) {
    if (auto e =
            Check({{"tenant", &location.tenant}, {"image id", &location.image_id}, {"cloudlet", &location.cloudlet}}))
        co_return *e;
    if (auto e = CheckRevision(location.revision)) co_return *e;
    std::optional<std::int64_t> expected;
    if (location.revision > 0) expected = location.revision;
    auto revision =
        co_await Write(location.tenant, LocationsPrefix(location.tenant, location.image_id) + location.cloudlet,
                       Encode(location), expected);
    if (!revision) co_return revision.error();
    location.revision = *revision;
    co_return location;
}

boost::asio::awaitable<Result<std::vector<ImageLocation>>> TenantState::ListImageLocations(std::string tenant,
                                                                                           std::string image_id) {
    if (auto e = Check({{"tenant", &tenant}, {"image id", &image_id}})) co_return *e;
    auto entries = co_await store_.List(LocationsPrefix(tenant, image_id));
    if (!entries) co_return entries.error();
    co_return DecodeAll<ImageLocation>(*entries);
}

boost::asio::awaitable<Result<bool>> TenantState::DeleteImageLocation(std::string tenant,
                                                                      std::string image_id,
                                                                      std::string cloudlet) {
    if (auto e = Check({{"tenant", &tenant}, {"image id", &image_id}, {"cloudlet", &cloudlet}})) co_return *e;
    co_return co_await store_.Delete(LocationsPrefix(tenant, image_id) + cloudlet);
}

boost::asio::awaitable<Result<Operation>> TenantState::PutOperation(Operation op) {
    if (auto e = Check({{"tenant", &op.tenant}, {"operation id", &op.id}})) co_return *e;
    if (auto e = CheckRevision(op.revision)) co_return *e;
    std::optional<std::int64_t> expected;
    if (op.revision > 0) expected = op.revision;
    auto revision = co_await Write(op.tenant, OperationsPrefix(op.tenant) + op.id, Encode(op), expected);
    if (!revision) co_return revision.error();
    op.revision = *revision;
    co_return op;
}

boost::asio::awaitable<Result<std::vector<Operation>>> TenantState::ListOperations(std::string tenant) {
    if (auto e = Check({{"tenant", &tenant}})) co_return *e;
    auto entries = co_await store_.List(OperationsPrefix(tenant));
    if (!entries) co_return entries.error();
    co_return DecodeAll<Operation>(*entries);
}

boost::asio::awaitable<Result<bool>> TenantState::FinishOperation(std::string tenant, std::string id) {
    if (auto e = Check({{"tenant", &tenant}, {"operation id", &id}})) co_return *e;
    co_return co_await store_.Delete(OperationsPrefix(tenant) + id);
}

boost::asio::awaitable<Result<std::vector<std::string>>> TenantState::ListTenants() {
    auto entries = co_await store_.List(kTenantIndex);
    if (!entries) co_return entries.error();
    std::vector<std::string> out;
    out.reserve(entries->size());
    for (const auto& e : *entries) out.push_back(e.key.substr(kTenantIndex.size()));
    co_return out;
}

}  // namespace shoal::state
