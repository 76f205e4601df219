// Finds card numbers, US social security numbers and phone numbers in a transcript, written or
// spoken ("four one one one ...", "oh", "double five", "forty-five") or mixed. Digits separated
// only by spaces, dashes, dots, parentheses, ", " or fillers ("uh", "dash") form one run, and the
// run's digit count decides:
//   13 or more: a card ("[card]"). Runs longer than 19 are redacted too: two numbers said back to
//               back are safer lost than leaked.
//   10 or 11:   a phone number; also 10 to 15 after '+' or "plus" (international).
//   9:          an SSN when grouped 3-2-4 ("123-45-6789", "one two three, four five, ...") or
//               when "social", "ssn" or "s s n" comes within the 8 words before it.
//   otherwise:  kept, so order numbers, amounts and counts survive ("order 4567", "forty two").
// A 12-digit run without '+' is kept (tracking numbers). Written thousands ("1,234,567") and
// decimals ("19.99", "3.14159") do not join into runs: a '.' joins only groups of 3 or 4 digits.
#pragma once

#include <vector>

#include "agent/postcall/pii_tokens.h"

namespace callsim::agent {

// The matches in `tokens`, in order; tokens marked in `claimed` (tokens.size() long) break runs.
// `ssn_context`: the text is known to hold an SSN (a field named "ssn"), as if "social" came before
// every run.
std::vector<PiiSpan> FindNumberPii(const std::vector<PiiToken>& tokens,
                                   const std::vector<bool>& claimed, bool ssn_context);

}  // namespace callsim::agent
