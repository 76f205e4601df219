// Text in the HTML report: everything shown comes from the store and is untrusted (scenario
// names, transcripts, expectation details), so it is escaped for HTML text and attribute values
// alike, cut to a bound so one long field cannot bloat the file, and made valid UTF-8 (a byte
// that is not, or a control character, becomes U+FFFD), so the browser shows exactly what the
// store holds and nothing it could execute.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace callsim::reports {

// `text` with & < > " ' as character references, invalid UTF-8 and control characters other
// than tab and newline as U+FFFD. Safe inside element text and quoted attribute values.
std::string HtmlEscape(std::string_view text);

// At most `max_bytes` bytes of `text`, cut at a UTF-8 character boundary, with "…" appended when
// anything was cut. Not escaped.
std::string Clip(std::string_view text, size_t max_bytes);

// HtmlEscape(Clip(text, max_bytes)).
std::string HtmlText(std::string_view text, size_t max_bytes = 500);

// `value` with `decimals` decimals ("1425.9"); "n/a" for NaN or infinity.
std::string FormatFixed(double value, int decimals);
// A fraction as a percentage with one decimal ("12.5%"); "n/a" when not finite.
std::string Percent(double fraction);

}  // namespace callsim::reports
