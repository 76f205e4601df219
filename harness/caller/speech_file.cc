#include "harness/caller/speech_file.h"

#include <algorithm>
#include <cmath>

#include "harness/caller/audio_file.h"

namespace callsim::harness {

std::shared_ptr<const SpeechClip> DecodeSpeechFile(const std::string& path, std::string* error) {
  const std::string where = "audio file " + path + ": ";
  DecodedAudio audio;
  if (!DecodeAudioFile(path, kMaxSpeechFileSeconds, &audio, error)) {
    *error = where + *error;
    return nullptr;
  }
  const std::vector<float>& mono = audio.samples;
  if (mono.empty()) {
    *error = where + "no audio after resampling";
    return nullptr;
  }
  auto clip = std::make_shared<SpeechClip>();
  clip->source_rate_hz = audio.source_rate_hz;
  clip->source_channels = audio.source_channels;
  clip->samples.resize(mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    const float v = std::clamp(mono[i] * 32768.0f, -32768.0f, 32767.0f);
    clip->samples[i] = static_cast<int16_t>(std::lround(v));
  }
  return clip;
}

std::shared_ptr<const SpeechClip> LoadSpeechFile(const std::string& path, std::string* error) {
  return CachedClip<SpeechClip>(path, error, &DecodeSpeechFile);
}

}  // namespace callsim::harness
