// A fake streaming STT that understands the word modem. It decodes the caller's audio as it
// arrives and turns each word's measured quality (SNR, concealed share, decoding confidence) into
// an error probability with a calibrated curve, so its mistakes come from what happened to the
// audio. Everything random is drawn from a seeded Rng in a fixed order: a run replays exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/providers/stt.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"

namespace callsim::fakes {

// How a recognizer's word error rate depends on the quality of each word's audio:
//   p(error) = floor + (1 - floor) * noise_weight / (1 + exp((snr_db - snr_mid_db) / snr_scale_db))
//            + concealed_weight * concealed_share + low_confidence_weight * (1 - confidence)
// clamped to [0, max_error]. An error is a deletion with probability deletion_share, otherwise a
// substitution by another vocabulary word. Words the modem itself got wrong are wrong on top.
struct SttRobustnessProfile {
  double floor_error = 0.03;  // a clean line
  double noise_weight = 1.0;
  double snr_mid_db = 4;    // half the words lost at this SNR
  double snr_scale_db = 3;  // steepness: 10 dB -> ~15%, 0 dB -> ~80%
  // 5% random loss conceals ~5% of samples (+2 points here) and lowers confidence (+1 to 2
  // points); the modem's own failures add about 1 more: a few points in all.
  double concealed_weight = 0.4;
  double low_confidence_weight = 0.1;
  double deletion_share = 0.2;
  double max_error = 0.98;

  double ErrorProbability(double snr_db, double concealed_share, double confidence) const;

  // Resembles a good production STT: ~3% WER clean, ~15% at 10 dB SNR, steeply worse below.
  static SttRobustnessProfile Default();
  // Never adds errors (the modem's own failures and unknown words still show).
  static SttRobustnessProfile Perfect();
};

struct ModemSttConfig {
  agent::LatencyModel final_latency{100, 250};  // from Finalize() to on_final
  agent::LatencyModel interim_latency{40, 80};  // from a word's end to its interim
  SttRobustnessProfile profile = SttRobustnessProfile::Default();
  // Shared by every call of a run (nullptr: unlimited). Each Finalize is one request: it holds a
  // slot until its final is delivered, and its final latency counts from when it got the slot. A
  // refused request delivers on_error (with the limiter's error) instead of its final. While a
  // final waits for a slot, no interim is sent (it would overtake the final); the words go into
  // the next interim or final.
  std::shared_ptr<CapacityLimiter> capacity;
};

// A recognized word with its place in the session's audio (16 kHz samples since the session
// opened) and the recognizer's confidence in it, for APIs that report words (Deepgram's Results).
struct SttWord {
  std::string word;
  int64_t start_sample = 0;
  int64_t end_sample = 0;
  double confidence = 0;  // 0..1: the modem's decoding confidence, lowered for a word heard wrong
  bool modem_checksum_ok = true;  // false: the burst was not clean modem audio
  // The voice ended its turn on this word (the modem's turn-yielding cue): text transcripts end
  // it with a period, as an STT that punctuates from prosody would.
  bool turn_end = false;

  // The word as a punctuated transcript writes it: with its period after a turn's last word.
  std::string Punctuated() const { return turn_end ? word + "." : word; }
};

// The session's results as words (SttListener gives them as text).
struct ModemSttWordsListener {
  std::function<void(const std::vector<SttWord>& words)> on_interim;
  std::function<void(const std::vector<SttWord>& words)> on_final;
  std::function<void(const std::string& error)> on_error;
};

class ModemSttWordsSession : public agent::SttSession {
 public:
  // True while a word's burst is being heard (its word is not recognized yet).
  virtual bool in_speech() const = 0;
  // 16 kHz samples pushed so far.
  virtual int64_t samples_seen() const = 0;
};

// Sessions: PushAudio decodes each frame at once. Each decoded word draws, in order, its error
// (3 draws, always) and, if the transcript changed, an interim latency; the interim carries every
// word since the last final. Finalize() draws the final latency and delivers exactly one on_final
// with every word since the last final; a word still being heard is finished now if at least half
// of it was heard, and otherwise goes into the next final.
// Callbacks are delivered in the order they were scheduled. Destroying a session cancels its
// pending callbacks. Session N draws from rng.Fork("session/N").
class ModemStt final : public agent::SttProvider {
 public:
  ModemStt(agent::Scheduler& scheduler, agent::Rng rng, ModemSttConfig config);

  std::unique_ptr<agent::SttSession> Open(agent::SttListener listener) override;
  // The same session (the same draws, the same results at the same times), reporting words.
  std::unique_ptr<ModemSttWordsSession> OpenWords(ModemSttWordsListener listener);

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  ModemSttConfig config_;
  uint64_t next_session_ = 0;
};

}  // namespace callsim::fakes
