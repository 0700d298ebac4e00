#include "identity/token_cache.hpp"

#include <algorithm>
#include <utility>

#include "http/errors.hpp"
#include "identity/rewrite.hpp"

namespace shoal::identity {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

std::string StringAt(const json& j, std::initializer_list<const char*> path) {
    const json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object()) return {};
        auto it = cur->find(key);
        if (it == cur->end()) return {};
        cur = &*it;
    }
    return cur->is_string() ? cur->get<std::string>() : std::string();
}

Error Unauthorized() {
    return MakeError(ErrorCode::kUnauthorized, "The request you have made requires authentication.");
}

}  // namespace

bool TokenInfo::HasRole(std::string_view role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<TokenInfo> ParseTokenInfo(const json& body) {
    if (!body.is_object() || !body.contains("token") || !body["token"].is_object())
        return MakeError(ErrorCode::kBadGateway, "the identity provider answered without a token");
    const json& t = body["token"];
    TokenInfo info;
    info.user_id = StringAt(t, {"user", "id"});
    info.user_name = StringAt(t, {"user", "name"});
    info.user_domain_id = StringAt(t, {"user", "domain", "id"});
    info.project_id = StringAt(t, {"project", "id"});
    info.project_name = StringAt(t, {"project", "name"});
    info.project_domain_id = StringAt(t, {"project", "domain", "id"});
    info.domain_id = StringAt(t, {"domain", "id"});
    if (auto it = t.find("roles"); it != t.end() && it->is_array())
        for (const auto& r : *it)
            if (auto name = StringAt(r, {"name"}); !name.empty()) info.roles.push_back(std::move(name));
    info.is_admin = info.HasRole("admin");
    auto expires = ParseIso8601(StringAt(t, {"expires_at"}));
    if (info.user_id.empty() || !expires)
        return MakeError(ErrorCode::kBadGateway, "the identity provider's token has no user or expiry");
    info.expires_at = *expires;
    return info;
}

TokenCache::TokenCache(asio::any_io_executor executor, TokenCacheOptions options)
    : options_(std::move(options)),
      validate_url_(IdentityBase(options_.idp_auth_url) + "/v3/auth/tokens?nocatalog"),
      client_(std::move(executor)) {
    if (options_.max_entries == 0) options_.max_entries = 1;
}

TokenCache::~TokenCache() = default;

SystemTime TokenCache::Now() const {
    return options_.clock->System();
}

asio::awaitable<Result<TokenInfo>> TokenCache::Validate(std::string token) {
    // A token is visible ASCII (Fernet and JWS tokens are); anything else is refused before it can
    // reach a header of ours.
    bool plausible = !token.empty() && token.size() <= 8192 &&
                     std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!plausible) co_return Unauthorized();
    if (auto cached = Lookup(token)) co_return std::move(*cached);
    // Named before the co_await (g++ 12 destroys capturing lambdas made inside one twice).
    cloudlet::SingleFlight<Result<TokenInfo>>::Start start = [this, token] { return AskIdp(token); };
    co_return co_await flights_.Do(token, std::move(start));
}

std::optional<Result<TokenInfo>> TokenCache::Lookup(const std::string& token) {
    auto it = entries_.find(token);
    if (it == entries_.end()) return std::nullopt;
    if (Now() >= it->second.until) {
        entries_.erase(it);
        return std::nullopt;
    }
    if (it->second.info) {
        ++stats_.hits;
        return Result<TokenInfo>(*it->second.info);
    }
    ++stats_.negative_hits;
    return Result<TokenInfo>(it->second.error);
}

asio::awaitable<Result<TokenInfo>> TokenCache::AskIdp(std::string token) {
    ++stats_.idp_calls;
    std::string auth = token;
    if (options_.service_token) {
        auto service = co_await options_.service_token();
        if (!service.ok())
            co_return MakeError(ErrorCode::kUnavailable,
                                "cannot obtain a service token for validation: " + service.error().message);
        auth = std::move(service).value();
    }
    http::Request req;
    req.method = http::Method::kGet;
    req.headers.Set("X-Auth-Token", std::move(auth));
    req.headers.Set("X-Subject-Token", token);
    req.headers.Set("Accept", "application/json");
    auto sent = co_await client_.Send(validate_url_, std::move(req), options_.timeout);
    if (!sent.ok())
        co_return MakeError(ErrorCode::kUnavailable, "the identity provider is unreachable: " + sent.error().message);
    const http::Response& resp = *sent;
    if (resp.status == 200) {
        auto body = resp.JsonBody();
        if (!body.ok()) co_return MakeError(ErrorCode::kBadGateway, "the identity provider answered malformed JSON");
        auto info = ParseTokenInfo(*body);
        if (!info.ok()) co_return info.error();
        if (info->expires_at <= Now()) {
            StoreNegative(token, Unauthorized(), false);
            co_return Unauthorized();
        }
        StorePositive(token, *info);
        co_return info;
    }
    // With self-validation both mean "this token is no good"; with a service token a 401 is
    // about the service token, which is our problem, not the user's.
    if (resp.status == 404 || (resp.status == 401 && !options_.service_token)) {
        StoreNegative(token, Unauthorized(), false);
        co_return Unauthorized();
    }
    if (resp.status >= 500 || resp.status == 401)
        co_return MakeError(ErrorCode::kUnavailable, "the identity provider answered " + std::to_string(resp.status) +
                                                         ": " + http::ErrorMessageOf(resp));
    co_return MakeError(ErrorCode::kBadGateway, "the identity provider answered " + std::to_string(resp.status) +
                                                    " to a token validation: " + http::ErrorMessageOf(resp));
}

void TokenCache::Remember(const std::string& token, const json& body) {
    if (token.empty()) return;
    auto info = ParseTokenInfo(body);
    if (!info.ok() || info->expires_at <= Now()) return;
    StorePositive(token, std::move(info).value());
}

void TokenCache::Revoke(const std::string& token) {
    if (token.empty()) return;
    StoreNegative(token, MakeError(ErrorCode::kUnauthorized, "The token has been revoked."), true);
}

void TokenCache::Evict(const std::string& token) {
    entries_.erase(token);
}

void TokenCache::StorePositive(const std::string& token, TokenInfo info) {
    auto now = Now();
    // A validation that was in flight when the token was revoked here must not resurrect it.
    if (auto it = entries_.find(token); it != entries_.end() && it->second.revoked && now < it->second.until) return;
    Entry e;
    e.until = std::min(info.expires_at, now + options_.cache_ttl);
    e.info = std::move(info);
    Store(token, std::move(e));
}

void TokenCache::StoreNegative(const std::string& token, Error error, bool revoked) {
    Entry e;
    e.error = std::move(error);
    e.until = Now() + options_.negative_ttl;
    e.revoked = revoked;
    Store(token, std::move(e));
}

void TokenCache::Store(const std::string& token, Entry entry) {
    if (!entries_.contains(token) && entries_.size() >= options_.max_entries) Prune(Now());
    entries_.insert_or_assign(token, std::move(entry));
}

// Drops expired entries; if the cache is still full, the tenth that expires soonest.
void TokenCache::Prune(SystemTime now) {
    std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.until; });
    if (entries_.size() < options_.max_entries) return;
    std::vector<std::pair<SystemTime, std::string>> order;
    order.reserve(entries_.size());
    for (const auto& [k, e] : entries_) order.emplace_back(e.until, k);
    std::size_t drop = std::max<std::size_t>(1, entries_.size() - options_.max_entries * 9 / 10);
    drop = std::min(drop, order.size());
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop - 1), order.end());
    for (std::size_t i = 0; i < drop; ++i) entries_.erase(order[i].second);
}

TokenCache::Stats TokenCache::GetStats() const {
    Stats s = stats_;
    s.joined = flights_.Joined();
    s.entries = entries_.size();
    return s;
}

}  // namespace shoal::identity
