#include "agent/server/base64.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(Base64, UrlAlphabetWithoutPadding) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlDecode("-_-_"), std::optional<std::string>(bytes));
  EXPECT_EQ(Base64UrlDecode("Zg"), std::optional<std::string>("f"));
}

TEST(Base64, RefusesWhatHasNoSingleMeaning) {
  EXPECT_FALSE(Base64Decode("Zg"));        // missing padding
  EXPECT_FALSE(Base64Decode("Zg=A"));      // padding inside
  EXPECT_FALSE(Base64Decode("Z==="));      // too much padding
  EXPECT_FALSE(Base64Decode("Zh=="));      // leftover bits not zero ("Zg==" is canonical)
  EXPECT_FALSE(Base64Decode("Zm9v\n"));    // outside the alphabet
  EXPECT_FALSE(Base64Decode("-_-_"));      // URL alphabet in standard text
  EXPECT_FALSE(Base64UrlDecode("+/+/"));   // and the other way
  EXPECT_FALSE(Base64UrlDecode("Zg=="));   // padding in base64url
  EXPECT_FALSE(Base64UrlDecode("Z"));      // a length that cannot be
}

TEST(Base64, EveryByteRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    const std::string s = all.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(s)), std::optional<std::string>(s));
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)), std::optional<std::string>(s));
  }
}

}  // namespace
}  // namespace callsim::agent
