// The caller's ear: what a person on the line can tell from the audio alone. It finds where the
// agent's speech starts and stops (sample-exact, by level) and understands the words it hears:
// with the word modem's decoder (the default: exact, no error model, whatever the line did to the
// audio is what the caller gets), or, for real speech, with pocketsphinx and a grammar of what the
// agent can say (caller.ear.engine asr). The ASR ear cuts the agent's audio into stretches of
// speech (from 100 ms before the first active sample to kAsrGapMs of silence after the last) and
// recognises each when it ends, so its words arrive with that delay; reply boundaries and turn
// latency come from the level alone, either way.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/runtime/scheduler.h"
#include "fakes/modem/word_modem.h"

namespace callsim::fakes {
class RecognitionResult;
class SphinxRecognizer;
}

namespace callsim::harness {

struct EarActivity {
  bool any = false;            // some sample in the frame is above the threshold
  int64_t first_active_us = 0;  // time of the first such sample
  int64_t last_active_us = 0;   // time just after the last such sample
};

class Ear {
 public:
  // |sample| above this is agent speech (about -44 dBFS); the line is otherwise digital silence.
  static constexpr int kActiveThreshold = 200;
  // ASR: silence that ends a stretch of speech (shorter than a caller's reply-end silence, so a
  // reply's last words are in before the reply is judged).
  static constexpr int kAsrGapMs = 400;
  static constexpr int kAsrPrerollFrames = 5;  // 100 ms kept before a stretch's first active frame
  // ASR: a stretch longer than this is recognised and a new one begun (a bound on the buffer).
  static constexpr int kAsrMaxStretchSeconds = 60;
  // ASR: Partial() recognises the open stretch again only once this much more audio is in.
  static constexpr int kAsrPartialEveryMs = 200;
  // ASR off the thread: how long a stretch's words may stay pending (from the stretch's end)
  // before the ear gives up on them (counted in late_stretches()).
  static constexpr int kAsrMaxPendingMs = 5000;

  Ear() = default;  // the word modem
  // Real speech, recognised with a grammar of `phrases` (EarPhrases). The recogniser is shared by
  // the ears of one thread with the same phrases; error() says why there is none.
  explicit Ear(const std::vector<std::string>& phrases);
  ~Ear();
  Ear(const Ear&) = delete;
  Ear& operator=(const Ear&) = delete;

  // ASR: decode on the process's worker threads (fakes::RecognitionPool) rather than inside
  // Hear and Partial, for a caller on the real clock. Words then arrive when their decode ends
  // (in the order of the stretches); Pending() says some are still being decoded. Transcripts are
  // the same as inline. Call before the first Hear.
  void DecodeOffThread() { off_thread_ = true; }

  EarActivity Hear(const agent::Frame& frame, int64_t frame_start_us);

  // Time just after the last active sample heard so far; -1 if none yet.
  int64_t last_active_us() const { return last_active_us_; }
  // Words understood since the last TakeWords().
  std::vector<std::string> TakeWords();
  // ASR: what the open stretch of speech says so far (empty for the modem ear, which has no
  // open stretch: its words come as they are decoded).
  std::string Partial();
  // ASR: why the recogniser could not start ("" when it did, and for the modem ear).
  const std::string& error() const { return error_; }
  // ASR off the thread: a closed stretch's words are still being decoded. False once they have
  // waited kAsrMaxPendingMs at the ear's clock (those words are then dropped).
  bool Pending() const { return !decoding_.empty(); }
  // ASR off the thread: stretches whose words were dropped for coming too late.
  int late_stretches() const { return late_stretches_; }

 private:
  void CloseStretch(int64_t now_us);
  void CollectDecoded(int64_t now_us);
  void AppendWords(const std::string& text);

  fakes::ModemDecoder decoder_;
  int64_t last_active_us_ = -1;
  // ASR.
  fakes::SphinxRecognizer* recognizer_ = nullptr;  // owned by the thread's cache
  std::string error_;
  std::vector<std::string> words_;
  std::deque<agent::Frame> preroll_;
  std::vector<int16_t> stretch_;
  bool in_stretch_ = false;
  size_t partial_at_ = 0;  // stretch_ size when partial_ was made
  std::string partial_;
  // ASR off the thread.
  bool off_thread_ = false;
  std::shared_ptr<const std::vector<std::string>> phrases_;
  struct Decoding {
    std::shared_ptr<const fakes::RecognitionResult> result;
    int64_t closed_us = 0;  // the ear's clock when the stretch closed
  };
  std::deque<Decoding> decoding_;  // the closed stretches' decodes, oldest first
  std::shared_ptr<const fakes::RecognitionResult> partial_decoding_;  // of the open stretch
  int late_stretches_ = 0;
};

}  // namespace callsim::harness
