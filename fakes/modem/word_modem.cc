// The encoder half of the word modem (the decoder is in modem_decoder.cc).
#include "fakes/modem/word_modem.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "agent/text/words.h"
#include "fakes/modem/modem_symbols.h"
#include "fakes/modem/vocabulary.h"

namespace callsim::fakes {
namespace {

using namespace modem;

constexpr double kPi = 3.14159265358979323846;
constexpr double kSamplesPerMs = agent::kSampleRateHz / 1000.0;
static_assert(kBurstSamples == kWordBurstMs * agent::kSampleRateHz / 1000);

// Speakers pause at punctuation, so the word rhythm runs faster than the overall rate: with a
// comma or sentence end every ~10 words, 90% of the nominal period per word comes out at the
// nominal rate overall.
constexpr double kRhythmShare = 0.9;
constexpr double kMinGapMs = 60;  // the decoder needs a quiet moment between bursts
constexpr double kMinWordsPerMinute = 40;
constexpr double kMaxWordsPerMinute = 600;
// Speech energy falls across a word; a decline of a quarter is audible to VAD, harmless to tones.
constexpr double kEnvelopeDecline = 0.25;

enum class Pause { kWord, kClause, kSentence };

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Pause PunctuationPause(std::string_view text, size_t i) {
  const char c = text[i];
  const bool next_alnum = i + 1 < text.size() && IsAlnum(text[i + 1]);
  if (c == '!' || c == '?') return Pause::kSentence;
  if (c == '.') return next_alnum ? Pause::kWord : Pause::kSentence;  // "3.5" is not a sentence end
  if (c == ',' || c == ';' || c == ':') return Pause::kClause;
  if (c == '-') {
    const bool spaced = (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '-')) ||
                        (i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '-'));
    return spaced ? Pause::kClause : Pause::kWord;  // "twenty-one" runs on
  }
  return Pause::kWord;
}

// The pause after each of the `word_count` words, from the punctuation between them. Words are
// found with agent::NormalizeWords' rule; if the counts disagree, every pause is a word gap.
std::vector<Pause> PausesAfterWords(std::string_view text, size_t word_count) {
  std::vector<Pause> pauses(word_count, Pause::kWord);
  int64_t word = -1;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool word_char =
        IsAlnum(c) || (c == '\'' && in_word && i + 1 < text.size() && IsAlnum(text[i + 1]));
    if (word_char) {
      if (!in_word) ++word;
      in_word = true;
      continue;
    }
    in_word = false;
    if (word < 0 || static_cast<size_t>(word) >= word_count) continue;
    pauses[word] = std::max(pauses[word], PunctuationPause(text, i));
  }
  if (static_cast<size_t>(word + 1) != word_count)
    std::fill(pauses.begin(), pauses.end(), Pause::kWord);
  return pauses;
}

// Gap lengths in samples after each word but the last, drawing from `variation` if given.
std::vector<int64_t> GapSamples(const std::vector<Pause>& pauses, const VoiceProfile& voice,
                                agent::Rng* variation) {
  const double wpm = std::clamp(voice.words_per_minute, kMinWordsPerMinute, kMaxWordsPerMinute);
  const double word_gap_ms = 60000.0 / wpm * kRhythmShare - kWordBurstMs;
  const double rate = variation ? std::clamp(variation->Normal(1.0, 0.06), 0.85, 1.15) : 1.0;
  std::vector<int64_t> gaps;
  for (size_t i = 0; i + 1 < pauses.size(); ++i) {
    double gap_ms = word_gap_ms;
    if (pauses[i] == Pause::kClause) gap_ms = voice.comma_pause_ms;
    if (pauses[i] == Pause::kSentence) gap_ms = voice.sentence_pause_ms;
    if (variation) gap_ms *= rate * std::clamp(variation->Normal(1.0, 0.2), 0.6, 1.4);
    gaps.push_back(std::llround(std::max(gap_ms, kMinGapMs) * kSamplesPerMs));
  }
  return gaps;
}

// Waveform pieces shared by every burst, computed once: the 8 tones over one symbol (each symbol
// starts at phase 0; its ramps make that click-free) and the burst's amplitude envelope.
struct BurstTables {
  std::array<std::array<float, kSymbolSamples>, kToneCount> tones;
  std::array<float, kBurstSamples> envelope;
  double envelope_rms;  // RMS of envelope, to set the level
};

const BurstTables& Tables() {
  static const BurstTables* const tables = [] {
    auto* t = new BurstTables();
    for (int k = 0; k < kToneCount; ++k) {
      const double hz = k < 4 ? kLowTonesHz[k] : kHighTonesHz[k - 4];
      for (int n = 0; n < kSymbolSamples; ++n) {
        t->tones[k][n] = static_cast<float>(std::sin(2 * kPi * hz * n / agent::kSampleRateHz));
      }
    }
    double sum_squares = 0;
    for (int n = 0; n < kBurstSamples; ++n) {
      const int edge = std::min(n % kSymbolSamples, kSymbolSamples - 1 - n % kSymbolSamples);
      const double ramp = edge >= kEdgeRampSamples
                              ? 1.0
                              : 0.5 - 0.5 * std::cos(kPi * (edge + 0.5) / kEdgeRampSamples);
      const double contour = 1.0 - kEnvelopeDecline * n / kBurstSamples;
      t->envelope[n] = static_cast<float>(ramp * contour);
      sum_squares += t->envelope[n] * t->envelope[n];
    }
    t->envelope_rms = std::sqrt(sum_squares / kBurstSamples);
    return t;
  }();
  return *tables;
}

float BurstAmplitude(double level_dbfs) {
  // Two tones of amplitude a have power a^2; the envelope scales that by its mean square.
  const double rms = 32768.0 * std::pow(10.0, level_dbfs / 20.0);
  return static_cast<float>(rms / Tables().envelope_rms);
}

// Samples [from, to) of the burst of `vocab_index` (0 <= from < to <= kBurstSamples) into out.
// Each sample depends on its position alone, so any slice of a burst is the same samples.
void WriteBurst(int vocab_index, bool turn_end, float amplitude, int from, int to, int16_t* out) {
  const BurstTables& t = Tables();
  const std::array<int, kSymbolsPerWord> symbols = SymbolsOf(vocab_index, turn_end);
  for (int s = from / kSymbolSamples; s < kSymbolsPerWord && s * kSymbolSamples < to; ++s) {
    const auto& low = t.tones[LowTone(symbols[s])];
    const auto& high = t.tones[4 + HighTone(symbols[s])];
    const int begin = std::max(from, s * kSymbolSamples) - s * kSymbolSamples;
    const int end = std::min(to, (s + 1) * kSymbolSamples) - s * kSymbolSamples;
    const float* envelope = t.envelope.data() + s * kSymbolSamples;
    int16_t* dst = out + (s * kSymbolSamples + begin - from);
    for (int n = begin; n < end; ++n, ++dst) {
      const float v = std::clamp(amplitude * envelope[n] * (low[n] + high[n]), -32768.0f, 32767.0f);
      *dst = static_cast<int16_t>(v < 0 ? v - 0.5f : v + 0.5f);  // round half away from zero
    }
  }
}

// The samples of one word's whole burst at one amplitude, made once per thread: every caller and
// every reply says the same few hundred words at the same few levels, and copying a burst costs a
// tenth of making it. nullptr once kMaxCachedBursts are held (the caller then makes the samples).
constexpr size_t kMaxCachedBursts = 512;  // 3.6 MB a thread at most
using BurstSamples = std::array<int16_t, kBurstSamples>;

const int16_t* CachedBurst(int vocab_index, bool turn_end, float amplitude) {
  thread_local std::unordered_map<uint64_t, std::unique_ptr<BurstSamples>> cache;
  uint32_t amplitude_bits;
  std::memcpy(&amplitude_bits, &amplitude, sizeof amplitude_bits);
  static_assert(kMaxIndex < (1 << 16));
  const uint64_t key = (uint64_t{amplitude_bits} << 32) | (turn_end ? uint64_t{1} << 16 : 0) |
                       static_cast<uint32_t>(vocab_index);
  if (auto it = cache.find(key); it != cache.end()) return it->second->data();
  if (cache.size() >= kMaxCachedBursts) return nullptr;
  auto burst = std::make_unique<BurstSamples>();
  WriteBurst(vocab_index, turn_end, amplitude, 0, kBurstSamples, burst->data());
  return cache.emplace(key, std::move(burst)).first->second->data();
}

}  // namespace

SpeechPlan PlanSpeech(std::string_view text, const VoiceProfile& voice, agent::Rng* variation) {
  SpeechPlan plan;
  std::vector<std::string> words = agent::NormalizeWords(text);
  if (words.empty()) return plan;
  const std::vector<int64_t> gaps =
      GapSamples(PausesAfterWords(text, words.size()), voice, variation);
  const Vocabulary& vocabulary = Vocabulary::Builtin();
  plan.words.reserve(words.size());
  int64_t cursor = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    const int index = vocabulary.IndexOf(words[i]);
    plan.words.push_back({std::move(words[i]), index, cursor, cursor + kBurstSamples});
    cursor += kBurstSamples;
    if (i < gaps.size()) cursor += gaps[i];
  }
  plan.words.back().turn_end = true;
  plan.samples = cursor;
  return plan;
}

ModemSpeech::ModemSpeech(double level_dbfs)
    : agent::SampleSource(0), amplitude_(BurstAmplitude(level_dbfs)) {}

void ModemSpeech::Append(const SpeechPlan& plan, int64_t offset) {
  offset = std::max(offset, size());
  // One turn: the words before a pause the speaker goes on after do not yield it.
  if (!plan.words.empty() && !bursts_.empty()) bursts_.back().turn_end = false;
  bursts_.reserve(bursts_.size() + plan.words.size());
  for (const WordTiming& word : plan.words) {
    bursts_.push_back({offset + word.start_sample, word.vocab_index, word.turn_end});
  }
  set_size(offset + plan.samples);
}

void ModemSpeech::PadTo(int64_t samples) { set_size(std::max(size(), samples)); }

void ModemSpeech::Read(int64_t pos, int count, int16_t* out) const {
  std::fill(out, out + count, int16_t{0});
  const int64_t end = pos + count;
  // The first burst that ends after pos.
  auto it = std::upper_bound(bursts_.begin(), bursts_.end(), pos - kBurstSamples,
                             [](int64_t at, const Burst& b) { return at < b.start; });
  for (; it != bursts_.end() && it->start < end; ++it) {
    const int64_t from = std::max(pos, it->start);
    const int64_t to = std::min(end, it->start + kBurstSamples);
    if (const int16_t* burst = CachedBurst(it->vocab_index, it->turn_end, amplitude_)) {
      std::memcpy(out + (from - pos), burst + (from - it->start),
                  static_cast<size_t>(to - from) * sizeof(int16_t));
    } else {
      WriteBurst(it->vocab_index, it->turn_end, amplitude_, static_cast<int>(from - it->start),
                 static_cast<int>(to - it->start), out + (from - pos));
    }
  }
}

ModemAudio EncodeSpeech(std::string_view text, const VoiceProfile& voice, agent::Rng* variation) {
  SpeechPlan plan = PlanSpeech(text, voice, variation);
  ModemSpeech speech(voice.level_dbfs);
  speech.Append(plan, 0);
  ModemAudio audio;
  audio.samples.resize(static_cast<size_t>(speech.size()));
  speech.Read(0, static_cast<int>(speech.size()), audio.samples.data());
  audio.words = std::move(plan.words);
  return audio;
}

}  // namespace callsim::fakes
