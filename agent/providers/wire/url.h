// URLs and headers for the provider clients (agent/providers/wire): http://, https://, ws:// and
// wss:// only, parsed strictly, so a typo in a configured endpoint is refused when the agent
// starts rather than at the first request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callsim::agent::wire {

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

struct Url {
  std::string scheme;  // "http", "https", "ws" or "wss" (lowercase)
  std::string host;    // a name or an address; IPv6 without the brackets
  uint16_t port = 80;  // 80 for http and ws, 443 for https and wss unless given
  std::string target = "/";  // path and query, always starting with '/'

  bool tls() const { return scheme == "https" || scheme == "wss"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  uint16_t default_port() const { return tls() ? 443 : 80; }
  // The Host header: IPv6 addresses in brackets, the port unless it is the scheme's default.
  std::string HostHeader() const;
  // "host:port" (IPv6 in brackets), for messages.
  std::string Authority() const;
  // The pool key: connections are reused only for the same scheme, host and port.
  std::string Origin() const { return scheme + "://" + Authority(); }
  // scheme://host[:port]target
  std::string ToString() const;
};

// False with a reason in *error for anything but http://, https://, ws:// and wss:// URLs with a
// host (user@host credentials, spaces, control characters, a fragment, an empty host and a bad
// port are refused too).
bool ParseUrl(std::string_view text, Url* out, std::string* error);

// The URL without credentials: any user@ dropped and the query string's values of token, key,
// secret, auth, access_token, api_key, apikey and password (any case) replaced by "***".
std::string RedactUrl(std::string_view url);

// Why `headers` cannot go into a request (a name that is not an HTTP token, a control character
// in a value), or "" when they can.
std::string HeaderProblem(const Headers& headers);

// Percent-encodes everything but unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view text);

// base.target (a path without a query) joined with `path` (starting with '/'): one slash between.
std::string JoinPath(std::string_view base_target, std::string_view path);

// Case-insensitive ASCII comparison, for header names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The value of the first header named `name` (any case), or "" when there is none.
std::string FindHeader(const Headers& headers, std::string_view name);

}  // namespace callsim::agent::wire
