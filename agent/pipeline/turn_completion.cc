#include "agent/pipeline/turn_completion.h"

#include <algorithm>
#include <array>
#include <string>

#include "agent/text/words.h"

namespace callsim::agent {
namespace {

// Checked by linear search: the list is short and this runs once per endpoint.
constexpr std::array<std::string_view, 38> kOpenEndings = {
    "a",    "about", "an",   "and",     "are",  "as",    "at",   "because", "but",  "by",
    "er",   "for",   "from", "hmm",     "i",    "if",    "in",   "is",      "my",   "of",
    "on",   "or",    "our",  "so",      "than", "that",  "the",  "then",    "to",   "uh",
    "um",   "was",   "well", "whether", "with", "your",  "were", "which"};

}  // namespace

bool SoundsUnfinished(std::string_view text) {
  const std::string normalized = NormalizeText(text);
  const size_t end = normalized.find_last_not_of(' ');
  if (end == std::string::npos) return false;
  const size_t space = normalized.rfind(' ', end);
  const size_t begin = space == std::string::npos ? 0 : space + 1;
  const std::string_view last(normalized.data() + begin, end + 1 - begin);
  return std::find(kOpenEndings.begin(), kOpenEndings.end(), last) != kOpenEndings.end();
}

int CountWords(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (letter && !in_word) ++words;
    in_word = letter;
  }
  return words;
}

TurnSounds HowTurnSounds(std::string_view text) {
  const size_t last = text.find_last_not_of(" \t\r\n");
  if (last == std::string_view::npos || CountWords(text) == 0) return TurnSounds::kUnknown;
  const char mark = text[last];
  if (mark == ',' || mark == ';' || mark == ':' || mark == '-') return TurnSounds::kUnfinished;
  if (mark == '.' || mark == '?' || mark == '!') return TurnSounds::kFinished;
  return SoundsUnfinished(text) ? TurnSounds::kUnfinished : TurnSounds::kUnknown;
}

}  // namespace callsim::agent
