#include "agent/text/regex.h"

#include <re2/re2.h>

namespace callsim::agent {

Regex::Regex(std::string_view pattern, RegexOptions options) : pattern_(pattern) {
  if (pattern.size() > kMaxRegexChars) {
    error_ = "longer than " + std::to_string(kMaxRegexChars) + " characters";
    return;
  }
  RE2::Options re2_options;
  re2_options.set_encoding(RE2::Options::EncodingUTF8);
  re2_options.set_case_sensitive(!options.case_insensitive);
  re2_options.set_max_mem(kMaxRegexProgramBytes);
  re2_options.set_log_errors(false);  // the error is returned, never printed
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                        re2_options);
  if (!re->ok()) {
    error_ = re->error().empty() ? "does not compile" : re->error();
    return;
  }
  re_ = std::move(re);
}

bool Regex::Search(std::string_view text) const {
  return re_ && RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Regex::FullMatch(std::string_view text) const {
  return re_ && RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace callsim::agent
