// Twilio Media Streams messages from the network, and call tokens from a client: any text parses
// or is refused with a reason; what parses serializes back to a message of the same kind with the
// same payload; a token that is not one the service issued never opens a call (the fuzzer cannot
// forge a MAC, so this half checks the refusals before the signature: size, shape, encoding).
#include <string>
#include <string_view>

#include "agent/server/token_service.h"
#include "agent/server/twilio_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::agent;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const twilio::ParseResult parsed = twilio::Parse(text);
  if (!parsed.message) {
    if (parsed.error.empty()) __builtin_trap();
  } else {
    // What was read may be written back longer than the message limit (defaults are spelled
    // out), so the round trip itself is read without that bound.
    twilio::Limits unbounded;
    unbounded.max_message_bytes = SIZE_MAX;
    for (bool to_twilio : {false, true}) {
      const twilio::ParseResult again =
          twilio::Parse(twilio::Serialize(*parsed.message, to_twilio), unbounded);
      if (!again.message || again.message->index() != parsed.message->index()) __builtin_trap();
      const auto* media = std::get_if<twilio::Media>(&*parsed.message);
      if (media && std::get<twilio::Media>(*again.message).payload != media->payload) {
        __builtin_trap();
      }
    }
  }
  static TokenService tokens(TokenConfig{std::string(32, 'k')}, {"key"});
  const RedeemResult redeemed = tokens.Redeem(text, 1'800'000'000'000'000);
  if (redeemed.ok || redeemed.reason.empty()) __builtin_trap();
  return 0;
}
