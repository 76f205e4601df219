// Test helper: writes word-modem speech (or any samples) to a sound file with libsndfile, so
// tests can play recordings without shipping binary fixtures.
#pragma once

#include <sndfile.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/resampler.h"
#include "fakes/modem/word_modem.h"

namespace callsim::harness::testing {

// Writes `samples` (frames of `channels` interleaved) as 16-bit PCM; `format` a SF_FORMAT_ major
// type (WAV, FLAC). Returns false when libsndfile refuses.
inline bool WriteSamples(const std::string& path, const std::vector<int16_t>& samples, int rate_hz,
                         int channels = 1, int format = SF_FORMAT_WAV) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = channels;
  info.format = format | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (file == nullptr) return false;
  const sf_count_t frames = static_cast<sf_count_t>(samples.size()) / channels;
  const bool ok = sf_writef_short(file, samples.data(), frames) == frames;
  sf_close(file);
  return ok;
}

// The 16 kHz modem speech of `text` (nominal timing), padded with silence to whole frames plus
// one (so a resampling filter's delay does not cut the last word).
inline std::vector<int16_t> ModemSpeech(std::string_view text) {
  std::vector<int16_t> samples = fakes::EncodeSpeech(text, fakes::VoiceProfile{}, nullptr).samples;
  const size_t frames = (samples.size() + agent::kFrameSamples - 1) / agent::kFrameSamples + 1;
  samples.resize(frames * agent::kFrameSamples, 0);
  return samples;
}

// `samples` (whole 16 kHz frames) at 8 kHz, through the project's own narrowband decimator.
inline std::vector<int16_t> To8k(const std::vector<int16_t>& samples) {
  agent::Decimator decimator;
  std::vector<int16_t> out(samples.size() / 2);
  for (size_t f = 0; f + agent::kFrameSamples <= samples.size(); f += agent::kFrameSamples) {
    decimator.Process(
        std::span<const int16_t, agent::kFrameSamples>(samples.data() + f, agent::kFrameSamples),
        std::span<int16_t, agent::kNarrowbandFrameSamples>(out.data() + f / 2,
                                                           agent::kNarrowbandFrameSamples));
  }
  return out;
}

}  // namespace callsim::harness::testing
