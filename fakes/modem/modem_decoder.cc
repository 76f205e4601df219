// The decoder half of the word modem: ModemDecoder (declared in word_modem.h).
//
// Idle: a bandpass over the tone band (697-1633 Hz) measures 2.5 ms blocks against an adaptive
// noise floor; 10 ms of energy well above the floor starts a burst at the first loud block.
// Burst: the symbols sit at fixed offsets from the onset; Goertzel filters at the 8 tones run over
// the middle 40 ms of each (samples from concealed frames count as silence) and the strongest low
// and high tone name the symbol. A burst whose tone decisions are no clearer than noise's is
// noise: it teaches the floor instead of yielding a word. Release: wait for the burst's tail.
// Both filters are chosen for speed: the bandpass is a 10-tap box filter on integer prefix sums,
// and the Goertzels run at 8 kHz on sums of sample pairs (a lowpass that keeps the noise that
// aliases onto the tones at least 10 dB down).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "fakes/modem/modem_symbols.h"
#include "fakes/modem/vocabulary.h"
#include "fakes/modem/word_modem.h"

namespace callsim::fakes {
namespace {

using namespace modem;

constexpr double kPi = 3.14159265358979323846;

// Onset: the mean band energy of the last 4 blocks over the floor, and the run of blocks above
// kOnsetRatio that ends at the newest block gives the onset.
constexpr double kTriggerRatio = 2.5;
constexpr double kOnsetRatio = 2.0;
// The box bandpass has a power gain of ~45 for the tones: this is a tone pair at about -60 dBFS.
constexpr double kMinTriggerEnergy = 5e4;
constexpr double kMinFloor = 1;
// The floor is a running mean of quiet blocks (block energies scatter by +-50%, so an asymmetric
// tracker would sit far below the mean and let noise trigger); it drops fast when noise stops.
constexpr double kFloorRate = 0.05;     // per block: about 50 ms
constexpr double kFloorDropRate = 0.3;  // per block, for blocks under a quarter of the floor
// Noise gives a best-tone margin of ~3 dB on average; tones at 0 dB SNR give ~20 dB.
constexpr double kNoiseMarginDb = 8;
constexpr double kAbortMarginDb = 4;     // after the first symbol: stop decoding noise early
constexpr double kMinHeardShare = 0.25;  // of a window, to decide its symbol
constexpr double kConfidenceLowDb = 3;   // margins map to confidence 0..1 over this range
constexpr double kConfidenceHighDb = 15;
constexpr double kMaxSnrDb = 60;
constexpr double kMinSnrDb = -30;
constexpr int kReleaseMaxBlocks = 16;  // 40 ms
constexpr int kReleaseQuietBlocks = 2;

constexpr int kBurstBlocks = kBurstSamples / kBlockSamples;
constexpr int kGoertzelRateHz = agent::kSampleRateHz / 2;
constexpr int kGoertzelWindow = kWindowSamples / 2;

struct DecoderTables {
  float coef[kToneCount];         // 2 cos(w) per tone, at 8 kHz
  float window[kGoertzelWindow];  // Hann: sidelobes 31 dB down, so tones 73 Hz apart stay apart
};

const DecoderTables& Tables() {
  static const DecoderTables* const tables = [] {
    auto* t = new DecoderTables();
    for (int k = 0; k < kToneCount; ++k) {
      const double hz = k < 4 ? kLowTonesHz[k] : kHighTonesHz[k - 4];
      t->coef[k] = static_cast<float>(2 * std::cos(2 * kPi * hz / kGoertzelRateHz));
    }
    for (int n = 0; n < kGoertzelWindow; ++n) {
      t->window[n] =
          static_cast<float>(0.5 - 0.5 * std::cos(2 * kPi * (n + 0.5) / kGoertzelWindow));
    }
    return t;
  }();
  return *tables;
}

double ToDb(double ratio) { return 10 * std::log10(ratio); }

// The strongest of 4 tone powers and its margin over the runner-up, in dB.
int PickTone(const double* power, double* margin_db) {
  int best = 0;
  for (int k = 1; k < 4; ++k) {
    if (power[k] > power[best]) best = k;
  }
  double second = 0;
  for (int k = 0; k < 4; ++k) {
    if (k != best) second = std::max(second, power[k]);
  }
  *margin_db = power[best] <= 0 ? 0 : ToDb(power[best] / std::max(second, power[best] * 1e-9));
  return best;
}

}  // namespace

ModemDecoder::ModemDecoder() : floor_band_(kMinFloor), floor_wide_(kMinFloor) {
  static_assert(kBlockSamples == modem::kBlockSamples);
  words_.reserve(8);
  std::fill(std::begin(goertzel_s1_), std::end(goertzel_s1_), 0.0f);
  std::fill(std::begin(goertzel_s2_), std::end(goertzel_s2_), 0.0f);
}

void ModemDecoder::Push(const agent::Frame& frame) {
  for (int b = 0; b < agent::kFrameSamples; b += kBlockSamples) {
    ProcessBlock(frame.samples.data() + b, frame.concealed);
  }
}

std::vector<DecodedWord> ModemDecoder::TakeWords() {
  std::vector<DecodedWord> out;
  out.swap(words_);
  return out;
}

void ModemDecoder::ProcessBlock(const int16_t* samples, bool concealed) {
  const BlockStats stats = MeasureBlock(samples, concealed);
  const int64_t block_start = samples_seen_;
  samples_seen_ += kBlockSamples;
  switch (state_) {
    case State::kIdle:
      IdleBlock(samples, stats, block_start);
      break;
    case State::kBurst:
      BurstBlock(samples, stats);
      break;
    case State::kRelease:
      ReleaseBlock(stats);
      break;
  }
}

// Band energy through the box filter y[n] = sum(x[n-4..n]) - sum(x[n-9..n-5]): peak gain near
// 1.1 kHz, zeros at DC and every 3.2 kHz; tones gain 6.5 dB over white noise, as a biquad would.
ModemDecoder::BlockStats ModemDecoder::MeasureBlock(const int16_t* samples, bool concealed) {
  // Digital silence after digital silence (most of a call's blocks: the other side listening):
  // every sum below is exactly zero and the tail stays zero, so nothing needs computing.
  const auto zero = [](const int16_t* p, int n) {
    int16_t any = 0;
    for (int i = 0; i < n; ++i) any |= p[i];
    return any == 0;
  };
  if (zero(band_tail_, kBandTail) && zero(samples, kBlockSamples)) return {0.0, 0.0, concealed};
  // The tail then the block, and each output's ten taps summed directly (no running sum, so
  // every output is independent and the compiler vectorizes them); the integers are exact.
  int32_t x_all[kBandTail + kBlockSamples];
  for (int i = 0; i < kBandTail; ++i) x_all[i] = band_tail_[i];
  for (int i = 0; i < kBlockSamples; ++i) x_all[kBandTail + i] = samples[i];
  int32_t y_all[kBlockSamples];
  for (int i = 0; i < kBlockSamples; ++i) {
    const int32_t* x = x_all + kBandTail + i;  // x[0] is the sample, x[-9] the oldest tap
    y_all[i] = (x[0] + x[-1] + x[-2] + x[-3] + x[-4]) - (x[-5] + x[-6] + x[-7] + x[-8] + x[-9]);
  }
  // Eight independent float accumulators let the compiler vectorize the sums.
  float band[8] = {}, wide[8] = {};
  for (int i = 0; i < kBlockSamples; i += 8) {
    for (int j = 0; j < 8; ++j) {
      const float y = static_cast<float>(y_all[i + j]);
      const float x = samples[i + j];
      band[j] += y * y;
      wide[j] += x * x;
    }
  }
  double band_sum = 0, wide_sum = 0;
  for (int j = 0; j < 8; ++j) {
    band_sum += band[j];
    wide_sum += wide[j];
  }
  for (int i = 0; i < kBandTail; ++i) band_tail_[i] = samples[kBlockSamples - kBandTail + i];
  return {band_sum / kBlockSamples, wide_sum / kBlockSamples, concealed};
}

void ModemDecoder::IdleBlock(const int16_t* samples, const BlockStats& stats, int64_t block_start) {
  if (stats.concealed) {
    // Made-up audio (often a repeat of the last frame, tones and all) must not start a burst or
    // move the floor; the history restarts after it so that it stays contiguous.
    history_count_ = 0;
    concealed_until_sample_ = block_start + kBlockSamples;
    return;
  }
  int slot;
  if (history_count_ < kHistoryBlocks) {
    slot = (history_head_ + history_count_++) % kHistoryBlocks;
  } else {
    slot = history_head_;
    history_head_ = (history_head_ + 1) % kHistoryBlocks;
  }
  std::memcpy(history_samples_[slot], samples, sizeof(history_samples_[slot]));
  history_stats_[slot] = stats;
  if (DetectOnset(block_start)) return;
  UpdateFloor(stats);
}

void ModemDecoder::UpdateFloor(const BlockStats& stats) {
  if (stats.band_energy > kOnsetRatio * floor_band_) return;  // maybe a burst beginning
  const double rate_band = stats.band_energy < floor_band_ / 4 ? kFloorDropRate : kFloorRate;
  const double rate_wide = stats.wide_energy < floor_wide_ / 4 ? kFloorDropRate : kFloorRate;
  floor_band_ = std::max(kMinFloor, floor_band_ + rate_band * (stats.band_energy - floor_band_));
  floor_wide_ = std::max(kMinFloor, floor_wide_ + rate_wide * (stats.wide_energy - floor_wide_));
}

// Starts a burst when the last 4 blocks are loud, at the first block of the loud run that ends
// now. A run that begins right after concealed audio may have begun inside it: the onset is then
// put half a frame into the concealment, which halves the worst alignment error.
bool ModemDecoder::DetectOnset(int64_t block_start) {
  if (history_count_ < kHistoryBlocks) return false;
  double sum = 0;
  for (const BlockStats& s : history_stats_) sum += s.band_energy;
  if (sum / kHistoryBlocks <= std::max(kTriggerRatio * floor_band_, kMinTriggerEnergy))
    return false;
  const double onset_level = std::max(kOnsetRatio * floor_band_, kMinTriggerEnergy / 4);
  int first = kHistoryBlocks;  // position (0 = oldest) where the loud run ending now begins
  while (first > 0 &&
         history_stats_[(history_head_ + first - 1) % kHistoryBlocks].band_energy > onset_level) {
    --first;
  }
  if (first == kHistoryBlocks) return false;  // the newest block is quiet: a click that passed

  int64_t onset = block_start - static_cast<int64_t>(kHistoryBlocks - 1 - first) * kBlockSamples;
  const int lost_blocks = onset == concealed_until_sample_ ? kConcealedOnsetBlocks : 0;
  StartBurst(onset - int64_t{lost_blocks} * kBlockSamples);
  static constexpr int16_t kSilence[kBlockSamples] = {};
  for (int i = 0; i < lost_blocks; ++i) BurstBlock(kSilence, BlockStats{0, 0, true});
  for (int i = first; i < kHistoryBlocks && state_ == State::kBurst; ++i) {
    const int slot = (history_head_ + i) % kHistoryBlocks;
    BurstBlock(history_samples_[slot], history_stats_[slot]);
  }
  history_count_ = 0;
  return true;
}

void ModemDecoder::StartBurst(int64_t onset_sample) {
  state_ = State::kBurst;
  onset_sample_ = onset_sample;
  burst_blocks_ = heard_blocks_ = symbols_done_ = window_pos_ = window_heard_samples_ = 0;
  sum_wide_energy_ = sum_band_energy_ = 0;
  aborted_ = false;
  for (SymbolDecision& d : symbols_) d = SymbolDecision{};
  std::fill(std::begin(goertzel_s1_), std::end(goertzel_s1_), 0.0f);
  std::fill(std::begin(goertzel_s2_), std::end(goertzel_s2_), 0.0f);
}

void ModemDecoder::BurstBlock(const int16_t* samples, const BlockStats& stats) {
  if (!stats.concealed) {
    ++heard_blocks_;
    sum_wide_energy_ += stats.wide_energy;
    sum_band_energy_ += stats.band_energy;
  }
  const int offset = (burst_blocks_ * kBlockSamples) % kSymbolSamples;
  ++burst_blocks_;
  if (offset >= kWindowGuardSamples && offset < kWindowGuardSamples + kWindowSamples) {
    AccumulateTones(samples, stats.concealed);
    if (window_pos_ == kWindowSamples) {
      FinishSymbol();
      if (aborted_) return;
    }
  }
  if (burst_blocks_ == kBurstBlocks) EndBurst(kReleaseMaxBlocks);
}

void ModemDecoder::AccumulateTones(const int16_t* samples, bool concealed) {
  const DecoderTables& t = Tables();
  const float* window = t.window + window_pos_ / 2;
  float s1[kToneCount], s2[kToneCount];
  std::memcpy(s1, goertzel_s1_, sizeof(s1));
  std::memcpy(s2, goertzel_s2_, sizeof(s2));
  for (int m = 0; m < kBlockSamples / 2; ++m) {
    // Concealed samples are made up: count them as silence, keeping the time index running.
    const float x =
        concealed ? 0.0f : window[m] * static_cast<float>(samples[2 * m] + samples[2 * m + 1]);
    for (int k = 0; k < kToneCount; ++k) {
      const float s0 = (x - s2[k]) + t.coef[k] * s1[k];  // keeps s2 off the critical path
      s2[k] = s1[k];
      s1[k] = s0;
    }
  }
  std::memcpy(goertzel_s1_, s1, sizeof(s1));
  std::memcpy(goertzel_s2_, s2, sizeof(s2));
  window_pos_ += kBlockSamples;
  if (!concealed) window_heard_samples_ += kBlockSamples;
}

void ModemDecoder::FinishSymbol() {
  const DecoderTables& t = Tables();
  SymbolDecision& d = symbols_[symbols_done_++];
  double power[kToneCount];
  for (int k = 0; k < kToneCount; ++k) {
    const double s1 = goertzel_s1_[k], s2 = goertzel_s2_[k];
    power[k] = s1 * s1 + s2 * s2 - t.coef[k] * s1 * s2;
  }
  d.heard = window_heard_samples_ >= kMinHeardShare * kWindowSamples && power[0] + power[4] > 0;
  if (d.heard)
    d.symbol = SymbolOf(PickTone(power, &d.margin_db[0]), PickTone(power + 4, &d.margin_db[1]));
  window_pos_ = window_heard_samples_ = 0;
  std::fill(std::begin(goertzel_s1_), std::end(goertzel_s1_), 0.0f);
  std::fill(std::begin(goertzel_s2_), std::end(goertzel_s2_), 0.0f);

  // A first symbol no clearer than noise: stop now rather than hold the detector for 220 ms.
  if (symbols_done_ == 1 && d.heard && (d.margin_db[0] + d.margin_db[1]) / 2 < kAbortMarginDb) {
    LearnFloorFromBurst();
    aborted_ = true;
    state_ = State::kIdle;
    history_count_ = 0;
  }
}

double ModemDecoder::burst_progress() const {
  return state_ == State::kBurst ? static_cast<double>(burst_blocks_) / kBurstBlocks : 0.0;
}

void ModemDecoder::Flush() {
  if (state_ != State::kBurst) return;
  if (window_pos_ > 0) FinishSymbol();
  if (state_ != State::kBurst) return;  // the first symbol was noise
  EndBurst(kBurstBlocks - burst_blocks_ + kReleaseMaxBlocks);
}

void ModemDecoder::EndBurst(int release_blocks) {
  bool any_heard = false;
  for (int s = 0; s < symbols_done_; ++s) any_heard = any_heard || symbols_[s].heard;
  if (any_heard && LooksLikeNoise()) {
    LearnFloorFromBurst();
  } else if (any_heard) {
    EmitWord();
  }
  state_ = State::kRelease;
  release_blocks_left_ = release_blocks;
  release_quiet_blocks_ = 0;
  history_count_ = 0;
}

void ModemDecoder::ReleaseBlock(const BlockStats& stats) {
  // Concealed audio is no evidence that the burst goes on: a repeated tail must not hold us here.
  const bool quiet = stats.concealed ||
                     stats.band_energy <= std::max(kTriggerRatio * floor_band_, kMinTriggerEnergy);
  release_quiet_blocks_ = quiet ? release_quiet_blocks_ + 1 : 0;
  if (--release_blocks_left_ <= 0 || release_quiet_blocks_ >= kReleaseQuietBlocks) {
    state_ = State::kIdle;
    history_count_ = 0;
  }
}

bool ModemDecoder::LooksLikeNoise() const {
  double sum_db = 0;
  int decisions = 0;
  for (int s = 0; s < symbols_done_; ++s) {
    if (!symbols_[s].heard) continue;
    sum_db += symbols_[s].margin_db[0] + symbols_[s].margin_db[1];
    decisions += 2;
  }
  return decisions == 0 || sum_db / decisions < kNoiseMarginDb;
}

// The "burst" was noise: its level is the floor now (this is how the floor is first learned when
// audio starts with noise, and how it follows a sudden rise in noise).
void ModemDecoder::LearnFloorFromBurst() {
  if (heard_blocks_ == 0) return;
  floor_band_ = std::max(kMinFloor, sum_band_energy_ / heard_blocks_);
  floor_wide_ = std::max(kMinFloor, sum_wide_energy_ / heard_blocks_);
}

void ModemDecoder::EmitWord() {
  const Vocabulary& vocabulary = Vocabulary::Builtin();
  const SymbolDecision* d = symbols_;
  const bool digits_heard = d[0].heard && d[1].heard && d[2].heard;
  const int index = digits_heard ? (d[0].symbol << 8) | (d[1].symbol << 4) | d[2].symbol : 0;
  const bool in_range = index > 0 && static_cast<size_t>(index) < vocabulary.size();

  double min_margin_db = 1e9;
  for (int s = 0; s < kSymbolsPerWord; ++s) {
    const bool heard = s < symbols_done_ && d[s].heard;
    min_margin_db =
        std::min(min_margin_db, heard ? std::min(d[s].margin_db[0], d[s].margin_db[1]) : 0.0);
  }
  double snr_db = kMinSnrDb;
  if (heard_blocks_ > 0) {
    const double signal = sum_wide_energy_ / heard_blocks_ - floor_wide_;
    snr_db = signal <= 0 ? kMinSnrDb : std::clamp(ToDb(signal / floor_wide_), kMinSnrDb, kMaxSnrDb);
  }

  DecodedWord& w = words_.emplace_back();
  w.word = vocabulary.WordAt(in_range ? index : kUnknownWordIndex);
  w.vocab_index = in_range ? index : kUnknownWordIndex;
  const int check = CheckSymbol(d[0].symbol, d[1].symbol, d[2].symbol);
  const bool all_heard = digits_heard && symbols_done_ == kSymbolsPerWord && d[3].heard;
  w.turn_end = all_heard && d[3].symbol == (check ^ kTurnEndCheckFlip);
  w.checksum_ok = all_heard && (d[3].symbol == check || w.turn_end);
  w.confidence = std::clamp(
      (min_margin_db - kConfidenceLowDb) / (kConfidenceHighDb - kConfidenceLowDb), 0.0, 1.0);
  w.snr_db = snr_db;
  w.concealed_share = 1.0 - static_cast<double>(heard_blocks_) / burst_blocks_;
  w.start_sample = onset_sample_;
  w.end_sample = onset_sample_ + static_cast<int64_t>(burst_blocks_) * kBlockSamples;
}

}  // namespace callsim::fakes
