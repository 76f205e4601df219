#include "harness/caller/caller.h"

#include "harness/caller/ear_phrases.h"

#include <algorithm>
#include <cstdio>

#include "agent/pipeline/agent_events.h"
#include "agent/runtime/check.h"
#include "harness/caller/caller_events.h"

namespace callsim::harness {
namespace {

using Action = Turn::Action;

int64_t SamplesToUs(size_t samples) {
  return static_cast<int64_t>(samples) * agent::kMicrosPerSecond / agent::kSampleRateHz;
}

using agent::MsToUs;

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

const char* ActionName(Action action) {
  switch (action) {
    case Action::kWait: return "wait";
    case Action::kSay: return "say";
    case Action::kPlayFile: return "play_file";
    case Action::kDtmf: return "dtmf";
    case Action::kSilence: return "silence";
    case Action::kRepeat: return "repeat";
    case Action::kHangup: return "hangup";
  }
  return "wait";
}

// The longest no_reply window of the turn; 0 without one.
double NoReplyWindowMs(const Turn& turn) {
  double window_ms = 0;
  for (const Expectation& e : turn.expect) {
    if (e.kind == Expectation::kNoReply) window_ms = std::max(window_ms, e.within_ms);
  }
  return window_ms;
}

// The turn expects the agent to end the call: the caller waits for it after the reply.
bool ExpectsAgentEnd(const Turn& turn) {
  for (const Expectation& e : turn.expect) {
    if (e.kind == Expectation::kCallEnds && e.ends_by != CallEndedBy::kCaller) return true;
  }
  return false;
}

bool HasTurnExpectations(const Turn& turn) {
  for (const Expectation& e : turn.expect) {
    if (e.kind != Expectation::kCallEnds) return true;
  }
  return false;
}

std::string StringField(const nlohmann::json& detail, const char* key) {
  const auto it = detail.find(key);
  if (it == detail.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

CallerVoice DrawVoice(const CallerSpec& spec, agent::Rng rng) { return DrawCallerVoice(spec, rng); }

const agent::Frame kSilentFrame{};

}  // namespace

Caller::Caller(agent::Scheduler& scheduler, const Scenario& scenario, agent::Rng rng,
               agent::EventSink& events, HangupFn on_hangup)
    : scheduler_(scheduler),
      scenario_(scenario),
      voice_rng_(rng.Fork("voice")),
      events_(events),
      on_hangup_(std::move(on_hangup)),
      voice_(DrawVoice(scenario.caller, rng.Fork("variation"))),
      mic_(scenario.caller.noise, scenario.caller.echo, voice_.profile.level_dbfs,
           rng.Fork("mic"), scenario.caller.voice.engine) {
  const size_t n = scenario_.turns.size();
  outcomes_.resize(n);
  finalized_.assign(n, false);
  listen_from_us_.assign(n, std::nullopt);
  clips_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Turn& turn = scenario_.turns[i];
    const Action action = ActionOf(static_cast<int>(i));
    TurnOutcome& o = outcomes_[i];
    o.turn_index = static_cast<int>(i);
    o.action = ActionName(action);
    o.barge_in = turn.barge_in.has_value();
    if (action == Action::kSay) o.reference_text = turn.user;
    if (action == Action::kRepeat) o.reference_text = scenario_.caller.repeat_phrase;
    if (action == Action::kPlayFile) o.reference_text = turn.audio_transcript;
    o.has_user = !o.reference_text.empty();
    if (action != Action::kPlayFile) continue;
    std::string error;
    clips_[i] = LoadSpeechFile(turn.audio_file, &error);
    if (!clips_[i] && setup_error_.empty()) {
      setup_error_ = "turn " + std::to_string(i) + ": " + error;
    }
  }
  if (!mic_.ok() && setup_error_.empty()) setup_error_ = "caller microphone: " + mic_.error();
  ear_ = scenario_.caller.ear == RecognizerEngine::kAsr ? std::make_unique<Ear>(EarPhrases(scenario_))
                                                 : std::make_unique<Ear>();
  if (!ear_->error().empty() && setup_error_.empty()) setup_error_ = ear_->error();
}

// Every per-turn array has one entry per scenario turn; an index past it would attribute a
// measurement to the wrong turn (or to memory that is no turn at all).
size_t Caller::Slot(int index) const {
  CALLSIM_CHECK(index >= 0 && static_cast<size_t>(index) < scenario_.turns.size());
  return static_cast<size_t>(index);
}

// A scenario from a loader that predates Turn::action says only `user` and `hangup`.
Action Caller::ActionOf(int index) const {
  const Turn& turn = scenario_.turns[Slot(index)];
  if (turn.action != Action::kWait) return turn.action;
  if (turn.hangup) return Action::kHangup;
  return turn.user.empty() ? Action::kWait : Action::kSay;
}

void Caller::Start() {
  if (voice_.engine == VoiceEngine::kEspeak) {
    Emit(caller_events::kCallerVoice, {{"rate_factor", voice_.rate_factor},
                                       {"pause_scale", voice_.pause_scale},
                                       {"words_per_minute", voice_.espeak.words_per_minute},
                                       {"engine", "espeak"},
                                       {"voice", voice_.espeak.voice},
                                       {"pitch", voice_.espeak.pitch}});
  } else {
    Emit(caller_events::kCallerVoice, {{"rate_factor", voice_.rate_factor},
                                       {"pause_scale", voice_.pause_scale},
                                       {"words_per_minute", voice_.profile.words_per_minute}});
  }
  StartTurn(0);
}

// ---- script ---------------------------------------------------------------------------------

void Caller::StartTurn(int index) {
  if (finished_) return;
  if (index >= static_cast<int>(scenario_.turns.size())) {
    Hangup("script finished");
    return;
  }
  turn_ = index;
  const Turn& turn = scenario_.turns[Slot(index)];
  if (turn.barge_in) {
    ArmBargeIn(index);
    return;
  }
  if (turn.wait_for == WaitFor::kToolResult && tool_results_seen_ <= tool_results_at_request_) {
    // Bounded like a reply: without a tool result the caller goes on after reply_timeout_ms.
    phase_ = Phase::kWaitForTool;
    wait_started_us_ = scheduler_.NowUs();
    Emit(caller_events::kWaitFor, {{"turn", index}, {"what", "tool_result"}});
    timer_.After(MsToUs(scenario_.caller.reply_timeout_ms), [this, index] {
      Emit(caller_events::kWaitForTimeout, {{"turn", index},
                                            {"what", "tool_result"},
                                            {"waited_ms", scenario_.caller.reply_timeout_ms}});
      ScheduleAction(index);
    });
    return;
  }
  ScheduleAction(index);
}

void Caller::ScheduleAction(int index) {
  const double pause_ms = scenario_.turns[Slot(index)].pause_before_ms;
  if (ActionOf(index) == Action::kWait || pause_ms <= 0) {
    BeginAction(index);  // now, not from a task that would run after this tick's mouth frame
    return;
  }
  phase_ = Phase::kPausing;
  timer_.After(MsToUs(pause_ms), [this, index] { BeginAction(index); });
}

// Barge-in turns start at the onset of the reply they interrupt: after a delay into it, or once
// the ear has decoded a phrase of it (bounded: the reply's end or reply_timeout_ms).
void Caller::ArmBargeIn(int index) {
  const BargeIn& barge = *scenario_.turns[Slot(index)].barge_in;
  const bool reply_in_progress = reply_turn_ >= 0 && !finalized_[Slot(reply_turn_)] &&
                                 outcomes_[Slot(reply_turn_)].reply_onset_us.has_value();
  if (!barge.when_agent_says.empty() && reply_in_progress) {
    phase_ = Phase::kAwaitPhrase;
    timer_.After(MsToUs(scenario_.caller.reply_timeout_ms), [this, index] {
      Emit(caller_events::kBargeInPhraseNotHeard, {{"turn", index}, {"why", "timeout"}});
      BeginAction(index);
    });
    return;
  }
  int64_t at =
      reply_in_progress ? *outcomes_[Slot(reply_turn_)].reply_onset_us : scheduler_.NowUs();
  if (barge.when_agent_says.empty()) at += MsToUs(barge.after_agent_speech_ms);
  phase_ = Phase::kPausing;
  timer_.At(at, [this, index] { BeginAction(index); });
}

void Caller::BeginAction(int index) {
  if (finished_) return;
  const Turn& turn = scenario_.turns[Slot(index)];
  if (turn.barge_in) PrepareBargeIn(index);
  switch (ActionOf(index)) {
    case Action::kHangup: Hangup("caller hung up"); return;
    case Action::kWait: StartReplyWait(index, scheduler_.NowUs()); return;
    case Action::kSilence: StartSilence(index); return;
    case Action::kDtmf:
      current_user_turn_ = index;
      tool_results_at_request_ = tool_results_seen_;
      outcomes_[Slot(index)].utterance_start_us = scheduler_.NowUs();
      Emit(caller_events::kDtmfStart, {{"turn", index}, {"keys", turn.dtmf}});
      phase_ = Phase::kPressing;
      PressKey(index, 0);
      return;
    case Action::kSay:
    case Action::kPlayFile:
    case Action::kRepeat: StartSpeaking(index); return;
  }
}

void Caller::PrepareBargeIn(int index) {
  // The interrupted reply is what was heard so far.
  if (reply_turn_ >= 0) FinalizeTurn(reply_turn_);
  barge_turn_ = index;
  // The reply is in progress unless the caller has already heard it end (sentence pauses and
  // word gaps are part of speaking).
  barge_agent_was_speaking_ =
      ear_->last_active_us() >= 0 &&
      scheduler_.NowUs() - ear_->last_active_us() < MsToUs(scenario_.caller.reply_end_silence_ms);
  barge_stop_known_ = false;
}

void Caller::StartSpeaking(int index) {
  current_user_turn_ = index;
  tool_results_at_request_ = tool_results_seen_;
  const Turn& turn = scenario_.turns[Slot(index)];
  const Action action = ActionOf(index);
  speech_begin_ = 0;
  if (action == Action::kPlayFile) {
    const std::shared_ptr<const SpeechClip>& clip = clips_[Slot(index)];
    utterance_ = std::make_shared<const agent::HeldSamples>(
        clip ? std::shared_ptr<const std::vector<int16_t>>(clip, &clip->samples)
             : std::make_shared<const std::vector<int16_t>>());
  } else {
    std::vector<SpeechSegment> segments = turn.segments;
    if (action == Action::kRepeat) segments = {SpeechSegment{scenario_.caller.repeat_phrase, 0}};
    if (segments.empty()) segments = {SpeechSegment{turn.user, 0}};
    std::string voice_error;
    EncodedUtterance u = EncodeUtterance(segments, voice_, &voice_rng_, &voice_error);
    if (!voice_error.empty()) {
      Emit(caller_events::kVoiceError, {{"turn", index}, {"error", voice_error}});
      Hangup("the caller's voice failed: " + voice_error);
      return;
    }
    speech_begin_ = u.speech_begin;
    utterance_ = std::move(u.audio);
  }
  utterance_pos_ = 0;
  utterance_started_ = false;
  phase_ = Phase::kSpeaking;
  if (utterance_->size() == 0) OnActionEnd(scheduler_.NowUs());  // nothing to say
}

// Key `key` of the turn's keys: held kDtmfKeyMs, then kDtmfGapMs before the next.
void Caller::PressKey(int index, size_t key) {
  if (finished_) return;
  const std::string& keys = scenario_.turns[Slot(index)].dtmf;
  if (key >= keys.size()) {
    OnActionEnd(scheduler_.NowUs());
    return;
  }
  if (send_dtmf_) send_dtmf_(keys[key], kDtmfKeyMs);
  if (key + 1 < keys.size()) {
    timer_.After(MsToUs(kDtmfKeyMs + kDtmfGapMs), [this, index, key] { PressKey(index, key + 1); });
  } else {
    timer_.After(MsToUs(kDtmfKeyMs), [this] {
      if (!finished_) OnActionEnd(scheduler_.NowUs());
    });
  }
}

// The silence is the caller's action; a no_reply window in the turn keeps it open that long.
void Caller::StartSilence(int index) {
  const Turn& turn = scenario_.turns[Slot(index)];
  reply_turn_ = index;
  listen_from_us_[Slot(index)] = scheduler_.NowUs();
  phase_ = Phase::kSilent;
  const double silent_ms = std::max(turn.silence_ms, NoReplyWindowMs(turn));
  timer_.After(MsToUs(silent_ms), [this, index] {
    if (finished_) return;
    FinalizeTurn(index);
    NextTurn();
  });
}

void Caller::OnActionEnd(int64_t end_us) {
  TurnOutcome& o = outcomes_[Slot(turn_)];
  if (!o.utterance_start_us) o.utterance_start_us = end_us;
  o.utterance_end_us = end_us;
  Emit(ActionOf(turn_) == Action::kDtmf ? caller_events::kDtmfEnd : caller_events::kUtteranceEnd,
       {{"turn", turn_}});
  StartReplyWait(turn_, end_us);
}

// Waits for the agent's reply from `listen_from_us`: at most reply_timeout_ms, or, when the turn
// expects no reply, for its silent window (then the caller goes on).
void Caller::StartReplyWait(int index, int64_t listen_from_us) {
  reply_turn_ = index;
  listen_from_us_[Slot(index)] = listen_from_us;
  phase_ = Phase::kWaitReplyOnset;
  const double window_ms = NoReplyWindowMs(scenario_.turns[Slot(index)]);
  if (window_ms > 0) {
    timer_.At(listen_from_us + MsToUs(window_ms), [this] {
      if (finished_) return;
      FinalizeTurn(turn_);
      NextTurn();
    });
    return;
  }
  timer_.At(listen_from_us + MsToUs(scenario_.caller.reply_timeout_ms),
            [this] { OnReplyTimeout(); });
}

void Caller::OnReplyOnset(int64_t onset_us) {
  timer_.Cancel();
  TurnOutcome& o = outcomes_[Slot(turn_)];
  o.reply_onset_us = onset_us;
  nlohmann::json detail = {{"turn", turn_}};
  if (o.utterance_end_us) {
    o.turn_latency_ms = UsToMs(onset_us - *o.utterance_end_us);
    detail["latency_ms"] = *o.turn_latency_ms;
  }
  Emit(caller_events::kReplyOnset, detail);
  phase_ = Phase::kInReply;
  const size_t next = static_cast<size_t>(turn_) + 1;
  if (next < scenario_.turns.size() && scenario_.turns[next].barge_in) {
    StartTurn(static_cast<int>(next));
  }
}

void Caller::OnReplyEnd() {
  nlohmann::json detail = {{"turn", reply_turn_}, {"heard", outcomes_[Slot(reply_turn_)].heard_text}};
  // Words the off-thread ear gave up waiting for (Ear::kAsrMaxPendingMs) are missing from it.
  if (ear_->late_stretches() > 0) detail["ear_late_stretches"] = ear_->late_stretches();
  Emit(caller_events::kReplyEnd, detail);
  FinalizeTurn(reply_turn_);
  if (!ExpectsAgentEnd(scenario_.turns[Slot(turn_)])) {
    NextTurn();
    return;
  }
  // The agent should hang up or transfer now; give it as long as a reply, then go on.
  phase_ = Phase::kAwaitAgentEnd;
  timer_.After(MsToUs(scenario_.caller.reply_timeout_ms), [this] {
    Emit(caller_events::kAgentEndTimeout, {{"turn", turn_}});
    NextTurn();
  });
}

void Caller::OnReplyTimeout() {
  if (finished_) return;
  Emit(caller_events::kReplyTimeout, {{"turn", turn_}});
  Record(turn_, "reply", false, "no reply within " + FormatMs(scenario_.caller.reply_timeout_ms));
  FinalizeTurn(turn_);
  NextTurn();
}

void Caller::NextTurn() { StartTurn(turn_ + 1); }

void Caller::Hangup(const std::string& reason) {
  if (finished_) return;
  Emit(caller_events::kHangup, {{"reason", reason}});
  Finish(reason, CallEndedBy::kCaller);
  if (on_hangup_) on_hangup_(reason);
}

// ---- mouth and ear --------------------------------------------------------------------------

void Caller::NextOutputFrame(agent::Frame* out, int64_t frame_start_us) {
  out->samples.fill(0);
  out->concealed = false;
  bool speaking = false;
  const auto utterance_size = static_cast<size_t>(utterance_ ? utterance_->size() : 0);
  if (phase_ == Phase::kSpeaking && utterance_pos_ < utterance_size) {
    speaking = true;
    const size_t n = std::min<size_t>(agent::kFrameSamples, utterance_size - utterance_pos_);
    utterance_->Read(static_cast<int64_t>(utterance_pos_), static_cast<int>(n), out->samples.data());
    if (!utterance_started_ && utterance_pos_ + n > speech_begin_) {
      utterance_started_ = true;
      const size_t lead = speech_begin_ > utterance_pos_ ? speech_begin_ - utterance_pos_ : 0;
      outcomes_[Slot(turn_)].utterance_start_us = frame_start_us + SamplesToUs(lead);
      Emit(caller_events::kUtteranceStart,
           {{"turn", turn_}, {"barge_in", outcomes_[Slot(turn_)].barge_in}});
    }
    utterance_pos_ += n;
    if (utterance_pos_ == utterance_size) OnActionEnd(frame_start_us + SamplesToUs(n));
  }
  // The mixer's echo path counts ear frames from the call's start; ticks without one were silent.
  while (ear_frames_ < mouth_frames_) FeedEchoPath(nullptr);
  mic_.Mix(out, speaking);
  ++mouth_frames_;
  if (tape_) tape_->Mic(*out, frame_start_us);
}

void Caller::FeedEchoPath(const agent::Frame* heard) {
  mic_.OnEar(heard ? *heard : kSilentFrame);
  ++ear_frames_;
}

void Caller::OnEarFrame(const agent::Frame& frame, int64_t frame_start_us) {
  if (finished_ || turn_ < 0) return;
  while (ear_frames_ + 1 < mouth_frames_) FeedEchoPath(nullptr);
  FeedEchoPath(&frame);
  if (tape_) tape_->Ear(frame, frame_start_us);
  const EarActivity activity = ear_->Hear(frame, frame_start_us);
  const std::vector<std::string> words = ear_->TakeWords();
  if (!words.empty()) AppendHeard(words);
  if (phase_ == Phase::kAwaitPhrase) {
    const std::string& phrase =
        scenario_.turns[Slot(turn_)].barge_in->when_agent_says;
    // The ASR ear's words come when a stretch of speech ends; while it lasts, what it says so far.
    const std::string& so_far = outcomes_[Slot(reply_turn_)].heard_text;
    const bool heard = (!words.empty() && ContainsPhrase(so_far, phrase)) ||
                       (scenario_.caller.ear == RecognizerEngine::kAsr &&
                        ContainsPhrase(so_far + " " + ear_->Partial(), phrase));
    if (heard || (!activity.any && ReplySilentFor(frame_start_us) && !ear_->Pending())) {
      timer_.Cancel();
      if (heard) {
        Emit(caller_events::kBargeInPhraseHeard, {{"turn", turn_}});
      } else {
        Emit(caller_events::kBargeInPhraseNotHeard, {{"turn", turn_}, {"why", "reply ended"}});
      }
      BeginAction(turn_);
    }
    return;
  }
  const int64_t listen_from_us = listen_from_us_[Slot(turn_)].value_or(0);
  const bool tracking_barge_in = barge_turn_ == turn_ && !barge_stop_known_ &&
                                 (phase_ == Phase::kSpeaking || phase_ == Phase::kWaitReplyOnset);
  if (tracking_barge_in) {
    // Until the interrupted reply has fallen silent, what the ear hears is its tail, not a reply.
    TrackBargeIn(activity, frame_start_us);
  } else if (phase_ == Phase::kWaitReplyOnset && activity.any) {
    OnReplyOnset(std::max(activity.first_active_us, listen_from_us));
  } else if (phase_ == Phase::kSilent && activity.any && !outcomes_[Slot(turn_)].reply_onset_us) {
    outcomes_[Slot(turn_)].reply_onset_us = std::max(activity.first_active_us, listen_from_us);
    Emit(caller_events::kReplyOnset, {{"turn", turn_}, {"during", "silence"}});
  } else if (phase_ == Phase::kInReply && !activity.any && ReplySilentFor(frame_start_us) &&
             !ear_->Pending()) {
    OnReplyEnd();  // with the reply's last words in, when the ear decodes off the thread
  }
}

void Caller::AppendHeard(const std::vector<std::string>& words) {
  if (reply_turn_ < 0 || finalized_[Slot(reply_turn_)]) return;
  std::string& heard = outcomes_[Slot(reply_turn_)].heard_text;
  for (const std::string& w : words) {
    if (!heard.empty()) heard.push_back(' ');
    heard += w;
  }
}

// The agent has been silent at the ear for reply_end_silence_ms by the end of this frame.
bool Caller::ReplySilentFor(int64_t frame_start_us) const {
  const int64_t silent_us = frame_start_us + agent::kFrameUs - ear_->last_active_us();
  return ear_->last_active_us() >= 0 && silent_us >= MsToUs(scenario_.caller.reply_end_silence_ms);
}

// The agent has stopped when the caller hears the same silence that ends a reply; the stop is the
// last sample before it. An agent that talks on through its whole reply "stops" at its end.
void Caller::TrackBargeIn(const EarActivity& activity, int64_t frame_start_us) {
  TurnOutcome& o = outcomes_[Slot(turn_)];
  if (!o.utterance_start_us) return;
  if (!barge_agent_was_speaking_) {
    barge_stop_known_ = true;
    Emit(caller_events::kBargeInNoAgentSpeech, {{"turn", turn_}});
    return;
  }
  if (!activity.any && ReplySilentFor(frame_start_us)) {
    barge_stop_known_ = true;
    o.barge_in_stop_ms = std::max(0.0, UsToMs(ear_->last_active_us() - *o.utterance_start_us));
    Emit(caller_events::kAgentStopped, {{"turn", turn_}, {"stop_ms", *o.barge_in_stop_ms}});
  }
}

// ---- agent events and judging ---------------------------------------------------------------

void Caller::OnAgentEvent(std::string_view kind, const nlohmann::json& detail) {
  if (finished_) return;
  if (kind == agent::agent_events::kToolResult) {
    ++tool_results_seen_;
    if (phase_ != Phase::kWaitForTool) return;
    // Go on from a task of its own: this runs inside the agent's Emit, and the next action may
    // end the call.
    timer_.After(0, [this] {
      Emit(caller_events::kWaitForDone,
           {{"turn", turn_}, {"waited_ms", UsToMs(scheduler_.NowUs() - wait_started_us_)}});
      ScheduleAction(turn_);
    });
    return;
  }
  if (kind != agent::agent_events::kToolCallProposed && kind != agent::agent_events::kToolCall) {
    return;
  }
  const int index = EventTurn();
  if (index < 0) return;
  std::vector<AgentToolCall>& calls = outcomes_[Slot(index)].tool_calls;
  AgentToolCall call{StringField(detail, "id"), StringField(detail, "name"),
                     StringField(detail, "arguments")};
  const bool known =
      !call.id.empty() && std::any_of(calls.begin(), calls.end(), [&](const AgentToolCall& c) {
        return c.id == call.id;  // executed after it was proposed
      });
  if (!known && calls.size() < kMaxToolCallsPerTurn) calls.push_back(std::move(call));
}

// The turn an agent event belongs to: the one whose reply is awaited or being heard, else the
// one being driven.
int Caller::EventTurn() const {
  if (reply_turn_ >= 0 && !finalized_[Slot(reply_turn_)]) return reply_turn_;
  return turn_;
}

void Caller::FinalizeTurn(int index, const std::string& call_ended_reason) {
  if (index < 0 || finalized_[Slot(index)]) return;
  finalized_[Slot(index)] = true;
  CheckExpectations(index, call_ended_reason);
}

void Caller::CheckExpectations(int index, const std::string& call_ended_reason) {
  const Turn& turn = scenario_.turns[Slot(index)];
  if (!HasTurnExpectations(turn)) return;
  const TurnEvidence evidence = EvidenceFor(index, call_ended_reason);
  for (const Expectation& e : turn.expect) {
    if (e.kind == Expectation::kCallEnds) continue;  // judged when the call ends
    const Verdict v = JudgeExpectation(e, evidence);
    Record(index, ExpectationKindName(e.kind), v.passed, v.detail);
  }
}

TurnEvidence Caller::EvidenceFor(int index, const std::string& call_ended_reason) const {
  const TurnOutcome& o = outcomes_[Slot(index)];
  TurnEvidence evidence;
  evidence.heard_text = o.heard_text;
  evidence.turn_latency_ms = o.turn_latency_ms;
  evidence.barge_in_stop_ms = o.barge_in_stop_ms;
  evidence.barge_agent_was_speaking = barge_turn_ == index && barge_agent_was_speaking_;
  evidence.listen_from_us = listen_from_us_[Slot(index)];
  evidence.reply_onset_us = o.reply_onset_us;
  evidence.tool_calls = o.tool_calls;
  for (int j = index - 1; j >= 0; --j) {
    if (outcomes_[j].heard_text.empty()) continue;
    evidence.previous_heard_text = outcomes_[j].heard_text;
    break;
  }
  evidence.call_ended_reason = call_ended_reason;
  return evidence;
}

void Caller::Record(int index, const std::string& kind, bool passed, const std::string& detail) {
  CALLSIM_CHECK(index >= 0 && static_cast<size_t>(index) < scenario_.turns.size());
  expectations_.push_back(ExpectationResult{index, kind, passed, detail});
  Emit(caller_events::kExpectation,
       {{"turn", index}, {"kind", kind}, {"passed", passed}, {"detail", detail}});
}

void Caller::Emit(std::string_view kind, const nlohmann::json& detail) {
  events_.Emit(scheduler_.NowUs(), agent::event_sources::kCaller, kind, detail);
}

void Caller::Finish(const std::string& reason, CallEndedBy by) {
  if (finished_) return;
  finished_ = true;
  phase_ = Phase::kDone;
  timer_.Cancel();
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    if (finalized_[i]) continue;
    if (static_cast<int>(i) <= turn_) {
      FinalizeTurn(static_cast<int>(i), reason);  // judged on what was observed so far
      continue;
    }
    finalized_[i] = true;
    if (HasTurnExpectations(scenario_.turns[i])) {
      Record(static_cast<int>(i), "reply", false,
             "call ended (" + reason + ") before the turn started");
    }
  }
  for (size_t i = 0; i < scenario_.turns.size(); ++i) {
    for (const Expectation& e : scenario_.turns[i].expect) {
      if (e.kind != Expectation::kCallEnds) continue;
      const Verdict v = JudgeCallEnds(e, by, reason);
      Record(static_cast<int>(i), "call_ends", v.passed, v.detail);
    }
  }
}

}  // namespace callsim::harness
