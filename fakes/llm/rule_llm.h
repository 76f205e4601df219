// A deterministic fake LLM: the reply and tool call are chosen by rules from a YAML script and
// streamed back as tokens on the Scheduler, with a drawn time to first token and a fixed token
// rate. The same seed, script and requests give the same tokens at the same virtual times.
//
// Script format:
//
//   rules:
//     - when:                                   # optional; every condition given must hold
//         contains_any: ["order", "status"]     # at least one phrase occurs in the user text
//         contains_all: ["order", "number"]     # every phrase occurs in the user text
//         matches: "order (number )?\\d+"       # a regex found anywhere in the user text
//         after_tool: check_order_status        # the last message is that tool's result
//       say: "Let me check that for you. Your order has shipped."
//       tool_call:                              # optional; delivered after the text
//         name: check_order_status
//         args: { order_id: "4567", rush: true }  # a map or list: compact JSON (see below)
//     - say: "Sorry, I didn't catch that."      # no `when`: always matches (a fallback)
//
// The first matching rule wins; with none, the stream ends with on_error("no rule matched")
// (after a tool result: an empty reply, see below).
// "The user text" is the normalized text (agent::NormalizeText: lowercase, punctuation removed) of
// the last message whose role is "user". Phrases are normalized the same way and match whole
// words: "order" matches "my order is" but not "border". `matches` uses RE2 syntax (no
// backreferences or lookaround; matching time is linear in the text), case-insensitive, searched
// (not anchored: use ^ and $ to anchor) in the same normalized text.
// When the last message is a tool result, only `after_tool` rules are considered (the tool named
// by that message's tool_name, else the last tool call this RuleLlm delivered); if none matches,
// the stream is an empty reply (done, no tokens), as a model with nothing to add.
//
// `args` as a map or list becomes compact JSON in the script's key order; unquoted scalars are
// typed as YAML 1.2's core schema says (null, true/false, integers, floats), quoted ones stay
// strings. `args` as a string is sent verbatim, to produce malformed JSON on purpose:
//   args: '{"order_id": 45'
// Without `args` the arguments are "{}".
//
// A rule needs `say`, `tool_call` or both. Unknown keys, duplicate keys, wrong types and regexes RE2
// refuses are errors reported as "file:line:col: message" (1-based).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/providers/llm.h"
#include "agent/text/regex.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"

namespace callsim::fakes {

struct LlmCondition {
  std::vector<std::string> contains_any;  // normalized phrases; empty = no condition
  std::vector<std::string> contains_all;  // normalized phrases; empty = no condition
  std::string matches_source;             // the regex as written; empty = no condition
  std::optional<agent::Regex> matches;    // RE2, case-insensitive
  std::string after_tool;  // tool name; empty = no condition
};

struct LlmToolCall {
  std::string name;
  std::string arguments_json;  // compact JSON from the script's map, or the raw string given
};

struct LlmRule {
  std::optional<LlmCondition> when;  // none: always matches
  std::string say;                   // may be empty when there is a tool call
  std::optional<LlmToolCall> tool_call;
  int line = 0;  // 1-based line of the rule in the script, for traces
};

struct LlmScript {
  std::vector<LlmRule> rules;
};

// Scripts larger than this are rejected rather than read: a script is hand-written.
inline constexpr size_t kMaxLlmScriptBytes = 4 << 20;

// Reads and parses `path`. Returns false and sets *error to "file:line:col: message".
bool LoadLlmScript(const std::string& path, LlmScript* out, std::string* error);
// Parses YAML text; `name_for_errors` is the "file" part of error messages.
bool ParseLlmScript(const std::string& yaml_text, const std::string& name_for_errors,
                    LlmScript* out, std::string* error);

// The first rule of `script` that matches `request`, or nullptr. `last_tool_name` is the name of
// the tool whose result the last message carries (see RuleLlm), empty if unknown.
const LlmRule* MatchLlmRule(const LlmScript& script, const agent::LlmRequest& request,
                            std::string_view last_tool_name);

// Splits `say` into the pieces streamed as tokens: each whitespace-separated word with the
// punctuation attached to it; every piece but the first carries one leading space, so the
// concatenated tokens equal `say` with whitespace runs collapsed (and trimmed).
std::vector<std::string> SplitLlmTokens(std::string_view say);

struct RuleLlmConfig {
  agent::LatencyModel ttft{300, 700};  // request to first token (or tool call, or error)
  double tokens_per_s = 50;            // later tokens, evenly spaced; <= 0 sends all at once
  // Shared by every call of a run (nullptr: unlimited). A stream holds a slot from Start until
  // its done, error or cancel; its time to first token counts from when it got the slot. A
  // refused stream's only event is on_error with the limiter's error.
  std::shared_ptr<CapacityLimiter> capacity;
};

// Token i (0-based) arrives at start + ttft + round(i * 1e6 / tokens_per_s) us (start: when Start
// was called, or when the stream got its capacity slot); a tool call takes the next slot after the
// text (or the first slot when there is no text), and on_done follows the last event in the same
// task. Each Start forks the Rng by "stream/<n>" (n = 1, 2, ...), so a stream's draws do not
// depend on other streams. Tool call ids are "call_<n>", n counting the tool calls this provider
// has started, from 1.
//
// `after_tool` limitation: agent::ChatMessage carries no tool name, so the tool a "tool" message
// answers is taken to be the last tool call this RuleLlm delivered. One RuleLlm should therefore
// serve one conversation. Streams may outlive the RuleLlm but not the Scheduler.
class RuleLlm final : public agent::LlmProvider {
 public:
  RuleLlm(agent::Scheduler& scheduler, agent::Rng rng, RuleLlmConfig config, LlmScript script);

  std::unique_ptr<agent::LlmStream> Start(const agent::LlmRequest& request,
                                          agent::LlmListener listener) override;

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  RuleLlmConfig config_;
  LlmScript script_;
  uint64_t streams_started_ = 0;
  uint64_t tool_calls_started_ = 0;
  // Shared with streams, which set it when they deliver a tool call.
  std::shared_ptr<std::string> last_tool_name_ = std::make_shared<std::string>();
};

}  // namespace callsim::fakes
