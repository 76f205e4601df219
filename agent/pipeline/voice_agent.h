// The reference voice agent for one call: VAD and endpointing on the caller's audio, then
// STT -> LLM -> sentence chunker -> TTS, streamed, with barge-in. Sans-I/O: it is driven by caller
// frames, output-frame pulls and provider callbacks, all on one Scheduler, and reports every state
// transition and timing point to an EventSink (source "agent"). Every wait and queue is bounded
// (AgentConfig), so the agent never stays silent or stuck forever. Per-frame calls do no
// allocation and build no strings unless an event is actually emitted.
//
// Latency (each a switch in AgentConfig): preemptive generation starts the answer on words that
// sound finished before the endpoint and holds it until the turn ends on them; adaptive
// endpointing ends such a turn sooner; the first clause goes to TTS before its sentence ends.
//
// Turn-taking: an endpoint waits longer when the words so far stop mid-sentence; a barge-in needs
// a minimum voiced duration (and optionally a minimum of recognised words), audio no louder than
// the agent's own echo does not count, and an interruption followed by no words within a timeout
// resumes the reply. A caller who stays silent is prompted, then the call ends.
//
// Tools (voice_agent_tools.cc): every proposal goes through a ToolGate (allowlist, schema,
// steps, breaker, idempotency); destructive tools are confirmed aloud first; each proposal ends
// in one "tool_audit" event (decision executed | failed | blocked | declined | reused |
// cancelled). Results go back to the model in a follow-up request within the same reply; a
// filler plays while a slow tool runs.
//
// Beyond speech: DTMF keys become a user message ("DTMF: 1234"); the call-control tools end_call
// and transfer_call end the call once the reply that proposed them has played; and a caller asking
// for a repeat ("say that again") hears the last assistant message again without an LLM request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/media/frame.h"
#include "agent/pipeline/agent_config.h"
#include "agent/pipeline/barge_in_candidate.h"
#include "agent/pipeline/conversation_history.h"
#include "agent/pipeline/dtmf_collector.h"
#include "agent/pipeline/echo_guard.h"
#include "agent/pipeline/endpointer.h"
#include "agent/pipeline/pending_resume.h"
#include "agent/pipeline/reply.h"
#include "agent/pipeline/sentence_chunker.h"
#include "agent/pipeline/silence_watchdog.h"
#include "agent/pipeline/stall_watchdog.h"
#include "agent/pipeline/stream_reaper.h"
#include "agent/pipeline/tool_confirmation.h"
#include "agent/pipeline/vad.h"
#include "agent/providers/llm.h"
#include "agent/providers/stt.h"
#include "agent/providers/tts.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/tools/tool_gate.h"

namespace callsim::agent {

enum class AgentState { kListening, kUserSpeaking, kThinking, kSpeaking, kEnded };

// The tools the agent executes itself: the model proposes them like any tool.
inline constexpr std::string_view kEndCallTool = "end_call";            // args: none
inline constexpr std::string_view kTransferCallTool = "transfer_call";  // args: {"target": "..."}

// "listening", "user_speaking", "thinking", "speaking", "ended" (as in the "state" events).
const char* AgentStateName(AgentState state);

class VoiceAgent {
 public:
  // How the agent ended the call: "agent" (it hung up) or "transfer".
  using CallEndFn = std::function<void(const std::string& how)>;

  // All references must outlive the agent. Nothing happens before Start().
  VoiceAgent(Scheduler& scheduler, AgentConfig config, SttProvider& stt, LlmProvider& llm,
             TtsProvider& tts, EventSink& events);
  // Cancels its timers (each a ScopedTask), tool runs and provider streams: no callback reaches
  // it afterwards.
  ~VoiceAgent();
  VoiceAgent(const VoiceAgent&) = delete;
  VoiceAgent& operator=(const VoiceAgent&) = delete;

  // The call was answered: opens the STT session, speaks the greeting, arms the max-call timer.
  void Start();
  // Every 20 ms: decoded caller audio starting at `frame_start_us` (same timeline as the
  // Scheduler). Goes to STT (always, also while the agent speaks) and to the VAD. Ignored before
  // Start() and after the call ended.
  void OnCallerFrame(const Frame& frame, int64_t frame_start_us);
  // Every 20 ms: the next frame of agent audio, or silence. Returns true when the frame is reply
  // audio (false: silence, between or after replies); a transport that sends only speech, such
  // as a Twilio media stream, sends the true ones.
  bool NextOutputFrame(Frame* out);
  // The caller hung up: cancels everything; state becomes ended.
  void Hangup();
  // A DTMF key the caller pressed (from the media endpoint's telephone events), at `t_us`. Emits
  // "dtmf". Keys collect until '#' (not part of the message; alone it gives "DTMF: #") or
  // dtmf_timeout_ms without a key; then "DTMF: <keys>" is a user message, emitted as
  // "dtmf_input" and answered like a final transcript: it interrupts a reply in progress, and
  // while the caller is speaking it joins that turn's message. Ignored outside the call.
  void OnDtmf(char key, int64_t t_us);
  // Called once when the agent ends the call itself (end_call or transfer_call, after the reply
  // that proposed it has played; the agent is then ended). It runs inside NextOutputFrame, so
  // it must not destroy the agent; schedule the teardown instead. A reply cut off by a barge-in
  // or an error drops its pending end: the call goes on.
  void set_on_call_end(CallEndFn fn) { on_call_end_ = std::move(fn); }

  // Where tools run. Without it every approved tool call fails with "no_backend". Call before
  // Start(); `backends` and `breakers` must outlive the agent.
  void EnableTools(const ToolBackends& backends, CircuitBreakers& breakers);

  AgentState state() const { return state_; }
  // The conversation (user and assistant messages, oldest first; the system prompt is not in it).
  // An assistant message holds what was played: cut to the heard sentences after a barge-in.
  const std::vector<ChatMessage>& history() const { return history_.messages(); }

 private:
  // Caller side.
  void OnVadStart(int64_t start_us, int64_t frame_start_us);
  void OnVadStop(int64_t speech_end_us);
  void BargeIn();
  void BeginUserTurn(int64_t start_us, const char* reason);
  void OnEndpoint(const Endpoint& endpoint);
  void OpenStt();
  bool ReopenStt();
  void CloseStt();
  void OnSttFinal(const std::string& text);
  void FlushDtmf(const char* reason);
  // Answers the user message at the end of the history: a replay for a repeat request, else
  // the LLM.
  void Respond();
  // Preemptive generation: starts a held answer when the caller's words so far sound finished
  // and the caller is quiet; plays it once the turn ends on the same words.
  void MaybePreempt();
  void ReleasePreemption();

  // Reply side.
  void BeginReply(ReplyKind kind);
  void SpeakFixedText(const std::string& text);
  void StartAnswer();
  // `pending_user` (preemptive generation): the caller's words not yet in the history, sent as
  // the last user message.
  void OpenLlmStream(const std::string* pending_user = nullptr);
  void OnLlmToken(const std::string& token);
  void OnLlmDone();
  void AddSentence(std::string text);
  void OnTtsAudio(size_t index, const TtsFrame& frame);
  bool PopReplyFrame(Frame* out);
  void OnReplyStartedPlaying();
  void EmitTurnSpans();
  void FinishReply();
  // Stops the reply in progress (if any), keeps what was heard in the history and returns it.
  std::string CancelReply(const char* reason);
  void CommitReplyText(bool played_only);
  void RetireReplyStreams();
  bool reply_active() const { return reply_.id != 0; }

  // Tools (voice_agent_tools.cc).
  void OnToolCall(const ToolCallRequest& call);
  void OnToolDecision(const ToolCallRequest& call, ToolDecision decision);
  void SayPendingNotices();
  void StartToolRun(const ToolCallRequest& call, const ToolDecision& decision, bool confirmed);
  void OnToolDone(uint64_t key, const ToolOutcome& outcome);
  void OnDetachedToolDone(size_t index, const ToolOutcome& outcome);
  void AddToolMessages(const ToolCallRequest& call, const std::string& result_json);
  void MaybeFollowUp();
  void ArmFiller();
  void OnFillerTimer();
  bool AnswerConfirmation();
  void Audit(const ToolCallRequest& call, const char* decision, const std::string& reason,
             const nlohmann::json& result, double duration_ms, bool confirmed);
  void CancelTools(const char* reason);
  // The call ends: a pending confirmation is declined and detached runs are cancelled (audited).
  void SettleTools(const char* reason);

  // False interruptions and the silence watchdog.
  void OnInterimWords(int words);
  void OnResumeTimeout();
  void Resume(const char* why);
  void ArmSilenceTimer();
  void OnSilenceTimer();

  // Errors, bounds and bookkeeping.
  void OnProviderError(const char* stage, const std::string& error);
  void ArmWatchdog();
  void OnWatchdog();
  // The stage the agent waits on ("stt", "llm", "tts"), or nullptr; and whether it has started
  // answering (then the shorter stall bound holds).
  const char* StalledStage() const;
  bool StageStreaming() const;
  void EndCall(const char* reason);
  void EndByAgent(const AfterReply& after);
  void EmitUsage();
  void SetState(AgentState to, const char* reason);
  void Emit(std::string_view kind, const nlohmann::json& detail);

  Scheduler& scheduler_;
  AgentConfig config_;
  SttProvider& stt_provider_;
  LlmProvider& llm_provider_;
  TtsProvider& tts_provider_;
  EventSink& events_;
  Vad vad_;
  Endpointer endpointer_;
  SentenceChunker chunker_;
  EchoGuard echo_guard_;
  BargeInCandidate barge_;
  PendingResume resume_;
  SilenceWatchdog silence_;
  DtmfCollector dtmf_;
  StallWatchdog stall_;
  ScopedTask max_call_timer_;

  AgentState state_ = AgentState::kListening;
  bool started_ = false;
  ConversationHistory history_;

  std::unique_ptr<SttSession> stt_;
  uint64_t stt_generation_ = 0;  // callbacks of older sessions are ignored
  int stt_reopens_ = 0;
  int pending_finals_ = 0;  // Finalize() calls whose final has not arrived yet
  TurnTiming turn_;
  // The caller's latest words in this turn, since the last final (for the endpointer); after a
  // final that came before the endpoint (preemptive generation), that final.
  std::string last_interim_;
  // Preemptive generation finalized the STT and the caller has said nothing since: the endpoint
  // needs no final of its own.
  bool preempt_finalized_ = false;
  // The latest interim came while the caller's last frame was voiced: MaybePreempt runs again on
  // the first quiet frame.
  bool preempt_waits_for_quiet_ = false;

  Reply reply_;
  uint64_t next_reply_id_ = 1;

  ToolBackends no_backends_;
  CircuitBreakers own_breakers_;
  std::unique_ptr<ToolGate> gate_;
  PendingConfirmation confirmation_;
  // Confirmed (destructive) runs whose reply was cut off: never abandoned half way, they finish
  // and are audited, and their result joins the history.
  std::vector<ToolRun> detached_runs_;
  uint64_t next_run_key_ = 1;

  // Usage, for the post-call cost estimate.
  int64_t stt_frames_ = 0;
  int64_t llm_input_chars_ = 0;
  int64_t llm_output_tokens_ = 0;
  int64_t tts_chars_ = 0;
  int64_t preemptive_requests_ = 0;
  int64_t wasted_llm_requests_ = 0;
  int64_t wasted_llm_tokens_ = 0;
  int64_t wasted_tts_chars_ = 0;

  CallEndFn on_call_end_;
  // Last: destroyed first, so no parked stream outlives what it was made for.
  StreamReaper reaper_;
};

}  // namespace callsim::agent
