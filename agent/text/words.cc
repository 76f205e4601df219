#include "agent/text/words.h"

#include "agent/text/unicode_tables.h"
#include "agent/text/utf8.h"

namespace callsim::agent {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// Right single quotation mark and modifier letter apostrophe: how "п'ять" and "don't" are often
// typed. Inside a word they are an apostrophe.
bool IsApostrophe(char32_t cp) { return cp == '\'' || cp == 0x2019 || cp == 0x02BC; }

// Starts a word or continues one: an ASCII letter or digit, or a non-ASCII letter.
bool StartsWordAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  if (IsAscii(text[pos])) return IsAsciiAlnum(text[pos]);
  char32_t cp = 0;
  return DecodeUtf8(text, &pos, &cp) && !IsApostrophe(cp) && IsLetter(cp);
}

void EndWord(std::string* current, std::vector<std::string>* words) {
  if (current->empty()) return;
  words->push_back(std::move(*current));
  current->clear();
}

// The code point at text[*i] (not ASCII): appended to the word, or the word ended. Advances *i.
void OnNonAscii(std::string_view text, size_t* i, std::string* current,
                std::vector<std::string>* words) {
  char32_t cp = 0;
  if (!DecodeUtf8(text, i, &cp)) {
    ++*i;  // not UTF-8: a separator, like any other byte that is not part of a word
    EndWord(current, words);
  } else if (IsApostrophe(cp)) {
    if (!current->empty() && StartsWordAt(text, *i)) {
      current->push_back('\'');
    } else {
      EndWord(current, words);
    }
  } else if (IsLetter(cp)) {
    AppendUtf8(FoldCase(cp), current);
  } else if (IsMark(cp) && !current->empty()) {
    AppendUtf8(cp, current);  // a combining accent belongs to the letter before it
  } else {
    EndWord(current, words);
  }
}

}  // namespace

std::vector<std::string> NormalizeWords(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (!IsAscii(c)) {
      OnNonAscii(text, &i, &current, &words);
      continue;
    }
    if (IsAsciiAlnum(c)) {
      current.push_back(AsciiLower(c));
    } else if (c == '\'' && !current.empty() && StartsWordAt(text, i + 1)) {
      current.push_back(c);  // an apostrophe inside a word: "don't", "o'clock"
    } else {
      EndWord(&current, &words);
    }
    ++i;
  }
  EndWord(&current, &words);
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
