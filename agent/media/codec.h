// Codecs turn 20 ms frames of 16 kHz audio into RTP payloads and back. One instance holds the state
// of one direction (an encoder or a decoder): make one per sender and one per receiver.
// PCMU runs at 8 kHz on the wire, so it resamples 16 kHz -> 8 kHz before encoding and back after.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/frame.h"

namespace callsim::agent {

enum class CodecKind { kL16, kPcmu, kOpus };

// "l16", "pcmu", "opus" <-> CodecKind. Parse returns nullopt for an unknown name.
std::optional<CodecKind> ParseCodecKind(std::string_view name);
std::string_view CodecName(CodecKind kind);

class Codec {
 public:
  virtual ~Codec() = default;
  virtual CodecKind kind() const = 0;
  // RTP payload type: PCMU 0 (static), L16/16k 96, Opus 111 (dynamic).
  virtual uint8_t payload_type() const = 0;
  // RTP clock rate: L16 16000, PCMU 8000, Opus 48000.
  virtual uint32_t clock_rate_hz() const = 0;
  // RTP timestamp increment per 20 ms frame.
  uint32_t timestamp_step() const { return clock_rate_hz() / 50; }

  // Encodes one frame; appends the payload to `payload` (cleared first).
  virtual void Encode(const Frame& frame, std::vector<uint8_t>* payload) = 0;
  // Decodes one payload into one frame. Returns false (and leaves `out` untouched) when the
  // payload is malformed, e.g. the wrong size for L16/PCMU.
  virtual bool Decode(std::span<const uint8_t> payload, Frame* out) = 0;
  // Produces a concealment frame for a lost packet (sets out->concealed). Successive calls fade out.
  virtual void Conceal(Frame* out) = 0;
};

// A fresh codec instance (one direction's state). Returns nullptr for kOpus: Opus is not
// implemented yet, so callers must check (or validate the codec name before building a call).
std::unique_ptr<Codec> MakeCodec(CodecKind kind);

}  // namespace callsim::agent
