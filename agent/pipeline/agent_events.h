// Every kind of event the agent reports (source event_sources::kAgent), declared once: the agent
// and its providers emit these names and every reader (metrics, the harness, the store's readers)
// compares against them. The names, and each event's detail fields, are part of the stored event
// log's contract: changing one changes what old runs mean. The three events read field by field
// have a struct with its one ToJson and one FromJson: "tool_audit" (ToolAuditEvent, in
// call_record.h), "usage" (UsageEvent, in call_cost.h) and "turn_spans" (TurnSpansEvent, here).
// FromJson reads untrusted JSON: a field that is missing or of the wrong type gets its default.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/postcall/call_cost.h"
#include "agent/postcall/call_record.h"
#include "agent/runtime/events.h"

namespace callsim::agent {
namespace agent_events {

// The call.
inline constexpr std::string_view kCallStart = "call_start";
inline constexpr std::string_view kState = "state";  // {from, to, reason}
inline constexpr std::string_view kMaxCallDuration = "max_call_duration";
inline constexpr std::string_view kAgentHangup = "agent_hangup";
inline constexpr std::string_view kTransfer = "transfer";  // {target}
inline constexpr std::string_view kUsage = "usage";        // UsageEvent

// The caller's side.
inline constexpr std::string_view kVadStart = "vad_start";      // {audio_us}
inline constexpr std::string_view kVadStop = "vad_stop";        // {audio_us}
inline constexpr std::string_view kEndpoint = "endpoint";       // {reason, silence_ms, turn_ms}
inline constexpr std::string_view kSttInterim = "stt_interim";  // {words}
inline constexpr std::string_view kSttFinal = "stt_final";      // {text}
inline constexpr std::string_view kSttReopened = "stt_reopened";
inline constexpr std::string_view kEmptyFinal = "empty_final";
inline constexpr std::string_view kDtmf = "dtmf";  // {key}
inline constexpr std::string_view kDtmfDropped = "dtmf_dropped";
inline constexpr std::string_view kDtmfInput = "dtmf_input";  // {text, reason}
inline constexpr std::string_view kBargeIn = "barge_in";
inline constexpr std::string_view kBargeInIgnored = "barge_in_ignored";
inline constexpr std::string_view kFalseInterruption = "false_interruption";
inline constexpr std::string_view kSilencePrompt = "silence_prompt";
inline constexpr std::string_view kSilenceTimeout = "silence_timeout";
inline constexpr std::string_view kRepeat = "repeat";  // {text}

// The reply.
inline constexpr std::string_view kLlmRequest = "llm_request";
inline constexpr std::string_view kLlmFirstToken = "llm_first_token";
inline constexpr std::string_view kLlmDone = "llm_done";
inline constexpr std::string_view kSentence = "sentence";  // {text}
inline constexpr std::string_view kSentenceDropped = "sentence_dropped";
inline constexpr std::string_view kTtsRequest = "tts_request";
inline constexpr std::string_view kTtsFirstAudio = "tts_first_audio";
inline constexpr std::string_view kTtsAudioDropped = "tts_audio_dropped";
inline constexpr std::string_view kSpeechStart = "speech_start";  // {kind}
inline constexpr std::string_view kSpeechEnd = "speech_end";  // {kind, played_ms, interrupted...}
inline constexpr std::string_view kTurnSpans = "turn_spans";  // TurnSpansEvent
inline constexpr std::string_view kEmptyReply = "empty_reply";
inline constexpr std::string_view kReplyCancelled = "reply_cancelled";
// Preemptive generation: a reply started on the caller's words before the endpoint
// {words}; used once the turn ended as it assumed {lead_ms: how long before the endpoint it
// started}; or wasted {reason, tokens, tts_chars}.
inline constexpr std::string_view kPreemptiveStart = "preemptive_start";
inline constexpr std::string_view kPreemptiveUsed = "preemptive_used";
inline constexpr std::string_view kPreemptiveWasted = "preemptive_wasted";

// Tools.
inline constexpr std::string_view kToolCallProposed = "tool_call_proposed";  // {id, name, args}
inline constexpr std::string_view kToolConfirmationRequested = "tool_confirmation_requested";
inline constexpr std::string_view kToolConfirmation = "tool_confirmation";  // {id, name, answer}
inline constexpr std::string_view kToolStarted = "tool_started";
inline constexpr std::string_view kToolFiller = "tool_filler";
inline constexpr std::string_view kToolResult = "tool_result";  // {id, name, ok}
inline constexpr std::string_view kToolAudit = "tool_audit";    // ToolAuditEvent

// Providers and their resilience (retry_policy.h, resilient_stt.h).
inline constexpr std::string_view kProviderError = "provider_error";  // {stage, error}
inline constexpr std::string_view kProviderRetry = "provider_retry";
inline constexpr std::string_view kProviderFailover = "provider_failover";
inline constexpr std::string_view kProviderGaveUp = "provider_gave_up";
inline constexpr std::string_view kProviderReplay = "provider_replay";

// Read but not emitted by the reference agent: readers accept them from other agents.
inline constexpr std::string_view kToolCall = "tool_call";               // {id, name, args}
inline constexpr std::string_view kPostCallReport = "post_call_report";  // {result}

// Every kind above, once.
inline constexpr std::string_view kAll[] = {
    kCallStart, kState, kMaxCallDuration, kAgentHangup, kTransfer, kUsage, kVadStart, kVadStop,
    kEndpoint, kSttInterim, kSttFinal, kSttReopened, kEmptyFinal, kDtmf, kDtmfDropped, kDtmfInput,
    kBargeIn, kBargeInIgnored, kFalseInterruption, kSilencePrompt, kSilenceTimeout, kRepeat,
    kLlmRequest, kLlmFirstToken, kLlmDone, kSentence, kSentenceDropped, kTtsRequest, kTtsFirstAudio,
    kTtsAudioDropped, kSpeechStart, kSpeechEnd, kTurnSpans, kEmptyReply, kReplyCancelled,
    kPreemptiveStart, kPreemptiveUsed, kPreemptiveWasted, kToolCallProposed, kToolConfirmationRequested, kToolConfirmation, kToolStarted, kToolFiller,
    kToolResult, kToolAudit, kProviderError, kProviderRetry, kProviderFailover, kProviderGaveUp,
    kProviderReplay, kToolCall, kPostCallReport};

}  // namespace agent_events

// One proposal of a tool call and what became of it: "tool_audit".
using ToolAuditEvent = ToolAuditRecord;
// What the call used, for the post-call cost estimate: "usage", once, as the call ends.
using UsageEvent = CallUsage;

// How long the stages of one answered turn took, in milliseconds: "turn_spans", when the answer
// starts playing. A span whose ends were not both reached (a repeat is replayed without an LLM
// request, say) is null in the event and empty here. Spans may overlap: with preemptive
// generation the LLM starts before the endpoint and stt_final_ms is negative (the final came
// first); the waterfall says what each stage added.
struct TurnSpansEvent {
  std::optional<double> endpointing_ms;     // end of speech -> endpoint
  std::optional<double> stt_final_ms;       // endpoint -> final transcript
  std::optional<double> llm_ttft_ms;        // LLM request -> first token
  std::optional<double> first_sentence_ms;  // LLM request -> first complete sentence
  std::optional<double> tts_ttfb_ms;        // first TTS request -> its first audio
  std::optional<double> response_ms;        // end of speech -> the answer's first audio

  // The waterfall: what each stage added to response_ms, overlapped stages counted once. Each
  // stage adds the time from the later of the end of speech and every earlier stage's end to its
  // own end, 0 when it was done before (a preemptive LLM request answers before the endpoint,
  // say); a stage not reached adds 0. The six sum to response_ms. Empty without an end of speech.
  struct Waterfall {
    double endpointing_ms = 0;     // -> endpoint
    double stt_ms = 0;             // -> final transcript
    double llm_ms = 0;             // -> first token
    double first_sentence_ms = 0;  // -> first chunk for TTS
    double tts_ms = 0;             // -> its first audio
    double other_ms = 0;           // -> the answer's first audio (the frame clock, a tool)
    bool operator==(const Waterfall&) const = default;
  };
  std::optional<Waterfall> waterfall;

  bool operator==(const TurnSpansEvent&) const = default;
};

// The waterfall of `timing`'s stages up to `playing_us` (TurnTiming's fields, -1 when not
// reached); empty when the end of speech is unknown.
std::optional<TurnSpansEvent::Waterfall> ComputeWaterfall(int64_t speech_end_us,
                                                          int64_t endpoint_us, int64_t final_us,
                                                          int64_t first_token_us,
                                                          int64_t first_sentence_us,
                                                          int64_t first_tts_audio_us,
                                                          int64_t playing_us);

nlohmann::json ToJson(const TurnSpansEvent& spans);
// Numbers are read as they are; anything else (null, missing, a string) is empty.
void FromJson(const nlohmann::json& detail, TurnSpansEvent* spans);

}  // namespace callsim::agent
