// Text normalization shared by WER, the word modem and phrase expectations: lowercase; every
// character that is not a letter, a digit or an apostrophe inside a word becomes a space;
// whitespace collapses. ASCII only: other bytes are treated as separators.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

// The normalized words of `text`, in order.
std::vector<std::string> NormalizeWords(std::string_view text);
// The normalized words joined by single spaces.
std::string NormalizeText(std::string_view text);
// True when `text` holds anything but spaces, tabs and line breaks (something to say).
bool HasText(std::string_view text);

}  // namespace callsim::agent
