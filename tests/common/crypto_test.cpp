#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <string>

namespace shoal {
namespace {

std::string AllBytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
}

// FIPS 180-2 appendix examples ("abc" and the 448-bit two-block message) and the empty string.
TEST(Crypto, Sha224MatchesFipsVectors) {
    EXPECT_EQ(Sha224Hex("abc"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    EXPECT_EQ(Sha224Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525");
    EXPECT_EQ(Sha224Hex(""), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
    EXPECT_EQ(HexEncode(Sha224("abc")), Sha224Hex("abc"));
}

TEST(Crypto, Sha256MatchesFipsVectors) {
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auto raw = Sha256("abc");
    EXPECT_EQ(raw[0], 0xba);
    EXPECT_EQ(raw[31], 0xad);
}

// Nova's hostId is sha224(project_id + host); the api-ref sample's host is "compute".
TEST(Crypto, Sha224HexIsNovasHostIdOfTheApiRefSample) {
    EXPECT_EQ(Sha224Hex("6f70656e737461636b20342065766572compute"),
              "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6");
}

// RFC 4231 test cases 1, 2, 3 and 6 (a key longer than the block), and the empty key.
TEST(Crypto, HmacSha256MatchesRfc4231) {
    EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(HexEncode(HmacSha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Crypto, HexEncodeIsLowerCaseTwoDigitsPerByte) {
    EXPECT_EQ(HexEncode(std::string_view()), "");
    EXPECT_EQ(HexEncode(std::string("\x00\x0f\xf0\xff", 4)), "000ff0ff");
    std::string all = HexEncode(AllBytes());
    EXPECT_EQ(all.size(), 512u);
    EXPECT_EQ(all.substr(0, 8), "00010203");
    EXPECT_EQ(all.substr(504), "fcfdfeff");
}

// RFC 4648 section 10.
TEST(Crypto, Base64MatchesRfc4648Vectors) {
    const std::pair<const char*, const char*> kVectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, encoded] : kVectors) {
        EXPECT_EQ(Base64Encode(std::string_view(plain)), encoded);
        auto back = Base64Decode(encoded);
        ASSERT_TRUE(back) << encoded;
        EXPECT_EQ(*back, plain);
    }
}

TEST(Crypto, Base64RoundTripsEveryLengthAndByte) {
    std::string bytes = AllBytes();
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        auto s = bytes.substr(bytes.size() - n);
        auto back = Base64Decode(Base64Encode(s));
        ASSERT_TRUE(back) << n;
        ASSERT_EQ(*back, s) << n;
        auto url = Base64UrlDecode(Base64UrlEncode(s));
        ASSERT_TRUE(url) << n;
        ASSERT_EQ(*url, s) << n;
    }
}

TEST(Crypto, Base64DecodeRefusesWhatIsNotBase64) {
    for (const char* bad :
         {"Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zg=", "Zg==Zg==", "====", "Zm9v\n", " Zm9v", "Zm-v", "Zm_v", "Zm9vY"}) {
        auto r = Base64Decode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << bad;
    }
    EXPECT_FALSE(Base64Decode(std::string("Zm9v\0AAA", 8)));
}

// The url alphabet and no padding: 0xfb 0xff is "+/8=" in base64, "-_8" in base64url.
TEST(Crypto, Base64UrlUsesTheUrlAlphabetWithoutPadding) {
    EXPECT_EQ(Base64Encode(std::string_view("\xfb\xff")), "+/8=");
    EXPECT_EQ(Base64UrlEncode(std::string_view("\xfb\xff")), "-_8");
    EXPECT_EQ(Base64UrlEncode(std::string_view("\xfb\xff\xfe")), "-__-");
    EXPECT_EQ(Base64UrlEncode(std::string_view("f")), "Zg");
    auto padded = Base64UrlDecode("-_8=");
    ASSERT_TRUE(padded);
    EXPECT_EQ(*padded, "\xfb\xff");
}

TEST(Crypto, Base64UrlDecodeRefusesWhatIsNotBase64Url) {
    for (const char* bad : {"+_8", "-/8", "Z", "Zm9vY", "Zg=", "Z=g", "Zg==Zg", "-_8 ", "é"}) {
        auto r = Base64UrlDecode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << bad;
    }
}

}  // namespace
}  // namespace shoal
