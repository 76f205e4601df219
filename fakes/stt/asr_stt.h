// A fake streaming STT that recognises real speech: pocketsphinx (fakes/voice/sphinx_recognizer.h)
// with a grammar of what the caller can say, under the same latency and capacity models as the
// modem STT. Like a real streaming recogniser it cuts the audio into stretches of speech by level
// over the line's noise floor (fakes/voice/speech_stretcher.h: from 300 ms before the first loud
// frame to kAsrSttGapMs of quiet after the last; pocketsphinx loses words after seconds of
// silence) and recognises each as it ends. While a stretch lasts it
// sends an interim (the stretches so far and what the open one says) at each pause of
// kAsrSttPauseMs and every kAsrSttInterimEveryMs of speech without one; Finalize closes the open stretch and delivers everything since the last final
// after the drawn final latency. Recognition depends on the audio alone, and the latencies on the
// seeded Rng: a run replays exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/providers/stt.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"

namespace callsim::fakes {

inline constexpr int kAsrSttInterimEveryMs = 1000;  // of speech without a pause
inline constexpr int kAsrSttPauseMs = 200;          // quiet that makes an interim
inline constexpr int kAsrSttGapMs = 500;
inline constexpr int kAsrSttPrerollFrames = 15;  // 300 ms: a first syllable out of silence
inline constexpr int kAsrSttMaxSeconds = 60;  // a stretch this long is recognised and a new one begun
// |sample| a loud frame's peak must exceed (about -44 dBFS), besides standing over the noise floor.
inline constexpr int kAsrSttSpeechLevel = 200;

struct AsrSttConfig {
  agent::LatencyModel final_latency{100, 250};  // from Finalize() to on_final
  agent::LatencyModel interim_latency{40, 80};  // from the audio to its interim
  // The grammar: what the caller can say (empty: pocketsphinx's general language model, which is
  // slow and gets most synthesised words wrong).
  std::vector<std::string> phrases;
  // As ModemSttConfig::capacity: each Finalize holds a slot until its final is delivered.
  std::shared_ptr<CapacityLimiter> capacity;
};

// Session N draws from rng.Fork("session/N"): each interim's latency, then each final's, in the
// order they are asked for. When the recogniser cannot be made every Finalize ends in on_error
// with the reason.
class AsrStt final : public agent::SttProvider {
 public:
  AsrStt(agent::Scheduler& scheduler, agent::Rng rng, AsrSttConfig config);
  std::unique_ptr<agent::SttSession> Open(agent::SttListener listener) override;

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  AsrSttConfig config_;
  uint64_t next_session_ = 0;
};

}  // namespace callsim::fakes
