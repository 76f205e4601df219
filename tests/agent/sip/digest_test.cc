#include "agent/sip/digest.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace callsim::agent::sip {
namespace {

// RFC 2617 section 3.5's worked example.
TEST(Digest, ReproducesRfc2617sExample) {
  EXPECT_EQ(DigestResponse("Mufasa", "testrealm@host.com", "Circle Of Life", "GET",
                           "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
                           "0a4f113b", "auth"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, ParsesAChallengeAsAsteriskSendsIt) {
  const auto c = ParseDigestChallenge(
      "Digest algorithm=MD5, realm=\"asterisk\", nonce=\"1a2b3c\", qop=\"auth,auth-int\", opaque=\"xyz\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "asterisk");
  EXPECT_EQ(c->nonce, "1a2b3c");
  EXPECT_EQ(c->opaque, "xyz");
  EXPECT_TRUE(c->qop_auth);
  EXPECT_FALSE(ParseDigestChallenge("Basic realm=\"x\""));
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256"));
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x\""));
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x, nonce=\"n\""));
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\""));
}

TEST(Digest, AnAnswerChecksOutOnlyWithTheRightPasswordNonceAndMethod) {
  const DigestChallenge c = *ParseDigestChallenge("Digest realm=\"callsim\", nonce=\"n1\", qop=\"auth\"");
  const std::string auth =
      DigestAuthorization(c, {"alice", "s3cret"}, "INVITE", "sip:agent@127.0.0.1", "cn1", 1);
  EXPECT_NE(auth.find("nc=00000001"), std::string::npos) << auth;
  auto alice = [](std::string_view user) -> std::optional<std::string> {
    if (user == "alice") return std::string("s3cret");
    return std::nullopt;
  };
  auto wrong = [](std::string_view) -> std::optional<std::string> { return std::string("guess"); };
  EXPECT_TRUE(CheckDigestAuthorization(auth, "callsim", "n1", "INVITE", alice));
  EXPECT_FALSE(CheckDigestAuthorization(auth, "callsim", "n1", "INVITE", wrong));
  EXPECT_FALSE(CheckDigestAuthorization(auth, "callsim", "n2", "INVITE", alice));  // stale nonce
  EXPECT_FALSE(CheckDigestAuthorization(auth, "callsim", "n1", "BYE", alice));
  EXPECT_FALSE(CheckDigestAuthorization("Digest username=\"bob\"", "callsim", "n1", "INVITE", alice));
  // Without qop (RFC 2069 style) too.
  const DigestChallenge plain = *ParseDigestChallenge("Digest realm=\"callsim\", nonce=\"n1\"");
  EXPECT_TRUE(CheckDigestAuthorization(
      DigestAuthorization(plain, {"alice", "s3cret"}, "INVITE", "sip:a@b", "", 1), "callsim", "n1",
      "INVITE", alice));
}

}  // namespace
}  // namespace callsim::agent::sip
