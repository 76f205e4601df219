#include "agent/postcall/pii_tokens.h"

#include <array>

namespace callsim::agent {
namespace {

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Where the token that starts at `i` ends.
size_t TokenEnd(std::string_view text, size_t i, PiiTokenKind kind) {
  size_t j = i + 1;
  switch (kind) {
    case PiiTokenKind::kDigits:
      while (j < text.size() && IsDigit(text[j])) ++j;
      break;
    case PiiTokenKind::kSpace:
      while (j < text.size() && IsSpace(text[j])) ++j;
      break;
    case PiiTokenKind::kWord:
      while (j < text.size() && (IsLetter(text[j]) || (text[j] == '\'' && j + 1 < text.size() &&
                                                       IsLetter(text[j + 1])))) {
        ++j;
      }
      break;
    case PiiTokenKind::kPunct:
      break;
  }
  return j;
}

constexpr std::array<std::string_view, 10> kUnits = {"zero", "one", "two",   "three", "four",
                                                     "five", "six", "seven", "eight", "nine"};
constexpr std::array<std::string_view, 10> kTeens = {"ten",      "eleven",  "twelve",  "thirteen",
                                                     "fourteen", "fifteen", "sixteen", "seventeen",
                                                     "eighteen", "nineteen"};
constexpr std::array<std::string_view, 8> kTens = {"twenty", "thirty",  "forty",  "fifty",
                                                   "sixty",  "seventy", "eighty", "ninety"};

template <size_t N>
bool In(const std::array<std::string_view, N>& words, std::string_view w) {
  for (std::string_view x : words) {
    if (x == w) return true;
  }
  return false;
}

bool IsZeroWord(std::string_view w) { return w == "zero" || w == "oh" || w == "o"; }
bool IsUnitWord(std::string_view w) { return In(kUnits, w) || IsZeroWord(w); }
bool IsNonZeroUnit(std::string_view w) { return In(kUnits, w) && w != "zero"; }

bool IsWordToken(const std::vector<PiiToken>& tokens, size_t i) {
  return i < tokens.size() && tokens[i].kind == PiiTokenKind::kWord;
}
bool IsSpaceToken(const std::vector<PiiToken>& tokens, size_t i) {
  return i < tokens.size() && tokens[i].kind == PiiTokenKind::kSpace;
}

// "five hundred", "double five", "forty five": the token after the space after `i`, if it is a
// word and `pred` holds for it.
template <typename Pred>
std::optional<size_t> NextWordAfterSpace(const std::vector<PiiToken>& tokens, size_t i, Pred pred) {
  if (!IsSpaceToken(tokens, i + 1) || !IsWordToken(tokens, i + 2)) return std::nullopt;
  if (!pred(tokens[i + 2].text)) return std::nullopt;
  return i + 2;
}

std::optional<DigitItem> ParseMultiplied(const std::vector<PiiToken>& tokens, size_t i, int times) {
  if (!IsSpaceToken(tokens, i + 1) || i + 2 >= tokens.size()) return std::nullopt;
  const PiiToken& next = tokens[i + 2];
  const bool one_digit = next.kind == PiiTokenKind::kDigits && next.text.size() == 1;
  if (!one_digit && !(next.kind == PiiTokenKind::kWord && IsUnitWord(next.text))) {
    return std::nullopt;
  }
  return DigitItem{i, i + 2, times, !one_digit, false};
}

}  // namespace

const char* PiiPlaceholder(PiiKind kind) {
  switch (kind) {
    case PiiKind::kCard:
      return "[card]";
    case PiiKind::kSsn:
      return "[ssn]";
    case PiiKind::kPhone:
      return "[phone]";
    case PiiKind::kEmail:
      return "[email]";
  }
  return "[pii]";
}

const char* PiiKindName(PiiKind kind) {
  switch (kind) {
    case PiiKind::kCard:
      return "card";
    case PiiKind::kSsn:
      return "ssn";
    case PiiKind::kPhone:
      return "phone";
    case PiiKind::kEmail:
      return "email";
  }
  return "pii";
}

std::vector<PiiToken> TokenizeForPii(std::string_view text) {
  std::vector<PiiToken> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const PiiTokenKind kind = IsDigit(c)    ? PiiTokenKind::kDigits
                              : IsLetter(c) ? PiiTokenKind::kWord
                              : IsSpace(c)  ? PiiTokenKind::kSpace
                                            : PiiTokenKind::kPunct;
    const size_t end = TokenEnd(text, i, kind);
    PiiToken token{kind, i, end, {}};
    if (kind == PiiTokenKind::kWord) {
      for (size_t k = i; k < end; ++k) token.text.push_back(Lower(text[k]));
    } else if (kind != PiiTokenKind::kSpace) {
      token.text.assign(text.substr(i, end - i));
    }
    tokens.push_back(std::move(token));
    i = end;
  }
  return tokens;
}

bool IsPunct(const PiiToken& token, char c) {
  return token.kind == PiiTokenKind::kPunct && token.text.size() == 1 && token.text[0] == c;
}

bool IsWord(const PiiToken& token, std::string_view word) {
  return token.kind == PiiTokenKind::kWord && token.text == word;
}

std::optional<DigitItem> ParseDigitItem(const std::vector<PiiToken>& tokens, size_t i) {
  if (i >= tokens.size()) return std::nullopt;
  const PiiToken& token = tokens[i];
  if (token.kind == PiiTokenKind::kDigits) {
    return DigitItem{i, i, static_cast<int>(token.text.size()), false, false};
  }
  if (token.kind != PiiTokenKind::kWord) return std::nullopt;
  const std::string& w = token.text;
  if (IsNonZeroUnit(w)) {
    if (auto h = NextWordAfterSpace(tokens, i, [](std::string_view x) { return x == "hundred"; })) {
      return DigitItem{i, *h, 3, true, false};
    }
    return DigitItem{i, i, 1, true, false};
  }
  if (IsZeroWord(w)) return DigitItem{i, i, 1, true, w != "zero"};
  if (w == "double") return ParseMultiplied(tokens, i, 2);
  if (w == "triple") return ParseMultiplied(tokens, i, 3);
  if (In(kTeens, w)) return DigitItem{i, i, 2, true, false};
  if (!In(kTens, w)) return std::nullopt;
  // "forty five" and "forty-five" are two digits, as "forty" is.
  const bool dash = i + 2 < tokens.size() && IsPunct(tokens[i + 1], '-') &&
                    tokens[i + 2].kind == PiiTokenKind::kWord && IsNonZeroUnit(tokens[i + 2].text);
  if (dash) return DigitItem{i, i + 2, 2, true, false};
  if (auto unit = NextWordAfterSpace(tokens, i, IsNonZeroUnit)) {
    // ... unless the unit starts "five hundred": then "forty" stands alone.
    if (!NextWordAfterSpace(tokens, *unit, [](std::string_view x) { return x == "hundred"; })) {
      return DigitItem{i, *unit, 2, true, false};
    }
  }
  return DigitItem{i, i, 2, true, false};
}

}  // namespace callsim::agent
