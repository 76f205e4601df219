#include "agent/sip/digest.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <map>

namespace callsim::agent::sip {
namespace {

std::string Md5Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_md5(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// name=value pairs after the scheme, values quoted or tokens; nullopt when malformed or not Digest.
std::optional<std::map<std::string, std::string>> Params(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.size() < 7 || Lower(value.substr(0, 6)) != "digest" || value[6] != ' ') {
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  size_t i = 7;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == ',')) ++i;
    if (i >= value.size()) break;
    const size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name = Lower(value.substr(i, eq - i));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    i = eq + 1;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      const size_t close = value.find('"', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      v = std::string(value.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      const size_t comma = value.find(',', i);
      v = std::string(value.substr(i, comma == std::string_view::npos ? comma : comma - i));
      while (!v.empty() && v.back() == ' ') v.pop_back();
      i = comma == std::string_view::npos ? value.size() : comma;
    }
    out[name] = v;
  }
  return out;
}

}  // namespace

std::optional<DigestChallenge> ParseDigestChallenge(std::string_view value) {
  const auto p = Params(value);
  if (!p || !p->count("realm") || !p->count("nonce")) return std::nullopt;
  DigestChallenge c;
  c.realm = p->at("realm");
  c.nonce = p->at("nonce");
  if (p->count("opaque")) c.opaque = p->at("opaque");
  if (p->count("algorithm")) c.algorithm = p->at("algorithm");
  if (Lower(c.algorithm) != "md5") return std::nullopt;
  if (p->count("qop")) {
    // qop="auth,auth-int": a list; "auth" must be in it.
    const std::string qop = "," + Lower(p->at("qop")) + ",";
    std::string spaced;
    for (char ch : qop) if (ch != ' ') spaced += ch;
    if (spaced.find(",auth,") == std::string::npos) return std::nullopt;
    c.qop_auth = true;
  }
  c.stale = p->count("stale") && Lower(p->at("stale")) == "true";
  return c;
}

std::string DigestResponse(std::string_view username, std::string_view realm,
                           std::string_view password, std::string_view method,
                           std::string_view uri, std::string_view nonce, std::string_view nc,
                           std::string_view cnonce, std::string_view qop) {
  const std::string ha1 = Md5Hex(std::string(username) + ":" + std::string(realm) + ":" +
                                 std::string(password));
  const std::string ha2 = Md5Hex(std::string(method) + ":" + std::string(uri));
  if (qop.empty()) return Md5Hex(ha1 + ":" + std::string(nonce) + ":" + ha2);
  return Md5Hex(ha1 + ":" + std::string(nonce) + ":" + std::string(nc) + ":" +
                std::string(cnonce) + ":" + std::string(qop) + ":" + ha2);
}

std::string DigestAuthorization(const DigestChallenge& c, const DigestCredentials& creds,
                                std::string_view method, std::string_view uri,
                                std::string_view cnonce, unsigned nonce_count) {
  char nc[16];
  std::snprintf(nc, sizeof nc, "%08x", nonce_count);
  const std::string qop = c.qop_auth ? "auth" : "";
  std::string out = "Digest username=\"" + creds.username + "\", realm=\"" + c.realm +
                    "\", nonce=\"" + c.nonce + "\", uri=\"" + std::string(uri) +
                    "\", response=\"" +
                    DigestResponse(creds.username, c.realm, creds.password, method, uri, c.nonce,
                                   c.qop_auth ? nc : "", c.qop_auth ? cnonce : "", qop) +
                    "\", algorithm=MD5";
  if (c.qop_auth) out += ", qop=auth, nc=" + std::string(nc) + ", cnonce=\"" + std::string(cnonce) + "\"";
  if (!c.opaque.empty()) out += ", opaque=\"" + c.opaque + "\"";
  return out;
}

std::optional<DigestParams> ParseDigestParams(std::string_view value) {
  const auto p = Params(value);
  if (!p) return std::nullopt;
  auto get = [&](const char* name) { return p->count(name) ? p->at(name) : std::string(); };
  DigestParams d{get("username"), get("realm"), get("nonce"), get("uri"),
                 get("response"), get("cnonce"), get("nc"),   get("qop")};
  if (d.username.empty() || d.response.empty() || d.uri.empty()) return std::nullopt;
  return d;
}

}  // namespace callsim::agent::sip
