// SIP messages, SDP bodies and digest headers from the network: any bytes parse or are refused with a reason;
// what parses serializes back to a message that parses to the same start line, headers and body.
#include <string>
#include <string_view>

#include "agent/sip/digest.h"
#include "agent/sip/sdp.h"
#include "agent/sip/sip_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::agent::sip;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const SipParseResult parsed = ParseSipMessage(text);
  if (!parsed.message) {
    if (parsed.error.empty()) __builtin_trap();
  } else {
    SipLimits unbounded;
    unbounded.max_message_bytes = SIZE_MAX;
    unbounded.max_line_bytes = SIZE_MAX;
    unbounded.max_headers = SIZE_MAX;  // the writer may add a Content-Length
    const SipParseResult again = ParseSipMessage(SerializeSipMessage(*parsed.message), unbounded);
    if (!again.message || again.message->method != parsed.message->method ||
        again.message->status_code != parsed.message->status_code ||
        again.message->body != parsed.message->body) {
      __builtin_trap();
    }
  }
  const SdpParseResult sdp = ParseSdp(text);
  if (!sdp.description && sdp.error.empty()) __builtin_trap();
  if (sdp.description) {
    SessionDescription answer;
    NegotiatedStream n;
    std::string error;
    if (!AnswerOffer(*sdp.description, SdpCapabilities{}, "127.0.0.1", 4000, 1, &answer, &n,
                     &error) &&
        error.empty()) {
      __builtin_trap();
    }
  }
  // Challenges and answers come from the peer too.
  if (const auto challenge = ParseDigestChallenge(text); challenge && challenge->nonce.empty()) {
    __builtin_trap();
  }
  (void)ParseDigestParams(text);
  return 0;
}
