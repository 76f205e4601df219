#include "agent/sip/sip_uri.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "agent/sip/sip_message.h"

namespace callsim::agent::sip {
namespace {

// The URI inside "<...>" (a name-addr), or `uri` itself; nullopt for an unclosed '<'.
std::optional<std::string_view> Unbracket(std::string_view uri) {
  uri = TrimSpaces(uri);
  const size_t open = uri.find('<');
  if (open == std::string_view::npos) return uri;
  const size_t close = uri.find('>', open);
  if (close == std::string_view::npos) return std::nullopt;
  return TrimSpaces(uri.substr(open + 1, close - open - 1));
}

// What follows "sip:" (case-insensitive); nullopt for any other scheme.
std::optional<std::string_view> AfterSipScheme(std::string_view uri) {
  if (uri.size() < 4 || !EqualsNoCase(uri.substr(0, 4), "sip:")) return std::nullopt;
  return uri.substr(4);
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::optional<HostPort> ParseSipUriHostPort(std::string_view text, std::string* error) {
  const std::optional<std::string_view> uri = Unbracket(text);
  if (!uri) {
    *error = "unclosed '<' in \"" + std::string(text.substr(0, 80)) + "\"";
    return std::nullopt;
  }
  const std::optional<std::string_view> rest = AfterSipScheme(*uri);
  if (!rest) {
    *error = uri->size() >= 5 && EqualsNoCase(uri->substr(0, 5), "sips:")
                 ? "sips: URIs need TLS, which callsim does not speak; use sip:"
                 : "not a sip: URI: \"" + std::string(uri->substr(0, 80)) + "\"";
    return std::nullopt;
  }
  // The host follows the user part's '@' and ends at the parameters (';') or headers ('?').
  std::string_view hostport = *rest;
  const size_t at = hostport.find('@');
  if (at != std::string_view::npos) hostport.remove_prefix(at + 1);
  hostport = hostport.substr(0, hostport.find_first_of(";?"));
  HostPort hp;
  std::optional<std::string_view> port_text;  // after the host's ':', when there is one
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      *error = "unclosed '[' in the host of \"" + std::string(uri->substr(0, 80)) + "\"";
      return std::nullopt;
    }
    const std::string_view v6 = hostport.substr(1, close - 1);
    const bool hex = std::all_of(v6.begin(), v6.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    if (v6.empty() || !hex) {
      *error = "bad IPv6 reference in \"" + std::string(uri->substr(0, 80)) + "\"";
      return std::nullopt;
    }
    hp.host = std::string(v6);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      *error = "junk after the IPv6 reference in \"" + std::string(uri->substr(0, 80)) + "\"";
      return std::nullopt;
    }
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = hostport.find(':');
    hp.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
    if (hp.host.empty() || !std::all_of(hp.host.begin(), hp.host.end(), IsHostChar)) {
      *error = "empty or malformed host in \"" + std::string(uri->substr(0, 80)) + "\"";
      return std::nullopt;
    }
  }
  if (port_text) {
    unsigned port = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (port_text->empty() || ec != std::errc() || ptr != port_text->data() + port_text->size() ||
        port == 0 || port > 65535) {
      *error = "bad port \"" + std::string(port_text->substr(0, 16)) + "\" in \"" +
               std::string(uri->substr(0, 80)) + "\" (expected 1..65535)";
      return std::nullopt;
    }
    hp.port = static_cast<uint16_t>(port);
  }
  return hp;
}

std::string SipUriUser(std::string_view text) {
  const std::optional<std::string_view> uri = Unbracket(text);
  if (!uri) return "";
  std::optional<std::string_view> rest = AfterSipScheme(*uri);
  if (!rest && uri->size() >= 5 && EqualsNoCase(uri->substr(0, 5), "sips:")) rest = uri->substr(5);
  if (!rest) return "";
  const size_t at = rest->find('@');
  if (at == std::string_view::npos) return "";
  return std::string(rest->substr(0, std::min(at, rest->find(':'))));
}

std::string FormatHostPort(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
}

}  // namespace callsim::agent::sip
