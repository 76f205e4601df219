// Where a SIP URI points (RFC 3261 section 19.1): the host and port of "sip:user@host:port;params"
// as a HostPort a UDP socket can send to, and the URI's user part. Only "sip:" is read: "sips:"
// needs TLS, which callsim does not speak, and is refused with a reason rather than sent in clear.
// A pure function with bounds: ports in 1..65535, a host of DNS or IPv4 characters or a bracketed
// IPv6 reference (returned without its brackets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callsim::agent::sip {

struct HostPort {
  std::string host;
  uint16_t port = 5060;
  bool operator==(const HostPort&) const = default;
};

// "sip:agent@127.0.0.1:5080;transport=udp" -> {127.0.0.1, 5080}; "<sip:x@h>" is accepted; the
// port defaults to 5060. nullopt with *error for a URI that is not sip: (sips: included), a bad
// port or an empty or malformed host.
std::optional<HostPort> ParseSipUriHostPort(std::string_view uri, std::string* error);

// The user part ("agent" of "sip:agent@host", without a ":password"); "" when there is none.
std::string SipUriUser(std::string_view uri);

// "host:port" as Via and Contact write it, an IPv6 host in brackets.
std::string FormatHostPort(const HostPort& hp);

}  // namespace callsim::agent::sip
