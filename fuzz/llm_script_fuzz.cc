// LLM scripts: any bytes parse to rules or to "file:line:col: message"; a parsed script's rules
// (regexes included) are then matched against user texts taken from the input's last line.
#include <string>

#include "fakes/llm/rule_llm.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = callsim::fuzz::AsText(data, size);
  callsim::fakes::LlmScript script;
  std::string error;
  if (!callsim::fakes::ParseLlmScript(std::string(text), "fuzz.yaml", &script, &error)) {
    if (error.empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  const size_t last_line = text.rfind('\n');
  const std::string user(last_line == std::string_view::npos ? text : text.substr(last_line + 1));
  callsim::agent::LlmRequest request;
  request.messages.push_back({"user", user, "", ""});
  callsim::fakes::MatchLlmRule(script, request, "");
  request.messages.push_back({"tool", "{\"status\":\"shipped\"}", "check_order_status", "c1"});
  callsim::fakes::MatchLlmRule(script, request, "check_order_status");
  for (const callsim::fakes::LlmRule& rule : script.rules) callsim::fakes::SplitLlmTokens(rule.say);
  return 0;
}
