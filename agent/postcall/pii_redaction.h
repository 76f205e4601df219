// Redacts PII (card numbers, US social security numbers, phone numbers, e-mail addresses) from
// text before anything is logged or stored, so transcripts and post-call reports keep no raw PII.
// It reads transcripts the way speech-to-text writes them: digits as words ("four five six
// seven", "oh", "double five"), mixed with digit characters, and spoken addresses ("john dot smith at example dot com").
// Matches become "[card]", "[ssn]", "[phone]", "[email]"; everything else is kept byte for byte.
//
// The rules (pii_numbers.h, pii_email.h) lean towards safety: any run of 13 or more digits is
// redacted as a card, even when it is two numbers said back to back or a list ("101, 102, 103,
// 104, 105"). A number of fewer than 9 digits said on its own (order ids, amounts, counts)
// survives, and so do 9-digit runs that neither look like an SSN (3-2-4) nor follow the words
// "social"/"ssn", and 12-digit runs without a '+'.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/postcall/pii_tokens.h"

namespace callsim::agent {

// How many matches of each kind were replaced.
struct PiiCounts {
  std::array<int, kPiiKindCount> by_kind{};  // indexed by PiiKind

  int of(PiiKind kind) const { return by_kind[static_cast<size_t>(kind)]; }
  int total() const;
  PiiCounts& operator+=(const PiiCounts& other);
  bool operator==(const PiiCounts&) const = default;
};

// {"card": n, "ssn": n, "phone": n, "email": n}
nlohmann::json ToJson(const PiiCounts& counts);

// `text` with every match replaced by its placeholder.
std::string RedactPii(std::string_view text);
// The same, adding what it replaced to `*counts` (if not null). `field_hint` names where the text
// came from, such as a JSON key; a hint containing "ssn" or "social" makes every 9-digit run an
// SSN, as the words "social security" before it would.
std::string RedactPii(std::string_view text, PiiCounts* counts, std::string_view field_hint = {});

// A copy of `value` with every string redacted, recursively through arrays and objects. Object
// keys are redacted too (a key that then collides with another gets "_2", "_3"... appended), and
// each key is the field hint for its value ({"ssn": "123456789"} -> {"ssn": "[ssn]"}). Integers
// whose digits are PII ({"card": 4111111111111111}) become the placeholder string. Values nested
// deeper than 64 levels are replaced by "[redacted]": never walked, never leaked. Adds what it
// replaced to `*counts` (if not null).
nlohmann::json RedactPiiJson(const nlohmann::json& value, PiiCounts* counts = nullptr);

}  // namespace callsim::agent
