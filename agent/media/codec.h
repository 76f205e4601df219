// Codecs turn 20 ms frames of 16 kHz audio into RTP payloads and back. One instance holds the state
// of one direction (an encoder or a decoder): make one per sender and one per receiver.
// PCMU runs at 8 kHz on the wire, so it resamples 16 kHz -> 8 kHz before encoding and back after.
// Opus runs at 16 or 48 kHz (CodecOptions::opus), with in-band FEC and its own concealment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/opus_config.h"
#include "agent/runtime/name_table.h"

namespace callsim::agent {

enum class CodecKind { kL16, kPcmu, kOpus };

// The names scenarios and run configs use for each codec.
inline constexpr NameTable<CodecKind, 3> kCodecNames{{"l16", "pcmu", "opus"}};

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

  // Encodes one frame into `payload` (cleared first).
  void Encode(const Frame& frame, std::vector<uint8_t>* payload) {
    payload->clear();
    EncodeAppend(frame, payload);
  }
  // Encodes one frame and appends the payload to what `out` holds (an RTP header, say, so the
  // payload is written once, where it is sent from).
  virtual void EncodeAppend(const Frame& frame, std::vector<uint8_t>* out) = 0;
  // Decodes one payload into one frame. Returns false (and leaves `out` untouched) when the
  // payload is malformed, e.g. the wrong size for L16/PCMU.
  virtual bool Decode(std::span<const uint8_t> payload, Frame* out) = 0;
  // Produces a concealment frame for a lost packet (sets out->concealed). Successive calls fade out.
  virtual void Conceal(Frame* out) = 0;
  // Rebuilds the lost frame just before `next_payload` from the in-band FEC that payload carries
  // (Opus LBRR), in place of Conceal for that frame; decode `next_payload` itself afterwards as
  // usual. The result is real audio at a lower quality, so out->concealed is false. Returns false,
  // leaving `out` untouched, when the codec has no FEC or the payload carries none (or is
  // malformed): the caller conceals instead.
  virtual bool RecoverFromNext(std::span<const uint8_t> next_payload, Frame* out) { return false; }
};

// How each codec is set up; a codec reads only its own part.
struct CodecOptions {
  OpusConfig opus{};  // CodecKind::kOpus
};

// Returns true when `options` are valid for `kind` (only kOpus has settings to check); otherwise
// false with `error` (if non-null) naming the bad field.
bool ValidateCodecOptions(CodecKind kind, const CodecOptions& options, std::string* error);

// A fresh codec instance (one direction's state) with default options (Opus: 48 kHz, FEC on,
// 10% loss hint, 32 kbit/s, complexity 5).
std::unique_ptr<Codec> MakeCodec(CodecKind kind);
// The same with chosen options. Returns nullptr when ValidateCodecOptions fails.
std::unique_ptr<Codec> MakeCodec(CodecKind kind, const CodecOptions& options);

}  // namespace callsim::agent
