// Short-lived call tokens: an API key holder asks for a token (POST /v1/token), and the token
// opens exactly one call's media stream. Sans-I/O: the caller passes the time in; nothing here
// reads a clock, a socket or a file.
//
// A token is base64url(claims) "." base64url(HMAC-SHA256(secret, base64url(claims))), the claims
// {"v":1,"jti":"<128-bit random hex>","exp":<unix seconds>,"scope":"call"}. It is refused when
// missing, malformed, forged (its MAC does not match, compared in constant time), expired, used
// before (Redeem() consumes it), or not issued by this service. Issued ids are remembered until
// they expire, at most max_live_tokens of them; issuing refuses (kBusy) rather than forgetting
// one early.
//
// API keys are held only as SHA-256 digests. Each key has a token bucket (rate_per_s, burst):
// a key that asks too fast gets kRateLimited with the seconds until its next token. Nothing here
// logs; no secret, key or token appears in any message it returns. Not thread-safe: a server
// uses one instance from one thread, or behind its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace callsim::agent {

struct TokenConfig {
  std::string secret;               // HMAC key, at least 32 bytes (see RandomSecret())
  int64_t ttl_s = 300;              // token lifetime, 1 to 600 s
  double rate_per_s = 5;            // tokens per second per API key, > 0
  double burst = 10;                // bucket size, >= 1
  size_t max_live_tokens = 100000;  // issued and not yet expired; issuing past it is refused
};

// What is wrong with `config`, or "" when it is usable.
std::string ValidateTokenConfig(const TokenConfig& config);

// 32 bytes from the operating system's generator (OpenSSL RAND_bytes); throws if it fails.
std::string RandomSecret();

enum class TokenStatus { kOk, kUnauthorized, kRateLimited, kBusy };

struct IssuedToken {
  TokenStatus status = TokenStatus::kUnauthorized;
  std::string token;            // with kOk
  int64_t expires_in_s = 0;     // with kOk
  int64_t retry_after_s = 0;    // with kRateLimited: whole seconds, at least 1
};

struct RedeemResult {
  bool ok = false;
  // Why not: "missing", "malformed", "bad signature", "expired", "reused", "unknown".
  std::string reason;
  std::string jti;     // the token's id when ok (a call may log it; it opens nothing any more)
};

class TokenService {
 public:
  // `api_keys` must not be empty; an empty key is ignored. The config must validate.
  TokenService(TokenConfig config, const std::vector<std::string>& api_keys);

  // `now_us`: microseconds since the Unix epoch.
  IssuedToken Issue(std::string_view api_key, int64_t now_us);
  RedeemResult Redeem(std::string_view token, int64_t now_us);

  // Tokens issued and not yet forgotten (they are forgotten once expired).
  size_t live_tokens() const { return live_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t last_us;
  };
  bool KnownKey(std::string_view api_key, std::string* digest) const;
  void ForgetExpired(int64_t now_s);

  TokenConfig config_;
  std::vector<std::string> key_digests_;
  std::unordered_map<std::string, Bucket> buckets_;  // by key digest; one per configured key
  std::unordered_map<std::string, bool> live_;     // jti -> redeemed
  std::multimap<int64_t, std::string> by_expiry_;  // exp -> jti, to forget in order
};

}  // namespace callsim::agent
