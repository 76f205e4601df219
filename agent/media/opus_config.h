// The settings of the Opus codec (RFC 6716; RTP payload per RFC 7587), as plain data so that a
// scenario can choose them. The pipeline's frames stay 20 ms at 16 kHz whatever the rate here.
#pragma once

#include <string>

namespace callsim::agent {

struct OpusConfig {
  // The rate libopus runs at: 16000 (wideband; no resampling) or 48000 (fullband; our 16 kHz
  // frames go through libsoxr both ways, about 9 ms each way). The RTP clock is 48 kHz either way.
  int sample_rate_hz = 48000;
  // In-band FEC (LBRR): each packet also carries the previous frame at a lower rate, so a receiver
  // that holds the next packet can rebuild a lost one (Codec::RecoverFromNext). libopus sends it
  // only when expected_loss_pct > 0, in its SILK and hybrid modes (speech rates), and for frames
  // its VAD calls active. Off: the encoder sends none and the decoder ignores any it receives.
  bool fec = true;
  // The encoder's packet loss hint, 0..100 (OPUS_SET_PACKET_LOSS_PERC): more loss expected makes
  // frames depend less on each other and the FEC stronger, at some cost in clean quality.
  int expected_loss_pct = 10;
  int bitrate_bps = 32000;  // 6000..510000 (OPUS_SET_BITRATE); variable bit rate
  int complexity = 5;       // 0..10 (OPUS_SET_COMPLEXITY): CPU against quality
};

// Returns true when every field is in range; otherwise false, with `error` (if non-null) naming
// the field, e.g. "opus.sample_rate_hz must be 16000 or 48000, got 44100".
bool ValidateOpusConfig(const OpusConfig& config, std::string* error);

}  // namespace callsim::agent
