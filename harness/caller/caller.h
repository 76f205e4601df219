// A simulated caller: it follows a scenario's turns (say words, play a recording, press DTMF
// keys, stay silent, ask for a repeat, wait, hang up), speaking through the word modem into its
// microphone (noise and echo from the MicMixer) and listening to the agent with its own "ear" (a
// modem decoder and an energy detector on the audio it actually hears). It measures the ground
// truth of every turn (turn latency at its ear, barge-in stop latency, what it heard), watches
// the agent's tool events, and judges the scenario's expectations.
//
// How turns run (times at the caller's mouth and ear):
//   say, repeat, play_file  speak the utterance after pause_before_ms ([pause N] inside it is
//              silence within one utterance, not its end), then wait for the reply: its onset
//              within reply_timeout_ms of the last sample (else a "reply" failure), its end once
//              reply_end_silence_ms of silence is heard.
//   dtmf       each key held kDtmfKeyMs, kDtmfGapMs between keys, then wait for the reply.
//   silence    stay silent silence_ms (or the turn's longest no_reply window, if longer), go on.
//   wait       wait for a reply from the turn's start.
//   wait_for: tool_result  before the action, wait for an agent "tool_result" event since the
//              caller's last request, at most reply_timeout_ms ("wait_for_timeout"), then go on.
//   barge_in   starts at the onset of the previous turn's reply: after_agent_speech_ms into it,
//              or as soon as the ear has decoded when_agent_says (whole words); if the reply
//              ends first, or reply_timeout_ms passes, the caller speaks anyway.
//   no_reply   replaces the reply wait by its silent window: the caller goes on when the window
//              closes in silence; an agent that speaks in it fails it and is heard out.
//   call_ends by agent or transfer: after the reply, the caller waits up to reply_timeout_ms for
//              the agent to end the call before it goes on; call_ends is judged at the call's end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/sample_source.h"
#include "agent/runtime/events.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "harness/caller/audio_tape.h"
#include "harness/caller/caller_voice.h"
#include "harness/caller/ear.h"
#include "harness/caller/expectation_checks.h"
#include "harness/caller/mic_mixer.h"
#include "harness/caller/speech_file.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// DTMF timing: each key is held this long, with this gap before the next one.
inline constexpr int kDtmfKeyMs = 100;
inline constexpr int kDtmfGapMs = 100;
// A bound on the agent tool calls remembered per turn.
inline constexpr size_t kMaxToolCallsPerTurn = 32;

struct ExpectationResult {
  int turn_index = 0;
  // agent_says, turn_latency, agent_stops, tool_call, no_reply, call_ends, agent_repeats, or
  // "reply" (no reply within caller.reply_timeout_ms, or the call ended before the turn started)
  std::string kind;
  bool passed = false;
  std::string detail;
};

// What the caller measured for one scenario turn.
struct TurnOutcome {
  int turn_index = 0;
  std::string action;  // wait, say, play_file, dtmf, silence, repeat, hangup
  // The caller spoke words with a known reference (say, repeat, play_file with a transcript):
  // the turn is scored for WER against the agent's transcript.
  bool has_user = false;
  std::string reference_text;  // what the caller said
  bool barge_in = false;
  // The caller's action (speech, a recording, key presses): its first and last sample.
  std::optional<int64_t> utterance_start_us;
  std::optional<int64_t> utterance_end_us;
  std::optional<int64_t> reply_onset_us;   // first sample of the agent's reply at the ear
  std::optional<double> turn_latency_ms;   // reply onset - utterance end
  std::optional<double> barge_in_stop_ms;  // last interrupted sample at the ear - utterance start
  std::string heard_text;                  // the reply as the ear decoded it
  std::vector<AgentToolCall> tool_calls;   // the agent's tool events during the turn
};

class Caller {
 public:
  // Called once when the caller hangs up (or gives up); `reason` says why.
  using HangupFn = std::function<void(const std::string& reason)>;
  // Presses a DTMF key for `duration_ms` (the caller's media endpoint sends it).
  using DtmfFn = std::function<void(char key, int duration_ms)>;

  // `scenario` must outlive the caller. Draws everything from streams forked from `rng`:
  // "voice" (utterance timing), "variation" (this caller's rate and pauses), "mic" (noise).
  // Recordings for play_file turns are loaded here; see setup_error().
  Caller(agent::Scheduler& scheduler, const Scenario& scenario, agent::Rng rng,
         agent::EventSink& events, HangupFn on_hangup);

  // Where DTMF keys go; without one, dtmf turns press nothing (but keep their timing).
  void set_dtmf_sender(DtmfFn fn) { send_dtmf_ = std::move(fn); }
  // Where every microphone frame and every frame the ear is given are also recorded, at their
  // start times; null (the default): nowhere. The tape must outlive its use here.
  void set_audio_tape(AudioTape* tape) { tape_ = tape; }
  // Non-empty when the caller cannot take part (the microphone's noise or echo settings, or a
  // play_file recording, failed): the call should fail at its start with this reason.
  const std::string& setup_error() const { return setup_error_; }

  // For a caller on the real clock: the ASR ear decodes on worker threads rather than in
  // OnEarFrame, and a reply is judged once its words are in (Ear::DecodeOffThread). Call before
  // Start.
  void RecogniseOffThread() { ear_->DecodeOffThread(); }

  // Starts following the script at the scheduler's current time.
  void Start();
  // Mouth: the next 20 ms the caller's microphone picks up (voice, noise, echo), starting at
  // `frame_start_us` on the caller's clock (the media clock's tick; without it, now).
  void NextOutputFrame(agent::Frame* out, int64_t frame_start_us);
  void NextOutputFrame(agent::Frame* out) { NextOutputFrame(out, scheduler_.NowUs()); }
  // Ear: the next 20 ms the caller hears; `frame_start_us` is when its first sample plays.
  void OnEarFrame(const agent::Frame& frame, int64_t frame_start_us);
  // An event the agent reported (source "agent"): tool calls ("tool_call_proposed", "tool_call")
  // are attributed to the turn in progress (the turn whose reply is awaited or heard, else the
  // turn being driven); "tool_result" releases a turn that waits for one. Others are ignored.
  void OnAgentEvent(std::string_view kind, const nlohmann::json& detail);
  // The call ended (either side), `by` whom: the turns still open are judged on what was
  // observed so far, turns not yet started fail with `reason`, and call_ends expectations are
  // judged. Idempotent.
  void Finish(const std::string& reason, CallEndedBy by = CallEndedBy::kOther);

  // The latest scenario turn whose action (speech, recording, keys) has started (-1 before any):
  // agent transcripts are attributed to it.
  int current_user_turn() const { return current_user_turn_; }
  const std::vector<TurnOutcome>& outcomes() const { return outcomes_; }
  const std::vector<ExpectationResult>& expectations() const { return expectations_; }
  bool finished() const { return finished_; }
  const CallerVoice& voice() const { return voice_; }

 private:
  enum class Phase {
    kIdle,
    kWaitForTool,     // wait_for: tool_result, before the turn's action
    kPausing,         // pause_before_ms, or a barge-in's timer
    kAwaitPhrase,     // barge_in.when_agent_says: listening for the phrase
    kSpeaking,        // the mouth plays the utterance
    kPressing,        // DTMF keys
    kSilent,          // a silence turn
    kWaitReplyOnset,  // after the action (or a no_reply window)
    kInReply,
    kAwaitAgentEnd,  // call_ends by agent / transfer: the reply is over, the agent should end
    kDone,
  };

  // Script.
  void StartTurn(int index);
  void ScheduleAction(int index);
  void ArmBargeIn(int index);
  void BeginAction(int index);
  void PrepareBargeIn(int index);
  void StartSpeaking(int index);
  void PressKey(int index, size_t key);
  void StartSilence(int index);
  void OnActionEnd(int64_t end_us);
  void StartReplyWait(int index, int64_t listen_from_us);
  void OnReplyOnset(int64_t onset_us);
  void OnReplyEnd();
  void OnReplyTimeout();
  void NextTurn();
  void Hangup(const std::string& reason);
  Turn::Action ActionOf(int index) const;
  // `index` as a position in the per-turn arrays; it must be a turn of the scenario.
  size_t Slot(int index) const;

  // Ear.
  void AppendHeard(const std::vector<std::string>& words);
  void TrackBargeIn(const EarActivity& activity, int64_t frame_start_us);
  bool ReplySilentFor(int64_t frame_start_us) const;
  void FeedEchoPath(const agent::Frame* heard);

  // Judging.
  void FinalizeTurn(int index, const std::string& call_ended_reason = "");
  void CheckExpectations(int index, const std::string& call_ended_reason);
  TurnEvidence EvidenceFor(int index, const std::string& call_ended_reason) const;
  void Record(int index, const std::string& kind, bool passed, const std::string& detail);
  void Emit(std::string_view kind, const nlohmann::json& detail);
  int EventTurn() const;

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  agent::Rng voice_rng_;
  agent::EventSink& events_;
  HangupFn on_hangup_;
  DtmfFn send_dtmf_;
  CallerVoice voice_;
  MicMixer mic_;
  std::unique_ptr<Ear> ear_;
  AudioTape* tape_ = nullptr;
  std::string setup_error_;
  std::vector<std::shared_ptr<const SpeechClip>> clips_;  // by turn: play_file recordings

  Phase phase_ = Phase::kIdle;
  int turn_ = -1;        // the turn being driven
  int reply_turn_ = -1;  // the turn whose reply the ear is collecting
  int current_user_turn_ = -1;
  std::vector<TurnOutcome> outcomes_;
  std::vector<ExpectationResult> expectations_;
  std::vector<bool> finalized_;
  std::vector<std::optional<int64_t>> listen_from_us_;  // by turn: when its silent window opened

  // Mouth: the utterance playing (a clip shared with other callers, or this turn's own).
  std::shared_ptr<const agent::SampleSource> utterance_;  // made as it is spoken
  size_t utterance_pos_ = 0;
  size_t speech_begin_ = 0;
  bool utterance_started_ = false;
  // Frames passed to the microphone mixer on each side, to keep its echo path aligned.
  int64_t mouth_frames_ = 0;
  int64_t ear_frames_ = 0;

  // Barge-in measurement: the interrupted reply's tail at the ear.
  int barge_turn_ = -1;
  bool barge_agent_was_speaking_ = false;
  bool barge_stop_known_ = false;

  // wait_for tool_result: results seen in the call, and how many there were when the caller last
  // made a request (spoke, played or pressed keys).
  int tool_results_seen_ = 0;
  int tool_results_at_request_ = 0;
  int64_t wait_started_us_ = 0;

  // The one timer of the script (a pause, a key, a reply wait...): arming it cancels the last.
  agent::ScopedTask timer_{scheduler_};
  bool finished_ = false;
};

}  // namespace callsim::harness
