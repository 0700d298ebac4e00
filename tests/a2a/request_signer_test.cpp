#include <gtest/gtest.h>

#include <set>

#include "a2a/request_signer.hpp"

namespace shoal::a2a {
namespace {

using namespace std::chrono_literals;

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'000));

http::Request Shuffle() {
    http::Request r;
    r.method = http::Method::kPost;
    r.target = "/a2a/v1/cyclon/shuffle";
    r.body = R"({"entries": [{"id": "agent-7", "address": "127.0.0.1:7001", "age": 3}]})";
    return r;
}

TEST(RequestVerifier, AcceptsASignedRequestOnce) {
    RequestVerifier v("cluster-secret");
    auto r = Shuffle();
    SignRequest(r, "cluster-secret", "agent-1", kNow);
    auto who = v.Verify(r, kNow + 2s);
    ASSERT_TRUE(who.ok()) << who.error().message;
    EXPECT_EQ(*who, "agent-1");
    EXPECT_EQ(v.Accepted(), 1u);
}

TEST(RequestVerifier, DuringARotationAcceptsTheNewAndPreviousSecretsAndNoOther) {
    RequestVerifier v(std::vector<std::string>{"new-cluster-secret", "old-cluster-secret"});
    for (const char* secret : {"new-cluster-secret", "old-cluster-secret"}) {
        auto r = Shuffle();
        SignRequest(r, secret, "agent-1", kNow);
        EXPECT_TRUE(v.Verify(r, kNow).ok()) << secret;
    }
    auto rotated_out = Shuffle();
    SignRequest(rotated_out, "older-cluster-secret", "agent-1", kNow);
    auto refused = v.Verify(rotated_out, kNow);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(v.Refused(Rejection::kForged), 1u);
    EXPECT_EQ(v.Accepted(), 2u);
}

TEST(RequestVerifier, NoncesAreFreshFromTheCsprng) {
    std::set<std::string> nonces;
    for (int i = 0; i < 1000; ++i) {
        auto r = Shuffle();
        SignRequest(r, "cluster-secret", "agent-1", kNow);
        nonces.insert(std::string(*r.headers.Get(kNonceHeader)));
    }
    EXPECT_EQ(nonces.size(), 1000u);
}

TEST(RequestVerifier, RefusesUnsignedRequests) {
    RequestVerifier v("cluster-secret");
    auto r = Shuffle();
    auto res = v.Verify(r, kNow);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(v.Refused(Rejection::kUnsigned), 1u);
}

TEST(RequestVerifier, RefusesForgeries) {
    RequestVerifier v("cluster-secret");
    auto wrong_key = Shuffle();
    SignRequest(wrong_key, "guessed-secret", "agent-1", kNow);
    EXPECT_FALSE(v.Verify(wrong_key, kNow).ok());

    auto tampered_body = Shuffle();
    SignRequest(tampered_body, "cluster-secret", "agent-1", kNow);
    tampered_body.body += " ";
    EXPECT_FALSE(v.Verify(tampered_body, kNow).ok());

    auto other_target = Shuffle();
    SignRequest(other_target, "cluster-secret", "agent-1", kNow);
    other_target.target = "/a2a/v1/tenants/t1/servers";
    EXPECT_FALSE(v.Verify(other_target, kNow).ok());

    auto impersonation = Shuffle();
    SignRequest(impersonation, "cluster-secret", "agent-1", kNow);
    impersonation.headers.Set(std::string(kAgentHeader), "agent-2");
    EXPECT_FALSE(v.Verify(impersonation, kNow).ok());
    EXPECT_EQ(v.Refused(Rejection::kForged), 4u);
    EXPECT_EQ(v.Accepted(), 0u);
}

TEST(RequestVerifier, RefusesStaleTimestamps) {
    RequestVerifier v("cluster-secret", 30s);
    auto old = Shuffle();
    SignRequest(old, "cluster-secret", "agent-1", kNow - 31s);
    EXPECT_FALSE(v.Verify(old, kNow).ok());
    auto future = Shuffle();
    SignRequest(future, "cluster-secret", "agent-1", kNow + 31s);
    EXPECT_FALSE(v.Verify(future, kNow).ok());
    EXPECT_EQ(v.Refused(Rejection::kStale), 2u);
}

TEST(RequestVerifier, RefusesReplaysAndForgetsNoncesAfterTheWindow) {
    RequestVerifier v("cluster-secret", 30s);
    auto r = Shuffle();
    SignRequest(r, "cluster-secret", "agent-1", kNow);
    ASSERT_TRUE(v.Verify(r, kNow).ok());
    auto again = v.Verify(r, kNow + 1s);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(v.Refused(Rejection::kReplayed), 1u);
    // Later the nonce is forgotten, and the old request is refused as stale instead.
    for (int i = 0; i < 3; ++i) {
        auto fresh = Shuffle();
        SignRequest(fresh, "cluster-secret", "agent-1", kNow + std::chrono::seconds(40 * (i + 1)));
        ASSERT_TRUE(v.Verify(fresh, kNow + std::chrono::seconds(40 * (i + 1))).ok());
    }
    EXPECT_LE(v.RememberedNonces(), 2u);
    EXPECT_FALSE(v.Verify(r, kNow + 200s).ok());
    EXPECT_EQ(v.Refused(Rejection::kStale), 1u);
}

}  // namespace
}  // namespace shoal::a2a
