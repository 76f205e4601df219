// RTP and RTCP packets (SR, RR, SDES CNAME, BYE) and RFC 4733 telephone events from the network:
// any bytes parse or are refused with a reason; what parses serializes back to a packet that
// parses to the same fields.
#include <string>
#include <vector>

#include "agent/media/rtcp.h"
#include "agent/media/rtp.h"
#include "agent/media/telephone_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::agent;
  std::string error;
  // RTCP: what parses writes back to reports, CNAMEs and BYEs that parse the same (the same
  // socket carries both).
  if (const auto compound = ParseRtcp({data, size}, &error)) {
    for (const RtcpReport& r : compound->reports) {
      const auto again = ParseRtcp(SerializeRtcp(r), &error);
      if (!again || again->reports.size() != 1 || again->reports[0] != r) __builtin_trap();
    }
    for (const RtcpCname& c : compound->cnames) {
      const auto again = ParseRtcp(SerializeSdesCname(c.ssrc, c.cname), &error);
      if (!again || again->cnames.size() != 1 || again->cnames[0] != c) __builtin_trap();
    }
    for (const uint32_t ssrc : compound->byes) {
      const auto again = ParseRtcp(SerializeBye(ssrc), &error);
      if (!again || again->byes != std::vector<uint32_t>{ssrc}) __builtin_trap();
    }
  } else if (error.empty()) {
    __builtin_trap();
  }
  RtpPacket packet;
  if (!ParseRtp({data, size}, &packet, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  const std::vector<uint8_t> again = SerializeRtp(packet);
  RtpPacket reparsed;
  if (!ParseRtp(again, &reparsed, &error) || reparsed.sequence != packet.sequence ||
      reparsed.timestamp != packet.timestamp || reparsed.ssrc != packet.ssrc ||
      reparsed.payload_type != packet.payload_type || reparsed.payload != packet.payload ||
      reparsed.csrcs != packet.csrcs || reparsed.extension_data != packet.extension_data) {
    __builtin_trap();
  }
  TelephoneEvent event;
  if (ParseTelephoneEvent(packet.payload, &event, &error)) {
    TelephoneEvent back;
    const auto bytes = SerializeTelephoneEvent(event);
    if (!ParseTelephoneEvent(bytes, &back, &error) || back.event != event.event ||
        back.end != event.end || back.duration != event.duration) {
      __builtin_trap();
    }
  }
  return 0;
}
