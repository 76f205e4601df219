#include "harness/caller/noise_source.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <mutex>

#include "agent/media/frame.h"
#include "agent/runtime/check.h"
#include "fakes/modem/vocabulary.h"
#include "fakes/modem/word_modem.h"
#include "fakes/voice/espeak_voice.h"
#include "harness/caller/audio_file.h"

namespace callsim::harness {
namespace {

// ---- white ----

// Each sample is the sum of four 8-bit uniforms (the bytes of 32 random bits): mean 510,
// variance 4 * (256^2 - 1) / 12, 1,021 levels (steps of 0.007 sigma); one 64-bit draw makes two.
constexpr float kFourBytesMean = 510;
const float kFourBytesScale = static_cast<float>(1.0 / std::sqrt(4 * (256.0 * 256.0 - 1) / 12.0));

inline float FourBytesSample(uint32_t bits) {
  const uint32_t pairs = (bits & 0x00ff00ff) + ((bits >> 8) & 0x00ff00ff);  // two sums of two bytes
  const uint32_t sum = (pairs & 0xffff) + (pairs >> 16);
  return (static_cast<float>(sum) - kFourBytesMean) * kFourBytesScale;
}

// Unit-variance white samples, two per Rng draw; the output does not depend on how the caller
// splits its Render calls.
class WhiteGenerator {
 public:
  explicit WhiteGenerator(agent::Rng rng) : rng_(rng) {}
  void Render(float* out, int count) {
    int i = 0;
    if (count > 0 && has_spare_) {
      out[i++] = FourBytesSample(spare_);
      has_spare_ = false;
    }
    for (; i + 1 < count; i += 2) {
      const uint64_t bits = rng_.NextU64();
      out[i] = FourBytesSample(static_cast<uint32_t>(bits));
      out[i + 1] = FourBytesSample(static_cast<uint32_t>(bits >> 32));
    }
    if (i < count) {
      const uint64_t bits = rng_.NextU64();
      out[i] = FourBytesSample(static_cast<uint32_t>(bits));
      spare_ = static_cast<uint32_t>(bits >> 32);
      has_spare_ = true;
    }
  }

 private:
  agent::Rng rng_;
  uint32_t spare_ = 0;
  bool has_spare_ = false;
};

class WhiteNoise final : public NoiseSource {
 public:
  explicit WhiteNoise(agent::Rng rng) : white_(rng) {}
  void Render(float* out, int count) override { white_.Render(out, count); }

 private:
  WhiteGenerator white_;
};

// ---- pink ----

// Paul Kellet's economy filter (music-dsp archive, "pink noise filter"): three one-pole sections
// plus a direct path, -3 dB/octave within 0.5 dB above 9.2 Hz at 44.1 kHz (3.3 Hz at 16 kHz).
// Chosen over his refined seven-term filter (0.05 dB) at half the cost per sample: half a dB of
// ripple is inaudible in background noise, the cost is paid by every caller every frame.
constexpr int kPinkPoles = 3;
constexpr std::array<double, kPinkPoles> kPinkPole = {0.99765, 0.96300, 0.57000};
constexpr std::array<double, kPinkPoles> kPinkGain = {0.0990460, 0.2965164, 1.0526913};
constexpr double kPinkDirect = 0.1848;

// The filter's output power for unit-variance white input: the sum of its squared impulse
// response h[n] = sum_i g_i a_i^n (+ direct at n = 0), in closed form.
double PinkPowerGain() {
  double power = 0, h0 = 0;
  for (int i = 0; i < kPinkPoles; ++i) {
    h0 += kPinkGain[i];
    for (int j = 0; j < kPinkPoles; ++j) {
      power += kPinkGain[i] * kPinkGain[j] / (1 - kPinkPole[i] * kPinkPole[j]);
    }
  }
  // Replace the poles-only term at n = 0 with the full one.
  return power + (h0 + kPinkDirect) * (h0 + kPinkDirect) - h0 * h0;
}

class PinkNoise final : public NoiseSource {
 public:
  explicit PinkNoise(agent::Rng rng)
      : white_(rng), scale_(static_cast<float>(1.0 / std::sqrt(PinkPowerGain()))) {}
  void Render(float* out, int count) override {
    white_.Render(out, count);  // filtered in place
    // Single precision is plenty: the slowest pole forgets within a few hundred samples.
    constexpr float a0 = kPinkPole[0], a1 = kPinkPole[1], a2 = kPinkPole[2];
    constexpr float g0 = kPinkGain[0], g1 = kPinkGain[1], g2 = kPinkGain[2], d = kPinkDirect;
    float b0 = state_[0], b1 = state_[1], b2 = state_[2];
    for (int i = 0; i < count; ++i) {
      const float white = out[i];
      b0 = a0 * b0 + g0 * white;
      b1 = a1 * b1 + g1 * white;
      b2 = a2 * b2 + g2 * white;
      out[i] = (b0 + b1 + b2 + d * white) * scale_;
    }
    state_ = {b0, b1, b2};
  }

 private:
  WhiteGenerator white_;
  float scale_;
  std::array<float, kPinkPoles> state_{};
};

// ---- babble ----

constexpr double kSamplesPerMs = agent::kSampleRateHz / 1000.0;
// The word modem's own pacing rules: gaps between bursts of at least 60 ms (the decoder needs a
// quiet moment), a longer pause at a comma.
constexpr double kMinWordGapMs = 60;
constexpr double kCommaPauseMs = 300;
constexpr double kCommaProbability = 0.15;

// The real-voice babble's clips: kEspeakBabbleSentences sentences in each of kEspeakBabbleVoices
// voices, indexed [voice * kEspeakBabbleSentences + sentence].
using BabbleClips = std::vector<std::vector<int16_t>>;

constexpr const char* kBabbleVoiceNames[kEspeakBabbleVoices] = {"en-us+m3", "en-us+f4",
                                                                "en-us+m1", "en-us+f3"};
constexpr const char* kBabbleSentenceTexts[kEspeakBabbleSentences] = {
    "I told him we would meet at the station after lunch.",
    "The weather has been strange all week, hasn't it?",
    "She said the report would be ready by Friday.",
    "Can you pass me the menu? I haven't decided yet.",
    "We drove past the old mill on the way into town.",
    "My brother is moving to a new flat next month.",
    "The meeting ran long, so I missed the early train.",
    "Honestly, the second film was better than the first.",
    "They are painting the kitchen a pale shade of green.",
    "If it rains tomorrow we can go to the museum instead.",
    "He always orders the same thing every single time.",
    "The children were playing in the garden until dark.",
};

// Synthesised on first use and kept for the process; null with *error when espeak-ng fails.
const BabbleClips* EspeakBabbleClips(std::string* error) {
  static std::once_flag once;
  static std::unique_ptr<BabbleClips> clips;
  static std::string failure;
  std::call_once(once, [] {
    auto made = std::make_unique<BabbleClips>();
    for (const char* voice : kBabbleVoiceNames) {
      fakes::EspeakVoiceSpec spec;
      spec.voice = voice;
      spec.words_per_minute = 165;
      for (const char* text : kBabbleSentenceTexts) {
        std::vector<int16_t> samples;
        if (!fakes::EspeakSynth::Shared().Synthesize(text, spec, &samples, &failure)) {
          failure = "babble (espeak-ng " + std::string(voice) + "): " + failure;
          return;
        }
        fakes::TrimEspeakSilence(&samples);
        made->push_back(std::move(samples));
      }
    }
    clips = std::move(made);
  });
  if (!clips && error != nullptr) *error = failure;
  return clips.get();
}

class BabbleNoise final : public NoiseSource {
 public:
  // `clips` null: word-modem talkers; else real voices from these (which outlive the noise).
  BabbleNoise(int talkers, agent::Rng rng, const BabbleClips* clips);
  void Render(float* out, int count) override;
  void set_scale(float scale) { scale_ = scale; }

 private:
  // One voice. It holds only the word it is saying (encoded when the word starts), not the whole
  // utterance: memory is per call, and a caller may hear sixteen talkers.
  struct Talker {
    explicit Talker(agent::Rng r) : rng(r) {}
    agent::Rng rng;
    fakes::VoiceProfile voice;
    int words_left = 0;           // in the current utterance, after the one being said
    std::vector<int16_t> burst;   // the word being said (word-modem talkers)
    const std::vector<int16_t>* clip = nullptr;  // the sentence being said (real voices)
    int voice_index = 0;          // real voices: which of kBabbleVoiceNames
    float gain = 1;               // real voices: the talker's level
    size_t burst_position = 0;    // == the burst's size: between words
    int64_t silence_samples = 0;  // before the next word
    const std::vector<int16_t>& Burst() const { return clip != nullptr ? *clip : burst; }
  };

  void NextWord(Talker& talker);
  void EndWord(Talker& talker);
  void RenderTalker(Talker& talker, float* out, int count);

  std::vector<Talker> talkers_;
  const BabbleClips* clips_ = nullptr;
  float scale_ = 1;
};

BabbleNoise::BabbleNoise(int talkers, agent::Rng rng, const BabbleClips* clips) : clips_(clips) {
  talkers_.reserve(static_cast<size_t>(talkers));
  for (int i = 0; i < talkers; ++i) {
    Talker& t = talkers_.emplace_back(rng.Fork("talker/" + std::to_string(i)));
    t.voice.words_per_minute = t.rng.Uniform(130, 190);
    t.voice.level_dbfs = -20 - t.rng.Uniform(0, 6);
    t.voice_index = i % kEspeakBabbleVoices;
    t.gain = static_cast<float>(std::pow(10.0, (t.voice.level_dbfs + 20) / 20));
    // Join somewhere in an utterance or the pause before one, so the talkers are not in step.
    t.words_left = static_cast<int>(t.rng.UniformInt(kMaxBabbleUtteranceWords));
    t.silence_samples = std::llround(t.rng.Uniform(0, 2000) * kSamplesPerMs);
  }
}

// Starts the next word, and a new utterance of 2..kMaxBabbleUtteranceWords words if the last one
// is over. The word is any vocabulary word but <unk>.
void BabbleNoise::NextWord(Talker& t) {
  t.burst_position = 0;
  if (clips_ != nullptr) {  // a real voice says a whole sentence
    const size_t sentence = t.rng.UniformInt(kEspeakBabbleSentences);
    t.clip = &(*clips_)[static_cast<size_t>(t.voice_index) * kEspeakBabbleSentences + sentence];
    t.words_left = 0;
    return;
  }
  if (t.words_left == 0) {
    t.words_left = 2 + static_cast<int>(t.rng.UniformInt(kMaxBabbleUtteranceWords - 1));
  }
  --t.words_left;
  const fakes::Vocabulary& vocabulary = fakes::Vocabulary::Builtin();
  const int index = 1 + static_cast<int>(t.rng.UniformInt(vocabulary.size() - 1));
  t.burst = fakes::EncodeSpeech(vocabulary.WordAt(index), t.voice, nullptr).samples;
  t.burst_position = 0;
}

// The silence after a word: a word gap at the talker's pace (varied by +-30%), a comma pause, or
// the pause between utterances.
void BabbleNoise::EndWord(Talker& t) {
  double gap_ms;
  if (t.words_left == 0) {
    gap_ms = t.rng.Uniform(300, 2000);
  } else if (t.rng.Bernoulli(kCommaProbability)) {
    gap_ms = kCommaPauseMs * t.rng.Uniform(0.7, 1.3);
  } else {
    const double word_gap_ms = 60000.0 / t.voice.words_per_minute - fakes::kWordBurstMs;
    gap_ms = std::max(kMinWordGapMs, word_gap_ms * t.rng.Uniform(0.7, 1.3));
  }
  t.silence_samples = std::llround(gap_ms * kSamplesPerMs);
}

void BabbleNoise::Render(float* out, int count) {
  std::fill_n(out, count, 0.0f);
  for (Talker& t : talkers_) RenderTalker(t, out, count);
}

void BabbleNoise::RenderTalker(Talker& t, float* out, int count) {
  int done = 0;
  while (done < count) {
    if (t.silence_samples > 0) {
      const int take = static_cast<int>(std::min<int64_t>(count - done, t.silence_samples));
      t.silence_samples -= take;
      done += take;
      continue;
    }
    if (t.burst_position == t.Burst().size()) NextWord(t);
    const std::vector<int16_t>& burst = t.Burst();
    const int take = static_cast<int>(
        std::min<size_t>(static_cast<size_t>(count - done), burst.size() - t.burst_position));
    const int16_t* src = burst.data() + t.burst_position;
    const float scale = clips_ != nullptr ? scale_ * t.gain : scale_;
    for (int i = 0; i < take; ++i) out[done + i] += scale * src[i];
    t.burst_position += static_cast<size_t>(take);
    done += take;
    if (t.burst_position == burst.size()) EndWord(t);
  }
}

// RMS of the next `seconds` of `source` (which it consumes).
double MeasureRms(NoiseSource& source, double seconds) {
  std::array<float, agent::kFrameSamples> frame;
  const int frames = static_cast<int>(std::ceil(seconds * 1000 / agent::kFrameMs));
  double sum = 0;
  for (int f = 0; f < frames; ++f) {
    source.Render(frame.data(), agent::kFrameSamples);
    for (float v : frame) sum += static_cast<double>(v) * v;
  }
  return std::sqrt(sum / (static_cast<double>(frames) * agent::kFrameSamples));
}

// ---- file ----

class FileNoise final : public NoiseSource {
 public:
  FileNoise(std::shared_ptr<const NoiseClip> clip, agent::Rng rng)
      : clip_(std::move(clip)),
        position_(static_cast<size_t>(rng.UniformInt(clip_->samples.size()))) {}
  void Render(float* out, int count) override {
    const std::vector<float>& samples = clip_->samples;
    int done = 0;
    while (done < count) {
      const size_t take =
          std::min<size_t>(static_cast<size_t>(count - done), samples.size() - position_);
      std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(position_), take, out + done);
      done += static_cast<int>(take);
      position_ += take;
      if (position_ == samples.size()) position_ = 0;
    }
  }

 private:
  std::shared_ptr<const NoiseClip> clip_;
  size_t position_;
};

std::shared_ptr<const NoiseClip> CachedNoiseClip(const std::string& path, std::string* error) {
  return CachedClip<NoiseClip>(path, error, &LoadNoiseClip);
}

}  // namespace

std::unique_ptr<NoiseSource> MakeWhiteNoise(agent::Rng rng) {
  return std::make_unique<WhiteNoise>(rng);
}

std::unique_ptr<NoiseSource> MakePinkNoise(agent::Rng rng) {
  return std::make_unique<PinkNoise>(rng);
}

std::unique_ptr<NoiseSource> MakeBabbleNoise(int talkers, agent::Rng rng, VoiceEngine voices,
                                             std::string* error) {
  CALLSIM_CHECK(talkers >= 1 && talkers <= kMaxBabbleTalkers);
  const BabbleClips* clips = nullptr;
  if (voices == VoiceEngine::kEspeak) {
    clips = EspeakBabbleClips(error);
    if (clips == nullptr) return nullptr;
  }
  auto babble = std::make_unique<BabbleNoise>(talkers, rng, clips);
  // Measure a copy, so the audio played from the start is the audio measured.
  BabbleNoise probe = *babble;
  const double rms = MeasureRms(probe, kBabbleNormalizeSeconds);
  // Every talker starts somewhere in its first utterance and pauses at most 2 s, so some speech
  // falls into the window; guard anyway.
  babble->set_scale(static_cast<float>(1.0 / (rms > 0 ? rms : 32768.0)));
  return babble;
}

std::shared_ptr<const NoiseClip> LoadNoiseClip(const std::string& path, std::string* error) {
  const std::string where = "noise file " + path + ": ";
  DecodedAudio audio;
  if (!DecodeAudioFile(path, kMaxNoiseFileSeconds, &audio, error)) {
    *error = where + *error;
    return nullptr;
  }
  auto clip = std::make_shared<NoiseClip>();
  clip->source_rate_hz = audio.source_rate_hz;
  clip->source_channels = audio.source_channels;
  clip->samples = std::move(audio.samples);
  double sum = 0;
  for (float v : clip->samples) sum += static_cast<double>(v) * v;
  const double rms = clip->samples.empty() ? 0 : std::sqrt(sum / clip->samples.size());
  if (!(rms > 1e-7)) {
    *error = where + "silent";
    return nullptr;
  }
  for (float& v : clip->samples) {
    v = std::clamp(static_cast<float>(v / rms), -kMaxNoiseSample, kMaxNoiseSample);
  }
  return clip;
}

std::unique_ptr<NoiseSource> MakeFileNoise(std::shared_ptr<const NoiseClip> clip, agent::Rng rng) {
  CALLSIM_CHECK(clip && !clip->samples.empty());
  return std::make_unique<FileNoise>(std::move(clip), rng);
}

std::unique_ptr<NoiseSource> MakeNoiseSource(const NoiseSpec& spec, agent::Rng rng,
                                             std::string* error, VoiceEngine babble_voices) {
  error->clear();
  CALLSIM_CHECK(kNoiseTypeNames.Contains(spec.type));
  switch (spec.type) {
    case NoiseType::kNone: return nullptr;
    case NoiseType::kWhite: return MakeWhiteNoise(rng);
    case NoiseType::kPink: return MakePinkNoise(rng);
    case NoiseType::kBabble:
      if (spec.talkers < 1 || spec.talkers > kMaxBabbleTalkers) {
        *error = "noise.talkers must be in [1, " + std::to_string(kMaxBabbleTalkers) + "] (got " +
                 std::to_string(spec.talkers) + ")";
        return nullptr;
      }
      return MakeBabbleNoise(spec.talkers, rng, babble_voices, error);
    case NoiseType::kFile: {
      std::shared_ptr<const NoiseClip> clip = CachedNoiseClip(spec.file, error);
      return clip ? MakeFileNoise(std::move(clip), rng) : nullptr;
    }
  }
  return nullptr;
}

}  // namespace callsim::harness
