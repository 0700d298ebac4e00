// An identity provider's answer body as the agent's IdentityProxy::Forward hands it on:
// identity::RewriteAnswer for each place a catalog can be (none, "catalog", "token.catalog"),
// compared with the original and serialised as Forward does; then identity::ParseTokenInfo and
// TokenCache::Remember as for an issued or validated token, and the catalog's region.
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>

#include "http/message.hpp"
#include "identity/rewrite.hpp"
#include "identity/token_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace shoal::identity;
    static boost::asio::io_context* io = new boost::asio::io_context();
    shoal::http::Response in;
    in.body.assign(reinterpret_cast<const char*>(data), size);
    auto parsed = in.JsonBody();
    if (!parsed.ok()) return 0;
    const std::string idp = IdentityBase("http://10.0.0.2:5000/identity/v3/");
    const std::string agent = "http://127.0.0.1:8080/identity";
    CatalogOptions options;
    for (CatalogAt at : {CatalogAt::kNone, CatalogAt::kCatalog, CatalogAt::kToken}) {
        nlohmann::json doc = *parsed;
        const nlohmann::json original = doc;
        (void)RewriteAnswer(doc, at, options, "http://127.0.0.1:8080", idp, agent);
        if (doc != original) (void)shoal::http::DumpJson(doc);
        if (at == CatalogAt::kToken && doc.is_object()) {
            TokenCacheOptions cache_options;
            cache_options.idp_auth_url = "http://10.0.0.2:5000/identity/v3";
            // A fixed instant, so that a run replays the same way whatever the day.
            struct FixedClock final : shoal::Clock {
                SteadyTime Steady() const override { return SteadyTime(std::chrono::hours(1)); }
                SystemTime System() const override { return SystemTime(std::chrono::seconds(1'780'000'000)); }
            };
            static FixedClock fixed;
            cache_options.clock = &fixed;
            TokenCache cache(io->get_executor(), cache_options);
            cache.Remember("gAAAAABfuzz", doc);
            (void)ParseTokenInfo(doc);
        }
    }
    (void)CatalogRegion(*parsed);
    if (parsed->is_object() && parsed->contains("catalog")) (void)CatalogRegion((*parsed)["catalog"]);
    return 0;
}
