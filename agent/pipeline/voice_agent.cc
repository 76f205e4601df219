#include "agent/pipeline/voice_agent.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "agent/pipeline/repeat_request.h"
#include "agent/pipeline/turn_completion.h"
#include "agent/text/words.h"

namespace callsim::agent {
namespace {

using nlohmann::json;


// A span in milliseconds, or null when either end was not reached.
json SpanMs(int64_t from_us, int64_t to_us) {
  if (from_us < 0 || to_us < 0) return json(nullptr);
  return json(static_cast<double>(to_us - from_us) / kMicrosPerMs);
}


const char* ReplyKindName(int kind) {
  static constexpr const char* kNames[] = {"greeting", "answer", "apology", "prompt", "resume"};
  return kNames[kind];
}

EndpointerConfig EndpointerConfigFor(const AgentConfig& config) {
  return EndpointerConfig{config.vad.stop_ms, config.endpoint_delay_ms,
                          std::max(config.endpoint_delay_ms, config.endpoint_max_delay_ms),
                          config.max_turn_ms};
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
  return "unknown";
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
      barge_in_min_us_(MsToUs(config_.barge_in_min_ms)),
      provider_timeout_us_(MsToUs(config_.provider_timeout_ms)),
      stall_timeout_us_(MsToUs(config_.stream_stall_timeout_ms)) {
  gate_ = std::make_unique<ToolGate>(scheduler_, config_.tools, no_backends_, own_breakers_);
  endpointer_.set_sounds_unfinished([this] { return SoundsUnfinished(last_interim_); });
  std::fill(std::begin(out_levels_dbfs_), std::end(out_levels_dbfs_), kSilenceDbfs);
}

void VoiceAgent::EnableTools(const ToolBackends& backends, CircuitBreakers& breakers) {
  gate_ = std::make_unique<ToolGate>(scheduler_, config_.tools, backends, breakers);
}

VoiceAgent::~VoiceAgent() {
  if (dtmf_timer_ != kNoTask) scheduler_.Cancel(dtmf_timer_);
  if (max_call_timer_ != kNoTask) scheduler_.Cancel(max_call_timer_);
  if (watchdog_timer_ != kNoTask) scheduler_.Cancel(watchdog_timer_);
  if (reap_task_ != kNoTask) scheduler_.Cancel(reap_task_);
  if (silence_timer_ != kNoTask) scheduler_.Cancel(silence_timer_);
  if (resume_timer_ != kNoTask) scheduler_.Cancel(resume_timer_);
  if (reply_.filler_timer != kNoTask) scheduler_.Cancel(reply_.filler_timer);
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
  Emit("call_start", json::object());
  OpenStt();
  max_call_timer_ = scheduler_.After(MsToUs(config_.max_call_ms), [this] {
    max_call_timer_ = kNoTask;
    Emit("max_call_duration", {{"max_call_ms", config_.max_call_ms}});
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
  const double echo_gate_dbfs = EchoGateDbfs();
  const VadEvent event = vad_.Process(frame, frame_start_us, echo_gate_dbfs);
  // Echo suppression: audio no louder than the agent's own echo would reach the STT as the
  // agent's words; it gets silence instead (speech over the agent is louder and passes).
  const bool echo_only = vad_.last_level_dbfs() <= echo_gate_dbfs;
  if (stt_) stt_->PushAudio(echo_only ? silent_frame_ : frame);
  ++stt_frames_;
  if (event.kind == VadEventKind::kStart) {
    OnVadStart(event.time_us, frame_start_us);
  } else if (event.kind == VadEventKind::kStop) {
    OnVadStop(event.time_us);
  } else if (barge_candidate_ && vad_.last_frame_voiced()) {
    barge_voiced_us_ += kFrameUs;
    MaybeConfirmBargeIn();
  }
}

void VoiceAgent::OnVadStart(int64_t start_us, int64_t frame_start_us) {
  Emit("vad_start", {{"audio_us", start_us}});
  CancelSilenceTimer();
  if (reply_active() && (reply_.playing || reply_.queued_frames > 0)) {
    // The caller may be interrupting, or it may be a cough: decide once enough is voiced.
    barge_candidate_ = true;
    barge_words_ = 0;
    barge_start_us_ = start_us;
    barge_voiced_us_ = frame_start_us + kFrameUs - start_us;
    MaybeConfirmBargeIn();
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
  Emit("vad_stop", {{"audio_us", speech_end_us}});
  if (barge_candidate_) {
    barge_candidate_ = false;
    Emit("barge_in_ignored", {{"voiced_ms", barge_voiced_us_ / kMicrosPerMs}});
    return;
  }
  if (state_ == AgentState::kUserSpeaking) {
    turn_.speech_end_us = speech_end_us;
    endpointer_.OnSpeechStop(speech_end_us);
  }
}

void VoiceAgent::MaybeConfirmBargeIn() {
  if (barge_voiced_us_ < barge_in_min_us_) return;
  if (config_.barge_in_min_words > 0 && barge_words_ < config_.barge_in_min_words) return;
  BargeIn();
}

void VoiceAgent::BargeIn() {
  barge_candidate_ = false;
  if (!reply_active()) {  // the reply ended or failed meanwhile: this is simply the next turn
    BeginUserTurn(barge_start_us_, "vad_start");
    return;
  }
  Emit("barge_in", {{"played_ms", reply_.played_frames * kFrameMs},
                    {"voiced_ms", barge_voiced_us_ / kMicrosPerMs},
                    {"words", barge_words_},
                    {"heard_text", ReplyText(/*played_only=*/true)}});
  // A finished reply can be resumed from the sentence it was in if no words follow.
  std::string rest;
  if (config_.false_interruption_timeout_ms > 0 && reply_.llm_done && reply_.tools_running == 0 &&
      !reply_.follow_up && reply_.after == AfterReply::kContinue) {
    for (size_t i = reply_.play_index; i < reply_.segments.size(); ++i) {
      if (!rest.empty()) rest += ' ';
      rest += reply_.segments[i].text;
    }
  }
  CancelReply("barge_in");
  BeginUserTurn(barge_start_us_, "barge_in");
  if (HasText(rest) && barge_words_ == 0) {
    resume_text_ = std::move(rest);
    resume_pending_ = true;
    ArmResume();
  }
}

void VoiceAgent::ArmResume() {
  if (resume_timer_ != kNoTask) scheduler_.Cancel(resume_timer_);
  resume_timer_ = scheduler_.After(MsToUs(config_.false_interruption_timeout_ms), [this] {
    resume_timer_ = kNoTask;
    // A turn still going (the caller talking, or its final on the way) decides at its endpoint:
    // an empty final resumes there, words cancel the resume.
    if (resume_pending_ && state_ != AgentState::kUserSpeaking && pending_finals_ == 0) {
      Resume("timeout");
    }
  });
}

void VoiceAgent::OnInterimWords(int words) {
  if (barge_candidate_) {
    barge_words_ = words;
    MaybeConfirmBargeIn();
  }
  if (resume_pending_ && words > 0) {  // the interruption had words: a real one
    resume_pending_ = false;
    resume_text_.clear();
    if (resume_timer_ != kNoTask) scheduler_.Cancel(resume_timer_);
    resume_timer_ = kNoTask;
  }
}

// No words followed the barge-in: the agent picks up where it was cut off.
void VoiceAgent::Resume(const char* why) {
  resume_pending_ = false;
  if (resume_timer_ != kNoTask) scheduler_.Cancel(resume_timer_);
  resume_timer_ = kNoTask;
  std::string text = std::move(resume_text_);
  resume_text_.clear();
  if (state_ == AgentState::kEnded || !HasText(text)) return;
  Emit("false_interruption", {{"reason", why}, {"resumed_text", text}});
  SetState(AgentState::kThinking, "false_interruption");
  BeginReply(ReplyKind::kResume);
  SpeakFixedText(text);
}

void VoiceAgent::BeginUserTurn(int64_t start_us, const char* reason) {
  CancelSilenceTimer();
  silence_prompts_ = 0;
  if (!endpointer_.in_turn()) {
    turn_ = TurnTiming{};
    last_interim_.clear();
  }
  SetState(AgentState::kUserSpeaking, reason);
  endpointer_.OnSpeechStart(start_us);
}

void VoiceAgent::OnEndpoint(const Endpoint& endpoint) {
  if (state_ != AgentState::kUserSpeaking) return;
  const int64_t now_us = scheduler_.NowUs();
  turn_.endpoint_us = now_us;
  turn_.speech_end_us = endpoint.speech_end_us;
  Emit("endpoint", {{"reason", EndpointReasonName(endpoint.reason)},
                    {"silence_ms", SpanMs(endpoint.speech_end_us, now_us)},
                    {"turn_ms", SpanMs(endpoint.turn_start_us, now_us)}});
  SetState(AgentState::kThinking,
           endpoint.reason == EndpointReason::kMaxTurn ? "max_turn" : "endpoint");
  ++pending_finals_;
  MarkProgress();
  if (stt_) stt_->Finalize();
  ArmWatchdog();
}

void VoiceAgent::OpenStt() {
  const uint64_t generation = ++stt_generation_;
  SttListener listener;
  listener.on_interim = [this, generation](const std::string& text) {
    if (generation != stt_generation_) return;
    // The words themselves are not reported: an interim can hold the first digits of a card
    // number, too few to be recognised (and redacted) as one. The final has the whole text.
    const int words = CountWords(text);
    Emit("stt_interim", {{"words", words}});
    last_interim_ = text;
    OnInterimWords(words);
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
  ++stt_generation_;
  if (stt_) retired_stt_.push_back(std::move(stt_));
  ScheduleReap();
  if (stt_reopens_ >= config_.max_stt_reopens) {
    EndCall("stt_failed");
    return false;
  }
  ++stt_reopens_;
  OpenStt();
  Emit("stt_reopened", {{"reopens", stt_reopens_}});
  return true;
}

void VoiceAgent::OnSttFinal(const std::string& text) {
  MarkProgress();
  if (pending_finals_ > 0) --pending_finals_;
  turn_.final_us = scheduler_.NowUs();
  last_interim_.clear();
  Emit("stt_final", {{"text", text}});
  if (HasText(text)) {
    AppendHistory("user", text);
    OnInterimWords(CountWords(text));
  } else if (resume_pending_ && pending_finals_ == 0 && state_ == AgentState::kThinking &&
             (history_.empty() || history_.back().role != "user")) {
    Resume("empty_final");
    return;
  }
  if (pending_finals_ > 0 || state_ != AgentState::kThinking || reply_active()) return;
  // A turn the caller resumed is merged into one user message and answered at its last endpoint,
  // even if the words after the resumption were only noise (an empty final).
  if (!history_.empty() && history_.back().role == "user") {
    Respond();
    return;
  }
  Emit("empty_final", json::object());
  SetState(AgentState::kListening, "empty_final");
  ArmSilenceTimer();
}

void VoiceAgent::OnDtmf(char key, int64_t t_us) {
  if (!started_ || state_ == AgentState::kEnded) return;
  Emit("dtmf", {{"key", std::string(1, key)}});
  CancelSilenceTimer();  // the caller is entering keys, not silent
  last_dtmf_us_ = t_us;
  if (key == '#') {
    FlushDtmf("terminator");
    return;
  }
  if (dtmf_keys_.size() < static_cast<size_t>(std::max(0, config_.max_dtmf_keys))) {
    dtmf_keys_.push_back(key);
  } else {
    Emit("dtmf_dropped", {{"max_dtmf_keys", config_.max_dtmf_keys}});
  }
  if (dtmf_timer_ != kNoTask) scheduler_.Cancel(dtmf_timer_);
  dtmf_timer_ = scheduler_.After(MsToUs(config_.dtmf_timeout_ms), [this] {
    dtmf_timer_ = kNoTask;
    FlushDtmf("timeout");
  });
}

void VoiceAgent::FlushDtmf(const char* reason) {
  if (dtmf_timer_ != kNoTask) scheduler_.Cancel(dtmf_timer_);
  dtmf_timer_ = kNoTask;
  const std::string text = "DTMF: " + (dtmf_keys_.empty() ? std::string("#") : dtmf_keys_);
  dtmf_keys_.clear();
  Emit("dtmf_input", {{"text", text}, {"reason", reason}});
  if (state_ == AgentState::kUserSpeaking || pending_finals_ > 0) {
    AppendHistory("user", text);  // answered with the speech turn it belongs to
    return;
  }
  CancelReply("dtmf");  // a key press interrupts what the agent was saying or about to say
  CancelSilenceTimer();
  silence_prompts_ = 0;
  resume_pending_ = false;
  barge_candidate_ = false;
  AppendHistory("user", text);
  const int64_t now_us = scheduler_.NowUs();
  turn_ = TurnTiming{};
  turn_.speech_end_us = last_dtmf_us_;
  turn_.endpoint_us = now_us;
  turn_.final_us = now_us;
  SetState(AgentState::kThinking, "dtmf");
  Respond();
}

void VoiceAgent::Respond() {
  resume_pending_ = false;  // the caller said something: nothing to resume
  if (confirmation_.active && AnswerConfirmation()) return;
  gate_->BeginTurn();
  if (IsRepeatRequest(history_.back().content)) {
    for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
      if (it->role != "assistant" || !it->tool_name.empty()) continue;  // words, not tool calls
      const std::string text = it->content;  // the history grows below
      Emit("repeat", {{"text", text}});
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
  std::vector<std::string> sentences;
  chunker_.Push(text, &sentences);
  chunker_.Flush(&sentences);
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
void VoiceAgent::OpenLlmStream() {
  LlmRequest request;
  request.messages.reserve(history_.size() + 1);
  request.messages.push_back(ChatMessage{"system", config_.system_prompt, {}, {}});
  request.messages.insert(request.messages.end(), history_.begin(), history_.end());
  for (const ChatMessage& message : request.messages) {
    llm_input_chars_ += static_cast<int64_t>(message.content.size());
  }
  if (reply_.llm) {  // the previous step's stream is done: park it
    retired_llm_.push_back(std::move(reply_.llm));
    ScheduleReap();
  }
  reply_.llm_done = false;
  reply_.llm_tokens = 0;
  if (reply_.timing.llm_request_us < 0) reply_.timing.llm_request_us = scheduler_.NowUs();
  Emit("llm_request", {{"messages", request.messages.size()}});

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
  MarkProgress();
  std::unique_ptr<LlmStream> stream = llm_provider_.Start(request, std::move(listener));
  if (reply_.id == id) {
    reply_.llm = std::move(stream);
    ArmWatchdog();
  } else if (stream) {
    stream->Cancel();
    retired_llm_.push_back(std::move(stream));
    ScheduleReap();
  }
}

void VoiceAgent::OnLlmToken(const std::string& token) {
  MarkProgress();
  if (reply_.timing.first_token_us < 0) {
    reply_.timing.first_token_us = scheduler_.NowUs();
    Emit("llm_first_token", json::object());
  }
  ++llm_output_tokens_;
  if (++reply_.llm_tokens == 1) RearmWatchdog();  // from now on the shorter stall bound holds
  std::vector<std::string> sentences;  // allocates only when a sentence completes
  chunker_.Push(token, &sentences);
  const uint64_t id = reply_.id;
  for (std::string& sentence : sentences) {
    if (reply_.id != id) break;
    AddSentence(std::move(sentence));
  }
}

void VoiceAgent::OnLlmDone() {
  MarkProgress();
  std::vector<std::string> sentences;
  chunker_.Flush(&sentences);
  const uint64_t id = reply_.id;
  reply_.llm_done = true;
  Emit("llm_done", {{"sentences", reply_.segments.size() + sentences.size()}});
  for (std::string& sentence : sentences) {
    if (reply_.id != id) break;
    AddSentence(std::move(sentence));
  }
  if (reply_.id != id) return;
  SayPendingNotices();
  if (reply_.id == id) MaybeFollowUp();
}

void VoiceAgent::AddSentence(std::string text) {
  if (reply_.segments.size() >= static_cast<size_t>(std::max(1, config_.max_reply_sentences))) {
    if (reply_.dropped_sentences++ == 0) {
      Emit("sentence_dropped", {{"max_reply_sentences", config_.max_reply_sentences}});
    }
    return;
  }
  const int64_t now_us = scheduler_.NowUs();
  const size_t index = reply_.segments.size();
  if (index == 0) {
    reply_.timing.first_sentence_us = now_us;
    reply_.timing.first_tts_request_us = now_us;
  }
  Emit("sentence", {{"text", text}});
  Emit("tts_request", {{"text", text}});
  tts_chars_ += static_cast<int64_t>(text.size());
  reply_.segments.emplace_back();
  reply_.segments.back().text = std::move(text);

  const uint64_t id = reply_.id;
  TtsListener listener;
  listener.on_audio = [this, id, index](const Frame& frame) {
    if (id == reply_.id) OnTtsAudio(index, frame);
  };
  listener.on_done = [this, id, index] {
    if (id != reply_.id) return;
    MarkProgress();
    reply_.segments[index].done = true;
  };
  listener.on_error = [this, id](const std::string& error) {
    if (id == reply_.id) OnProviderError("tts", error);
  };
  MarkProgress();
  std::unique_ptr<TtsStream> stream =
      tts_provider_.Synthesize(reply_.segments[index].text, std::move(listener));
  if (reply_.id == id) {
    reply_.segments[index].tts = std::move(stream);
    ArmWatchdog();
  } else if (stream) {
    stream->Cancel();
    retired_tts_.push_back(std::move(stream));
    ScheduleReap();
  }
}

void VoiceAgent::OnTtsAudio(size_t index, const Frame& frame) {
  MarkProgress();
  if (index == 0 && reply_.timing.first_tts_audio_us < 0) {
    reply_.timing.first_tts_audio_us = scheduler_.NowUs();
    Emit("tts_first_audio", json::object());
  }
  if (reply_.queued_frames >= config_.max_queued_frames) {
    if (reply_.dropped_frames++ == 0) {
      Emit("tts_audio_dropped", {{"max_queued_frames", config_.max_queued_frames}});
    }
    return;
  }
  Segment& segment = reply_.segments[index];
  const bool first_frame = segment.frames.empty() && !segment.played_any;
  segment.frames.push_back(frame);
  segment.frames.back().concealed = false;
  ++reply_.queued_frames;
  if (first_frame) RearmWatchdog();
}

void VoiceAgent::NextOutputFrame(Frame* out) {
  const bool audio = state_ != AgentState::kEnded && reply_active() && PopReplyFrame(out);
  // The echo guard remembers how loud the agent was; silence costs nothing to measure.
  out_levels_dbfs_[out_level_next_] = audio ? FrameLevelDbfs(*out) : kSilenceDbfs;
  out_level_next_ = (out_level_next_ + 1) % kEchoWindowFrames;
  if (audio) return;
  out->samples.fill(0);
  out->concealed = false;
  if (state_ == AgentState::kEnded || !reply_active()) return;
  if (ReplyComplete()) FinishReply();
}

bool VoiceAgent::ReplyComplete() const {
  return reply_.llm_done && reply_.tools_running == 0 && !reply_.follow_up &&
         reply_.play_index == reply_.segments.size();
}

double VoiceAgent::EchoGateDbfs() const {
  if (config_.echo_guard_db <= 0) return kSilenceDbfs;
  double loudest = kSilenceDbfs;
  for (double level : out_levels_dbfs_) loudest = std::max(loudest, level);
  return loudest - config_.echo_guard_db;
}

// The next frame in sentence order; a sentence still being synthesized holds back later ones.
bool VoiceAgent::PopReplyFrame(Frame* out) {
  while (reply_.play_index < reply_.segments.size()) {
    Segment& segment = reply_.segments[reply_.play_index];
    if (segment.next_frame < segment.frames.size()) {
      *out = segment.frames[segment.next_frame++];
      segment.played_any = true;
      --reply_.queued_frames;
      ++reply_.played_frames;
      if (!reply_.playing) OnReplyStartedPlaying();
      return true;
    }
    if (!segment.done) return false;
    std::vector<Frame>().swap(segment.frames);  // played: give the memory back now
    segment.next_frame = 0;
    ++reply_.play_index;
  }
  return false;
}

void VoiceAgent::OnReplyStartedPlaying() {
  reply_.playing = true;
  Emit("speech_start", {{"kind", ReplyKindName(static_cast<int>(reply_.kind))}});
  if (reply_.kind == ReplyKind::kAnswer) EmitTurnSpans();
  SetState(AgentState::kSpeaking, "reply_audio");
}

void VoiceAgent::EmitTurnSpans() {
  const TurnTiming& t = reply_.timing;
  const int64_t now_us = scheduler_.NowUs();
  Emit("turn_spans", {{"endpointing_ms", SpanMs(t.speech_end_us, t.endpoint_us)},
                      {"stt_final_ms", SpanMs(t.endpoint_us, t.final_us)},
                      {"llm_ttft_ms", SpanMs(t.llm_request_us, t.first_token_us)},
                      {"first_sentence_ms", SpanMs(t.llm_request_us, t.first_sentence_us)},
                      {"tts_ttfb_ms", SpanMs(t.first_tts_request_us, t.first_tts_audio_us)},
                      {"response_ms", SpanMs(t.speech_end_us, now_us)}});
}

void VoiceAgent::FinishReply() {
  const bool played = reply_.playing;
  const std::string text = ReplyText(/*played_only=*/false);
  const char* kind = ReplyKindName(static_cast<int>(reply_.kind));
  if (played) {
    Emit("speech_end", {{"kind", kind},
                        {"played_ms", reply_.played_frames * kFrameMs},
                        {"interrupted", false},
                        {"dropped_frames", reply_.dropped_frames}});
  } else {
    Emit("empty_reply", {{"kind", kind}});
  }
  const AfterReply after = reply_.after;
  const std::string transfer_target = std::move(reply_.transfer_target);
  const std::string end_reason = std::move(reply_.end_reason);
  std::vector<ChatMessage> tool_messages = std::move(reply_.tool_messages);
  if (reply_.filler_timer != kNoTask) scheduler_.Cancel(reply_.filler_timer);
  RetireReplyStreams();
  reply_ = Reply{};
  chunker_.Reset();
  if (HasText(text)) AppendHistory("assistant", text);
  if (!tool_messages.empty()) {  // blocked or failed calls: the model sees them next time
    for (ChatMessage& message : tool_messages) history_.push_back(std::move(message));
    TrimHistory();
  }
  if (after != AfterReply::kContinue) {
    EndByAgent(after, transfer_target, end_reason);
    return;
  }
  if (barge_candidate_) {  // the caller started talking in the reply's last moments
    barge_candidate_ = false;
    BeginUserTurn(barge_start_us_, "vad_start");
    return;
  }
  SetState(AgentState::kListening, played ? "reply_done" : "empty_reply");
  ArmSilenceTimer();
}

std::string VoiceAgent::CancelReply(const char* reason) {
  if (!reply_active()) return {};
  const std::string heard = ReplyText(/*played_only=*/true);
  if (reply_.playing) {
    Emit("speech_end", {{"kind", ReplyKindName(static_cast<int>(reply_.kind))},
                        {"played_ms", reply_.played_frames * kFrameMs},
                        {"interrupted", true},
                        {"dropped_frames", reply_.dropped_frames}});
  }
  Emit("reply_cancelled", {{"reason", reason},
                           {"llm_cancelled", reply_.llm != nullptr && !reply_.llm_done},
                           {"tts_streams", reply_.segments.size()}});
  CancelTools(reason);
  // A confirmation question the caller never heard is no longer pending: a later "yes" (to an
  // apology, say) must not run the tool.
  const bool question_heard = reply_.confirm_asked &&
                              reply_.confirm_segment < reply_.segments.size() &&
                              reply_.segments[reply_.confirm_segment].played_any;
  if (confirmation_.active && !reply_.confirm_question.empty() && !question_heard) {
    Audit(confirmation_.call, "cancelled", std::string("unheard_confirmation: ") + reason, nullptr,
          0, false);
    confirmation_ = PendingConfirmation{};
  }
  for (ChatMessage& message : reply_.tool_messages) history_.push_back(std::move(message));
  RetireReplyStreams();
  reply_ = Reply{};
  chunker_.Reset();
  if (HasText(heard)) AppendHistory("assistant", heard);
  return heard;
}

std::string VoiceAgent::ReplyText(bool played_only) const {
  std::string text;
  for (size_t i = reply_.committed_segments; i < reply_.segments.size(); ++i) {
    const Segment& segment = reply_.segments[i];
    if (played_only && !segment.played_any) continue;
    if (!text.empty()) text += ' ';
    text += segment.text;
  }
  return text;
}

void VoiceAgent::RetireReplyStreams() {
  if (reply_.llm) {
    reply_.llm->Cancel();
    retired_llm_.push_back(std::move(reply_.llm));
  }
  for (Segment& segment : reply_.segments) {
    if (!segment.tts) continue;
    segment.tts->Cancel();
    retired_tts_.push_back(std::move(segment.tts));
  }
  ScheduleReap();
}

// ---- errors, bounds and bookkeeping ---------------------------------------------------------

void VoiceAgent::OnProviderError(const char* stage, const std::string& error) {
  Emit("provider_error", {{"stage", stage}, {"error", error}});
  if (state_ == AgentState::kEnded) return;
  const std::string_view which(stage);
  CancelReply("provider_error");
  if (which == "stt") {
    pending_finals_ = 0;
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

void VoiceAgent::MarkProgress() { last_progress_us_ = scheduler_.NowUs(); }

// One timer, re-armed lazily from the last progress time, rather than one timer per callback.
void VoiceAgent::ArmWatchdog() {
  if (watchdog_timer_ != kNoTask) return;
  watchdog_timer_ = scheduler_.At(last_progress_us_ + WatchdogUs(), [this] { OnWatchdog(); });
}

void VoiceAgent::RearmWatchdog() {
  if (watchdog_timer_ != kNoTask) scheduler_.Cancel(watchdog_timer_);
  watchdog_timer_ = kNoTask;
  ArmWatchdog();
}

// A stream that has started answering and then goes quiet has stalled (a dropped connection):
// the shorter stall bound applies. Before its first answer, the provider (and the retries and
// failover in front of it) get the whole provider timeout.
int64_t VoiceAgent::WatchdogUs() const {
  const char* stage = StalledStage();
  if (stage == nullptr) return provider_timeout_us_;
  const std::string_view which(stage);
  bool streaming = false;
  if (which == "llm") streaming = reply_.llm_tokens > 0;
  if (which == "tts") {
    for (size_t i = reply_.play_index; i < reply_.segments.size(); ++i) {
      const Segment& segment = reply_.segments[i];
      if (!segment.done) {
        streaming = segment.played_any || !segment.frames.empty();
        break;
      }
    }
  }
  return streaming ? std::min(stall_timeout_us_, provider_timeout_us_) : provider_timeout_us_;
}

void VoiceAgent::OnWatchdog() {
  watchdog_timer_ = kNoTask;
  const char* stage = StalledStage();
  if (stage == nullptr || state_ == AgentState::kEnded) return;
  if (scheduler_.NowUs() < last_progress_us_ + WatchdogUs()) {
    ArmWatchdog();
    return;
  }
  OnProviderError(stage, "timeout");
}

const char* VoiceAgent::StalledStage() const {
  if (pending_finals_ > 0) return "stt";
  if (!reply_active()) return nullptr;
  if (!reply_.llm_done) return "llm";
  for (size_t i = reply_.play_index; i < reply_.segments.size(); ++i) {
    if (!reply_.segments[i].done) return "tts";
  }
  return nullptr;
}

void VoiceAgent::EndCall(const char* reason) {
  if (state_ == AgentState::kEnded) return;
  CancelReply(reason);
  if (confirmation_.active) {
    Audit(confirmation_.call, "declined", "call_ended", nullptr, 0, false);
    confirmation_ = PendingConfirmation{};
  }
  for (ToolRun& run : detached_runs_) {  // the call is over: what has not answered never will
    if (run.invocation) run.invocation->Cancel();
    const double duration_ms =
        static_cast<double>(scheduler_.NowUs() - run.started_us) / kMicrosPerMs;
    Audit(run.call, "cancelled", std::string("call_ended: ") + reason, nullptr, duration_ms,
          run.confirmed);
  }
  detached_runs_.clear();
  CancelSilenceTimer();
  resume_pending_ = false;
  if (resume_timer_ != kNoTask) scheduler_.Cancel(resume_timer_);
  resume_timer_ = kNoTask;
  endpointer_.Reset();
  barge_candidate_ = false;
  pending_finals_ = 0;
  ++stt_generation_;
  if (stt_) retired_stt_.push_back(std::move(stt_));
  ScheduleReap();
  if (max_call_timer_ != kNoTask) scheduler_.Cancel(max_call_timer_);
  if (watchdog_timer_ != kNoTask) scheduler_.Cancel(watchdog_timer_);
  if (dtmf_timer_ != kNoTask) scheduler_.Cancel(dtmf_timer_);
  max_call_timer_ = kNoTask;
  watchdog_timer_ = kNoTask;
  dtmf_timer_ = kNoTask;
  dtmf_keys_.clear();
  // What the call used, for the post-call cost estimate (tokens: ~4 characters each).
  Emit("usage", {{"stt_audio_s", static_cast<double>(stt_frames_) * kFrameMs / 1000.0},
                 {"llm_input_tokens", (llm_input_chars_ + 3) / 4},
                 {"llm_output_tokens", llm_output_tokens_},
                 {"tts_chars", tts_chars_}});
  SetState(AgentState::kEnded, reason);
}

void VoiceAgent::Hangup() { EndCall("hangup"); }

void VoiceAgent::EndByAgent(AfterReply how, const std::string& transfer_target,
                            const std::string& reason) {
  const bool transfer = how == AfterReply::kTransfer;
  if (transfer) {
    Emit("transfer", {{"target", transfer_target}});
  } else {
    Emit("agent_hangup", json::object());
  }
  const char* fallback = transfer ? "transfer" : "agent_hangup";
  EndCall(reason.empty() ? fallback : reason.c_str());
  if (on_call_end_) on_call_end_(transfer ? "transfer" : "agent");
}

void VoiceAgent::AppendHistory(const char* role, const std::string& text) {
  const std::string_view role_view(role);
  if (role_view == "user" && !history_.empty() && history_.back().role == "user") {
    history_.back().content += ' ';  // the caller resumed: one message for one turn
    history_.back().content += text;
  } else {
    history_.push_back(ChatMessage{std::string(role_view), text, {}, {}});
  }
  TrimHistory();
}

void VoiceAgent::TrimHistory() {
  const size_t max_messages = static_cast<size_t>(std::max(1, config_.max_history_messages));
  if (history_.size() > max_messages) {
    history_.erase(history_.begin(), history_.end() - static_cast<ptrdiff_t>(max_messages));
  }
  // Never start with half of a tool exchange: a result without its call is rejected by models.
  while (!history_.empty() && (history_.front().role == "tool" || !history_.front().tool_name.empty())) {
    history_.erase(history_.begin());
  }
}

void VoiceAgent::CommitReplyText(bool played_only) {
  const std::string text = ReplyText(played_only);
  reply_.committed_segments = reply_.segments.size();
  if (HasText(text)) AppendHistory("assistant", text);
}

// ---- the silence watchdog -------------------------------------------------------------------

void VoiceAgent::ArmSilenceTimer() {
  CancelSilenceTimer();
  if (config_.silence_timeout_ms <= 0 || state_ != AgentState::kListening) return;
  silence_timer_ =
      scheduler_.After(MsToUs(config_.silence_timeout_ms), [this] { OnSilenceTimer(); });
}

void VoiceAgent::CancelSilenceTimer() {
  if (silence_timer_ != kNoTask) scheduler_.Cancel(silence_timer_);
  silence_timer_ = kNoTask;
}

void VoiceAgent::OnSilenceTimer() {
  silence_timer_ = kNoTask;
  if (state_ != AgentState::kListening || reply_active() || pending_finals_ > 0 ||
      endpointer_.in_turn() || vad_.speaking()) {
    return;  // something is happening after all; the next reply re-arms it
  }
  if (silence_prompts_ < config_.max_silence_prompts) {
    ++silence_prompts_;
    Emit("silence_prompt", {{"prompt", silence_prompts_}});
    BeginReply(ReplyKind::kPrompt);
    SpeakFixedText(config_.silence_prompt);
    return;
  }
  Emit("silence_timeout", {{"prompts", silence_prompts_}});
  BeginReply(ReplyKind::kPrompt);
  reply_.after = AfterReply::kHangup;
  reply_.end_reason = "silence_timeout";
  SpeakFixedText(config_.silence_goodbye);
}

void VoiceAgent::SetState(AgentState to, const char* reason) {
  if (to == state_) return;
  const AgentState from = state_;
  state_ = to;
  if (from == AgentState::kUserSpeaking) endpointer_.Reset();
  Emit("state", {{"from", AgentStateName(from)}, {"to", AgentStateName(to)}, {"reason", reason}});
}

void VoiceAgent::Emit(std::string_view kind, const json& detail) {
  events_.Emit(scheduler_.NowUs(), "agent", kind, detail);
}

void VoiceAgent::ScheduleReap() {
  if (reap_task_ != kNoTask) return;
  reap_task_ = scheduler_.After(0, [this] {
    reap_task_ = kNoTask;
    retired_llm_.clear();
    retired_tts_.clear();
    retired_stt_.clear();
  });
}

}  // namespace callsim::agent
