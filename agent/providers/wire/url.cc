#include "agent/providers/wire/url.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace callsim::agent::wire {
namespace {

constexpr std::string_view kSchemeHint = " (expected http://, https://, ws:// or wss://)";

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = Lower(c);
  return lower;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool CheckCharacters(std::string_view url, std::string* error) {
  for (const unsigned char c : url) {
    if (c == ' ') {
      *error = "URL contains a space";
      return false;
    }
    if (IsControl(c)) {
      *error = "URL contains a control character";
      return false;
    }
  }
  return true;
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsHexOrColon(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

bool ParsePort(std::string_view text, uint16_t* port, std::string* error) {
  bool ok = !text.empty() && text.size() <= 5;
  int value = 0;
  for (const char c : text) {
    ok = ok && c >= '0' && c <= '9';
    value = value * 10 + (c - '0');
  }
  if (!ok || value < 1 || value > 65535) {
    *error = "bad port \"" + std::string(text) + "\" (expected 1-65535)";
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

// "host", "host:port", "[v6]" or "[v6]:port" into out->host and out->port.
bool ParseAuthority(std::string_view authority, Url* out, std::string* error) {
  if (authority.find('@') != std::string_view::npos) {
    *error = "URL has credentials (user@host); send them in a header instead";
    return false;
  }
  std::string_view host = authority;
  std::string_view port_text;
  bool has_port = false;
  const bool bracketed = !authority.empty() && authority[0] == '[';
  if (bracketed) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unclosed [ in the host";
      return false;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      *error = "unexpected text after the IPv6 address";
      return false;
    }
    has_port = !after.empty();
    if (has_port) port_text = after.substr(1);
    if (!host.empty() && (host.find(':') == std::string_view::npos ||
                          !std::all_of(host.begin(), host.end(), IsHexOrColon))) {
      *error = "bad IPv6 address \"" + std::string(host) + "\"";
      return false;
    }
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) {
    *error = "URL has an empty host";
    return false;
  }
  if (!bracketed && !std::all_of(host.begin(), host.end(), IsHostNameChar)) {
    *error = "bad character in host \"" + std::string(host) + "\"";
    return false;
  }
  out->host = Lowercase(host);
  out->port = out->default_port();
  return !has_port || ParsePort(port_text, &out->port, error);
}

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 8> kSecretKeys = {
      "token", "key", "secret", "auth", "access_token", "api_key", "apikey", "password"};
  const std::string lower = Lowercase(key);
  return std::find(kSecretKeys.begin(), kSecretKeys.end(), lower) != kSecretKeys.end();
}

std::string DropUserinfo(std::string_view url) {
  const size_t sep = url.find("://");
  const size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

std::string RedactQuery(std::string_view query) {
  std::string redacted;
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && IsSecretKey(param.substr(0, eq))) {
      redacted += std::string(param.substr(0, eq)) + "=***";
    } else {
      redacted += param;
    }
    if (amp == std::string_view::npos) return redacted;
    redacted += '&';
    query.remove_prefix(amp + 1);
  }
}

bool IsTokenChar(char c) {
  return IsHostNameChar(c) || (c != '\0' && std::strchr("!#$%&'*+^`|~", c) != nullptr);
}

}  // namespace

// Built with append(): GCC 12 warns (-Wrestrict, wrongly) about "[" + host + "]".
static std::string BracketedHost(const std::string& host) {
  if (host.find(':') == std::string::npos) return host;
  std::string value;
  value.reserve(host.size() + 2);
  value.append(1, '[').append(host).append(1, ']');
  return value;
}

std::string Url::Authority() const {
  return BracketedHost(host).append(1, ':').append(std::to_string(port));
}

std::string Url::HostHeader() const {
  std::string value = BracketedHost(host);
  if (port != default_port()) value.append(1, ':').append(std::to_string(port));
  return value;
}

std::string Url::ToString() const { return scheme + "://" + HostHeader() + target; }

bool ParseUrl(std::string_view text, Url* out, std::string* error) {
  if (text.empty()) {
    *error = "empty URL";
    return false;
  }
  if (!CheckCharacters(text, error)) return false;
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    *error = "URL has no scheme" + std::string(kSchemeHint);
    return false;
  }
  Url parsed;
  parsed.scheme = Lowercase(text.substr(0, sep));
  if (parsed.scheme != "http" && parsed.scheme != "https" && parsed.scheme != "ws" &&
      parsed.scheme != "wss") {
    *error = "unsupported scheme \"" + parsed.scheme + "\"" + std::string(kSchemeHint);
    return false;
  }
  const std::string_view rest = text.substr(sep + 3);
  const size_t path_start = std::min(rest.find_first_of("/?#"), rest.size());
  if (!ParseAuthority(rest.substr(0, path_start), &parsed, error)) return false;
  const std::string_view target = rest.substr(path_start);
  if (target.find('#') != std::string_view::npos) {
    *error = "URL has a fragment (#...)";
    return false;
  }
  parsed.target.clear();
  if (target.empty() || target[0] != '/') parsed.target.push_back('/');
  parsed.target.append(target);
  *out = std::move(parsed);
  return true;
}

std::string RedactUrl(std::string_view url) {
  const std::string bare = DropUserinfo(url);
  const size_t query = bare.find('?');
  if (query == std::string::npos) return bare;
  const size_t fragment = std::min(bare.find('#', query), bare.size());
  const std::string_view params = std::string_view(bare).substr(query + 1, fragment - query - 1);
  return bare.substr(0, query + 1) + RedactQuery(params) + bare.substr(fragment);
}

std::string HeaderProblem(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return "bad header name \"" + name + "\" (expected letters, digits and !#$%&'*+-.^_`|~)";
    }
    const bool bad_value = std::any_of(value.begin(), value.end(), [](unsigned char c) {
      return IsControl(c) && c != '\t';
    });
    if (bad_value) return "header \"" + name + "\" has a control character in its value";
  }
  return "";
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string JoinPath(std::string_view base_target, std::string_view path) {
  while (!base_target.empty() && base_target.back() == '/') base_target.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(base_target) + "/" + std::string(path);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

}  // namespace callsim::agent::wire
