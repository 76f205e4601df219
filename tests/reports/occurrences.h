// How often a piece of markup occurs in a rendered report, for the report tests: charts are
// checked by counting what they drew (bars, markers, rows).
#pragma once

#include <cstddef>
#include <string>

namespace callsim::reports::testing {

// Occurrences of `what` in `text`, overlapping ones included.
inline size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace callsim::reports::testing
