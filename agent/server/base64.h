// Base64 (RFC 4648 section 4, with padding) for Twilio's media payloads, and base64url without
// padding (section 5) for tokens. Decoding is strict: a character outside the alphabet, a bad
// length or padding, or non-zero leftover bits is refused, so one text has one meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace callsim::agent
