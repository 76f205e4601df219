// The word modem: speech that callsim's fakes understand. EncodeSpeech turns text into audio in
// which every word is a short burst of tones naming its vocabulary index, with speech-like timing
// and envelope (bursts, gaps, longer pauses at commas and sentence ends), so VAD and endpointing
// face realistic input. ModemDecoder hears that audio frame by frame and reports each word with
// the quality it arrived in (SNR, concealment, confidence); the fake STT turns quality into errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/sample_source.h"
#include "agent/runtime/rng.h"

namespace callsim::fakes {

struct VoiceProfile {
  // Overall rate for typical text (a comma or sentence end every ~10 words). Word bursts have a
  // fixed length (220 ms), so only the gaps scale; above ~190 wpm gaps stay at their 60 ms minimum.
  double words_per_minute = 150;
  double level_dbfs = -20;         // RMS during bursts
  double comma_pause_ms = 300;     // after , ; : and a spaced dash
  double sentence_pause_ms = 500;  // after . ! ?
};

struct WordTiming {
  std::string word;  // the normalized word of the text, even when it is not in the vocabulary
  int vocab_index;   // 0 when the word is not in the vocabulary (sent as "<unk>")
  int64_t start_sample;
  int64_t end_sample;  // one past the burst's last sample
  bool turn_end = false;  // the utterance's last word: said with the turn-yielding cue
};

struct ModemAudio {
  std::vector<int16_t> samples;  // 16 kHz mono
  std::vector<WordTiming> words;
};

// The timing of the words of `text` (agent::NormalizeWords; punctuation in the raw text decides
// the pauses), without their samples. It starts at the first burst and ends at the last burst's
// end; no words gives no words and no samples. `variation` null gives nominal timing; otherwise a
// per-utterance rate factor and per-gap jitter are drawn from it, in word order.
struct SpeechPlan {
  std::vector<WordTiming> words;
  int64_t samples = 0;
};
SpeechPlan PlanSpeech(std::string_view text, const VoiceProfile& voice, agent::Rng* variation);

// Modem speech that makes its samples when they are read: a list of word bursts (16 bytes each)
// in place of 32 KB a second. Reading gives exactly the samples EncodeSpeech gives for the same
// plans; between and after the bursts it reads silence (zeros).
class ModemSpeech final : public agent::SampleSource {
 public:
  explicit ModemSpeech(double level_dbfs);
  // The plan's words from `offset` samples on (offset >= size()); the size becomes
  // offset + plan.samples. The speech is one turn: only its last word carries the turn-yielding
  // cue (a plan with words takes it from the word before).
  void Append(const SpeechPlan& plan, int64_t offset);
  // Silence after the last word, to `samples` in all (nothing when the speech is that long).
  void PadTo(int64_t samples);

  void Read(int64_t pos, int count, int16_t* out) const override;

 private:
  struct Burst {
    int64_t start;
    int vocab_index;
    bool turn_end;
  };
  float amplitude_;
  std::vector<Burst> bursts_;  // in time order, never overlapping
};

// The samples of PlanSpeech(text, voice, variation), made at once, with the word timings.
ModemAudio EncodeSpeech(std::string_view text, const VoiceProfile& voice, agent::Rng* variation);

// Nominal length of one word burst.
inline constexpr int kWordBurstMs = 220;

struct DecodedWord {
  std::string word;        // the vocabulary word the digits name, or "<unk>"
  int vocab_index;         // 0 for "<unk>" (unknown word, digits out of range or not heard)
  bool checksum_ok;        // false: a symbol was corrupted or not heard; the word is likely wrong
  double confidence;       // 0..1, how clearly the weakest tone decision stood out
  double snr_db;           // burst power over the noise floor between bursts; 60 for a silent line
  double concealed_share;  // share of the burst's samples that came from loss concealment
  int64_t start_sample;    // onset as detected, in samples since the decoder started
  int64_t end_sample;
  bool turn_end = false;   // the check symbol carried the turn-yielding cue (checksum_ok too)
};

// Streaming decoder for one direction of audio. Lean enough for every frame of every call:
// an integer bandpass energy detector while idle, Goertzel filters at the 8 tones during bursts,
// no allocation except for the words it reports.
class ModemDecoder {
 public:
  ModemDecoder();

  // The next 20 ms of audio, in order.
  void Push(const agent::Frame& frame);
  // Ends a burst in progress now, decoding what was heard (unheard symbols count as lost), and
  // ignores the rest of that burst. Does nothing between bursts.
  void Flush();
  // Words decoded since the last call, in order.
  std::vector<DecodedWord> TakeWords();

  // True while a burst is being decoded (its word is not reported yet).
  bool in_burst() const { return state_ == State::kBurst; }
  // The share of the burst in progress heard so far (0 between bursts).
  double burst_progress() const;
  int64_t samples_seen() const { return samples_seen_; }

 private:
  static constexpr int kBlockSamples = 40;         // 2.5 ms: the unit of detection and alignment
  static constexpr int kHistoryBlocks = 4;         // 10 ms of energy decides an onset
  static constexpr int kConcealedOnsetBlocks = 4;  // half a frame

  enum class State { kIdle, kBurst, kRelease };
  struct BlockStats {
    double band_energy;  // mean square after the bandpass over the tone band
    double wide_energy;  // mean square of the raw samples
    bool concealed;
  };
  struct SymbolDecision {
    bool heard = false;  // false: too much of its window was lost
    int symbol = 0;
    double margin_db[2] = {0, 0};  // best tone over the runner-up, low and high group
  };

  void ProcessBlock(const int16_t* samples, bool concealed);
  BlockStats MeasureBlock(const int16_t* samples, bool concealed);
  void IdleBlock(const int16_t* samples, const BlockStats& stats, int64_t block_start);
  bool DetectOnset(int64_t block_start);
  void StartBurst(int64_t onset_sample);
  void UpdateFloor(const BlockStats& stats);
  void BurstBlock(const int16_t* samples, const BlockStats& stats);
  void AccumulateTones(const int16_t* samples, bool concealed);
  void FinishSymbol();
  void EndBurst(int release_blocks);
  void ReleaseBlock(const BlockStats& stats);
  bool LooksLikeNoise() const;
  void LearnFloorFromBurst();
  void EmitWord();

  State state_ = State::kIdle;
  int64_t samples_seen_ = 0;
  static constexpr int kBandTail = 9;  // the bandpass needs 9 samples of the past
  int16_t band_tail_[kBandTail] = {};
  double floor_band_;  // noise floors (mean squares) measured between bursts
  double floor_wide_;

  // The last idle blocks, kept so that a burst starts at its true onset once it is detected.
  int16_t history_samples_[kHistoryBlocks][kBlockSamples];
  BlockStats history_stats_[kHistoryBlocks];
  int history_head_ = 0;  // slot of the oldest block
  int history_count_ = 0;
  int64_t concealed_until_sample_ = -1;  // end of the latest concealed block seen while idle

  // The burst being decoded.
  int64_t onset_sample_ = 0;
  int burst_blocks_ = 0;                              // blocks of the burst seen so far
  int heard_blocks_ = 0;                              // ... of which not concealed
  double sum_wide_energy_ = 0, sum_band_energy_ = 0;  // over heard blocks
  int window_pos_ = 0;  // samples of the current symbol's analysis window seen
  int window_heard_samples_ = 0;
  float goertzel_s1_[8], goertzel_s2_[8];
  SymbolDecision symbols_[4];
  int symbols_done_ = 0;
  bool aborted_ = false;  // the first symbol was noise
  int release_blocks_left_ = 0;
  int release_quiet_blocks_ = 0;

  std::vector<DecodedWord> words_;
};

}  // namespace callsim::fakes
