#include "agent/server/token_service.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "agent/runtime/scheduler.h"
#include "agent/server/base64.h"

namespace callsim::agent {
namespace {

constexpr size_t kMinSecretBytes = 32;
constexpr int64_t kMaxTtlS = 600;
constexpr size_t kMaxTokenChars = 1024;

std::string Sha256(std::string_view bytes) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool SameBytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += kDigits[(static_cast<uint8_t>(c) >> 4) & 15];
    out += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("the system's random generator failed");
  }
  return out;
}

}  // namespace

std::string ValidateTokenConfig(const TokenConfig& c) {
  if (c.secret.size() < kMinSecretBytes) return "token secret must be at least 32 bytes";
  if (c.ttl_s < 1 || c.ttl_s > kMaxTtlS) return "token ttl must be 1 to 600 s";
  if (!(c.rate_per_s > 0) || !std::isfinite(c.rate_per_s)) return "token rate must be > 0";
  if (!(c.burst >= 1) || !std::isfinite(c.burst)) return "token burst must be >= 1";
  if (c.max_live_tokens < 1) return "max live tokens must be >= 1";
  return "";
}

std::string RandomSecret() { return RandomBytes(kMinSecretBytes); }

TokenService::TokenService(TokenConfig config, const std::vector<std::string>& api_keys)
    : config_(std::move(config)) {
  if (std::string error = ValidateTokenConfig(config_); !error.empty()) {
    throw std::invalid_argument(error);
  }
  for (const std::string& key : api_keys) {
    if (!key.empty()) key_digests_.push_back(Sha256(key));
  }
  if (key_digests_.empty()) throw std::invalid_argument("no API key");
}

bool TokenService::KnownKey(std::string_view api_key, std::string* digest) const {
  if (api_key.empty()) return false;
  *digest = Sha256(api_key);
  bool known = false;
  for (const std::string& d : key_digests_) known |= SameBytes(d, *digest);  // no early exit
  return known;
}

void TokenService::ForgetExpired(int64_t now_s) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_s) {
    live_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

IssuedToken TokenService::Issue(std::string_view api_key, int64_t now_us) {
  IssuedToken out;
  std::string digest;
  if (!KnownKey(api_key, &digest)) return out;  // kUnauthorized
  auto [it, fresh] = buckets_.try_emplace(digest, Bucket{config_.burst, now_us});
  Bucket& b = it->second;
  if (!fresh && now_us > b.last_us) {
    const double refill = static_cast<double>(now_us - b.last_us) / kMicrosPerSecond;
    b.tokens = std::min(config_.burst, b.tokens + refill * config_.rate_per_s);
  }
  b.last_us = std::max(b.last_us, now_us);
  if (b.tokens < 1) {
    out.status = TokenStatus::kRateLimited;
    out.retry_after_s = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil((1 - b.tokens) / config_.rate_per_s)));
    return out;
  }
  ForgetExpired(now_us / kMicrosPerSecond);
  if (live_.size() >= config_.max_live_tokens) {
    out.status = TokenStatus::kBusy;
    return out;
  }
  b.tokens -= 1;
  const std::string jti = Hex(RandomBytes(16));
  const int64_t exp = now_us / kMicrosPerSecond + config_.ttl_s;
  live_.emplace(jti, false);
  by_expiry_.emplace(exp, jti);
  const nlohmann::json claims = {{"v", 1}, {"jti", jti}, {"exp", exp}, {"scope", "call"}};
  const std::string body = Base64UrlEncode(claims.dump());
  out.status = TokenStatus::kOk;
  out.token = body + "." + Base64UrlEncode(HmacSha256(config_.secret, body));
  out.expires_in_s = config_.ttl_s;
  return out;
}

RedeemResult TokenService::Redeem(std::string_view token, int64_t now_us) {
  RedeemResult out;
  if (token.empty()) {
    out.reason = "missing";
    return out;
  }
  const size_t dot = token.find('.');
  if (token.size() > kMaxTokenChars || dot == std::string_view::npos) {
    out.reason = "malformed";
    return out;
  }
  const std::string_view body = token.substr(0, dot);
  const std::optional<std::string> mac = Base64UrlDecode(token.substr(dot + 1));
  if (!mac || !SameBytes(*mac, HmacSha256(config_.secret, body))) {
    out.reason = "bad signature";
    return out;
  }
  // Signed by us: the claims are well formed unless the secret leaked; still, read defensively.
  const std::optional<std::string> text = Base64UrlDecode(body);
  const nlohmann::json claims = nlohmann::json::parse(text.value_or(""), nullptr, false);
  if (!claims.is_object() || !claims.contains("scope") || claims["scope"] != "call" ||
      !claims.contains("exp") || !claims["exp"].is_number_integer() ||
      !claims.contains("jti") || !claims["jti"].is_string()) {
    out.reason = "malformed";
    return out;
  }
  const int64_t now_s = now_us / kMicrosPerSecond;
  const int64_t exp = claims["exp"].get<int64_t>();
  if (exp <= now_s) {  // a lifetime of ttl_s counted from the whole second it was issued in
    out.reason = "expired";
    return out;
  }
  ForgetExpired(now_s);
  const std::string jti = claims["jti"].get<std::string>();
  auto it = live_.find(jti);
  if (it == live_.end()) {
    out.reason = "unknown";  // signed with our secret, but not issued by this service
    return out;
  }
  if (it->second) {
    out.reason = "reused";
    return out;
  }
  it->second = true;
  out.ok = true;
  out.jti = jti;
  return out;
}

}  // namespace callsim::agent
