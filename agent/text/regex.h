// A regular expression from outside (a scenario, an LLM script, a tool schema), compiled with RE2:
// matching takes time linear in the text and never recurses per character, so no pattern and no
// text can hang or crash the process. The syntax is RE2's (UTF-8; no backreferences, no
// lookaround); a pattern RE2 cannot take, or one whose compiled program would exceed
// kMaxRegexProgramBytes, is refused with a reason instead of compiled.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace callsim::agent {

// Longer patterns are refused unread; every pattern callsim takes is written by hand.
inline constexpr size_t kMaxRegexChars = 4096;
// RE2's memory budget for one pattern (its program and its DFA cache): a pattern such as
// "\pL{1000}" (a thousand letters of any script) is an error, not megabytes per pattern. A text
// that outgrows the DFA cache is matched more slowly, still in linear time.
inline constexpr int64_t kMaxRegexProgramBytes = 1 << 20;

struct RegexOptions {
  bool case_insensitive = false;
};

// Immutable once built; copies share the compiled program, and concurrent matching is safe.
class Regex {
 public:
  // An empty Regex: not ok(), matches nothing.
  Regex() = default;
  explicit Regex(std::string_view pattern, RegexOptions options = {});

  // False when the pattern was refused; error() says why in RE2's words, e.g.
  // "invalid escape sequence: \1" or "invalid perl operator: (?=".
  bool ok() const { return re_ != nullptr; }
  const std::string& error() const { return error_; }
  const std::string& pattern() const { return pattern_; }

  // True when the pattern matches somewhere in `text` (JSON Schema's and ECMAScript's search;
  // anchors say otherwise). False when !ok().
  bool Search(std::string_view text) const;
  // True when the pattern matches the whole of `text`.
  bool FullMatch(std::string_view text) const;

  // The compiled program, for callers in agent/ that need RE2's captures; nullptr when !ok().
  const re2::RE2* re2() const { return re_.get(); }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::string pattern_;
  std::string error_;
};

}  // namespace callsim::agent
