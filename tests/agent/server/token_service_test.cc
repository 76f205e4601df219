#include "agent/server/token_service.h"

#include <gtest/gtest.h>

#include "agent/server/base64.h"

namespace callsim::agent {
namespace {

constexpr int64_t kS = 1000000;
constexpr int64_t kT0 = 1'800'000'000 * kS;  // a moment in 2027

TokenConfig Config() {
  TokenConfig c;
  c.secret = std::string(32, 's');
  c.ttl_s = 60;
  c.rate_per_s = 2;
  c.burst = 3;
  return c;
}

TEST(TokenService, AnIssuedTokenOpensOneCallOnce) {
  TokenService tokens(Config(), {"key-a", "key-b"});
  const IssuedToken t = tokens.Issue("key-b", kT0);
  ASSERT_EQ(t.status, TokenStatus::kOk);
  EXPECT_EQ(t.expires_in_s, 60);
  EXPECT_EQ(t.token.find("key-b"), std::string::npos);
  const RedeemResult first = tokens.Redeem(t.token, kT0 + 1 * kS);
  EXPECT_TRUE(first.ok) << first.reason;
  EXPECT_EQ(first.jti.size(), 32u);
  const RedeemResult again = tokens.Redeem(t.token, kT0 + 2 * kS);
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.reason, "reused");
}

TEST(TokenService, UnknownAndEmptyKeysGetNothing) {
  TokenService tokens(Config(), {"key-a", ""});
  EXPECT_EQ(tokens.Issue("key-c", kT0).status, TokenStatus::kUnauthorized);
  EXPECT_EQ(tokens.Issue("", kT0).status, TokenStatus::kUnauthorized);
  EXPECT_EQ(tokens.Issue("key-a ", kT0).status, TokenStatus::kUnauthorized);
  EXPECT_TRUE(tokens.Issue("key-a", kT0).token.size() > 0);
}

TEST(TokenService, ExpiredMissingMalformedAndForgedTokensAreRefusedWithTheirReason) {
  TokenService tokens(Config(), {"k"});
  const std::string token = tokens.Issue("k", kT0).token;
  EXPECT_EQ(tokens.Redeem(token, kT0 + 61 * kS).reason, "expired");
  EXPECT_EQ(tokens.Redeem("", kT0).reason, "missing");
  EXPECT_EQ(tokens.Redeem("no-dot-here", kT0).reason, "malformed");
  EXPECT_EQ(tokens.Redeem(std::string(2000, 'a') + ".b", kT0).reason, "malformed");
  // A changed claim (a later expiry) no longer matches the MAC.
  const std::string body = token.substr(0, token.find('.'));
  std::string claims = *Base64UrlDecode(body);
  claims.replace(claims.find("\"exp\":") + 6, 1, "9");
  EXPECT_EQ(tokens.Redeem(Base64UrlEncode(claims) + token.substr(token.find('.')), kT0).reason,
            "bad signature");
  // Signed with another secret.
  TokenConfig other = Config();
  other.secret = std::string(32, 'x');
  TokenService elsewhere(other, {"k"});
  EXPECT_EQ(tokens.Redeem(elsewhere.Issue("k", kT0).token, kT0).reason, "bad signature");
  // Signed with the same secret by another instance: not one of ours.
  TokenService twin(Config(), {"k"});
  EXPECT_EQ(tokens.Redeem(twin.Issue("k", kT0).token, kT0).reason, "unknown");
  // The lifetime counts from the whole second of issue: ttl_s later it is over, never longer.
  const std::string edge = tokens.Issue("k", kT0 + kS / 2).token;
  EXPECT_TRUE(tokens.Redeem(edge, kT0 + 59 * kS + kS / 2).ok);
  const std::string late = tokens.Issue("k", kT0).token;
  EXPECT_EQ(tokens.Redeem(late, kT0 + 60 * kS).reason, "expired");
}

TEST(TokenService, AKeyThatAsksTooFastIsToldWhenToComeBack) {
  TokenService tokens(Config(), {"fast", "calm"});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(tokens.Issue("fast", kT0).status, TokenStatus::kOk);
  const IssuedToken limited = tokens.Issue("fast", kT0);
  EXPECT_EQ(limited.status, TokenStatus::kRateLimited);
  EXPECT_EQ(limited.retry_after_s, 1);  // 2 per second: one token in 0.5 s, rounded up
  EXPECT_TRUE(limited.token.empty());
  EXPECT_EQ(tokens.Issue("calm", kT0).status, TokenStatus::kOk);  // buckets are per key
  EXPECT_EQ(tokens.Issue("fast", kT0 + kS / 2).status, TokenStatus::kOk);
  EXPECT_EQ(tokens.Issue("fast", kT0 + kS / 2).status, TokenStatus::kRateLimited);
  // A long pause refills to the burst, not beyond.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tokens.Issue("fast", kT0 + 100 * kS).status, TokenStatus::kOk);
  }
  EXPECT_EQ(tokens.Issue("fast", kT0 + 100 * kS).status, TokenStatus::kRateLimited);
}

TEST(TokenService, LiveTokensAreBoundedAndForgottenWhenExpired) {
  TokenConfig c = Config();
  c.max_live_tokens = 2;
  c.burst = 100;
  TokenService tokens(c, {"k"});
  EXPECT_EQ(tokens.Issue("k", kT0).status, TokenStatus::kOk);
  EXPECT_EQ(tokens.Issue("k", kT0).status, TokenStatus::kOk);
  EXPECT_EQ(tokens.Issue("k", kT0).status, TokenStatus::kBusy);
  EXPECT_EQ(tokens.live_tokens(), 2u);
  EXPECT_EQ(tokens.Issue("k", kT0 + 60 * kS).status, TokenStatus::kOk);  // the two expired
  EXPECT_EQ(tokens.live_tokens(), 1u);
}

TEST(TokenService, RefusesAnUnusableConfiguration) {
  TokenConfig c = Config();
  c.secret = "short";
  EXPECT_NE(ValidateTokenConfig(c), "");
  EXPECT_THROW(TokenService(c, {"k"}), std::invalid_argument);
  c = Config();
  c.ttl_s = 601;
  EXPECT_EQ(ValidateTokenConfig(c), "token ttl must be 1 to 600 s");
  EXPECT_THROW(TokenService(Config(), {""}), std::invalid_argument);
  EXPECT_EQ(RandomSecret().size(), 32u);
  EXPECT_NE(RandomSecret(), RandomSecret());
}

}  // namespace
}  // namespace callsim::agent
