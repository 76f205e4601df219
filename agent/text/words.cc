#include "agent/text/words.h"

namespace callsim::agent {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::vector<std::string> NormalizeWords(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsAlnum(c)) {
      current.push_back(Lower(c));
    } else if (c == '\'' && !current.empty() && i + 1 < text.size() && IsAlnum(text[i + 1])) {
      current.push_back(c);  // an apostrophe inside a word: "don't", "o'clock"
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

std::string NormalizeText(std::string_view text) {
  std::string out;
  for (const std::string& w : NormalizeWords(text)) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

bool HasText(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

}  // namespace callsim::agent
