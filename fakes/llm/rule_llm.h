// A deterministic fake LLM: the reply and tool call are chosen by rules from an LLM script
// (llm_script.h) and streamed back as tokens on the Scheduler, with a drawn time to first token and
// a fixed token rate. The same seed, script and requests give the same tokens at the same virtual
// times.
//
// Matching: the first matching rule wins; with none, the stream ends with
// on_error("no rule matched") (after a tool result: an empty reply, see below).
// "The user text" is the normalized text (agent::NormalizeText: lowercase, punctuation removed) of
// the last message whose role is "user". Phrases are normalized the same way and match whole
// words: "order" matches "my order is" but not "border". `matches` uses RE2 syntax (no
// backreferences or lookaround; matching time is linear in the text), case-insensitive, searched
// (not anchored: use ^ and $ to anchor) in the same normalized text.
// When the last message is a tool result, only `after_tool` rules are considered (the tool named
// by that message's tool_name, else the last tool call this RuleLlm delivered); if none matches,
// the stream is an empty reply (done, no tokens), as a model with nothing to add.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/providers/llm.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/llm/llm_script.h"

namespace callsim::fakes {

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
