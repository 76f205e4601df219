// Real synthesised speech for simulated callers, from espeak-ng: text in, 16 kHz mono samples
// out, bit-identical for the same text and voice across runs and processes.
//
// libespeak-ng is only reproducible for the first utterance of a process (its internal state
// drifts from one synthesis to the next, it cannot be re-initialised, and it is not thread-safe),
// so every utterance not in the cache is spoken by a fresh helper process, callsim-espeak
// (tools/callsim_espeak.cc), at espeak-ng's native 22050 Hz, and resampled here to 16 kHz with
// libsoxr (high quality, no dither). An LRU cache bounded in bytes keeps repeated lines from
// costing a process each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace callsim::fakes {

// The sample rate of EspeakSynth's output.
inline constexpr int kEspeakOutputRateHz = 16000;

struct EspeakVoiceSpec {
  std::string voice = "en-us+f2";  // an espeak-ng voice, optionally with a variant ("+m3")
  double words_per_minute = 160;   // espeak's -s, 80..450 (rounded to a whole number)
  int pitch = 50;                  // 0..99
};

// Validates the spec: the voice name has only letters, digits, '-', '+' and '_' (it is passed to
// the helper as an argument) and the numbers are in range. Returns false and sets `error` (if
// non-null) otherwise. Whether the voice exists is known only when the helper runs.
bool ValidateEspeakVoice(const EspeakVoiceSpec& spec, std::string* error);

// The text as the SSML espeak-ng is given: '<', '>', '&', '"' and '\'' are XML-escaped, and each
// "[pause N]" (N milliseconds, 0..10000) becomes <break time="Nms"/>. A bracket that is not a
// well-formed pause is kept as text. Between two words a pause adds a little more than N ms
// (espeak-ng adds a phrase boundary); right after punctuation it replaces that mark's own pause.
std::string EspeakSsml(std::string_view text);

// The helper's path: $CALLSIM_ESPEAK if set and not empty; else "callsim-espeak" beside the
// running executable if it exists there; else the one the build produced (CALLSIM_ESPEAK_HELPER).
std::string EspeakHelperPath();

// A process-wide, thread-safe synthesiser with an LRU cache bounded in bytes, keyed by the text,
// the voice, the rounded rate and the pitch. Helper processes run outside the lock, so several
// threads synthesise in parallel; two threads asking for the same uncached line may both run the
// helper (both get the same samples).
class EspeakSynth {
 public:
  static constexpr size_t kDefaultCacheBytes = size_t{64} << 20;
  // The most audio one utterance may produce before it is refused, and how long the helper may
  // take before it is killed.
  static constexpr int kMaxAudioSeconds = 120;
  static constexpr int kHelperTimeoutMs = 20000;
  // Text longer than this (after SSML conversion) is refused.
  static constexpr size_t kMaxTextBytes = size_t{64} << 10;

  // The shared instance (kDefaultCacheBytes), created on first use and never destroyed.
  static EspeakSynth& Shared();

  // `cache_bytes` bounds the samples kept (an utterance bigger than it is not cached at all).
  explicit EspeakSynth(size_t cache_bytes);
  EspeakSynth(const EspeakSynth&) = delete;
  EspeakSynth& operator=(const EspeakSynth&) = delete;

  // Sets `out` to the 16 kHz mono samples of `text` (which may contain "[pause N]"). Returns
  // false and sets `error` (if non-null), leaving `out` untouched, when the spec is invalid, the
  // helper is missing, fails (its stderr line is quoted), times out or produces too much audio.
  bool Synthesize(std::string_view text, const EspeakVoiceSpec& spec, std::vector<int16_t>* out,
                  std::string* error);

  struct Stats {
    uint64_t hits = 0;         // Synthesize calls answered from the cache
    uint64_t misses = 0;       // calls that were not (valid spec only)
    uint64_t helper_runs = 0;  // helper processes started
    size_t cached_bytes = 0;   // bytes of samples in the cache now
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const std::vector<int16_t>> samples;
  };
  // Adds (or refreshes) an entry and evicts the least recently used ones beyond the bound.
  void Insert(const std::string& key, std::shared_ptr<const std::vector<int16_t>> samples);

  const size_t cache_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Stats stats_;
};

// espeak-ng's audio below this level (about -60 dBFS) at either end of a line is its own silence,
// not speech.
inline constexpr int kEspeakSilenceLevel = 32;
// Cuts `samples` to run from their first to their last sample above kEspeakSilenceLevel (empty
// when none is): an utterance then starts and ends with its speech, as the word modem's do.
void TrimEspeakSilence(std::vector<int16_t>* samples);

}  // namespace callsim::fakes
