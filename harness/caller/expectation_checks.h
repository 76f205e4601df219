// How a caller judges a scenario expectation from what it observed in one turn: pure functions
// over plain evidence, so every rule is testable without a call. Each verdict carries a detail
// that says what was expected and what happened, for the failure reason a user reads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/scenario.h"

namespace callsim::harness {

// A tool the agent proposed or executed, as its event reported it.
struct AgentToolCall {
  std::string id;
  std::string name;
  std::string arguments_json;  // as the model produced it: may not even be JSON
};

// Milliseconds rounded to a whole number for a detail a user reads: "1234 ms".
std::string FormatMs(double ms);

// kCallEndedByNames' name for `by`, as events and post-call outcomes carry it.
std::string CallEndedByName(CallEndedBy by);

// What the caller observed in one turn.
struct TurnEvidence {
  std::string heard_text;  // the agent's reply as the ear decoded it
  std::optional<double> turn_latency_ms;
  std::optional<double> barge_in_stop_ms;
  bool barge_agent_was_speaking = false;  // at the barge-in (for agent_stops' failure detail)
  // no_reply: the time the silent window opened (the caller's action ended) and the first agent
  // sample heard after it.
  std::optional<int64_t> listen_from_us;
  std::optional<int64_t> reply_onset_us;
  std::vector<AgentToolCall> tool_calls;
  // agent_repeats: the latest earlier reply heard (empty: none).
  std::string previous_heard_text;
  // Set when the call ended before the turn completed: added to failure details.
  std::string call_ended_reason;
};

struct Verdict {
  bool passed = false;
  std::string detail;
};

// The name an expectation kind is recorded under: kExpectationKindNames' (the scenario's key).
std::string ExpectationKindName(Expectation::Kind kind);

// Judges every kind but kCallEnds (see JudgeCallEnds):
//   agent_says     `contains` as whole words in the normalized heard text, and/or `matches` (an
//                  RE2 regex, case-insensitive) found in it; both when both are given.
//   turn_latency   latency <= max_ms (no reply heard fails).
//   agent_stops    barge-in stop latency <= within_ms.
//   tool_call      a call of `tool_name` whose arguments contain every field of tool_args_json
//                  (ArgumentsContain); empty tool_args_json: any arguments.
//   no_reply       no agent audio heard within within_ms of listen_from_us.
//   agent_repeats  WER of the heard text against previous_heard_text <= kRepeatMaxWer.
Verdict JudgeExpectation(const Expectation& e, const TurnEvidence& evidence);

// call_ends: the call ended `e.ends_by` (caller | agent | transfer).
Verdict JudgeCallEnds(const Expectation& e, CallEndedBy by, const std::string& reason);

inline constexpr double kRepeatMaxWer = 0.2;

// Whole-word phrase containment on normalized text.
bool ContainsPhrase(std::string_view heard, std::string_view phrase);

// True when `actual` holds every field of `expected` with an equal value: objects recursively
// (extra fields in `actual` are fine), everything else (arrays, strings, numbers, booleans, null)
// by JSON equality, where 4567 and 4567.0 are equal but 4567 and "4567" are not.
bool ArgumentsContain(const nlohmann::json& actual, const nlohmann::json& expected);

}  // namespace callsim::harness
