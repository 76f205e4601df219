#include "agent/pipeline/voice_agent.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "agent/pipeline/agent_events.h"
#include "agent/pipeline/repeat_request.h"
#include "agent/pipeline/turn_completion.h"
#include "agent/runtime/check.h"
#include "agent/runtime/json_fields.h"
#include "agent/text/words.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

// A span in milliseconds; empty when either end was not reached.
std::optional<double> SpanMs(int64_t from_us, int64_t to_us) {
  if (from_us < 0 || to_us < 0) return std::nullopt;
  return static_cast<double>(to_us - from_us) / kMicrosPerMs;
}

EndpointerConfig EndpointerConfigFor(const AgentConfig& config) {
  return EndpointerConfig{config.vad.stop_ms, config.endpoint_delay_ms,
                          std::max(config.endpoint_delay_ms, config.endpoint_max_delay_ms),
                          config.max_turn_ms, config.endpoint_finished_delay_ms};
}

}  // namespace

const char* AgentStateName(AgentState state) {
  switch (state) {
    case AgentState::kListening: return "listening";
    case AgentState::kUserSpeaking: return "user_speaking";
    case AgentState::kThinking: return "thinking";
    case AgentState::kSpeaking: return "speaking";
    case AgentState::kEnded: return "ended";
  }
  CALLSIM_CHECK(!"AgentState out of range");
  return "";
}

VoiceAgent::VoiceAgent(Scheduler& scheduler, AgentConfig config, SttProvider& stt,
                       LlmProvider& llm, TtsProvider& tts, EventSink& events)
    : scheduler_(scheduler),
      config_(std::move(config)),
      stt_provider_(stt),
      llm_provider_(llm),
      tts_provider_(tts),
      events_(events),
      vad_(config_.vad),
      endpointer_(scheduler, EndpointerConfigFor(config_),
                  [this](const Endpoint& endpoint) { OnEndpoint(endpoint); }),
      chunker_(static_cast<size_t>(config_.max_sentence_chars)),
      echo_guard_(config_.echo_guard_db),
      barge_(MsToUs(config_.barge_in_min_ms), config_.barge_in_min_words),
      resume_(scheduler, config_.false_interruption_timeout_ms, [this] { OnResumeTimeout(); }),
      silence_(scheduler, config_.silence_timeout_ms, config_.max_silence_prompts,
               [this] { OnSilenceTimer(); }),
      dtmf_(scheduler, config_.max_dtmf_keys, config_.dtmf_timeout_ms,
            [this] { FlushDtmf("timeout"); }),
      stall_(scheduler, config_.provider_timeout_ms, config_.stream_stall_timeout_ms,
             [this] { OnWatchdog(); }),
      max_call_timer_(scheduler),
      history_(config_.max_history_messages),
      reply_(scheduler),
      reaper_(scheduler) {
  gate_ = std::make_unique<ToolGate>(scheduler_, config_.tools, no_backends_, own_breakers_);
  chunker_.set_first_clause_words(static_cast<size_t>(std::max(0, config_.first_clause_words)));
  endpointer_.set_sounds([this] { return HowTurnSounds(last_interim_); });
}

void VoiceAgent::EnableTools(const ToolBackends& backends, CircuitBreakers& breakers) {
  gate_ = std::make_unique<ToolGate>(scheduler_, config_.tools, backends, breakers);
}

// The timers are ScopedTasks and cancel themselves; tool runs are cancelled here.
VoiceAgent::~VoiceAgent() {
  for (ToolRun& run : reply_.tools) {
    if (run.invocation) run.invocation->Cancel();
  }
  for (ToolRun& run : detached_runs_) {
    if (run.invocation) run.invocation->Cancel();
  }
}

void VoiceAgent::Start() {
  if (started_ || state_ == AgentState::kEnded) return;
  started_ = true;
  Emit(agent_events::kCallStart, json::object());
  OpenStt();
  max_call_timer_.After(MsToUs(config_.max_call_ms), [this] {
    Emit(agent_events::kMaxCallDuration, {{"max_call_ms", config_.max_call_ms}});
    EndCall("max_call");
  });
  if (HasText(config_.greeting)) {
    BeginReply(ReplyKind::kGreeting);
    SpeakFixedText(config_.greeting);
  }
}

// ---- caller side ----------------------------------------------------------------------------

void VoiceAgent::OnCallerFrame(const Frame& frame, int64_t frame_start_us) {
  if (!started_ || state_ == AgentState::kEnded) return;
  const double echo_gate_dbfs = echo_guard_.GateDbfs();
  const VadEvent event = vad_.Process(frame, frame_start_us, echo_gate_dbfs);
  if (vad_.last_frame_voiced()) {
    preempt_finalized_ = false;  // words after an early final need a final of their own
    if (reply_.held) CancelReply("caller_resumed");
  }
  // Echo suppression: audio no louder than the agent's own echo would reach the STT as the
  // agent's words; it gets silence instead (speech over the agent is louder and passes).
  if (stt_) stt_->PushAudio(echo_guard_.SttInput(frame, vad_.last_level_dbfs(), echo_gate_dbfs));
  ++stt_frames_;
  if (event.kind == VadEventKind::kStart) {
    OnVadStart(event.time_us, frame_start_us);
  } else if (event.kind == VadEventKind::kStop) {
    OnVadStop(event.time_us);
  } else if (barge_.active() && vad_.last_frame_voiced()) {
    barge_.AddVoicedFrame();
    if (barge_.Confirmed()) BargeIn();
  }
  if (!vad_.last_frame_voiced() && std::exchange(preempt_waits_for_quiet_, false)) MaybePreempt();
}

void VoiceAgent::OnVadStart(int64_t start_us, int64_t frame_start_us) {
  Emit(agent_events::kVadStart, {{"audio_us", start_us}});
  silence_.Cancel();
  if (reply_active() && (reply_.playing || reply_.queued_frames > 0)) {
    // The caller may be interrupting, or it may be a cough: decide once enough is voiced.
    barge_.Begin(start_us, frame_start_us + kFrameUs - start_us);
    if (barge_.Confirmed()) BargeIn();
    return;
  }
  if (state_ == AgentState::kUserSpeaking) {
    endpointer_.OnSpeechStart(start_us);  // speech resumed before the endpoint
    return;
  }
  // Listening (perhaps with a greeting not yet audible) or thinking: the caller goes on talking,
  // so the pending reply is dropped and the agent keeps listening.
  const char* reason = state_ == AgentState::kThinking ? "caller_resumed" : "vad_start";
  CancelReply(reason);
  BeginUserTurn(start_us, reason);
}

void VoiceAgent::OnVadStop(int64_t speech_end_us) {
  Emit(agent_events::kVadStop, {{"audio_us", speech_end_us}});
  if (barge_.active()) {
    Emit(agent_events::kBargeInIgnored, {{"voiced_ms", barge_.End().voiced_us / kMicrosPerMs}});
    return;
  }
  if (state_ == AgentState::kUserSpeaking) {
    turn_.speech_end_us = speech_end_us;
    endpointer_.OnSpeechStop(speech_end_us);
  }
}

void VoiceAgent::BargeIn() {
  const BargeInCandidate::Speech speech = barge_.End();
  if (!reply_active()) {  // the reply ended or failed meanwhile: this is simply the next turn
    BeginUserTurn(speech.start_us, "vad_start");
    return;
  }
  Emit(agent_events::kBargeIn, {{"played_ms", reply_.played_frames * kFrameMs},
                                {"voiced_ms", speech.voiced_us / kMicrosPerMs},
                                {"words", speech.words},
                                {"heard_text", reply_.Text(/*played_only=*/true)}});
  // A finished reply can be resumed from the sentence it was in if no words follow.
  std::string rest;
  if (config_.false_interruption_timeout_ms > 0 && reply_.llm_done && reply_.tools_running == 0 &&
      !reply_.follow_up && reply_.after.action == AfterReply::Action::kContinue) {
    rest = reply_.UnplayedText();
  }
  CancelReply("barge_in");
  BeginUserTurn(speech.start_us, "barge_in");
  if (HasText(rest) && speech.words == 0) resume_.Arm(std::move(rest));
}

// A turn still going (the caller talking, or its final on the way) decides at its endpoint: an
// empty final resumes there, words cancel the resume.
void VoiceAgent::OnResumeTimeout() {
  if (resume_.pending() && state_ != AgentState::kUserSpeaking && pending_finals_ == 0) {
    Resume("timeout");
  }
}

void VoiceAgent::OnInterimWords(int words) {
  if (barge_.active()) {
    barge_.SetWords(words);
    if (barge_.Confirmed()) BargeIn();
  }
  if (resume_.pending() && words > 0) resume_.Drop();  // the interruption had words: a real one
}

// No words followed the barge-in: the agent picks up where it was cut off.
void VoiceAgent::Resume(const char* why) {
  std::string text = resume_.Take();
  if (state_ == AgentState::kEnded || !HasText(text)) return;
  Emit(agent_events::kFalseInterruption, {{"reason", why}, {"resumed_text", text}});
  SetState(AgentState::kThinking, "false_interruption");
  BeginReply(ReplyKind::kResume);
  SpeakFixedText(text);
}

void VoiceAgent::BeginUserTurn(int64_t start_us, const char* reason) {
  silence_.Reset();
  if (!endpointer_.in_turn()) {
    turn_ = TurnTiming{};
    last_interim_.clear();
    preempt_finalized_ = false;
    preempt_waits_for_quiet_ = false;
  }
  SetState(AgentState::kUserSpeaking, reason);
  endpointer_.OnSpeechStart(start_us);
}

void VoiceAgent::OnEndpoint(const Endpoint& endpoint) {
  if (state_ != AgentState::kUserSpeaking) return;
  const int64_t now_us = scheduler_.NowUs();
  turn_.endpoint_us = now_us;
  turn_.speech_end_us = endpoint.speech_end_us;
  Emit(agent_events::kEndpoint,
       {{"reason", EndpointReasonName(endpoint.reason)},
        {"silence_ms", JsonNumberOrNull(SpanMs(endpoint.speech_end_us, now_us))},
        {"turn_ms", JsonNumberOrNull(SpanMs(endpoint.turn_start_us, now_us))}});
  SetState(AgentState::kThinking,
           endpoint.reason == EndpointReason::kMaxTurn ? "max_turn" : "endpoint");
  stall_.MarkProgress();
  if (std::exchange(preempt_finalized_, false)) {
    // The STT was finalized when the words sounded finished, and nothing was said since.
    if (pending_finals_ > 0) {
      ArmWatchdog();  // its final decides (OnSttFinal)
    } else if (reply_.held) {
      ReleasePreemption();
    } else if (history_.LastIsUser()) {
      Respond();
    } else {
      Emit(agent_events::kEmptyFinal, json::object());
      SetState(AgentState::kListening, "empty_final");
      ArmSilenceTimer();
    }
    return;
  }
  ++pending_finals_;
  if (stt_) stt_->Finalize();
  ArmWatchdog();
}

void VoiceAgent::MaybePreempt() {
  if (!config_.preemptive_generation || state_ != AgentState::kUserSpeaking || !stt_) return;
  // The caller must be quiet, the words must sound finished, and the answer must be the model's
  // (not a confirmation, a resumed reply or a replay). An interim that came while the last
  // frame was still voiced (the tail of its own word) is looked at again on the first quiet one.
  preempt_waits_for_quiet_ = vad_.last_frame_voiced();
  if (vad_.last_frame_voiced() || barge_.active() || confirmation_.active || resume_.pending() ||
      (reply_active() && !reply_.held)) {
    return;
  }
  const std::string text = last_interim_;
  if (HowTurnSounds(text) != TurnSounds::kFinished || IsRepeatRequest(text)) return;
  if (reply_.held) {
    if (reply_.preemptive_text == text) return;
    CancelReply("transcript_changed");
  }
  ++pending_finals_;
  preempt_finalized_ = true;
  stt_->Finalize();
  ++preemptive_requests_;
  Emit(agent_events::kPreemptiveStart, {{"words", CountWords(text)}});
  BeginReply(ReplyKind::kAnswer);
  reply_.held = true;
  reply_.preemptive_text = text;
  OpenLlmStream(&text);
}

// The turn ended on the words the held reply answers: it plays, and what waited runs now.
void VoiceAgent::ReleasePreemption() {
  reply_.held = false;
  reply_.timing.speech_end_us = turn_.speech_end_us;
  reply_.timing.endpoint_us = turn_.endpoint_us;
  reply_.timing.final_us = turn_.final_us;
  Emit(agent_events::kPreemptiveUsed,
       {{"lead_ms", JsonNumberOrNull(SpanMs(reply_.timing.llm_request_us, turn_.endpoint_us))}});
  resume_.Drop();
  gate_->BeginTurn();
  const uint64_t id = reply_.id;
  const std::vector<ToolCallRequest> calls = std::move(reply_.held_tool_calls);
  reply_.held_tool_calls.clear();
  for (const ToolCallRequest& call : calls) {
    if (reply_.id != id) return;
    OnToolCall(call);
  }
  if (reply_.id == id && reply_.held_done) {
    SayPendingNotices();
    if (reply_.id == id) MaybeFollowUp();
  }
  if (reply_.id == id) ArmWatchdog();
}

void VoiceAgent::OpenStt() {
  const uint64_t generation = ++stt_generation_;
  SttListener listener;
  listener.on_interim = [this, generation](const std::string& text) {
    if (generation != stt_generation_) return;
    // The words themselves are not reported: an interim can hold the first digits of a card
    // number, too few to be recognised (and redacted) as one. The final has the whole text.
    const int words = CountWords(text);
    Emit(agent_events::kSttInterim, {{"words", words}});
    last_interim_ = text;
    OnInterimWords(words);
    MaybePreempt();
  };
  listener.on_final = [this, generation](const std::string& text) {
    if (generation == stt_generation_) OnSttFinal(text);
  };
  listener.on_error = [this, generation](const std::string& error) {
    if (generation == stt_generation_) OnProviderError("stt", error);
  };
  stt_ = stt_provider_.Open(std::move(listener));
}

// Drops the current session (it may be the one calling us) and opens a new one, within the bound.
bool VoiceAgent::ReopenStt() {
  CloseStt();
  if (stt_reopens_ >= config_.max_stt_reopens) {
    EndCall("stt_failed");
    return false;
  }
  ++stt_reopens_;
  OpenStt();
  Emit(agent_events::kSttReopened, {{"reopens", stt_reopens_}});
  return true;
}

// Callbacks of the session are ignored from now on; it is destroyed on the next turn.
void VoiceAgent::CloseStt() {
  ++stt_generation_;
  reaper_.Park(std::move(stt_));
}

void VoiceAgent::OnSttFinal(const std::string& text) {
  stall_.MarkProgress();
  if (pending_finals_ > 0) --pending_finals_;
  turn_.final_us = scheduler_.NowUs();
  // An early final (preemptive generation) is how the turn ends so far, for the endpointer.
  last_interim_ = state_ == AgentState::kUserSpeaking && preempt_finalized_ ? text : "";
  Emit(agent_events::kSttFinal, {{"text", text}});
  if (HasText(text)) {
    history_.Append("user", text);
    OnInterimWords(CountWords(text));
  } else if (resume_.pending() && pending_finals_ == 0 && state_ == AgentState::kThinking &&
             !history_.LastIsUser()) {
    Resume("empty_final");
    return;
  }
  if (reply_.held && pending_finals_ == 0) {
    if (NormalizeText(text) != NormalizeText(reply_.preemptive_text)) {
      CancelReply("transcript_changed");
    } else if (state_ == AgentState::kThinking) {
      ReleasePreemption();
      return;
    }
  }
  if (pending_finals_ > 0 || state_ != AgentState::kThinking || reply_active()) return;
  // A turn the caller resumed is merged into one user message and answered at its last endpoint,
  // even if the words after the resumption were only noise (an empty final).
  if (history_.LastIsUser()) {
    Respond();
    return;
  }
  Emit(agent_events::kEmptyFinal, json::object());
  SetState(AgentState::kListening, "empty_final");
  ArmSilenceTimer();
}

void VoiceAgent::OnDtmf(char key, int64_t t_us) {
  if (!started_ || state_ == AgentState::kEnded) return;
  Emit(agent_events::kDtmf, {{"key", std::string(1, key)}});
  silence_.Cancel();  // the caller is entering keys, not silent
  switch (dtmf_.Add(key, t_us)) {
    case DtmfCollector::Added::kTerminator: FlushDtmf("terminator"); return;
    case DtmfCollector::Added::kDropped:
      Emit(agent_events::kDtmfDropped, {{"max_dtmf_keys", config_.max_dtmf_keys}});
      return;
    case DtmfCollector::Added::kKept: return;
  }
}

void VoiceAgent::FlushDtmf(const char* reason) {
  const std::string text = dtmf_.TakeMessage();
  Emit(agent_events::kDtmfInput, {{"text", text}, {"reason", reason}});
  if (state_ == AgentState::kUserSpeaking || pending_finals_ > 0) {
    if (reply_.held) CancelReply("dtmf");  // the turn's message is no longer what it answers
    history_.Append("user", text);  // answered with the speech turn it belongs to
    return;
  }
  CancelReply("dtmf");  // a key press interrupts what the agent was saying or about to say
  silence_.Reset();
  resume_.Drop();
  barge_.End();
  history_.Append("user", text);
  const int64_t now_us = scheduler_.NowUs();
  turn_ = TurnTiming{};
  turn_.speech_end_us = dtmf_.last_key_us();
  turn_.endpoint_us = now_us;
  turn_.final_us = now_us;
  SetState(AgentState::kThinking, "dtmf");
  Respond();
}

void VoiceAgent::Respond() {
  resume_.Drop();  // the caller said something: nothing to resume
  if (confirmation_.active && AnswerConfirmation()) return;
  gate_->BeginTurn();
  if (IsRepeatRequest(history_.back().content)) {
    const std::vector<ChatMessage>& messages = history_.messages();
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (it->role != "assistant" || !it->tool_name.empty()) continue;  // words, not tool calls
      const std::string text = it->content;  // the history grows below
      Emit(agent_events::kRepeat, {{"text", text}});
      BeginReply(ReplyKind::kAnswer);
      SpeakFixedText(text);
      return;
    }
  }
  StartAnswer();
}

// ---- reply side -----------------------------------------------------------------------------

void VoiceAgent::BeginReply(ReplyKind kind) {
  CancelReply("superseded");
  reply_.id = next_reply_id_++;
  reply_.kind = kind;
  reply_.llm_done = true;
  if (kind == ReplyKind::kAnswer) reply_.timing = turn_;
  chunker_.Reset();
}

void VoiceAgent::SpeakFixedText(const std::string& text) {
  // All of it is known: whole sentences (a first clause only helps text that is still coming).
  SentenceChunker chunker(static_cast<size_t>(config_.max_sentence_chars));
  std::vector<std::string> sentences;
  chunker.Push(text, &sentences);
  chunker.Flush(&sentences);
  const uint64_t id = reply_.id;
  for (std::string& sentence : sentences) {
    if (reply_.id != id) break;  // a provider failed synchronously and ended the reply
    AddSentence(std::move(sentence));
  }
}

void VoiceAgent::StartAnswer() {
  BeginReply(ReplyKind::kAnswer);
  OpenLlmStream();
}

// A request with the whole history, answered into the reply in progress (the first request of an
// answer, or the follow-up after tool results).
void VoiceAgent::OpenLlmStream(const std::string* pending_user) {
  LlmRequest request;
  const std::vector<ChatMessage>& history = history_.messages();
  request.messages.reserve(history.size() + 2);
  request.messages.push_back(ChatMessage{"system", config_.system_prompt, {}, {}});
  request.messages.insert(request.messages.end(), history.begin(), history.end());
  if (pending_user != nullptr) {  // as the history will hold it once the final is in
    if (request.messages.back().role == "user") {
      request.messages.back().content += ' ';
      request.messages.back().content += *pending_user;
    } else {
      request.messages.push_back(ChatMessage{"user", *pending_user, {}, {}});
    }
  }
  for (const ChatMessage& message : request.messages) {
    llm_input_chars_ += static_cast<int64_t>(message.content.size());
  }
  if (reply_.llm) reaper_.Park(std::move(reply_.llm));  // the previous step's stream is done
  reply_.llm_done = false;
  reply_.llm_tokens = 0;
  if (reply_.timing.llm_request_us < 0) reply_.timing.llm_request_us = scheduler_.NowUs();
  Emit(agent_events::kLlmRequest, {{"messages", request.messages.size()}});

  const uint64_t id = reply_.id;
  LlmListener listener;
  listener.on_token = [this, id](const std::string& token) {
    if (id == reply_.id) OnLlmToken(token);
  };
  listener.on_tool_call = [this, id](const ToolCallRequest& call) {
    if (id == reply_.id) OnToolCall(call);
  };
  listener.on_done = [this, id] {
    if (id == reply_.id) OnLlmDone();
  };
  listener.on_error = [this, id](const std::string& error) {
    if (id == reply_.id) OnProviderError("llm", error);
  };
  stall_.MarkProgress();
  std::unique_ptr<LlmStream> stream = llm_provider_.Start(request, std::move(listener));
  if (reply_.id == id) {
    reply_.llm = std::move(stream);
    ArmWatchdog();
  } else if (stream) {
    stream->Cancel();
    reaper_.Park(std::move(stream));
  }
}

void VoiceAgent::OnLlmToken(const std::string& token) {
  stall_.MarkProgress();
  if (reply_.timing.first_token_us < 0) {
    reply_.timing.first_token_us = scheduler_.NowUs();
    Emit(agent_events::kLlmFirstToken, json::object());
  }
  ++llm_output_tokens_;
  if (++reply_.llm_tokens == 1) stall_.Rearm(StageStreaming());  // the stall bound holds now
  std::vector<std::string> sentences;  // allocates only when a sentence completes
  chunker_.Push(token, &sentences);
  const uint64_t id = reply_.id;
  for (std::string& sentence : sentences) {
    if (reply_.id != id) break;
    AddSentence(std::move(sentence));
  }
}

void VoiceAgent::OnLlmDone() {
  stall_.MarkProgress();
  std::vector<std::string> sentences;
  chunker_.Flush(&sentences);
  const uint64_t id = reply_.id;
  reply_.llm_done = true;
  Emit(agent_events::kLlmDone, {{"sentences", reply_.segments.size() + sentences.size()}});
  for (std::string& sentence : sentences) {
    if (reply_.id != id) break;
    AddSentence(std::move(sentence));
  }
  if (reply_.id != id) return;
  if (reply_.held) {  // notices and a follow-up wait for the endpoint
    reply_.held_done = true;
    return;
  }
  SayPendingNotices();
  if (reply_.id == id) MaybeFollowUp();
}

void VoiceAgent::AddSentence(std::string text) {
  if (reply_.segments.size() >= static_cast<size_t>(std::max(1, config_.max_reply_sentences))) {
    if (reply_.dropped_sentences++ == 0) {
      Emit(agent_events::kSentenceDropped, {{"max_reply_sentences", config_.max_reply_sentences}});
    }
    return;
  }
  const int64_t now_us = scheduler_.NowUs();
  const size_t index = reply_.segments.size();
  if (index == 0) {
    reply_.timing.first_sentence_us = now_us;
    reply_.timing.first_tts_request_us = now_us;
  }
  Emit(agent_events::kSentence, {{"text", text}});
  Emit(agent_events::kTtsRequest, {{"text", text}});
  tts_chars_ += static_cast<int64_t>(text.size());
  reply_.segments.emplace_back();
  reply_.segments.back().text = std::move(text);

  const uint64_t id = reply_.id;
  TtsListener listener;
  listener.on_audio = [this, id, index](const TtsFrame& frame) {
    if (id == reply_.id) OnTtsAudio(index, frame);
  };
  listener.on_done = [this, id, index] {
    if (id != reply_.id) return;
    stall_.MarkProgress();
    CALLSIM_CHECK(index < reply_.segments.size());
    reply_.segments[index].done = true;
  };
  listener.on_error = [this, id](const std::string& error) {
    if (id == reply_.id) OnProviderError("tts", error);
  };
  stall_.MarkProgress();
  std::unique_ptr<TtsStream> stream =
      tts_provider_.Synthesize(reply_.segments[index].text, std::move(listener));
  if (reply_.id == id) {
    reply_.segments[index].tts = std::move(stream);
    ArmWatchdog();
  } else if (stream) {
    stream->Cancel();
    reaper_.Park(std::move(stream));
  }
}

void VoiceAgent::OnTtsAudio(size_t index, const TtsFrame& frame) {
  CALLSIM_CHECK(index < reply_.segments.size());
  stall_.MarkProgress();
  if (index == 0 && reply_.timing.first_tts_audio_us < 0) {
    reply_.timing.first_tts_audio_us = scheduler_.NowUs();
    Emit(agent_events::kTtsFirstAudio, json::object());
  }
  if (reply_.queued_frames >= config_.max_queued_frames) {
    if (reply_.dropped_frames++ == 0) {
      Emit(agent_events::kTtsAudioDropped, {{"max_queued_frames", config_.max_queued_frames}});
    }
    return;
  }
  ReplySegment& segment = reply_.segments[index];
  const bool first_frame = segment.audio.received() == 0 && !segment.played_any;
  segment.audio.Push(frame);
  ++reply_.queued_frames;
  if (first_frame) stall_.Rearm(StageStreaming());
}

bool VoiceAgent::NextOutputFrame(Frame* out) {
  const bool audio =
      state_ != AgentState::kEnded && reply_active() && !reply_.held && PopReplyFrame(out);
  echo_guard_.OnOutputFrame(audio ? out : nullptr);
  if (audio) return true;
  out->samples.fill(0);
  out->concealed = false;
  if (state_ == AgentState::kEnded || !reply_active() || reply_.held) return false;
  if (reply_.Complete()) FinishReply();
  return false;
}

bool VoiceAgent::PopReplyFrame(Frame* out) {
  if (!reply_.PopFrame(out)) return false;
  if (!reply_.playing) OnReplyStartedPlaying();
  return true;
}

void VoiceAgent::OnReplyStartedPlaying() {
  reply_.playing = true;
  Emit(agent_events::kSpeechStart, {{"kind", ReplyKindName(reply_.kind)}});
  if (reply_.kind == ReplyKind::kAnswer) EmitTurnSpans();
  SetState(AgentState::kSpeaking, "reply_audio");
}

void VoiceAgent::EmitTurnSpans() {
  const TurnTiming& t = reply_.timing;
  const int64_t now_us = scheduler_.NowUs();
  TurnSpansEvent spans;
  spans.endpointing_ms = SpanMs(t.speech_end_us, t.endpoint_us);
  spans.stt_final_ms = SpanMs(t.endpoint_us, t.final_us);
  spans.llm_ttft_ms = SpanMs(t.llm_request_us, t.first_token_us);
  spans.first_sentence_ms = SpanMs(t.llm_request_us, t.first_sentence_us);
  spans.tts_ttfb_ms = SpanMs(t.first_tts_request_us, t.first_tts_audio_us);
  spans.response_ms = SpanMs(t.speech_end_us, now_us);
  spans.waterfall = ComputeWaterfall(t.speech_end_us, t.endpoint_us, t.final_us, t.first_token_us,
                                     t.first_sentence_us, t.first_tts_audio_us, now_us);
  Emit(agent_events::kTurnSpans, ToJson(spans));
}

void VoiceAgent::FinishReply() {
  const bool played = reply_.playing;
  const std::string text = reply_.Text(/*played_only=*/false);
  const char* kind = ReplyKindName(reply_.kind);
  if (played) {
    Emit(agent_events::kSpeechEnd, {{"kind", kind},
                                    {"played_ms", reply_.played_frames * kFrameMs},
                                    {"interrupted", false},
                                    {"dropped_frames", reply_.dropped_frames}});
  } else {
    Emit(agent_events::kEmptyReply, {{"kind", kind}});
  }
  const AfterReply after = std::move(reply_.after);
  std::vector<ChatMessage> tool_messages = std::move(reply_.tool_messages);
  RetireReplyStreams();
  reply_ = Reply(scheduler_);  // cancels its filler timer
  chunker_.Reset();
  if (HasText(text)) history_.Append("assistant", text);
  if (!tool_messages.empty()) {  // blocked or failed calls: the model sees them next time
    history_.Add(&tool_messages);
    history_.Trim();
  }
  if (after.action != AfterReply::Action::kContinue) {
    EndByAgent(after);
    return;
  }
  if (barge_.active()) {  // the caller started talking in the reply's last moments
    BeginUserTurn(barge_.End().start_us, "vad_start");
    return;
  }
  SetState(AgentState::kListening, played ? "reply_done" : "empty_reply");
  ArmSilenceTimer();
}

std::string VoiceAgent::CancelReply(const char* reason) {
  if (!reply_active()) return {};
  if (reply_.held) {  // preemptive work thrown away: paid for, never heard
    int64_t chars = 0;
    for (const ReplySegment& segment : reply_.segments) {
      chars += static_cast<int64_t>(segment.text.size());
    }
    ++wasted_llm_requests_;
    wasted_llm_tokens_ += reply_.llm_tokens;
    wasted_tts_chars_ += chars;
    Emit(agent_events::kPreemptiveWasted,
         {{"reason", reason}, {"tokens", reply_.llm_tokens}, {"tts_chars", chars}});
  }
  const std::string heard = reply_.Text(/*played_only=*/true);
  if (reply_.playing) {
    Emit(agent_events::kSpeechEnd, {{"kind", ReplyKindName(reply_.kind)},
                                    {"played_ms", reply_.played_frames * kFrameMs},
                                    {"interrupted", true},
                                    {"dropped_frames", reply_.dropped_frames}});
  }
  Emit(agent_events::kReplyCancelled, {{"reason", reason},
                                       {"llm_cancelled", reply_.llm != nullptr && !reply_.llm_done},
                                       {"tts_streams", reply_.segments.size()}});
  CancelTools(reason);
  // A confirmation question the caller never heard is no longer pending: a later "yes" (to an
  // apology, say) must not run the tool.
  const std::optional<size_t> question = reply_.notices.question_segment();
  const bool question_heard = question.has_value() && *question < reply_.segments.size() &&
                              reply_.segments[*question].played_any;
  if (confirmation_.active && !reply_.notices.question().empty() && !question_heard) {
    Audit(confirmation_.call, "cancelled", std::string("unheard_confirmation: ") + reason, nullptr,
          0, false);
    confirmation_ = PendingConfirmation{};
  }
  history_.Add(&reply_.tool_messages);  // trimmed with the next message
  RetireReplyStreams();
  reply_ = Reply(scheduler_);
  chunker_.Reset();
  if (HasText(heard)) history_.Append("assistant", heard);
  return heard;
}

void VoiceAgent::RetireReplyStreams() {
  if (reply_.llm) {
    reply_.llm->Cancel();
    reaper_.Park(std::move(reply_.llm));
  }
  for (ReplySegment& segment : reply_.segments) {
    if (!segment.tts) continue;
    segment.tts->Cancel();
    reaper_.Park(std::move(segment.tts));
  }
}

// ---- errors, bounds and bookkeeping ---------------------------------------------------------

void VoiceAgent::OnProviderError(const char* stage, const std::string& error) {
  Emit(agent_events::kProviderError, {{"stage", stage}, {"error", error}});
  if (state_ == AgentState::kEnded) return;
  const std::string_view which(stage);
  if (reply_.held && which != "stt") {  // the turn goes on; its endpoint asks again
    CancelReply("provider_error");
    return;
  }
  CancelReply("provider_error");
  if (which == "stt") {
    pending_finals_ = 0;
    preempt_finalized_ = false;
    if (!ReopenStt()) return;
  }
  if (which == "tts") {  // no voice to apologise with
    SetState(AgentState::kListening, "tts_error");
    ArmSilenceTimer();
    return;
  }
  SetState(AgentState::kThinking, "provider_error");
  BeginReply(ReplyKind::kApology);
  SpeakFixedText(config_.apology);
}

void VoiceAgent::ArmWatchdog() { stall_.Arm(StageStreaming()); }

void VoiceAgent::OnWatchdog() {
  const char* stage = StalledStage();
  if (stage == nullptr || state_ == AgentState::kEnded) return;
  if (!stall_.Expired(StageStreaming())) {
    ArmWatchdog();
    return;
  }
  OnProviderError(stage, "timeout");
}

const char* VoiceAgent::StalledStage() const {
  if (pending_finals_ > 0) return "stt";
  if (!reply_active()) return nullptr;
  if (!reply_.llm_done) return "llm";
  if (reply_.FirstUnsynthesized() != nullptr) return "tts";
  return nullptr;
}

bool VoiceAgent::StageStreaming() const {
  const char* stage = StalledStage();
  if (stage == nullptr) return false;
  const std::string_view which(stage);
  if (which == "llm") return reply_.llm_tokens > 0;
  if (which != "tts") return false;
  const ReplySegment* segment = reply_.FirstUnsynthesized();
  return segment->played_any || segment->audio.received() > 0;
}

// Everything the call still holds is settled or cancelled; then the usage is reported.
void VoiceAgent::EndCall(const char* reason) {
  if (state_ == AgentState::kEnded) return;
  CancelReply(reason);
  SettleTools(reason);
  silence_.Cancel();
  resume_.Drop();
  barge_.End();
  dtmf_.Reset();
  endpointer_.Reset();
  pending_finals_ = 0;
  preempt_finalized_ = false;
  CloseStt();
  max_call_timer_.Cancel();
  stall_.Cancel();
  EmitUsage();
  SetState(AgentState::kEnded, reason);
}

// What the call used, for the post-call cost estimate (tokens: ~4 characters each).
void VoiceAgent::EmitUsage() {
  UsageEvent usage;
  usage.stt_audio_s = static_cast<double>(stt_frames_) * kFrameMs / 1000.0;
  usage.llm_input_tokens = (llm_input_chars_ + 3) / 4;
  usage.llm_output_tokens = llm_output_tokens_;
  usage.tts_chars = tts_chars_;
  usage.preemptive_requests = preemptive_requests_;
  usage.wasted_llm_requests = wasted_llm_requests_;
  usage.wasted_llm_tokens = wasted_llm_tokens_;
  usage.wasted_tts_chars = wasted_tts_chars_;
  Emit(agent_events::kUsage, ToJson(usage));
}

void VoiceAgent::Hangup() { EndCall("hangup"); }

void VoiceAgent::EndByAgent(const AfterReply& after) {
  const bool transfer = after.action == AfterReply::Action::kTransfer;
  if (transfer) {
    Emit(agent_events::kTransfer, {{"target", after.transfer_target}});
  } else {
    Emit(agent_events::kAgentHangup, json::object());
  }
  const char* fallback = transfer ? "transfer" : "agent_hangup";
  EndCall(after.reason.empty() ? fallback : after.reason.c_str());
  if (on_call_end_) on_call_end_(transfer ? "transfer" : "agent");
}

void VoiceAgent::CommitReplyText(bool played_only) {
  const std::string text = reply_.Text(played_only);
  reply_.committed_segments = reply_.segments.size();
  if (HasText(text)) history_.Append("assistant", text);
}

// ---- the silence watchdog -------------------------------------------------------------------

void VoiceAgent::ArmSilenceTimer() {
  if (state_ == AgentState::kListening) {
    silence_.Arm();
  } else {
    silence_.Cancel();
  }
}

void VoiceAgent::OnSilenceTimer() {
  if (state_ != AgentState::kListening || reply_active() || pending_finals_ > 0 ||
      endpointer_.in_turn() || vad_.speaking()) {
    return;  // something is happening after all; the next reply re-arms it
  }
  if (silence_.NextStep() == SilenceWatchdog::Step::kPrompt) {
    Emit(agent_events::kSilencePrompt, {{"prompt", silence_.prompts()}});
    BeginReply(ReplyKind::kPrompt);
    SpeakFixedText(config_.silence_prompt);
    return;
  }
  Emit(agent_events::kSilenceTimeout, {{"prompts", silence_.prompts()}});
  BeginReply(ReplyKind::kPrompt);
  reply_.after = AfterReply{AfterReply::Action::kHangup, "", "silence_timeout"};
  SpeakFixedText(config_.silence_goodbye);
}

void VoiceAgent::SetState(AgentState to, const char* reason) {
  if (to == state_) return;
  CALLSIM_CHECK(state_ != AgentState::kEnded);  // an ended call stays ended
  const AgentState from = state_;
  state_ = to;
  if (from == AgentState::kUserSpeaking) endpointer_.Reset();
  Emit(agent_events::kState,
       {{"from", AgentStateName(from)}, {"to", AgentStateName(to)}, {"reason", reason}});
}

void VoiceAgent::Emit(std::string_view kind, const json& detail) {
  events_.Emit(scheduler_.NowUs(), event_sources::kAgent, kind, detail);
}

}  // namespace callsim::agent
