#include "agent/media/telephone_event.h"

namespace callsim::agent {
namespace {

constexpr char kKeys[] = "0123456789*#ABCD";
constexpr uint8_t kEndBit = 0x80;
constexpr uint8_t kVolumeMask = 0x3f;

}  // namespace

std::array<uint8_t, kTelephoneEventBytes> SerializeTelephoneEvent(const TelephoneEvent& event) {
  return {event.event,
          static_cast<uint8_t>((event.end ? kEndBit : 0) | (event.volume & kVolumeMask)),
          static_cast<uint8_t>(event.duration >> 8), static_cast<uint8_t>(event.duration)};
}

bool ParseTelephoneEvent(std::span<const uint8_t> payload, TelephoneEvent* out,
                         std::string* error) {
  if (payload.size() != kTelephoneEventBytes) {
    if (error != nullptr) {
      *error = "telephone-event payload of " + std::to_string(payload.size()) +
               " bytes (expected " + std::to_string(kTelephoneEventBytes) + ")";
    }
    return false;
  }
  out->event = payload[0];
  out->end = (payload[1] & kEndBit) != 0;
  out->volume = payload[1] & kVolumeMask;
  out->duration = static_cast<uint16_t>((payload[2] << 8) | payload[3]);
  return true;
}

std::optional<uint8_t> DtmfEventCode(char key) {
  if (key >= 'a' && key <= 'd') key = static_cast<char>(key - 'a' + 'A');
  for (uint8_t code = 0; code < 16; ++code) {
    if (kKeys[code] == key) return code;
  }
  return std::nullopt;
}

char DtmfKey(uint8_t event) { return event < 16 ? kKeys[event] : '\0'; }

}  // namespace callsim::agent
