// The building blocks PII redaction works on: a transcript cut into tokens that keep their byte
// offsets (so a match can be replaced in the original text), and the "digit items" a
// speech-to-text transcript spells numbers with: "4567", "four", "oh", "double five",
// "forty-five", "eight hundred". Counting digits through words is what lets the redactor see that
// "four one one one ..." is a card number.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

enum class PiiTokenKind {
  kDigits,  // a maximal run of '0'-'9'
  kWord,    // a maximal run of ASCII letters, with apostrophes inside ("don't")
  kSpace,   // a maximal run of whitespace
  kPunct,   // one other byte (punctuation, and each byte of non-ASCII text)
};

// What a match is, and the placeholder that replaces it.
enum class PiiKind { kCard, kSsn, kPhone, kEmail };
inline constexpr size_t kPiiKindCount = 4;
const char* PiiPlaceholder(PiiKind kind);  // "[card]", "[ssn]", "[phone]", "[email]"
const char* PiiKindName(PiiKind kind);     // "card", "ssn", "phone", "email"

// A match: bytes [begin, end) of the text.
struct PiiSpan {
  size_t begin = 0;
  size_t end = 0;
  PiiKind kind = PiiKind::kCard;
};

struct PiiToken {
  PiiTokenKind kind = PiiTokenKind::kPunct;
  size_t begin = 0;  // byte offsets into the text: [begin, end)
  size_t end = 0;
  std::string text;  // words lowercased; digits and punctuation as they are; empty for space
};

// Every byte of `text` belongs to exactly one token; tokens are in order.
std::vector<PiiToken> TokenizeForPii(std::string_view text);

bool IsPunct(const PiiToken& token, char c);
bool IsWord(const PiiToken& token, std::string_view word);

// One spoken or written piece of a number.
struct DigitItem {
  size_t first = 0;  // token indices, inclusive
  size_t last = 0;
  int digits = 0;       // how many digits it stands for: "4567" 4, "double five" 2, "forty" 2
  bool spoken = false;  // made of words, not digit characters
  bool weak = false;    // "oh" or "o": also an interjection, so it never starts a number alone
};

// The digit item that starts at token `i`, or nullopt. Recognises digit characters; zero, oh, o,
// one..nine (with "hundred" after one..nine: three digits); ten..nineteen; twenty..ninety (with a
// unit after, "forty five" or "forty-five": still two digits); "double"/"triple" before a single
// digit. "thousand" and larger words are amounts, never digits.
std::optional<DigitItem> ParseDigitItem(const std::vector<PiiToken>& tokens, size_t i);

}  // namespace callsim::agent
