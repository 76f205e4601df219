// What the LLM script and RuleLlm tests share: a support-desk script whose rules exercise every
// condition, and a parse that must succeed.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "fakes/llm/llm_script.h"

namespace callsim::fakes::llm_test {

inline LlmScript MustParse(const std::string& yaml) {
  LlmScript script;
  std::string error;
  EXPECT_TRUE(ParseLlmScript(yaml, "t.yaml", &script, &error)) << error;
  return script;
}

// Rules 0..4: after_tool, any + all with a tool call, an anchored regex, any, a fallback.
inline constexpr char kSupportScript[] = R"(rules:
  - when: { after_tool: check_order_status }
    say: "Your order has shipped."
  - when: { contains_any: ["order", "status"], contains_all: ["number"] }
    say: "Let me check that for you."
    tool_call: { name: check_order_status, args: { order_id: "4567", rush: false } }
  - when: { matches: "^refund( me)?$" }
    say: Refunds take five days.
  - when: { contains_any: ["order"] }
    say: Which order?
  - say: "Sorry, I didn't catch that."
)";

}  // namespace callsim::fakes::llm_test
