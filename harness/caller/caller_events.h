// Every kind of event the simulated caller reports (source event_sources::kCaller), declared
// once: the caller emits these names and the harness's readers (the call timeline) compare
// against them. Like the agent's, they are part of the stored event log's contract.
#pragma once

#include <string_view>

namespace callsim::harness::caller_events {

inline constexpr std::string_view kCallerVoice = "caller_voice";  // {rate_factor, pause_scale...}
// A turn's script.
inline constexpr std::string_view kWaitFor = "wait_for";  // {turn, what}
inline constexpr std::string_view kWaitForTimeout = "wait_for_timeout";
inline constexpr std::string_view kWaitForDone = "wait_for_done";       // {turn, waited_ms}
inline constexpr std::string_view kUtteranceStart = "utterance_start";  // {turn, barge_in}
inline constexpr std::string_view kUtteranceEnd = "utterance_end";      // {turn}
inline constexpr std::string_view kDtmfStart = "dtmf_start";            // {turn, keys}
inline constexpr std::string_view kDtmfEnd = "dtmf_end";                // {turn}
inline constexpr std::string_view kHangup = "hangup";                   // {reason}
inline constexpr std::string_view kVoiceError = "voice_error";          // {turn, error}
// What the ear heard.
inline constexpr std::string_view kReplyOnset = "reply_onset";  // {turn, latency_ms | during}
inline constexpr std::string_view kReplyEnd = "reply_end";      // {turn, heard}
inline constexpr std::string_view kReplyTimeout = "reply_timeout";
inline constexpr std::string_view kAgentEndTimeout = "agent_end_timeout";
// Barge-ins.
inline constexpr std::string_view kBargeInPhraseHeard = "barge_in_phrase_heard";
inline constexpr std::string_view kBargeInPhraseNotHeard = "barge_in_phrase_not_heard";
inline constexpr std::string_view kBargeInNoAgentSpeech = "barge_in_no_agent_speech";
inline constexpr std::string_view kAgentStopped = "agent_stopped";  // {turn, stop_ms}
// Judging.
inline constexpr std::string_view kExpectation = "expectation";  // {turn, kind, passed, detail}

// Every kind above, once.
inline constexpr std::string_view kAll[] = {
    kCallerVoice, kWaitFor, kWaitForTimeout, kWaitForDone, kUtteranceStart, kUtteranceEnd,
    kDtmfStart, kDtmfEnd, kHangup, kVoiceError, kReplyOnset, kReplyEnd, kReplyTimeout, kAgentEndTimeout,
    kBargeInPhraseHeard, kBargeInPhraseNotHeard, kBargeInNoAgentSpeech, kAgentStopped,
    kExpectation};

}  // namespace callsim::harness::caller_events
