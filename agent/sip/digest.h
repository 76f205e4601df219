// SIP digest authentication (RFC 3261 section 22.4, RFC 2617 with MD5, qop "auth" or none): the
// caller answers a 401/407 challenge with an Authorization header; a server issues challenges and
// checks answers. The password never leaves the side that holds it; nonces come from the caller
// of these functions (the server's Rng), so a run replays.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace callsim::agent::sip {

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;     // echoed back when present
  std::string algorithm = "MD5";
  bool qop_auth = false;  // the server offered qop=auth
  bool stale = false;
};

// Parses a WWW-Authenticate or Proxy-Authenticate value ("Digest realm=..., nonce=..."). nullopt
// when it is not a Digest challenge we can answer (another scheme, an algorithm other than MD5,
// no realm or nonce, or qop without "auth").
std::optional<DigestChallenge> ParseDigestChallenge(std::string_view value);

struct DigestCredentials {
  std::string username;
  std::string password;
};

// The Authorization (or Proxy-Authorization) value answering `challenge` for a request with
// `method` and `uri`. With qop=auth, `cnonce` and `nonce_count` go into it.
std::string DigestAuthorization(const DigestChallenge& challenge, const DigestCredentials& creds,
                                std::string_view method, std::string_view uri,
                                std::string_view cnonce, unsigned nonce_count = 1);

// The response hash of RFC 2617 section 3.2.2.1 (hex MD5), for tests and for checking.
std::string DigestResponse(std::string_view username, std::string_view realm,
                           std::string_view password, std::string_view method,
                           std::string_view uri, std::string_view nonce, std::string_view nc,
                           std::string_view cnonce, std::string_view qop);

// A server's check of an Authorization value: the realm and nonce it issued, the method, and the
// password of the username the header names (looked up by `password_of`, nullopt: unknown user).
// True only when the response hash matches.
template <typename PasswordOf>
bool CheckDigestAuthorization(std::string_view value, std::string_view realm,
                              std::string_view nonce, std::string_view method,
                              PasswordOf password_of);

// The parameters of a Digest header value, for the check above.
struct DigestParams {
  std::string username, realm, nonce, uri, response, cnonce, nc, qop;
};
std::optional<DigestParams> ParseDigestParams(std::string_view value);

template <typename PasswordOf>
bool CheckDigestAuthorization(std::string_view value, std::string_view realm,
                              std::string_view nonce, std::string_view method,
                              PasswordOf password_of) {
  const std::optional<DigestParams> p = ParseDigestParams(value);
  if (!p || p->realm != realm || p->nonce != nonce) return false;
  const std::optional<std::string> password = password_of(p->username);
  if (!password) return false;
  return DigestResponse(p->username, realm, *password, method, p->uri, nonce, p->nc, p->cnonce,
                        p->qop) == p->response;
}

}  // namespace callsim::agent::sip
