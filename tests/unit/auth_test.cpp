// Client authentication (core/auth/auth.hpp): base64 and the Authenticator.
#include <gtest/gtest.h>

#include <string>

#include "core/auth/auth.hpp"

namespace apiproxy {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, BinaryBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(base64_encode("\x00"s), "AA==");
  EXPECT_EQ(base64_encode("\x00\x00\x00"s), "AAAA");
  EXPECT_EQ(base64_encode("\xff"s), "/w==");
  EXPECT_EQ(base64_encode("\xff\xff\xff"s), "////");
  EXPECT_EQ(base64_encode("\xfb\xff"s), "+/8=");
  EXPECT_EQ(base64_encode("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f"s),
            "ABCDEFGHIJKLMNOP");
  EXPECT_EQ(base64_encode("\xde\xad\xbe\xef"s), "3q2+7w==");
  // Every byte value survives (no sign-extension on high bytes).
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string enc = base64_encode(all);
  EXPECT_EQ(enc.size(), 344u);
  EXPECT_EQ(enc.substr(0, 8), "AAECAwQF");
  EXPECT_EQ(enc.substr(enc.size() - 8), "/P3+/w==");
}

TEST(Base64, TypicalToken) {
  EXPECT_EQ(base64_encode("my-secret-token"), "bXktc2VjcmV0LXRva2Vu");
}

TEST(Authenticator, DisabledWhenTokenEmpty) {
  Authenticator a("");
  EXPECT_FALSE(a.enabled());
  EXPECT_TRUE(a.allows("", ""));
  EXPECT_TRUE(a.allows("Bearer whatever", "junk"));
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  const std::string token = "my-secret-token";
  const std::string encoded = "bXktc2VjcmV0LXRva2Vu";  // base64(token)
  Authenticator auth{token};
};

TEST_F(AuthenticatorTest, Enabled) { EXPECT_TRUE(auth.enabled()); }

TEST_F(AuthenticatorTest, NoCredentialsRejected) { EXPECT_FALSE(auth.allows("", "")); }

TEST_F(AuthenticatorTest, BearerBase64Accepted) {
  EXPECT_TRUE(auth.allows("Bearer " + encoded, ""));
}

TEST_F(AuthenticatorTest, BearerSchemeCaseInsensitive) {
  EXPECT_TRUE(auth.allows("bearer " + encoded, ""));
  EXPECT_TRUE(auth.allows("BEARER " + encoded, ""));
  EXPECT_TRUE(auth.allows("BeArEr " + encoded, ""));
}

TEST_F(AuthenticatorTest, SurroundingSpacesTolerated) {
  EXPECT_TRUE(auth.allows("  Bearer " + encoded + "  ", ""));
  EXPECT_TRUE(auth.allows("Bearer    " + encoded, ""));
}

TEST_F(AuthenticatorTest, RawTokenRejected) {
  EXPECT_FALSE(auth.allows("Bearer " + token, ""));
  EXPECT_FALSE(auth.allows("", token));
}

TEST_F(AuthenticatorTest, WithoutSchemeRejected) {
  EXPECT_FALSE(auth.allows(encoded, ""));
  EXPECT_FALSE(auth.allows("Basic " + encoded, ""));
  EXPECT_FALSE(auth.allows("Bearer", ""));
  EXPECT_FALSE(auth.allows("Bearer ", ""));
  EXPECT_FALSE(auth.allows("Bearer" + encoded, ""));
}

TEST_F(AuthenticatorTest, ApiKeyAccepted) {
  EXPECT_TRUE(auth.allows("", encoded));
  EXPECT_TRUE(auth.allows("", "  " + encoded + " "));
}

TEST_F(AuthenticatorTest, WrongBearerButRightApiKeyAccepted) {
  EXPECT_TRUE(auth.allows("Bearer d3Jvbmc=", encoded));
  EXPECT_TRUE(auth.allows("garbage", encoded));
}

TEST_F(AuthenticatorTest, WrongValuesRejected) {
  EXPECT_FALSE(auth.allows("Bearer d3Jvbmc=", "d3Jvbmc="));
  // Same length, one character different (first, middle, last).
  for (size_t pos : {size_t{0}, encoded.size() / 2, encoded.size() - 1}) {
    std::string wrong = encoded;
    wrong[pos] = wrong[pos] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(auth.allows("Bearer " + wrong, "")) << wrong;
    EXPECT_FALSE(auth.allows("", wrong)) << wrong;
  }
  // The token's base64 is case-sensitive.
  std::string upper = encoded;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(auth.allows("Bearer " + upper, ""));
}

TEST_F(AuthenticatorTest, DifferentLengthsRejected) {
  EXPECT_FALSE(auth.allows("Bearer " + encoded.substr(0, encoded.size() - 1), ""));
  EXPECT_FALSE(auth.allows("Bearer " + encoded + "A", ""));
  EXPECT_FALSE(auth.allows("Bearer " + encoded + "=", ""));
  EXPECT_FALSE(auth.allows("", encoded + encoded));
  EXPECT_FALSE(auth.allows("", encoded.substr(1)));
  EXPECT_FALSE(auth.allows("Bearer " + encoded + " extra", ""));
}

TEST(Authenticator, TokenNeedingPadding) {
  Authenticator a("abcd");  // base64 "YWJjZA=="
  EXPECT_TRUE(a.allows("Bearer YWJjZA==", ""));
  EXPECT_FALSE(a.allows("Bearer YWJjZA", ""));  // unpadded form is not accepted
}

TEST(Authenticator, AdminTokenOpensControlPlaneWritesAndEverythingElse) {
  Authenticator auth("client", "admin");
  std::string client = "Bearer " + base64_encode("client"), admin = "Bearer " + base64_encode("admin");
  EXPECT_EQ(auth.access(admin, ""), Access::Admin);
  EXPECT_EQ(auth.access(client, ""), Access::Client);
  EXPECT_EQ(auth.access("", base64_encode("admin")), Access::Admin);
  EXPECT_EQ(auth.access("Bearer wrong", ""), Access::None);
  EXPECT_EQ(auth.access("", ""), Access::None);
  EXPECT_TRUE(auth.allows_admin(Access::Admin));
  EXPECT_FALSE(auth.allows_admin(Access::Client));
  EXPECT_TRUE(auth.allows(admin, ""));
}

TEST(Authenticator, WithoutAnAdminTokenTheClientTokenIsEnough) {
  Authenticator auth("client");
  EXPECT_FALSE(auth.admin_enabled());
  EXPECT_TRUE(auth.allows_admin(auth.access("Bearer " + base64_encode("client"), "")));
  EXPECT_FALSE(auth.allows_admin(auth.access("", "")));
}

TEST(Authenticator, AnOpenGatewayWithAnAdminTokenStillGuardsWrites) {
  Authenticator auth("", "admin");
  EXPECT_EQ(auth.access("", ""), Access::Client);  // the data plane is open
  EXPECT_FALSE(auth.allows_admin(auth.access("", "")));
  EXPECT_TRUE(auth.allows_admin(auth.access("Bearer " + base64_encode("admin"), "")));
}

}  // namespace
}  // namespace apiproxy
