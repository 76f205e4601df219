// UTF-8 by RFC 3629: a code point is one to four bytes, the shortest form only, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Everything inside callsim assumes valid UTF-8 (the JSON
// written to the store and the event log refuses anything else), so text from outside (scenario
// files, --set values, LLM scripts, tool files, transcripts) is checked where it enters, with the
// position of the first bad byte, and never guessed at.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace callsim::agent {

// Decodes the code point starting at text[*pos] into *cp and advances *pos past it. Returns false,
// leaving *pos and *cp unchanged, when the bytes there are not a valid UTF-8 sequence (or *pos is
// at the end).
bool DecodeUtf8(std::string_view text, size_t* pos, char32_t* cp);

// Appends the UTF-8 encoding of `cp` (a scalar value: not a surrogate, at most U+10FFFF).
void AppendUtf8(char32_t cp, std::string* out);

// The offset of the first byte that does not start a valid sequence, or nullopt when `text` is
// valid throughout.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

// Where a byte sits in a text: 1-based line, and 1-based column counted in characters (code
// points) of the valid text before it.
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// The number of characters (code points) in `text`, counted as JSON Schema's maxLength does;
// each byte of an invalid sequence counts as one.
size_t CountCharacters(std::string_view text);

// The position of byte `offset` in `text`; lines end at '\n'.
TextPosition PositionOf(std::string_view text, size_t offset);

// "invalid UTF-8 (byte 0xff)": what is wrong with the byte at `offset`.
std::string InvalidUtf8Message(std::string_view text, size_t offset);

// For a whole file's text: nullopt when it is valid, else "NAME:LINE:COL: invalid UTF-8 (byte
// 0xff)" for its first bad byte.
std::optional<std::string> Utf8FileError(std::string_view text, std::string_view name);

}  // namespace callsim::agent
