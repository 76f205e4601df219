// A simulated caller: it follows a scenario's turns, speaking each utterance through the word modem
// (plus background noise) and listening to the agent with its own "ear" (a modem decoder and an
// energy detector on the audio it actually hears). It measures the ground truth of every turn:
// turn latency at its ear, barge-in stop latency, and what it heard; and it checks expectations.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/runtime/events.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/modem/word_modem.h"
#include "harness/caller/ear.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

struct ExpectationResult {
  int turn_index = 0;
  std::string kind;  // agent_says, turn_latency, agent_stops, reply
  bool passed = false;
  std::string detail;
};

// What the caller measured for one scenario turn.
struct TurnOutcome {
  int turn_index = 0;
  bool has_user = false;
  std::string reference_text;  // what the caller said
  bool barge_in = false;
  std::optional<int64_t> utterance_start_us;
  std::optional<int64_t> utterance_end_us;
  std::optional<int64_t> reply_onset_us;          // first sample of the agent's reply at the ear
  std::optional<double> turn_latency_ms;          // reply onset - utterance end
  std::optional<double> barge_in_stop_ms;         // last interrupted sample at the ear - utterance start
  std::string heard_text;                         // the reply as the ear decoded it
};

class Caller {
 public:
  // Called once when the caller hangs up (or gives up); `reason` says why.
  using HangupFn = std::function<void(const std::string& reason)>;

  Caller(agent::Scheduler& scheduler, const Scenario& scenario, agent::Rng rng,
         agent::EventSink& events, HangupFn on_hangup);

  // Starts following the script at the scheduler's current time.
  void Start();
  // Mouth: the next 20 ms the caller's microphone picks up (speech plus noise).
  void NextOutputFrame(agent::Frame* out);
  // Ear: the next 20 ms the caller hears; `frame_start_us` is when its first sample plays.
  void OnEarFrame(const agent::Frame& frame, int64_t frame_start_us);
  // The call ended (either side): unfinished turns fail with `reason`; idempotent.
  void Finish(const std::string& reason);

  // The latest scenario turn whose utterance has started (-1 before any): agent transcripts are
  // attributed to it.
  int current_user_turn() const { return current_user_turn_; }
  const std::vector<TurnOutcome>& outcomes() const { return outcomes_; }
  const std::vector<ExpectationResult>& expectations() const { return expectations_; }
  bool finished() const { return finished_; }

 private:
  enum class Phase { kIdle, kPausing, kSpeaking, kWaitReplyOnset, kInReply, kDone };

  void StartTurn(int index);
  void BeginSpeaking(int index);
  void OnUtteranceEnd(int64_t end_us);
  void OnReplyOnset(int64_t onset_us);
  void OnReplyEnd();
  void OnReplyTimeout();
  void FinalizeTurn(int index);
  void TrackBargeIn(const EarActivity& activity, int64_t frame_start_us);
  void CheckExpectations(int index);
  void Record(int index, const std::string& kind, bool passed, const std::string& detail);
  void Emit(std::string_view kind, const nlohmann::json& detail);
  void MixNoise(agent::Frame* out);
  void Hangup(const std::string& reason);

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  agent::Rng voice_rng_;
  agent::Rng noise_rng_;
  agent::EventSink& events_;
  HangupFn on_hangup_;
  Ear ear_;

  Phase phase_ = Phase::kIdle;
  int turn_ = -1;               // the turn being driven
  int reply_turn_ = -1;         // the turn whose reply the ear is collecting
  int current_user_turn_ = -1;
  std::vector<TurnOutcome> outcomes_;
  std::vector<ExpectationResult> expectations_;
  std::vector<bool> finalized_;

  // Mouth.
  std::vector<int16_t> utterance_;
  size_t utterance_pos_ = 0;
  bool utterance_started_ = false;
  double noise_rms_ = 0;

  // Barge-in measurement: the interrupted reply's tail at the ear.
  int barge_turn_ = -1;
  bool barge_agent_was_speaking_ = false;
  bool barge_stop_known_ = false;

  agent::TaskId timer_ = agent::kNoTask;
  bool finished_ = false;
};

}  // namespace callsim::harness
