// Where one turn's latency went: the agent's stage spans ("turn_spans", agent/pipeline/
// agent_events.h) laid end to end from the moment the agent heard the caller stop, and the rest
// of the turn latency (measured at the caller's ear) as "network and playout". The stages always
// sum to the turn latency exactly, so the bar a reader sees is the latency the percentile names.
//
// The reference agent reports its own waterfall (TurnSpansEvent::waterfall: each stage's share of
// the time to its first audio, overlapped stages counted once, as preemptive generation
// overlaps the LLM with endpointing); that is drawn when present. Otherwise (an older log, another
// agent) the spans are taken as sequential in the agent: endpointing (end of speech -> endpoint), STT final
// (-> final transcript, when the LLM request goes out), LLM first token, the rest of the first
// sentence (first_sentence_ms counts from the LLM request, so it contains llm_ttft_ms and only
// the difference is drawn), TTS first byte; whatever else passed before the answer's first audio
// left the agent (response_ms minus those: waiting on a tool, the 20 ms frame clock) is "agent,
// other". What remains to the ear is uplink transit and jitter buffer, the VAD's hangover before
// the agent starts counting silence, downlink transit and playout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/pipeline/agent_events.h"
#include "harness/store/rows.h"

namespace callsim::reports {

struct WaterfallStage {
  std::string name;
  double ms = 0;         // may be negative only when the spans contradict the latency
  bool skipped = false;  // the span was null in the event (counted as 0)
};

// The answered turn whose latency is the nearest-rank q-th percentile of all answered turns
// (sorted by latency, then call and turn, so the pick is stable). nullopt when none answered.
std::optional<harness::TurnRow> TurnAtPercentile(const std::vector<harness::TurnRow>& turns,
                                                 double q_percent);

// The agent's spans for turn `turn_index` of a call (its events in log order): the last
// "turn_spans" after the caller's "utterance_start" of the turn and before its "reply_onset".
// nullopt when there is none (a foreign agent over the wire, a reply that was not an answer).
std::optional<agent::TurnSpansEvent> FindTurnSpans(const std::vector<harness::EventRow>& events,
                                                   int turn_index);

// The stages above, summing to `turn_latency_ms`. Without spans: one stage, "not broken down".
std::vector<WaterfallStage> WaterfallStages(double turn_latency_ms,
                                            const std::optional<agent::TurnSpansEvent>& spans);

// A bar per stage, each starting where the previous one ended; <svg data-stages=N
// data-total-ms=T>, each <rect class="stage" data-name=.. data-ms=..>.
std::string SvgWaterfall(const std::vector<WaterfallStage>& stages, const std::string& title);

}  // namespace callsim::reports
