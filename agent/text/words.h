// Text normalization shared by WER, the word modem and phrase expectations. A word is a run of
// letters (any script: Unicode general category L*, with the combining marks that follow them)
// and ASCII digits, with apostrophes inside it ("don't", "п'ять"; U+2019 and U+02BC there read as
// "'"); everything else separates words. Letters are case-folded (Unicode simple case folding, so
// "Київ" and "КИЇВ" are one word). Text is UTF-8; a byte that is not part of a valid sequence
// separates words like punctuation (callers that must refuse such input check it first, see
// agent/text/utf8.h). No other normalization: composed and decomposed accents are different
// words, and scripts written without spaces (Chinese, Japanese, Thai) come out as one word per run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

// The normalized words of `text`, in order. ASCII text takes a byte-at-a-time path with no table
// look-ups; it gives exactly the words it always did.
std::vector<std::string> NormalizeWords(std::string_view text);
// The normalized words joined by single spaces.
std::string NormalizeText(std::string_view text);
// True when `text` holds anything but spaces, tabs and line breaks (something to say).
bool HasText(std::string_view text);

}  // namespace callsim::agent
