#include "agent/sip/sip_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <utility>

namespace callsim::agent::sip {
namespace {

// RFC 3261 token characters (method names, header names).
bool IsToken(std::string_view s) {
  static constexpr std::string_view kExtra = "-.!%*_+`'~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string_view::npos;
  });
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// Splits the header block into lines (CRLF, or a bare LF as RFC 3261 section 7.5 tolerates).
std::vector<std::string_view> Lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const size_t lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    head.remove_prefix(lf + 1);
  }
  return lines;
}

bool ParseStartLine(std::string_view line, SipMessage* m, std::string* error) {
  if (line.rfind("SIP/2.0 ", 0) == 0) {
    const std::string_view rest = line.substr(8);
    int code = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
    if (ec != std::errc() || ptr != rest.data() + 3 || code < 100 || code > 699 ||
        (rest.size() > 3 && rest[3] != ' ')) {
      *error = "bad status line: expected \"SIP/2.0 CODE REASON\" with CODE in 100..699";
      return false;
    }
    m->status_code = code;
    m->reason = std::string(TrimSpaces(rest.substr(3)));
    return true;
  }
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1) != "SIP/2.0") {
    *error = "bad request line: expected \"METHOD URI SIP/2.0\"";
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!IsToken(method) || uri.empty() || uri.find(':') == std::string_view::npos) {
    *error = "bad request line: the method must be a token and the URI absolute";
    return false;
  }
  m->method = std::string(method);
  m->request_uri = std::string(uri);
  return true;
}

// Reads header lines (after the start line) into `m`; folds continuation lines.
bool ParseHeaders(const std::vector<std::string_view>& lines, const SipLimits& limits,
                  SipMessage* m, std::string* error) {
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.size() > limits.max_line_bytes) {
      *error = "a header line is longer than " + std::to_string(limits.max_line_bytes) + " bytes";
      return false;
    }
    if (line.empty()) {
      *error = "an empty line inside the headers";
      return false;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (m->headers.empty()) {
        *error = "a continuation line before any header";
        return false;
      }
      m->headers.back().value += " " + std::string(TrimSpaces(line));
      continue;
    }
    const size_t colon = line.find(':');
    const std::string_view name = colon == std::string_view::npos ? "" : TrimSpaces(line.substr(0, colon));
    if (!IsToken(name)) {
      *error = "bad header line (expected NAME: VALUE): \"" + std::string(line.substr(0, 40)) + "\"";
      return false;
    }
    if (m->headers.size() >= limits.max_headers) {
      *error = "more than " + std::to_string(limits.max_headers) + " headers";
      return false;
    }
    m->headers.push_back({std::string(FullHeaderName(name)), std::string(TrimSpaces(line.substr(colon + 1)))});
  }
  for (const SipHeader& h : m->headers) {
    if (HasControl(h.value)) {
      *error = "header " + h.name + " holds a control character";
      return false;
    }
  }
  return true;
}

bool CheckRequired(const SipMessage& m, std::string* error) {
  for (const char* name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    if (m.Header(name) == nullptr || m.Header(name)->empty()) {
      *error = std::string("missing ") + name + " header";
      return false;
    }
  }
  const std::optional<CSeq> cseq = ParseCSeq(*m.Header("CSeq"));
  if (!cseq) {
    *error = "bad CSeq: expected \"NUMBER METHOD\"";
    return false;
  }
  if (m.is_request() && cseq->method != m.method && m.method != "ACK" && m.method != "CANCEL") {
    *error = "the CSeq method " + cseq->method + " is not the request's " + m.method;
    return false;
  }
  return true;
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string TopViaBranch(const SipMessage& m) {
  const std::vector<std::string> vias = m.HeaderValues("Via");
  return vias.empty() ? "" : HeaderParam(vias.front(), "branch").value_or("");
}

std::string_view FullHeaderName(std::string_view name) {
  static constexpr std::pair<char, std::string_view> kCompact[] = {
      {'i', "Call-ID"},          {'m', "Contact"}, {'e', "Content-Encoding"},
      {'l', "Content-Length"},   {'c', "Content-Type"}, {'f', "From"},
      {'s', "Subject"},          {'k', "Supported"},    {'t', "To"},
      {'v', "Via"}};
  if (name.size() != 1) return name;
  const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  for (const auto& [letter, full] : kCompact) {
    if (c == letter) return full;
  }
  return name;
}

const std::string* SipMessage::Header(std::string_view name) const {
  const std::string_view full = FullHeaderName(name);
  for (const SipHeader& h : headers) {
    if (EqualsNoCase(h.name, full)) return &h.value;
  }
  return nullptr;
}

std::vector<std::string> SipMessage::HeaderValues(std::string_view name) const {
  const std::string_view full = FullHeaderName(name);
  std::vector<std::string> out;
  for (const SipHeader& h : headers) {
    if (!EqualsNoCase(h.name, full)) continue;
    // Commas inside <...> or quotes do not separate values.
    std::string_view v = h.value;
    int angle = 0;
    bool quoted = false;
    size_t start = 0;
    for (size_t i = 0; i <= v.size(); ++i) {
      const char c = i < v.size() ? v[i] : ',';
      if (c == '"' && (i == 0 || v[i - 1] != '\\')) quoted = !quoted;
      if (!quoted && c == '<') ++angle;
      if (!quoted && c == '>' && angle > 0) --angle;
      if (c == ',' && !quoted && angle == 0) {
        const std::string_view part = TrimSpaces(v.substr(start, i - start));
        if (!part.empty()) out.emplace_back(part);
        start = i + 1;
      }
    }
  }
  return out;
}

void SipMessage::SetHeader(const std::string& name, const std::string& value) {
  const std::string_view full = FullHeaderName(name);
  auto same = [&](const SipHeader& h) { return EqualsNoCase(h.name, full); };
  const auto first = std::find_if(headers.begin(), headers.end(), same);
  if (first == headers.end()) {
    headers.push_back({std::string(full), value});
    return;
  }
  first->value = value;
  headers.erase(std::remove_if(first + 1, headers.end(), same), headers.end());
}

SipParseResult ParseSipMessage(std::string_view bytes, const SipLimits& limits) {
  SipParseResult r;
  if (bytes.size() > limits.max_message_bytes) {
    r.error = "the message is longer than " + std::to_string(limits.max_message_bytes) + " bytes";
    return r;
  }
  // RFC 3261 section 7.5: CRLFs before the start line are ignored (keep-alives).
  while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) bytes.remove_prefix(1);
  size_t end = bytes.find("\r\n\r\n");
  size_t body_at = end == std::string_view::npos ? end : end + 4;
  if (end == std::string_view::npos) {
    end = bytes.find("\n\n");
    body_at = end == std::string_view::npos ? end : end + 2;
  }
  if (end == std::string_view::npos) {
    r.error = "no blank line after the headers";
    return r;
  }
  const std::vector<std::string_view> lines = Lines(bytes.substr(0, end));
  SipMessage m;
  if (lines.empty() || !ParseStartLine(lines[0], &m, &r.error) ||
      !ParseHeaders(lines, limits, &m, &r.error) || !CheckRequired(m, &r.error)) {
    if (r.error.empty()) r.error = "empty message";
    return r;
  }
  std::string_view body = bytes.substr(body_at);
  if (const std::string* length = m.Header("Content-Length")) {
    size_t n = 0;
    const auto [ptr, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
    if (ec != std::errc() || ptr != length->data() + length->size() || n > body.size()) {
      r.error = "Content-Length " + *length + " does not match the " +
                std::to_string(body.size()) + " bytes after the headers";
      return r;
    }
    body = body.substr(0, n);
  }
  m.body = std::string(body);
  r.message = std::move(m);
  return r;
}

std::string SerializeSipMessage(const SipMessage& m) {
  std::string out = m.is_request() ? m.method + " " + m.request_uri + " SIP/2.0\r\n"
                                   : "SIP/2.0 " + std::to_string(m.status_code) + " " + m.reason + "\r\n";
  for (const SipHeader& h : m.headers) {
    if (EqualsNoCase(h.name, "Content-Length")) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(m.body.size()) + "\r\n\r\n";
  return out + m.body;
}

std::optional<CSeq> ParseCSeq(std::string_view value) {
  value = TrimSpaces(value);
  const size_t sp = value.find_first_of(" \t");
  if (sp == std::string_view::npos) return std::nullopt;
  CSeq c;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + sp, c.number);
  const std::string_view method = TrimSpaces(value.substr(sp));
  // RFC 3261 section 8.1.1.5: the number is below 2^31.
  if (ec != std::errc() || ptr != value.data() + sp || c.number >= (1u << 31) || !IsToken(method)) {
    return std::nullopt;
  }
  c.method = std::string(method);
  return c;
}

std::optional<std::string> HeaderParam(std::string_view value, std::string_view param) {
  // Parameters start after the URI's closing '>' when there is one.
  const size_t close = value.rfind('>');
  size_t at = close == std::string_view::npos ? 0 : close + 1;
  while ((at = value.find(';', at)) != std::string_view::npos) {
    ++at;
    const size_t next = value.find(';', at);
    const std::string_view item = TrimSpaces(value.substr(at, next == std::string_view::npos ? next : next - at));
    const size_t eq = item.find('=');
    if (EqualsNoCase(TrimSpaces(item.substr(0, eq)), param)) {
      return eq == std::string_view::npos ? std::string() : std::string(TrimSpaces(item.substr(eq + 1)));
    }
  }
  return std::nullopt;
}

std::string HeaderUri(std::string_view value) {
  const size_t open = value.find('<');
  if (open != std::string_view::npos) {
    const size_t close = value.find('>', open);
    if (close != std::string_view::npos) return std::string(value.substr(open + 1, close - open - 1));
  }
  return std::string(TrimSpaces(value.substr(0, value.find(';'))));
}

std::string TagOf(const SipMessage& m, const char* header) {
  const std::string* value = m.Header(header);
  return value ? HeaderParam(*value, "tag").value_or("") : "";
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string SecondsText(int64_t us) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(us) / 1e6);
  return text;
}

}  // namespace callsim::agent::sip
