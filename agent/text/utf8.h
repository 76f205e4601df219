// UTF-8 decoding by RFC 3629: a code point is one to four bytes, the shortest form only, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF. Text from outside (transcripts, scripts)
// is decoded with these; what is not valid UTF-8 is reported, never guessed at.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace callsim::agent {

// Decodes the code point starting at text[*pos] into *cp and advances *pos past it. Returns false,
// leaving *pos and *cp unchanged, when the bytes there are not a valid UTF-8 sequence (or *pos is
// at the end).
bool DecodeUtf8(std::string_view text, size_t* pos, char32_t* cp);

// The offset of the first byte that does not start a valid sequence; npos when all of `text` is
// valid UTF-8.
size_t FindInvalidUtf8(std::string_view text);

// Appends the UTF-8 encoding of `cp` (a scalar value: not a surrogate, at most U+10FFFF).
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace callsim::agent
