// The LLM script a RuleLlm answers from (rule_llm.h): its rules read from a YAML file, checked and
// typed once at load time (phrases normalized, regexes compiled, tool arguments turned into JSON),
// so that matching at call time never parses or fails.
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
// How a rule is chosen when a request comes in is RuleLlm's business: see rule_llm.h.
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

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent/text/regex.h"

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

}  // namespace callsim::fakes
