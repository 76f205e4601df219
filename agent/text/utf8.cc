#include "agent/text/utf8.h"

#include <cstdint>
#include <cstdio>

#include "agent/runtime/check.h"

namespace callsim::agent {
namespace {

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

bool DecodeUtf8(std::string_view text, size_t* pos, char32_t* cp) {
  const size_t i = *pos;
  if (i >= text.size()) return false;
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) {
    *cp = lead;
    *pos = i + 1;
    return true;
  }
  // The sequence length and the smallest code point it may carry (anything less is overlong).
  size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return false;  // a continuation byte, or 0xF8..0xFF
  }
  if (text.size() - i < length) return false;
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (!IsContinuation(b)) return false;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
  *cp = value;
  *pos = i + length;
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  CALLSIM_CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
    } else if (!DecodeUtf8(text, &pos, &cp)) {
      return pos;
    }
  }
  return std::nullopt;
}

size_t CountCharacters(std::string_view text) {
  size_t count = 0;
  size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    if (!DecodeUtf8(text, &pos, &cp)) ++pos;
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
    } else if (!IsContinuation(static_cast<unsigned char>(text[i]))) {
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

std::optional<std::string> Utf8FileError(std::string_view text, std::string_view name) {
  const std::optional<size_t> bad = FirstInvalidUtf8(text);
  if (!bad) return std::nullopt;
  const TextPosition at = PositionOf(text, *bad);
  return std::string(name) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
         ": " + InvalidUtf8Message(text, *bad);
}

}  // namespace callsim::agent
