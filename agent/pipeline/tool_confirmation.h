// A destructive tool call is confirmed aloud before it runs: the agent asks, and the caller's
// next message answers. PendingConfirmation holds the call while it waits; ReadConfirmation reads
// the answer from plain words only: assent ("yes", "sure", "okay"...) or refusal ("no", "don't",
// "wait"...). Both or neither is unclear, and so is "please" or "go" ("repeat that please").
#pragma once

#include <string>
#include <string_view>

#include "agent/providers/llm.h"
#include "agent/tools/tool_gate.h"

namespace callsim::agent {

enum class ConfirmationAnswer { kYes, kNo, kUnclear };

ConfirmationAnswer ReadConfirmation(std::string_view text);
// "yes", "no", "unclear" (as in the "tool_confirmation" event).
const char* ConfirmationAnswerName(ConfirmationAnswer answer);

// A destructive tool call waiting for the caller's yes or no.
struct PendingConfirmation {
  bool active = false;
  ToolCallRequest call;
  ToolDecision decision;
  std::string question;  // said again when the caller asks for a repeat
};

}  // namespace callsim::agent
