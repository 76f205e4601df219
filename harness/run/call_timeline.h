// Who spoke when in one call, read back from its event log: the caller's utterances, the agent's
// replies (with the sentences each one carried), the agent's barge-ins and its per-turn spans. The
// run metrics that need timing on both sides (false barge-ins, cut-ins, dead air, heard WER) are
// computed from this, so they work on the same events the store keeps.
//
// All times are the simulation's (microseconds since the run started), as the events carry them.
// Caller times are at the caller's mouth, agent times at the agent; the network between them
// (tens of milliseconds one way) is not subtracted, which the definitions below allow for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/pipeline/agent_events.h"
#include "harness/run/call_log.h"

namespace callsim::harness {

struct SpeechInterval {
  int64_t start_us = 0;
  int64_t end_us = 0;  // the call's end when the event log has no end for it
};

// One reply the agent began to play: from "speech_start" to "speech_end".
struct AgentReply {
  std::string kind;  // greeting | answer | apology | prompt | resume
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool ended = false;        // a "speech_end" closed it (else end_us is the call's end)
  bool interrupted = false;  // speech_end said interrupted, or it never ended
  // Its "sentence" texts in order, joined by spaces: what the agent meant to say.
  std::string text;
};

struct CallTimeline {
  int64_t call_start_us = 0;
  int64_t call_end_us = 0;
  std::vector<SpeechInterval> caller_speech;  // "utterance_start" .. "utterance_end"
  std::vector<AgentReply> replies;            // in start order
  std::vector<int64_t> barge_in_us;           // the agent's "barge_in" events
  std::vector<agent::TurnSpansEvent> spans;   // the agent's "turn_spans", one per answer
  int provider_errors = 0;  // the agent's "provider_error" events
};

// Reads the events of one call (in log order). Unknown events and malformed details are skipped;
// an utterance or reply still open at the end runs to `call_end_us`.
CallTimeline BuildCallTimeline(const std::vector<EventEntry>& events, int64_t call_start_us,
                               int64_t call_end_us);

// How much a barge-in may lag the end of the caller's speech and still be the caller's doing:
// transit both ways, the jitter buffer, VAD start and the agent's minimum barge-in speech.
inline constexpr int64_t kBargeInDetectionSlackUs = 1'000'000;

// Barge-ins not caused by the caller: a "barge_in" at time t is genuine when some caller
// utterance started at or before t and ended no more than kBargeInDetectionSlackUs before t (it
// was in progress, or had only just ended, when the agent decided); every other is false (noise,
// echo of the agent's own voice).
int CountFalseBargeIns(const CallTimeline& timeline);

// Caller utterances the agent cut into: an utterance [s, e) counts (once) when an "answer" reply
// started strictly inside it, s < t < e. Caller times are at the mouth, so a reply that starts
// before e also started before the agent could have heard the utterance end.
int CountAgentCutIns(const CallTimeline& timeline);

// Total length of the stretches of the call, longer than `min_gap_us`, in which neither side was
// speaking (caller utterances and agent replies, merged; the call's start and end bound it).
int64_t DeadAirUs(const CallTimeline& timeline, int64_t min_gap_us);

// The reply the caller heard begin at `onset_us` (the first sample at its ear): the reply with the
// latest start at or before onset_us, provided the onset is no later than its end plus
// kHeardPairSlackUs (the downlink and the caller's jitter buffer). -1 when there is none.
inline constexpr int64_t kHeardPairSlackUs = 1'000'000;
int FindHeardReply(const CallTimeline& timeline, int64_t onset_us);

}  // namespace callsim::harness
