// Opus (libopus) as a Codec: 20 ms frames, mono, application VOIP, at 16 or 48 kHz inside
// (OpusConfig); RTP payload type 111 with the 48 kHz RTP clock of RFC 7587 whatever the internal
// rate. Packet loss is handled by libopus's own concealment (Conceal) and by in-band FEC
// (RecoverFromNext). A payload that is not exactly one 20 ms Opus packet is rejected.
// libopus is deterministic: the same settings and input give the same bytes on the same machine.
//
// Digital silence (frames of zeros) is not run through libopus once 40 ms of it have been (the
// first packet carries the end of the speech before it, as libopus looks ahead, and the next lets
// the encoder settle into silence): the encoder sends the packet a fresh encoder with the same
// settings makes of silence (one per settings in the process), and
// a decoder that receives exactly that packet plays zeros, and conceals a gap after it with
// zeros, without running libopus. Like Opus DTX it spends nothing on what the far end hears as
// silence either way; unlike DTX a packet still goes every 20 ms, so the RTP stream, the jitter
// buffer's clock and any other Opus decoder are unaffected (the packet is valid Opus). Across
// a silence the encoder and decoder keep the state of the speech before it.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "agent/media/codec.h"
#include "agent/media/opus_config.h"

namespace callsim::agent {

inline constexpr uint8_t kOpusPayloadType = 111;
inline constexpr uint32_t kOpusRtpClockHz = 48000;
// RFC 6716 3.4 [R2]: no single coded frame is longer.
inline constexpr size_t kMaxOpusFrameBytes = 1275;

// A fresh Opus codec instance (one direction's state). Returns nullptr and sets `error` (if
// non-null) when ValidateOpusConfig fails. libopus's encoder and decoder (and the resamplers at
// 48 kHz) are created on first use, so an instance used one way carries only that way's state.
std::unique_ptr<Codec> MakeOpusCodec(const OpusConfig& config, std::string* error);

// True when `payload` is a 20 ms Opus packet (any mode, mono or stereo) carrying LBRR data, i.e.
// in-band FEC for the frame before it (libopus 1.5's opus_packet_has_lbrr, which 1.3 lacks).
bool OpusPacketHasFec(std::span<const uint8_t> payload);

}  // namespace callsim::agent
