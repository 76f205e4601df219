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

std::vector<int16_t> EncodedUtterance::Samples() const {
  std::vector<int16_t> samples(static_cast<size_t>(audio->size()));
  if (!samples.empty()) audio->Read(0, static_cast<int>(samples.size()), samples.data());
  return samples;
}

EncodedUtterance EncodeUtterance(const std::vector<SpeechSegment>& segments, const CallerVoice& voice,
                                 agent::Rng* variation, std::string* error) {
  EncodedUtterance u;
  // The modem's words are placed in one ModemSpeech at their offsets; espeak-ng's samples are
  // laid end to end with the silences between them.
  auto modem = std::make_shared<fakes::ModemSpeech>(voice.profile.level_dbfs);
  std::vector<int16_t> held;
  int64_t end = 0;  // one past the last spoken sample so far
  bool spoke = false;
  int64_t pause_samples = 0;  // silence owed before the next words
  auto finish = [&] {
    if (voice.engine == VoiceEngine::kEspeak) {
      u.audio = std::make_shared<const agent::HeldSamples>(std::move(held));
    } else {
      u.audio = std::move(modem);
    }
    return std::move(u);
  };
  for (const SpeechSegment& segment : segments) {
    int64_t words = 0;  // samples of this segment's speech
    if (voice.engine == VoiceEngine::kEspeak) {
      std::vector<int16_t> speech;
      std::string why;
      if (!Speak(segment.text, voice.espeak, &speech, &why)) {
        if (error != nullptr) *error = why;
        return finish();
      }
      words = static_cast<int64_t>(speech.size());
      if (words > 0) {
        held.insert(held.end(), static_cast<size_t>(pause_samples), 0);
        held.insert(held.end(), speech.begin(), speech.end());
      }
    } else {
      const fakes::SpeechPlan plan = fakes::PlanSpeech(segment.text, voice.profile, variation);
      words = plan.samples;
      if (words > 0) modem->Append(plan, end + pause_samples);
    }
    if (words > 0) {
      if (!spoke) u.speech_begin = static_cast<size_t>(end + pause_samples);
      end += pause_samples + words;
      spoke = true;
      pause_samples = 0;
    }
    const double pause_ms = std::max(0.0, segment.pause_after_ms * voice.pause_scale);
    pause_samples += std::llround(pause_ms * agent::kSampleRateHz / 1000.0);
  }
  return finish();
}

}  // namespace callsim::harness
