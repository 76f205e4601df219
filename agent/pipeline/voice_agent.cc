#include "agent/pipeline/voice_agent.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "agent/pipeline/repeat_request.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

int64_t MsToUs(double ms) { return std::llround(ms * kMicrosPerMs); }

// A span in milliseconds, or null when either end was not reached.
json SpanMs(int64_t from_us, int64_t to_us) {
  if (from_us < 0 || to_us < 0) return json(nullptr);
  return json(static_cast<double>(to_us - from_us) / kMicrosPerMs);
}

bool HasText(const std::string& text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return true;
  }
  return false;
}

const char* ReplyKindName(int kind) {
  static constexpr const char* kNames[] = {"greeting", "answer", "apology"};
  return kNames[kind];
}

EndpointerConfig EndpointerConfigFor(const AgentConfig& config) {
  return EndpointerConfig{config.vad.stop_ms, config.endpoint_delay_ms, config.max_turn_ms};
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
      provider_timeout_us_(MsToUs(config_.provider_timeout_ms)) {}

VoiceAgent::~VoiceAgent() {
  if (dtmf_timer_ != kNoTask) scheduler_.Cancel(dtmf_timer_);
  if (max_call_timer_ != kNoTask) scheduler_.Cancel(max_call_timer_);
  if (watchdog_timer_ != kNoTask) scheduler_.Cancel(watchdog_timer_);
  if (reap_task_ != kNoTask) scheduler_.Cancel(reap_task_);
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
  if (stt_) stt_->PushAudio(frame);
  const VadEvent event = vad_.Process(frame, frame_start_us);
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
  if (reply_active() && (reply_.playing || reply_.queued_frames > 0)) {
    // The caller may be interrupting, or it may be a cough: decide once enough is voiced.
    barge_candidate_ = true;
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
  if (barge_voiced_us_ >= barge_in_min_us_) BargeIn();
}

void VoiceAgent::BargeIn() {
  barge_candidate_ = false;
  if (!reply_active()) {  // the reply ended or failed meanwhile: this is simply the next turn
    BeginUserTurn(barge_start_us_, "vad_start");
    return;
  }
  Emit("barge_in", {{"played_ms", reply_.played_frames * kFrameMs},
                    {"voiced_ms", barge_voiced_us_ / kMicrosPerMs},
                    {"heard_text", ReplyText(/*played_only=*/true)}});
  CancelReply("barge_in");
  BeginUserTurn(barge_start_us_, "barge_in");
}

void VoiceAgent::BeginUserTurn(int64_t start_us, const char* reason) {
  if (!endpointer_.in_turn()) turn_ = TurnTiming{};
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
    if (generation == stt_generation_) Emit("stt_interim", {{"text", text}});
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
  Emit("stt_final", {{"text", text}});
  if (HasText(text)) AppendHistory("user", text);
  if (pending_finals_ > 0 || state_ != AgentState::kThinking || reply_active()) return;
  // A turn the caller resumed is merged into one user message and answered at its last endpoint,
  // even if the words after the resumption were only noise (an empty final).
  if (!history_.empty() && history_.back().role == "user") {
    Respond();
    return;
  }
  Emit("empty_final", json::object());
  SetState(AgentState::kListening, "empty_final");
}

void VoiceAgent::OnDtmf(char key, int64_t t_us) {
  if (!started_ || state_ == AgentState::kEnded) return;
  Emit("dtmf", {{"key", std::string(1, key)}});
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
  if (IsRepeatRequest(history_.back().content)) {
    for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
      if (it->role != "assistant") continue;
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
  LlmRequest request;
  request.messages.reserve(history_.size() + 1);
  request.messages.push_back(ChatMessage{"system", config_.system_prompt});
  request.messages.insert(request.messages.end(), history_.begin(), history_.end());
  reply_.llm_done = false;
  reply_.timing.llm_request_us = scheduler_.NowUs();
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

// Only the call-control tools are executed in this version; other proposals are recorded.
void VoiceAgent::OnToolCall(const ToolCallRequest& call) {
  MarkProgress();
  Emit("tool_call_proposed",
       {{"id", call.id}, {"name", call.name}, {"arguments", call.arguments_json}});
  if (call.name == kEndCallTool) {
    reply_.after = AfterReply::kHangup;
  } else if (call.name == kTransferCallTool) {
    reply_.after = AfterReply::kTransfer;
    // Untrusted model output: a target that is not a string in a JSON object is left empty.
    const json args = json::parse(call.arguments_json, nullptr, /*allow_exceptions=*/false);
    if (args.is_object() && args.contains("target") && args["target"].is_string()) {
      reply_.transfer_target = args["target"].get<std::string>();
    }
  }
}

void VoiceAgent::OnLlmToken(const std::string& token) {
  MarkProgress();
  if (reply_.timing.first_token_us < 0) {
    reply_.timing.first_token_us = scheduler_.NowUs();
    Emit("llm_first_token", json::object());
  }
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
  segment.frames.push_back(frame);
  segment.frames.back().concealed = false;
  ++reply_.queued_frames;
}

void VoiceAgent::NextOutputFrame(Frame* out) {
  if (state_ != AgentState::kEnded && reply_active() && PopReplyFrame(out)) return;
  out->samples.fill(0);
  out->concealed = false;
  if (state_ == AgentState::kEnded || !reply_active()) return;
  if (reply_.llm_done && reply_.play_index == reply_.segments.size()) FinishReply();
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
  RetireReplyStreams();
  reply_ = Reply{};
  chunker_.Reset();
  if (HasText(text)) AppendHistory("assistant", text);
  if (after != AfterReply::kContinue) {
    EndByAgent(after, transfer_target);
    return;
  }
  if (barge_candidate_) {  // the caller started talking in the reply's last moments
    barge_candidate_ = false;
    BeginUserTurn(barge_start_us_, "vad_start");
    return;
  }
  SetState(AgentState::kListening, played ? "reply_done" : "empty_reply");
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
  RetireReplyStreams();
  reply_ = Reply{};
  chunker_.Reset();
  if (HasText(heard)) AppendHistory("assistant", heard);
  return heard;
}

std::string VoiceAgent::ReplyText(bool played_only) const {
  std::string text;
  for (const Segment& segment : reply_.segments) {
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
  watchdog_timer_ =
      scheduler_.At(last_progress_us_ + provider_timeout_us_, [this] { OnWatchdog(); });
}

void VoiceAgent::OnWatchdog() {
  watchdog_timer_ = kNoTask;
  const char* stage = StalledStage();
  if (stage == nullptr || state_ == AgentState::kEnded) return;
  if (scheduler_.NowUs() < last_progress_us_ + provider_timeout_us_) {
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
  SetState(AgentState::kEnded, reason);
}

void VoiceAgent::Hangup() { EndCall("hangup"); }

void VoiceAgent::EndByAgent(AfterReply how, const std::string& transfer_target) {
  const bool transfer = how == AfterReply::kTransfer;
  if (transfer) {
    Emit("transfer", {{"target", transfer_target}});
  } else {
    Emit("agent_hangup", json::object());
  }
  EndCall(transfer ? "transfer" : "agent_hangup");
  if (on_call_end_) on_call_end_(transfer ? "transfer" : "agent");
}

void VoiceAgent::AppendHistory(const char* role, const std::string& text) {
  const std::string_view role_view(role);
  if (role_view == "user" && !history_.empty() && history_.back().role == "user") {
    history_.back().content += ' ';  // the caller resumed: one message for one turn
    history_.back().content += text;
  } else {
    history_.push_back(ChatMessage{std::string(role_view), text});
  }
  const size_t max_messages = static_cast<size_t>(std::max(1, config_.max_history_messages));
  if (history_.size() > max_messages) {
    history_.erase(history_.begin(), history_.end() - static_cast<ptrdiff_t>(max_messages));
  }
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
