#include "harness/caller/audio_file.h"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <memory>

#include "agent/media/frame.h"
#include "harness/scenario/audio_header.h"

namespace callsim::harness {
namespace {

// The channel mean of interleaved frames.
std::vector<float> MixDown(const std::vector<float>& interleaved, int channels) {
  const size_t frames = interleaved.size() / static_cast<size_t>(channels);
  std::vector<float> mono(frames);
  for (size_t i = 0; i < frames; ++i) {
    float sum = 0;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    mono[i] = sum / static_cast<float>(channels);
  }
  return mono;
}

// "" on success; `mono` becomes 16 kHz.
std::string ResampleTo16k(int rate_hz, std::vector<float>* mono) {
  if (rate_hz == agent::kSampleRateHz) return "";
  const double ratio = static_cast<double>(agent::kSampleRateHz) / rate_hz;
  std::vector<float> out(static_cast<size_t>(std::ceil(mono->size() * ratio)) + 64);
  size_t produced = 0;
  const soxr_error_t error =
      soxr_oneshot(rate_hz, agent::kSampleRateHz, 1, mono->data(), mono->size(), nullptr,
                   out.data(), out.size(), &produced, nullptr, nullptr, nullptr);
  if (error) return std::string("cannot resample: ") + error;
  out.resize(produced);
  *mono = std::move(out);
  return "";
}

}  // namespace

bool DecodeAudioFile(const std::string& path, double max_seconds, DecodedAudio* out,
                     std::string* error) {
  AudioHeader info;
  AudioFile file = OpenAudioFile(path, max_seconds, &info, error);
  if (!file) return false;
  std::vector<float> interleaved(static_cast<size_t>(info.frames) *
                                 static_cast<size_t>(info.channels));
  const sf_count_t read = sf_readf_float(file.get(), interleaved.data(), info.frames);
  if (read < 1) {
    *error = std::string("cannot decode: ") + sf_strerror(file.get());
    return false;
  }
  interleaved.resize(static_cast<size_t>(read) * static_cast<size_t>(info.channels));
  out->source_rate_hz = info.sample_rate_hz;
  out->source_channels = info.channels;
  out->samples = MixDown(interleaved, info.channels);
  *error = ResampleTo16k(info.sample_rate_hz, &out->samples);
  return error->empty();
}

}  // namespace callsim::harness
