// Silence endpointing: decides when the caller's turn is over. The turn ends delay_ms after the
// VAD reported a stop (so after vad_stop_ms + delay_ms of silence in all) unless speech starts
// again first, and at the latest max_turn_ms after the turn's first speech start, so a caller who
// never stops talking still gets an answer. When the minimum delay passes and the owner's
// `sounds_unfinished` says the words so far stop mid-sentence ("my number is"), the endpointer
// waits on to max_delay_ms instead: a clause pause is not the end of a turn. Adaptive (a
// finished_delay_ms below delay_ms): when finished_delay_ms passes first and the owner's
// `sounds` says the words so far sound finished, the turn ends then. Timers run on the
// Scheduler, keyed to audio times, so endpoints are exact and deterministic.
#pragma once

#include <cstdint>
#include <functional>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

struct EndpointerConfig {
  // The VAD's stop hangover: when the VAD reports a stop this much silence has already passed.
  double vad_stop_ms = 250;
  double delay_ms = 300;      // the minimum delay: after it, a turn that sounds finished ends
  double max_delay_ms = 1500;  // the delay for a turn that sounds unfinished (>= delay_ms)
  double max_turn_ms = 30000;
  // Adaptive endpointing: the delay for a turn that sounds finished. Negative (or >= delay_ms):
  // off, every turn waits at least delay_ms.
  double finished_delay_ms = -1;
};

// How the caller's words so far sound: no words yet (unknown), a finished thought, or stopping
// mid-sentence.
enum class TurnSounds { kUnknown, kFinished, kUnfinished };

enum class EndpointReason { kSilence, kMaxTurn };

struct Endpoint {
  EndpointReason reason = EndpointReason::kSilence;
  int64_t turn_start_us = 0;  // start of the turn's first speech
  // End of the turn's last voiced audio; -1 when the caller was still speaking (kMaxTurn).
  int64_t speech_end_us = -1;
};

const char* EndpointReasonName(EndpointReason reason);

class Endpointer {
 public:
  using Callback = std::function<void(const Endpoint&)>;
  // Asked when a delay passes: finished ends the turn at finished_delay_ms (adaptive), unfinished
  // waits on to max_delay_ms, unknown ends it at delay_ms.
  using SoundsFn = std::function<TurnSounds()>;

  // `on_endpoint` runs from a Scheduler task, after the endpointer has reset itself, so it may
  // call any method (a new turn starts with the next OnSpeechStart).
  Endpointer(Scheduler& scheduler, EndpointerConfig config, Callback on_endpoint);
  ~Endpointer();  // cancels pending timers
  Endpointer(const Endpointer&) = delete;
  Endpointer& operator=(const Endpointer&) = delete;

  // VAD start at audio time `start_us`: opens a turn, or continues the current one (cancelling a
  // pending silence endpoint).
  void OnSpeechStart(int64_t start_us);
  // VAD stop; `speech_end_us` is the end of the last voiced frame. Ignored outside a turn.
  void OnSpeechStop(int64_t speech_end_us);
  // Forgets the current turn and cancels its timers.
  void Reset();
  void set_sounds(SoundsFn fn) { sounds_ = std::move(fn); }

  bool in_turn() const { return in_turn_; }

 private:
  void Fire(EndpointReason reason);
  // The timer for delay_ms after the VAD stop (speech_end_us_ + vad_stop_ms + delay_ms).
  void ArmMinDelay();
  void OnFinishedDelay();
  void OnMinDelay();
  TurnSounds Sounds() const { return sounds_ ? sounds_() : TurnSounds::kUnknown; }

  EndpointerConfig config_;
  Callback on_endpoint_;
  SoundsFn sounds_;
  bool in_turn_ = false;
  bool speaking_ = false;
  int64_t turn_start_us_ = 0;
  int64_t speech_end_us_ = -1;
  ScopedTask silence_timer_;
  ScopedTask max_turn_timer_;
};

}  // namespace callsim::agent
