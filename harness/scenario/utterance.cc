#include "harness/scenario/utterance.h"

#include <cctype>

#include "harness/scenario/limits.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {
namespace {

constexpr std::string_view kHowToWrite = "a pause is written [pause 900], in ms";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "pause 900" -> 900; false with *error otherwise.
bool ParseMarker(std::string_view inside, double* pause_ms, std::string* error) {
  const std::string shown = "[" + std::string(inside) + "]";
  std::string_view body = Trim(inside);
  constexpr std::string_view kPause = "pause";
  if (body.substr(0, kPause.size()) != kPause || body.size() == kPause.size() ||
      !std::isspace(static_cast<unsigned char>(body[kPause.size()]))) {
    *error = "unknown marker " + shown + " (" + std::string(kHowToWrite) + ")";
    return false;
  }
  const std::optional<double> ms = ParseYamlDouble(Trim(body.substr(kPause.size())));
  if (!ms || !limits::kPauseMarkerMs.Contains(*ms)) {
    *error = "bad pause " + shown + ": expected " + limits::kPauseMarkerMs.ToString() + " ms (" +
             std::string(kHowToWrite) + ")";
    return false;
  }
  *pause_ms = *ms;
  return true;
}

// Appends the words before a marker (or the end) as a segment; false when there are none.
bool AddSegment(std::string_view text, double pause_after_ms, bool at_end, Utterance* out,
                std::string* error) {
  const std::string_view words = Trim(text);
  if (!HasWord(words)) {
    *error = out->segments.empty() ? "a pause marker before any words: use pause_before_ms for a "
                                     "pause before the turn"
             : at_end              ? "a pause marker after the last words: the turn ends there "
                                     "anyway"
                                   : "two pause markers in a row: write one with the total";
    return false;
  }
  out->segments.push_back({std::string(words), pause_after_ms});
  out->words += (out->words.empty() ? "" : " ") + std::string(words);
  return true;
}

}  // namespace

bool ParseUtterance(std::string_view text, Utterance* out, std::string* error) {
  Utterance u;
  if (text.find_first_of("[]") == std::string_view::npos) {
    u.words = std::string(text);
    u.segments.push_back({u.words, 0});
    *out = std::move(u);
    return true;
  }
  size_t start = 0;
  while (true) {
    const size_t open = text.find_first_of("[]", start);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(']', open);
    if (text[open] == ']' || close == std::string_view::npos || text.find('[', open + 1) < close) {
      *error = "unmatched " + std::string(1, text[open]) + " (" + std::string(kHowToWrite) + ")";
      return false;
    }
    double pause_ms = 0;
    if (!ParseMarker(text.substr(open + 1, close - open - 1), &pause_ms, error) ||
        !AddSegment(text.substr(start, open - start), pause_ms, false, &u, error)) {
      return false;
    }
    start = close + 1;
  }
  if (!AddSegment(text.substr(start), 0, true, &u, error)) return false;
  *out = std::move(u);
  return true;
}

}  // namespace callsim::harness
