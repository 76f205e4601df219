// The caller's text with inline pause markers: "my number is [pause 900] four five six seven"
// says "my number is", pauses 900 ms inside the utterance (a clause pause that a hasty endpointer
// may take for the end of the turn), then says the rest. Internal to harness/scenario.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/scenario.h"

namespace callsim::harness {

struct Utterance {
  std::string words;                    // the text without markers: the WER reference
  std::vector<SpeechSegment> segments;  // at least one; only the last has pause_after_ms == 0
};

// Splits `text` at its markers, written [pause N] with N in ms, in (0, 60000]. Text without
// markers is one segment, kept as written. Returns false with *error (saying what to write
// instead) for a malformed marker, a stray bracket, or a marker that is not between two words.
bool ParseUtterance(std::string_view text, Utterance* out, std::string* error);

}  // namespace callsim::harness
