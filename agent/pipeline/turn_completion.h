// Does a transcript stop mid-sentence? A cheap stand-in for a semantic turn detector: a turn whose
// last word is a conjunction, preposition, article, possessive, filler or linking verb ("my order
// number is", "and um") is probably a clause pause, not the end of the turn.
#pragma once

#include <string_view>

#include "agent/pipeline/endpointer.h"

namespace callsim::agent {

// True when the last word of `text` (normalized) leaves the sentence open. Empty text: false.
bool SoundsUnfinished(std::string_view text);

// How the caller's words so far sound, for the endpointer. Only a sentence end the STT
// punctuated (. ? !: it heard the voice fall) sounds finished: a bare last word proves nothing
// ("hi" may be followed by the question). A clause mark (, ; : -) or an open last word
// (SoundsUnfinished) sounds unfinished. Anything else, or no words: unknown.
TurnSounds HowTurnSounds(std::string_view text);

// Words in `text` (normalized), for barge-in word counts.
int CountWords(std::string_view text);

}  // namespace callsim::agent
