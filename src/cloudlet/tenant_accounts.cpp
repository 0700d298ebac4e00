// CloudletClient's tenant side: the project and shadow user that stand for a shoal tenant in
// the cloudlet's Keystone, and that user's tokens. See docs/cloudlet_client.md.
#include <spdlog/spdlog.h>

#include <array>
#include <utility>

#include "cloudlet/cloudlet_client.hpp"
#include "common/crypto.hpp"
#include "http/errors.hpp"
#include "openstack/keystone_admin.hpp"

namespace shoal::cloudlet {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxKeystoneName = 64;  // projects; users allow 255

bool SafeNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

}  // namespace

std::string ShadowName(std::string_view prefix, std::string_view tenant_id) {
    bool safe = !tenant_id.empty();
    for (char c : tenant_id) safe = safe && SafeNameChar(c);
    if (safe && prefix.size() + tenant_id.size() <= kMaxKeystoneName)
        return std::string(prefix) + std::string(tenant_id);
    // 20 of SHA-256's 32 bytes: 40 hex digits keep prefix + name within Keystone's 64.
    return std::string(prefix) + "h-" + Sha256Hex(tenant_id).substr(0, 40);
}

std::string ShadowPassword(std::string_view secret, std::string_view identity_v3_url, std::string_view tenant_id) {
    std::string message = "shoal/tenant-password/v1\n" + std::string(identity_v3_url) + "\n" + std::string(tenant_id);
    // The prefix satisfies the usual complexity rules (upper, lower, digit, symbol).
    return "Sh0al-" + Base64UrlEncode(HmacSha256(secret, message));
}

std::string CloudletClient::PasswordOf(const std::string& tenant_id) const {
    const std::string& secret =
        options_.tenant_secret.empty() ? session_.credentials().password : options_.tenant_secret;
    return ShadowPassword(secret, session_.IdentityUrl(), tenant_id);
}

void CloudletClient::AdoptTenant(TenantAccount account) {
    std::string id = account.tenant_id;
    accounts_[id] = std::move(account);
}

std::optional<TenantAccount> CloudletClient::FindTenant(const std::string& tenant_id) const {
    auto it = accounts_.find(tenant_id);
    if (it == accounts_.end()) return std::nullopt;
    return it->second;
}

asio::awaitable<Result<json>> CloudletClient::Keystone(http::Method method, std::string path, json body) {
    auto r = co_await Exchange(std::nullopt, method, std::move(path), std::move(body), As::Admin(), CallOptions());
    if (!r.ok()) co_return r.error();
    if (r->status < 200 || r->status > 299)
        co_return Error{http::ErrorCodeOfStatus(r->status),
                        "cloudlet Keystone answered " + std::to_string(r->status) + ": " + http::ErrorMessageOf(*r)};
    if (r->body.empty()) co_return json(nullptr);
    auto parsed = r->JsonBody();
    if (!parsed.ok()) co_return MakeError(ErrorCode::kBadGateway, "cloudlet Keystone answered malformed JSON");
    co_return std::move(parsed).value();
}

asio::awaitable<Result<TenantAccount>> CloudletClient::EnsureTenant(std::string tenant_id,
                                                                    std::string tenant_name,
                                                                    std::string domain) {
    if (tenant_id.empty()) co_return MakeError(ErrorCode::kBadRequest, "EnsureTenant: empty tenant id");
    if (auto it = accounts_.find(tenant_id); it != accounts_.end()) co_return it->second;
    // Named first: g++ 12 destroys a capturing lambda temporary in a co_await expression twice.
    SingleFlight<Result<TenantAccount>>::Start create = [this, tenant_id, tenant_name, domain] {
        return CreateTenant(tenant_id, tenant_name, domain);
    };
    co_return co_await ensure_flights_.Do(tenant_id, std::move(create));
}

asio::awaitable<Result<TenantAccount>> CloudletClient::CreateTenant(std::string tenant_id,
                                                                    std::string tenant_name,
                                                                    std::string domain) {
    auto domain_id = co_await DomainId(domain);
    if (!domain_id.ok()) co_return domain_id.error();
    const openstack::KeystoneCall admin = AdminCall();  // named: g++ 12 and temporaries in co_await
    TenantAccount a;
    a.tenant_id = tenant_id;
    a.domain_id = *domain_id;
    a.project_name = ShadowName(options_.name_prefix, tenant_id);
    a.user_name = a.project_name;
    std::string description = "shoal tenant " + tenant_name + " (" + tenant_id + ")";

    json project_fields = {{"description", description}, {"enabled", true}};
    auto project = co_await openstack::FindOrCreate(admin, "projects", "project", a.project_name, a.domain_id,
                                                    std::move(project_fields));
    if (!project.ok()) co_return project.error();
    a.project_id = project->id;

    json user_fields = {{"description", "shoal shadow user of " + description},
                        {"enabled", true},
                        {"password", PasswordOf(tenant_id)},
                        {"default_project_id", a.project_id}};
    auto user =
        co_await openstack::FindOrCreate(admin, "users", "user", a.user_name, a.domain_id, std::move(user_fields));
    if (!user.ok()) co_return user.error();
    a.user_id = user->id;
    a.created = project->created || user->created;
    // Someone else (another agent process, an operator) made one between our look-up and our
    // create: theirs is the one.
    create_conflicts_ += (project->raced ? 1 : 0) + (user->raced ? 1 : 0);

    // Assignments are idempotent PUTs, so they are (re)made even when both existed.
    auto granted = co_await Grant(a);
    if (!granted.ok()) co_return granted.error();
    for (const auto& [name, id] : role_ids_) a.roles.push_back(name);
    accounts_[tenant_id] = a;
    spdlog::info("cloudlet tenant {}: project {} user {}{}", tenant_id, a.project_id, a.user_id,
                 a.created ? " (created)" : "");
    co_return a;
}

openstack::KeystoneCall CloudletClient::AdminCall() {
    return [this](http::Method method, std::string path, json body) {
        return Keystone(method, std::move(path), std::move(body));
    };
}

asio::awaitable<Result<std::string>> CloudletClient::DomainId(std::string domain) {
    if (auto it = domain_ids_.find(domain); it != domain_ids_.end()) co_return it->second;
    const openstack::KeystoneCall admin = AdminCall();
    auto id = co_await openstack::DomainId(admin, domain);
    if (!id.ok()) co_return id.error();
    domain_ids_[domain] = *id;
    co_return *id;
}

asio::awaitable<Status> CloudletClient::Grant(TenantAccount account) {
    const openstack::KeystoneCall admin = AdminCall();
    if (role_ids_.empty()) {
        auto roles = co_await openstack::MemberRoles(admin);
        if (!roles.ok()) co_return roles.error();
        role_ids_ = std::move(*roles);
    }
    co_return co_await openstack::GrantRoles(admin, account.project_id, account.user_id, role_ids_);
}

asio::awaitable<Result<Token>> CloudletClient::TenantToken(std::string tenant_id) {
    if (!accounts_.contains(tenant_id))
        co_return MakeError(ErrorCode::kNotFound, "tenant " + tenant_id + " has no account in this cloudlet yet");
    SingleFlight<Result<Token>>::Start login = [this, tenant_id] { return TenantLogin(tenant_id); };
    co_return co_await session_.CachedToken("tenant/" + tenant_id, std::move(login));
}

asio::awaitable<Result<Token>> CloudletClient::TenantLogin(std::string tenant_id) {
    auto it = accounts_.find(tenant_id);
    if (it == accounts_.end()) co_return MakeError(ErrorCode::kNotFound, "tenant " + tenant_id + " is unknown");
    TenantAccount a = it->second;
    std::string password = PasswordOf(tenant_id);
    auto token = co_await session_.UserLogin(a.user_id, password, a.project_id);
    if (token.ok() || token.error().code != ErrorCode::kUnauthorized) co_return token;
    // Refused: the user was made under another secret, or its password or roles were changed.
    // The service account puts back what we expect, once.
    spdlog::warn("cloudlet tenant {}: shadow user {} refused ({}); resetting it", tenant_id, a.user_id,
                 token.error().message);
    json patch = {{"user", {{"password", password}, {"enabled", true}}}};
    auto reset = co_await Keystone(http::Method::kPatch, "/users/" + http::UrlEncode(a.user_id), std::move(patch));
    if (!reset.ok()) {
        // The user is gone (deleted by an operator): forget the account so that the next
        // EnsureTenant makes a new one (whose ids the caller must persist again).
        if (reset.error().code == ErrorCode::kNotFound) accounts_.erase(tenant_id);
        co_return reset.error();
    }
    auto granted = co_await Grant(a);
    if (!granted.ok()) co_return granted.error();
    co_return co_await session_.UserLogin(a.user_id, password, a.project_id);
}

}  // namespace shoal::cloudlet
