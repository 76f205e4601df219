#include "agent/postcall/pii_redaction.h"

#include <algorithm>
#include <vector>

#include "agent/postcall/pii_email.h"
#include "agent/postcall/pii_numbers.h"

namespace callsim::agent {
namespace {

constexpr int kMaxJsonDepth = 64;

bool HintsSsn(std::string_view hint) {
  std::string lower(hint);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower.find("ssn") != std::string::npos || lower.find("social") != std::string::npos;
}

nlohmann::json RedactJsonAt(const nlohmann::json& value, std::string_view hint, int depth,
                            PiiCounts* counts);

nlohmann::json RedactObject(const nlohmann::json& object, int depth, PiiCounts* counts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, child] : object.items()) {
    std::string new_key = RedactPii(key, counts);
    if (out.contains(new_key)) {
      // Two keys redacted alike ("[phone]"): keep both values, under distinct names.
      for (int n = 2;; ++n) {
        std::string candidate = new_key + "_" + std::to_string(n);
        if (!out.contains(candidate)) {
          new_key = std::move(candidate);
          break;
        }
      }
    }
    out[new_key] = RedactJsonAt(child, key, depth + 1, counts);
  }
  return out;
}

nlohmann::json RedactJsonAt(const nlohmann::json& value, std::string_view hint, int depth,
                            PiiCounts* counts) {
  if (depth > kMaxJsonDepth) return "[redacted]";
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return RedactPii(value.get_ref<const std::string&>(), counts, hint);
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: {
      const std::string digits = value.dump();
      std::string redacted = RedactPii(digits, counts, hint);
      if (redacted == digits) return value;
      return redacted;
    }
    case nlohmann::json::value_t::object:
      return RedactObject(value, depth, counts);
    case nlohmann::json::value_t::array: {
      nlohmann::json out = nlohmann::json::array();
      for (const nlohmann::json& element : value) {
        out.push_back(RedactJsonAt(element, hint, depth + 1, counts));
      }
      return out;
    }
    default:
      return value;  // null, booleans, floats (amounts), binary
  }
}

}  // namespace

int PiiCounts::total() const {
  int sum = 0;
  for (int n : by_kind) sum += n;
  return sum;
}

PiiCounts& PiiCounts::operator+=(const PiiCounts& other) {
  for (size_t i = 0; i < kPiiKindCount; ++i) by_kind[i] += other.by_kind[i];
  return *this;
}

nlohmann::json ToJson(const PiiCounts& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kPiiKindCount; ++i) {
    out[PiiKindName(static_cast<PiiKind>(i))] = counts.by_kind[i];
  }
  return out;
}

std::string RedactPii(std::string_view text) { return RedactPii(text, nullptr); }

std::string RedactPii(std::string_view text, PiiCounts* counts, std::string_view field_hint) {
  const std::vector<PiiToken> tokens = TokenizeForPii(text);
  std::vector<bool> claimed(tokens.size(), false);
  std::vector<PiiSpan> spans = FindEmails(tokens, &claimed);
  const std::vector<PiiSpan> numbers = FindNumberPii(tokens, claimed, HintsSsn(field_hint));
  if (spans.empty() && numbers.empty()) return std::string(text);
  spans.insert(spans.end(), numbers.begin(), numbers.end());
  std::sort(spans.begin(), spans.end(),
            [](const PiiSpan& a, const PiiSpan& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const PiiSpan& span : spans) {
    if (span.begin < pos) continue;  // cannot happen: email tokens are claimed before numbers
    out.append(text.substr(pos, span.begin - pos));
    out.append(PiiPlaceholder(span.kind));
    pos = span.end;
    if (counts != nullptr) ++counts->by_kind[static_cast<size_t>(span.kind)];
  }
  out.append(text.substr(pos));
  return out;
}

nlohmann::json RedactPiiJson(const nlohmann::json& value, PiiCounts* counts) {
  return RedactJsonAt(value, {}, 0, counts);
}

}  // namespace callsim::agent
