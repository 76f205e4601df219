// How a provider's refusal reads in an on_error message: the HTTP status, the provider's own
// words and when it asks to be retried, e.g. "HTTP 429: Rate limit reached (retry after 1.5 s)".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "agent/providers/wire/url.h"

namespace callsim::agent::wire {

// The most of an error response's body a client reads (the rest is not needed to say why).
inline constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

// A provider's text quoted in an error: its first 120 bytes, then "..." when there was more.
std::string QuoteBounded(std::string_view text);

// object[key] when `object` is an object and that member a string; "" otherwise.
std::string JsonStringAt(const nlohmann::json& object, const char* key);

// The provider's message in an error body: error.message ({"error":{"message":...}}, OpenAI),
// error as a string, err_msg (Deepgram), message or detail; else the body itself as text (its first
// 200 bytes, whitespace runs collapsed). "" for an empty body.
std::string ErrorMessageFromBody(std::string_view body);

// "retry after 1.5 s" from retry-after-ms (milliseconds) or Retry-After (seconds; an HTTP date is
// quoted as given); "" when neither is there or both are unreadable.
std::string RetryAfterText(const Headers& headers);

// "HTTP <status>: <message>[ (retry after N s)]" where the message is ErrorMessageFromBody(body),
// else the reason phrase, else "no message".
std::string HttpErrorMessage(int status, std::string_view reason, const Headers& headers,
                             std::string_view body);

// Seconds with at most three decimals and no trailing zeros: 1.5 -> "1.5", 2 -> "2", 0.25 ->
// "0.25".
std::string FormatSeconds(double seconds);

}  // namespace callsim::agent::wire
