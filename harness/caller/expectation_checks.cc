#include "harness/caller/expectation_checks.h"

#include <cstdio>

#include "agent/text/regex.h"
#include "agent/text/words.h"
#include "harness/measure/wer.h"

namespace callsim::harness {

std::string FormatMs(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  return buf;
}

namespace {

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

// " w1 w2 ... wn ": whole words are found as padded substrings.
std::string PaddedWords(std::string_view text) {
  std::string padded(1, ' ');
  padded += agent::NormalizeText(text);
  padded += ' ';
  return padded;
}

// Appends why the evidence may be incomplete to a failure.
Verdict Judged(bool passed, std::string detail, const TurnEvidence& evidence) {
  if (!passed && !evidence.call_ended_reason.empty()) {
    detail += " (the call ended before the turn completed: " + evidence.call_ended_reason + ")";
  }
  return Verdict{passed, std::move(detail)};
}

Verdict JudgeAgentSays(const Expectation& e, const TurnEvidence& evidence) {
  bool passed = true;
  std::string expected;
  if (!e.contains.empty()) {
    passed = ContainsPhrase(evidence.heard_text, e.contains);
    expected = Quote(e.contains);
  }
  if (!e.matches.empty()) {
    if (!expected.empty()) expected += " and ";
    expected += "a match for /" + e.matches + "/";
    const agent::Regex re(e.matches, agent::RegexOptions{.case_insensitive = true});
    if (!re.ok()) return Verdict{false, "invalid regex /" + e.matches + "/: " + re.error()};
    passed = passed && re.Search(agent::NormalizeText(evidence.heard_text));
  }
  return Judged(passed, "expected " + expected + ", heard " + Quote(evidence.heard_text), evidence);
}

Verdict JudgeTurnLatency(const Expectation& e, const TurnEvidence& evidence) {
  if (!evidence.turn_latency_ms) return Judged(false, "no reply heard", evidence);
  return Judged(*evidence.turn_latency_ms <= e.max_ms,
                FormatMs(*evidence.turn_latency_ms) + " (bound " + FormatMs(e.max_ms) + ")",
                evidence);
}

Verdict JudgeAgentStops(const Expectation& e, const TurnEvidence& evidence) {
  if (evidence.barge_in_stop_ms) {
    return Judged(*evidence.barge_in_stop_ms <= e.within_ms,
                  "stopped " + FormatMs(*evidence.barge_in_stop_ms) +
                      " after the barge-in (bound " + FormatMs(e.within_ms) + ")",
                  evidence);
  }
  return Judged(false,
                evidence.barge_agent_was_speaking
                    ? "the agent had not stopped when the call ended"
                    : "the agent was not speaking when the caller barged in",
                evidence);
}

Verdict JudgeToolCall(const Expectation& e, const TurnEvidence& evidence) {
  nlohmann::json expected_args = nlohmann::json::object();
  if (!e.tool_args_json.empty()) {
    expected_args = nlohmann::json::parse(e.tool_args_json, nullptr, /*allow_exceptions=*/false);
    if (expected_args.is_discarded()) {
      return Verdict{false, "the expected arguments are not JSON: " + e.tool_args_json};
    }
  }
  std::string seen;
  for (const AgentToolCall& call : evidence.tool_calls) {
    if (!seen.empty()) seen += "; ";
    seen += call.name + " " + call.arguments_json;
    if (call.name != e.tool_name) continue;
    if (e.tool_args_json.empty()) {  // any arguments, even malformed ones, match
      return Verdict{true, "the agent called " + call.name + " " + call.arguments_json};
    }
    const nlohmann::json args =
        nlohmann::json::parse(call.arguments_json, nullptr, /*allow_exceptions=*/false);
    if (!args.is_discarded() && ArgumentsContain(args, expected_args)) {
      return Verdict{true, "the agent called " + call.name + " " + call.arguments_json};
    }
  }
  return Judged(false,
                "expected a call of " + e.tool_name + " with " + expected_args.dump() +
                    ", the agent called " + (seen.empty() ? std::string("no tool") : seen),
                evidence);
}

Verdict JudgeNoReply(const Expectation& e, const TurnEvidence& evidence) {
  const std::string window = FormatMs(e.within_ms);
  if (evidence.listen_from_us && evidence.reply_onset_us) {
    const double after_ms =
        static_cast<double>(*evidence.reply_onset_us - *evidence.listen_from_us) / 1000.0;
    if (after_ms < e.within_ms) {
      return Verdict{false, "the agent spoke " + FormatMs(after_ms) +
                                " after the caller's action ended (silent window " + window + ")"};
    }
  }
  return Verdict{true, "no agent audio within " + window};
}

Verdict JudgeAgentRepeats(const TurnEvidence& evidence) {
  if (evidence.previous_heard_text.empty()) {
    return Verdict{false, "no earlier reply was heard to compare with"};
  }
  if (evidence.heard_text.empty()) return Judged(false, "no reply heard", evidence);
  const double wer = ComputeWer(evidence.previous_heard_text, evidence.heard_text).Rate();
  char buf[96];
  std::snprintf(buf, sizeof buf, "WER %.3f against the previous reply (bound %.2f): ", wer,
                kRepeatMaxWer);
  return Judged(wer <= kRepeatMaxWer,
                buf + Quote(evidence.heard_text) + " vs " + Quote(evidence.previous_heard_text),
                evidence);
}

}  // namespace

std::string CallEndedByName(CallEndedBy by) { return std::string(kCallEndedByNames.Name(by)); }

std::string ExpectationKindName(Expectation::Kind kind) {
  return std::string(kExpectationKindNames.Name(kind));
}

Verdict JudgeExpectation(const Expectation& e, const TurnEvidence& evidence) {
  switch (e.kind) {
    case Expectation::kAgentSays: return JudgeAgentSays(e, evidence);
    case Expectation::kTurnLatency: return JudgeTurnLatency(e, evidence);
    case Expectation::kAgentStops: return JudgeAgentStops(e, evidence);
    case Expectation::kToolCall: return JudgeToolCall(e, evidence);
    case Expectation::kNoReply: return JudgeNoReply(e, evidence);
    case Expectation::kAgentRepeats: return JudgeAgentRepeats(evidence);
    case Expectation::kCallEnds: break;
  }
  return Verdict{false, "call_ends is judged when the call ends"};
}

Verdict JudgeCallEnds(const Expectation& e, CallEndedBy by, const std::string& reason) {
  return Verdict{by == e.ends_by, "the call ended by " + CallEndedByName(by) + " (" + reason +
                                     "), expected by " + CallEndedByName(e.ends_by)};
}

bool ContainsPhrase(std::string_view heard, std::string_view phrase) {
  return PaddedWords(heard).find(PaddedWords(phrase)) != std::string::npos;
}

bool ArgumentsContain(const nlohmann::json& actual, const nlohmann::json& expected) {
  if (!expected.is_object()) return actual == expected;
  if (!actual.is_object()) return false;
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const auto found = actual.find(it.key());
    if (found == actual.end() || !ArgumentsContain(*found, it.value())) return false;
  }
  return true;
}

}  // namespace callsim::harness
