#include "agent/pipeline/sentence_chunker.h"

#include <algorithm>

namespace callsim::agent {
namespace {

bool IsTerminal(char c) { return c == '.' || c == '?' || c == '!'; }
bool IsCloser(char c) { return c == '"' || c == '\'' || c == ')' || c == ']'; }
bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Lowercase, without the final dot. Kept short on purpose: a missed abbreviation costs one early
// chunk boundary, a wrong one (say "no") would glue two sentences together.
constexpr std::string_view kAbbreviations[] = {"mr",  "mrs", "ms",     "dr",   "prof",
                                             "sr",  "jr",  "st",     "vs",   "e.g",
                                             "i.e", "mt",  "approx", "dept", "u.s"};

std::string_view Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

SentenceChunker::SentenceChunker(size_t max_chars) : max_chars_(std::max<size_t>(max_chars, 2)) {}

void SentenceChunker::Push(std::string_view token, std::vector<std::string>* out) {
  buffer_.append(token);
  Scan(out);
  if (first_clause_words_ > 0 && !emitted_any_) CutFirstClause(out);
  CutOverlong(out);
}

void SentenceChunker::CutFirstClause(std::vector<std::string>* out) {
  size_t words = 0;
  bool in_word = false;
  for (size_t i = 0; i + 1 < buffer_.size(); ++i) {
    const char c = buffer_[i];
    const bool space_next = IsSpace(buffer_[i + 1]);
    if (!IsSpace(c)) in_word = true;
    if (in_word && space_next) {
      in_word = false;
      ++words;
    }
    if (((c == ',' || c == ';' || c == ':') && space_next) || words == first_clause_words_) {
      EmitPrefix(i + 1, out);
      scan_pos_ = 0;
      Scan(out);  // the rest may already hold a whole sentence
      return;
    }
  }
  // No cut yet: what Scan looked at still holds no sentence end.
}

void SentenceChunker::Flush(std::vector<std::string>* out) {
  EmitPrefix(buffer_.size(), out);
  Reset();
}

void SentenceChunker::Reset() {
  buffer_.clear();
  scan_pos_ = 0;
  emitted_any_ = false;
}

void SentenceChunker::Scan(std::vector<std::string>* out) {
  size_t i = scan_pos_;
  while (i < buffer_.size()) {
    if (!IsTerminal(buffer_[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < buffer_.size() && (IsTerminal(buffer_[j]) || IsCloser(buffer_[j]))) ++j;
    if (j == buffer_.size()) break;  // what follows decides: wait for the next token
    const bool single_dot = buffer_[i] == '.' && j == i + 1;
    if (IsSpace(buffer_[j]) && !(single_dot && IsAbbreviationBefore(i))) {
      EmitPrefix(j, out);
      i = 0;
      continue;
    }
    i = j;
  }
  scan_pos_ = i;
}

bool SentenceChunker::IsAbbreviationBefore(size_t dot) const {
  size_t begin = dot;
  while (begin > 0 && !IsSpace(buffer_[begin - 1])) --begin;
  while (begin < dot && (buffer_[begin] == '(' || buffer_[begin] == '"')) ++begin;
  const size_t len = dot - begin;
  if (len == 0) return false;
  // A single capital letter is an initial: "J. Smith".
  if (len == 1) return buffer_[begin] >= 'A' && buffer_[begin] <= 'Z';
  for (std::string_view abbreviation : kAbbreviations) {
    if (abbreviation.size() != len) continue;
    bool same = true;
    for (size_t k = 0; k < len && same; ++k) same = Lower(buffer_[begin + k]) == abbreviation[k];
    if (same) return true;
  }
  return false;
}

void SentenceChunker::CutOverlong(std::vector<std::string>* out) {
  while (buffer_.size() > max_chars_) {
    const std::string_view head(buffer_.data(), max_chars_);
    size_t cut = head.rfind(',');
    if (cut == std::string_view::npos || cut < max_chars_ / 2) {
      const size_t space = head.find_last_of(" \n\t");
      if (space != std::string_view::npos && space > 0) cut = space;
    }
    size_t end;
    if (cut != std::string_view::npos && cut > 0) {
      end = cut + 1;
    } else {
      end = max_chars_;  // one endless word: a hard cut, but never inside a UTF-8 sequence
      while (end > 1 && (static_cast<unsigned char>(buffer_[end]) & 0xC0) == 0x80) --end;
    }
    EmitPrefix(end, out);
    scan_pos_ = 0;
    Scan(out);
  }
}

void SentenceChunker::EmitPrefix(size_t end, std::vector<std::string>* out) {
  const std::string_view sentence = Trim(std::string_view(buffer_).substr(0, end));
  if (!sentence.empty()) {
    out->emplace_back(sentence);
    emitted_any_ = true;
  }
  size_t rest = end;
  while (rest < buffer_.size() && IsSpace(buffer_[rest])) ++rest;
  buffer_.erase(0, rest);
}

}  // namespace callsim::agent
