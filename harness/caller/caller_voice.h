// The voice one simulated caller speaks with: the scenario's speaking rate and pauses, scaled by
// this caller's own seeded draws (caller.variation), and the builder of its `say` utterances,
// whose inline [pause N] markers become silence inside one utterance. The words are the word
// modem's or, with caller.voice.engine espeak, real speech from espeak-ng.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/sample_source.h"
#include "agent/runtime/rng.h"
#include "fakes/modem/word_modem.h"
#include "fakes/voice/espeak_voice.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

inline constexpr double kMinRateFactor = 0.5;
inline constexpr double kMaxRateFactor = 1.5;
inline constexpr double kMinPauseScale = 0.3;
inline constexpr double kMaxPauseScale = 3;

struct CallerVoice {
  fakes::VoiceProfile profile;  // words_per_minute and the comma / sentence pauses already scaled
  double rate_factor = 1;       // applied to words_per_minute
  double pause_scale = 1;       // applied to the profile's pauses and to [pause N] markers
  VoiceEngine engine = VoiceEngine::kModem;
  // Engine espeak: the voice, with words_per_minute scaled and held to espeak-ng's 80 to 450.
  fakes::EspeakVoiceSpec espeak;
};

// What espeak-ng can say: the rate a caller's voice is held to.
inline constexpr double kMinEspeakWordsPerMinute = 80;
inline constexpr double kMaxEspeakWordsPerMinute = 450;
using fakes::kEspeakSilenceLevel;

// Draws, in this order, rate_factor ~ Normal(1, variation.rate) clamped to [kMinRateFactor,
// kMaxRateFactor] and pause_scale ~ Normal(1, variation.pauses) clamped to [kMinPauseScale,
// kMaxPauseScale]; both draws are always made, so a zero stddev gives exactly 1.
CallerVoice DrawCallerVoice(const CallerSpec& spec, agent::Rng& rng);

// An utterance as a source of samples: the word modem's bursts are made as the caller speaks them
// (a caller holds its words, not 32 KB a second of samples); espeak-ng's are held.
struct EncodedUtterance {
  std::shared_ptr<const agent::SampleSource> audio;  // 16 kHz; size 0 when no segment has words
  size_t speech_begin = 0;  // the first sample of speech, after any leading pause

  int64_t size() const { return audio->size(); }
  // Every sample, made now.
  std::vector<int16_t> Samples() const;
};

// Each segment through the word modem (fakes::EncodeSpeech with `variation`, in order) or
// espeak-ng (fakes::EspeakSynth::Shared(), trimmed of its silence at both ends; `variation` is
// not drawn from), then its pause_after_ms * pause_scale of silence; a pause after the last words
// is not part of the utterance, which ends at its last spoken sample. When espeak-ng fails, the
// utterance holds what was said before and *error (if non-null) says why.
EncodedUtterance EncodeUtterance(const std::vector<SpeechSegment>& segments, const CallerVoice& voice,
                          agent::Rng* variation, std::string* error = nullptr);

}  // namespace callsim::harness
