// RFC 4733 telephone events: DTMF key presses carried in RTP as named events instead of tones.
// This file is the 4-byte event payload (event code, end bit, volume, duration) and the mapping
// between DTMF keys and event codes; MediaEndpoint sends and receives the packets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace callsim::agent {

// The dynamic payload type callsim negotiates for "telephone-event" (the common choice).
inline constexpr uint8_t kTelephoneEventPayloadType = 101;
inline constexpr size_t kTelephoneEventBytes = 4;
// The volume senders put in DTMF events: -10 dBm0, as most phones do.
inline constexpr uint8_t kDefaultTelephoneEventVolume = 10;

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |     event     |E|R| volume    |          duration             |
struct TelephoneEvent {
  uint8_t event = 0;  // 0-9 digits, 10 '*', 11 '#', 12-15 'A'-'D'; higher codes are other events
  bool end = false;   // E: the last packet(s) of the event
  uint8_t volume = kDefaultTelephoneEventVolume;  // 0..63, power in -dBm0; higher bits are dropped
  uint16_t duration = 0;  // in RTP timestamp units, from the event's start timestamp
};

// The payload; the reserved bit is sent as 0.
std::array<uint8_t, kTelephoneEventBytes> SerializeTelephoneEvent(const TelephoneEvent& event);

// Parses a payload of exactly kTelephoneEventBytes (RFC 2198 redundancy is not used here).
// Returns false and sets `error` (if non-null) on any other size. The reserved bit is ignored.
bool ParseTelephoneEvent(std::span<const uint8_t> payload, TelephoneEvent* out, std::string* error);

// '0'-'9', '*', '#', 'A'-'D' (also 'a'-'d') -> event code; nullopt for anything else.
std::optional<uint8_t> DtmfEventCode(char key);
// Event code 0-15 -> its key ('A'-'D' upper case); '\0' for codes that are not DTMF keys.
char DtmfKey(uint8_t event);

}  // namespace callsim::agent
