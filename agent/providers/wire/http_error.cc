#include "agent/providers/wire/http_error.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace callsim::agent::wire {
namespace {

constexpr size_t kMaxCollapsedBytes = 200;

std::string Collapse(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    const bool is_space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (is_space) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    if (out.size() >= kMaxCollapsedBytes) {
      out += "...";
      break;
    }
  }
  return out;
}

bool ParseNumber(std::string_view text, double* out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return false;
  // std::from_chars for double is in GCC 12's libstdc++.
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out) && *out >= 0;
}

}  // namespace

std::string ErrorMessageFromBody(std::string_view body) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    if (auto it = json.find("error"); it != json.end()) {
      if (it->is_string()) return Collapse(it->get<std::string>());
      if (std::string message = JsonStringAt(*it, "message"); !message.empty()) return Collapse(message);
    }
    for (const char* key : {"err_msg", "message", "detail", "description"}) {
      if (std::string message = JsonStringAt(json, key); !message.empty()) return Collapse(message);
    }
  }
  return Collapse(body);
}

std::string FormatSeconds(double seconds) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.3f", seconds);
  std::string out = text;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string RetryAfterText(const Headers& headers) {
  double value = 0;
  if (ParseNumber(FindHeader(headers, "retry-after-ms"), &value)) {
    return "retry after " + FormatSeconds(value / 1000) + " s";
  }
  const std::string retry_after = FindHeader(headers, "retry-after");
  if (ParseNumber(retry_after, &value)) return "retry after " + FormatSeconds(value) + " s";
  if (!retry_after.empty()) return "retry after " + Collapse(retry_after);
  return "";
}

std::string HttpErrorMessage(int status, std::string_view reason, const Headers& headers,
                             std::string_view body) {
  std::string message = ErrorMessageFromBody(body);
  if (message.empty()) message = Collapse(reason);
  if (message.empty()) message = "no message";
  std::string text = "HTTP " + std::to_string(status) + ": " + message;
  if (std::string retry = RetryAfterText(headers); !retry.empty()) text += " (" + retry + ")";
  return text;
}

std::string QuoteBounded(std::string_view text) {
  constexpr size_t kMaxQuotedBytes = 120;
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  return std::string(text.substr(0, kMaxQuotedBytes)) + "...";
}

std::string JsonStringAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace callsim::agent::wire
