#include "agent/text/utf8.h"

#include <cstdint>
#include <cstdio>

namespace callsim::agent {
namespace {

// The length of the well-formed sequence at text[i], or 0 when it is not one. Ranges from the
// Unicode standard, table 3-7.
size_t SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = SequenceLength(text, i);
    if (length == 0) return i;
    i += length;
  }
  return std::nullopt;
}

size_t CountCharacters(std::string_view text) {
  size_t count = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = SequenceLength(text, i);
    i += length == 0 ? 1 : length;
    ++count;
  }
  return count;
}

TextPosition PositionOf(std::string_view text, size_t offset) {
  TextPosition at;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((static_cast<uint8_t>(text[i]) & 0xC0) != 0x80) {  // not a continuation byte
      ++at.column;
    }
  }
  return at;
}

std::string InvalidUtf8Message(std::string_view text, size_t offset) {
  char hex[8];
  const unsigned byte = offset < text.size() ? static_cast<uint8_t>(text[offset]) : 0;
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  return std::string("invalid UTF-8 (byte ") + hex + ")";
}

}  // namespace callsim::agent
