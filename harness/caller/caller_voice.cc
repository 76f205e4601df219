#include "harness/caller/caller_voice.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace callsim::harness {

CallerVoice DrawCallerVoice(const CallerSpec& spec, agent::Rng& rng) {
  CallerVoice voice;
  voice.rate_factor =
      std::clamp(rng.Normal(1, spec.variation.rate), kMinRateFactor, kMaxRateFactor);
  voice.pause_scale =
      std::clamp(rng.Normal(1, spec.variation.pauses), kMinPauseScale, kMaxPauseScale);
  voice.profile.words_per_minute = spec.words_per_minute * voice.rate_factor;
  voice.profile.comma_pause_ms *= voice.pause_scale;
  voice.profile.sentence_pause_ms *= voice.pause_scale;
  voice.engine = spec.voice.engine;
  voice.espeak.voice = spec.voice.voice;
  voice.espeak.pitch = spec.voice.pitch;
  voice.espeak.words_per_minute = std::clamp(voice.profile.words_per_minute,
                                             kMinEspeakWordsPerMinute, kMaxEspeakWordsPerMinute);
  return voice;
}

namespace {

// One line of espeak-ng speech, its leading and trailing silence cut.
bool Speak(const std::string& text, const fakes::EspeakVoiceSpec& spec, std::vector<int16_t>* out,
           std::string* error) {
  if (!fakes::EspeakSynth::Shared().Synthesize(text, spec, out, error)) return false;
  fakes::TrimEspeakSilence(out);
  return true;
}

}  // namespace

EncodedUtterance EncodeUtterance(const std::vector<SpeechSegment>& segments, const CallerVoice& voice,
                          agent::Rng* variation, std::string* error) {
  EncodedUtterance u;
  bool spoke = false;
  int64_t pause_samples = 0;  // silence owed before the next words
  for (const SpeechSegment& segment : segments) {
    std::vector<int16_t> words;
    if (voice.engine == VoiceEngine::kEspeak) {
      std::string why;
      if (!Speak(segment.text, voice.espeak, &words, &why)) {
        if (error != nullptr) *error = why;
        return u;
      }
    } else {
      words = fakes::EncodeSpeech(segment.text, voice.profile, variation).samples;
    }
    if (!words.empty()) {
      u.samples.insert(u.samples.end(), static_cast<size_t>(pause_samples), 0);
      if (!spoke) u.speech_begin = u.samples.size();
      u.samples.insert(u.samples.end(), words.begin(), words.end());
      spoke = true;
      pause_samples = 0;
    }
    const double pause_ms = std::max(0.0, segment.pause_after_ms * voice.pause_scale);
    pause_samples += std::llround(pause_ms * agent::kSampleRateHz / 1000.0);
  }
  return u;
}

}  // namespace callsim::harness
