// UTF-8 validation for text that comes from outside (scenario files, --set values, LLM scripts,
// tool files). Everything inside callsim assumes valid UTF-8: the JSON written to the store and
// the event log refuses anything else, so a bad byte must be caught where the text enters, with
// its position, and never reach a run.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace callsim::agent {

// Where a byte sits in a text: 1-based line, and 1-based column counted in characters (code
// points) of the valid text before it.
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// The offset of the first byte that does not start or continue a well-formed UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or nullopt when `text`
// is valid throughout.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

// The number of characters (code points) in `text`, counted as JSON Schema's maxLength does;
// each byte of an invalid sequence counts as one.
size_t CountCharacters(std::string_view text);

// The position of byte `offset` in `text`; lines end at '\n'.
TextPosition PositionOf(std::string_view text, size_t offset);

// "invalid UTF-8 (byte 0xff)": what is wrong with the byte at `offset`.
std::string InvalidUtf8Message(std::string_view text, size_t offset);

}  // namespace callsim::agent
