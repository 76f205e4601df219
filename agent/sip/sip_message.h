// A SIP message (RFC 3261 section 7) read from one datagram: the start line, the headers and the
// body. A pure function from bytes to a typed message or a reason, with a bound on every part, so
// a server can answer anything malformed with a 400 and nothing else. Header names are matched
// case-insensitively and compact forms (RFC 3261 section 7.3.3: "i" for Call-ID, "v" for Via...)
// are read as their full names; folded lines (a line starting with white space continues the one
// before) are joined. The body is exactly Content-Length bytes (the rest of the datagram when the
// header is absent, as RFC 3261 section 18.3 allows for UDP).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent::sip {

struct SipLimits {
  size_t max_message_bytes = 65535;  // a UDP datagram
  size_t max_headers = 128;
  size_t max_line_bytes = 8192;
};

struct SipHeader {
  std::string name;   // the full name as written ("Call-ID"), or the full form of a compact one
  std::string value;  // trimmed; folded continuation lines joined with one space
};

struct SipMessage {
  // A request has a method ("INVITE") and a Request-URI; a response a status code and reason.
  std::string method;
  std::string request_uri;
  int status_code = 0;
  std::string reason;
  std::vector<SipHeader> headers;  // in order
  std::string body;

  bool is_request() const { return !method.empty(); }
  // The first value of `name` (case-insensitive, compact forms too), or nullptr.
  const std::string* Header(std::string_view name) const;
  // Every value of `name`, in order; a comma-separated header line counts as one value each.
  std::vector<std::string> HeaderValues(std::string_view name) const;
  // Replaces every `name` header with one of `value`, or appends it.
  void SetHeader(const std::string& name, const std::string& value);
};

struct SipParseResult {
  std::optional<SipMessage> message;
  std::string error;  // why it is not a SIP message, when message is empty
};

// Parses one message. A request must have Via, From, To, Call-ID and CSeq (RFC 3261 section 8.1.1)
// and a CSeq whose method is the request's; a response Via, From, To, Call-ID and CSeq.
SipParseResult ParseSipMessage(std::string_view bytes, const SipLimits& limits = {});

// The message as bytes: the start line, the headers in order with Content-Length set to the
// body's size (replacing any), a blank line and the body.
std::string SerializeSipMessage(const SipMessage& message);

// "INVITE" and "123" of a CSeq value "123 INVITE"; nullopt when it is not one.
struct CSeq {
  uint32_t number = 0;
  std::string method;
};
std::optional<CSeq> ParseCSeq(std::string_view value);

// A header parameter: "z9hG4bK776" for "branch" in "SIP/2.0/UDP host:5060;branch=z9hG4bK776";
// "" for a parameter without a value; nullopt when absent. Parameters inside <...> are the URI's,
// not the header's, and are skipped.
std::optional<std::string> HeaderParam(std::string_view value, std::string_view param);

// The URI of a name-addr or addr-spec ("Bob <sip:bob@host>;tag=1" -> "sip:bob@host").
std::string HeaderUri(std::string_view value);

// The branch of the top Via ("" when there is none): the key of a transaction (section 17).
std::string TopViaBranch(const SipMessage& message);

// The tag parameter of `header` ("From" or "To"); "" when absent.
std::string TagOf(const SipMessage& message, const char* header);

// `s` without leading and trailing spaces and tabs.
std::string_view TrimSpaces(std::string_view s);

// A duration for a reason phrase or log line: "1.5 s".
std::string SecondsText(int64_t us);

// ASCII case-insensitive equality (header names, encoding names).
bool EqualsNoCase(std::string_view a, std::string_view b);

// The full name of a compact form ("i" -> "Call-ID"); `name` itself otherwise.
std::string_view FullHeaderName(std::string_view name);

}  // namespace callsim::agent::sip
