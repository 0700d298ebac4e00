#include "state/etcd_kv_store.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "common/crypto.hpp"
#include "state/key_range.hpp"

namespace shoal::state {
namespace {

// proto3 JSON writes int64 as a string ("12"); numbers are accepted too. Absent means 0.
std::optional<std::int64_t> Int64Field(const nlohmann::json& j, const char* name) {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return 0;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && p == s.data() + s.size()) return v;
    }
    return std::nullopt;
}

// A bytes field (base64); absent means empty.
std::optional<std::string> BytesField(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    auto bytes = Base64Decode(it->get_ref<const std::string&>());
    if (!bytes) return std::nullopt;
    return std::move(bytes).value();
}

bool BoolField(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

Error BadAnswer(const std::string& what) {
    return MakeError(ErrorCode::kBadGateway, "etcd answered an unreadable " + what);
}

// gRPC status codes the gateway forwards ({"error": ..., "code": 14, "message": ...}).
ErrorCode FromGrpcCode(std::int64_t code) {
    switch (code) {
        case 3:   // InvalidArgument ("etcdserver: request is too large", "key is not provided")
        case 11:  // OutOfRange
            return ErrorCode::kBadRequest;
        case 4:  // DeadlineExceeded
            return ErrorCode::kTimeout;
        case 8:   // ResourceExhausted ("too many requests")
        case 14:  // Unavailable ("no leader", "leader changed")
            return ErrorCode::kUnavailable;
        case 9:   // FailedPrecondition
        case 10:  // Aborted
            return ErrorCode::kConflict;
        default:
            return ErrorCode::kInternal;
    }
}

}  // namespace

Result<std::unique_ptr<EtcdKvStore>> EtcdKvStore::Create(boost::asio::any_io_executor executor, EtcdOptions options) {
    if (options.endpoints.empty()) return MakeError(ErrorCode::kBadRequest, "etcd store: no endpoint configured");
    std::vector<http::Url> urls;
    for (const auto& e : options.endpoints) {
        if (e.rfind("http://", 0) != 0) {
            return MakeError(ErrorCode::kBadRequest, "etcd store: endpoint '" + e + "' is not an http:// URL");
        }
        auto url = http::ParseUrl(e);
        if (!url)
            return MakeError(ErrorCode::kBadRequest, "etcd store: bad endpoint '" + e + "': " + url.error().message);
        urls.push_back(std::move(*url));
    }
    return std::unique_ptr<EtcdKvStore>(new EtcdKvStore(std::move(executor), std::move(options), std::move(urls)));
}

namespace {
http::ClientOptions MakeClientOptions(std::chrono::milliseconds timeout) {
    http::ClientOptions o;
    o.connect_timeout = timeout;
    o.request_timeout = timeout;
    return o;
}
}  // namespace

EtcdKvStore::EtcdKvStore(boost::asio::any_io_executor executor, EtcdOptions options, std::vector<http::Url> urls)
    : options_(std::move(options)),
      urls_(std::move(urls)),
      client_(std::move(executor), MakeClientOptions(options_.timeout)) {}

std::string EtcdKvStore::Describe() const {
    std::string out = "etcd:";
    for (std::size_t i = 0; i < options_.endpoints.size(); ++i) {
        if (i > 0) out += ',';
        out += options_.endpoints[i];
    }
    return out;
}

boost::asio::awaitable<Result<nlohmann::json>> EtcdKvStore::Call(std::string path, nlohmann::json body) {
    std::string payload = body.dump();  // only base64 and numbers: always valid UTF-8
    Error last = MakeError(ErrorCode::kUnavailable, "etcd: no endpoint");
    for (std::size_t attempt = 0; attempt < urls_.size(); ++attempt) {
        std::size_t index = (current_ + attempt) % urls_.size();
        const auto& url = urls_[index];
        http::Request request;
        request.method = http::Method::kPost;
        request.SetTarget(path);
        request.headers.Set("Content-Type", "application/json");
        request.body = payload;
        http::Endpoint endpoint(url.host, url.port);
        auto response = co_await client_.Send(endpoint, std::move(request), options_.timeout);
        std::string where = "etcd " + url.Origin() + path;
        if (!response) {
            const auto& e = response.error();
            if (e.code == ErrorCode::kUnavailable) {
                last = MakeError(ErrorCode::kUnavailable, where + ": " + e.message);
                continue;
            }
            current_ = (index + 1) % urls_.size();  // a hung member: start elsewhere next time
            co_return MakeError(e.code, where + ": " + e.message);
        }
        auto json = nlohmann::json::parse(response->body, nullptr, false);
        if (response->status == 200) {
            if (json.is_discarded() || !json.is_object()) co_return BadAnswer(path + " response");
            current_ = index;
            co_return json;
        }
        std::string message = "HTTP " + std::to_string(response->status);
        std::int64_t grpc_code = 2;  // Unknown
        if (json.is_object()) {
            if (auto it = json.find("message"); it != json.end() && it->is_string()) message = it->get<std::string>();
            grpc_code = Int64Field(json, "code").value_or(2);
        }
        auto code = FromGrpcCode(grpc_code);
        if (code == ErrorCode::kUnavailable) {
            last = MakeError(code, where + ": " + message);
            continue;
        }
        co_return MakeError(code, where + ": " + message);
    }
    co_return last;
}

boost::asio::awaitable<Result<std::optional<KvEntry>>> EtcdKvStore::Get(std::string key) {
    nlohmann::json body = {{"key", Base64Encode(options_.prefix + key)}};
    auto r = co_await Call("/v3/kv/range", std::move(body));
    if (!r) co_return r.error();
    auto kvs = r->find("kvs");
    if (kvs == r->end() || !kvs->is_array() || kvs->empty()) co_return std::optional<KvEntry>();
    const auto& kv = kvs->front();
    auto value = BytesField(kv, "value");
    auto revision = Int64Field(kv, "mod_revision");
    if (!value || !revision) co_return BadAnswer("range response");
    KvEntry entry;
    entry.key = std::move(key);
    entry.value = std::move(*value);
    entry.revision = *revision;
    co_return std::optional<KvEntry>(std::move(entry));
}

boost::asio::awaitable<Result<std::int64_t>> EtcdKvStore::Put(std::string key, std::string value) {
    nlohmann::json body = {{"key", Base64Encode(options_.prefix + key)}, {"value", Base64Encode(value)}};
    auto r = co_await Call("/v3/kv/put", std::move(body));
    if (!r) co_return r.error();
    auto revision = Int64Field(r->value("header", nlohmann::json::object()), "revision");
    if (!revision || *revision <= 0) co_return BadAnswer("put response");
    co_return *revision;
}

boost::asio::awaitable<Result<std::int64_t>> EtcdKvStore::PutIf(std::string key,
                                                                std::string value,
                                                                std::int64_t expected) {
    std::string full = Base64Encode(options_.prefix + key);
    nlohmann::json compare = {{"key", full}, {"result", "EQUAL"}};
    if (expected == 0) {
        compare["target"] = "CREATE";
        compare["create_revision"] = "0";
    } else {
        compare["target"] = "MOD";
        compare["mod_revision"] = std::to_string(expected);
    }
    nlohmann::json body = {
        {"compare", nlohmann::json::array({compare})},
        {"success", nlohmann::json::array({{{"request_put", {{"key", full}, {"value", Base64Encode(value)}}}}})},
    };
    auto r = co_await Call("/v3/kv/txn", std::move(body));
    if (!r) co_return r.error();
    if (!BoolField(*r, "succeeded")) {
        co_return MakeError(ErrorCode::kConflict,
                            "revision of " + key + " is not " + std::to_string(expected) + " (someone wrote first)");
    }
    auto revision = Int64Field(r->value("header", nlohmann::json::object()), "revision");
    if (!revision || *revision <= 0) co_return BadAnswer("txn response");
    co_return *revision;
}

boost::asio::awaitable<Result<bool>> EtcdKvStore::Delete(std::string key) {
    nlohmann::json body = {{"key", Base64Encode(options_.prefix + key)}};
    auto r = co_await Call("/v3/kv/deleterange", std::move(body));
    if (!r) co_return r.error();
    auto deleted = Int64Field(*r, "deleted");
    if (!deleted) co_return BadAnswer("deleterange response");
    co_return *deleted > 0;
}

boost::asio::awaitable<Result<std::vector<KvEntry>>> EtcdKvStore::List(std::string prefix, std::size_t limit) {
    std::string full = options_.prefix + prefix;
    std::string end = PrefixRangeEnd(full);
    if (end.empty()) end.assign(1, '\0');  // etcd: range_end "\0" means every key >= key
    // No sort_order: etcd answers a range in ascending key order already (its index is a B-tree),
    // and an explicit sort would make it read the whole range before applying the limit.
    nlohmann::json body = {{"key", Base64Encode(full)}, {"range_end", Base64Encode(end)}};
    if (limit > 0) body["limit"] = std::to_string(limit);
    auto r = co_await Call("/v3/kv/range", std::move(body));
    if (!r) co_return r.error();
    std::vector<KvEntry> out;
    auto kvs = r->find("kvs");
    if (kvs == r->end() || !kvs->is_array()) co_return out;
    out.reserve(kvs->size());
    for (const auto& kv : *kvs) {
        auto key = BytesField(kv, "key");
        auto value = BytesField(kv, "value");
        auto revision = Int64Field(kv, "mod_revision");
        if (!key || !value || !revision || key->compare(0, options_.prefix.size(), options_.prefix) != 0) {
            co_return BadAnswer("range response");
        }
        KvEntry entry;
        entry.key = key->substr(options_.prefix.size());
        entry.value = std::move(*value);
        entry.revision = *revision;
        out.push_back(std::move(entry));
    }
    co_return out;
}

}  // namespace shoal::state
