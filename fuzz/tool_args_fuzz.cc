// Tool calls as a hostile model sends them: the first line names the tool, the rest is the
// arguments text. The gate (size bound, JSON, allowlist, schema with patterns and formats) must
// decide every proposal without crashing or hanging.
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "agent/tools/circuit_breaker.h"
#include "agent/tools/tool_gate.h"
#include "fakes/tools/standard_tool_specs.h"
#include "fuzz/fuzz_input.h"
#include "agent/runtime/sim_scheduler.h"

namespace {

// Beside the standard tools, one whose schema uses the keywords that reach a regex or a date
// parser: a nested-repetition pattern, patternProperties and date/time formats.
callsim::agent::ToolSpec HostileSchemaTool() {
  callsim::agent::ToolSpec spec;
  spec.name = "lookup_code";
  spec.description = "look up a code";
  spec.backend = "orders";
  spec.parameters = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "code": { "type": "string", "pattern": "^((a|b))*$" },
      "when": { "type": "string", "format": "date-time" },
      "day": { "type": "string", "format": "date" },
      "at": { "type": "string", "format": "time" }
    },
    "patternProperties": { "^x-(.*)*y$": { "type": "string" } }
  })");
  return spec;
}

// One gate for the whole fuzz run: compiling the schemas is not what is under test, and Check
// keeps no state between proposals apart from the step count, which BeginTurn resets.
struct Gate {
  Gate() : gate(scheduler, Config(), backends, breakers) {}
  static callsim::agent::ToolGateConfig Config() {
    callsim::agent::ToolGateConfig config;
    config.tools = callsim::fakes::StandardToolSpecs();
    config.tools.push_back(HostileSchemaTool());
    return config;
  }
  callsim::agent::SimScheduler scheduler;
  const callsim::agent::ToolBackends backends;
  callsim::agent::CircuitBreakers breakers;
  callsim::agent::ToolGate gate;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Gate* const fixture = new Gate();
  auto [name, arguments] = callsim::fuzz::SplitOnce(callsim::fuzz::AsText(data, size), "\n");
  fixture->gate.BeginTurn();
  const callsim::agent::ToolCallRequest call{"call-1", std::string(name), std::string(arguments)};
  const callsim::agent::ToolDecision decision = fixture->gate.Check(call);
  if (decision.verdict == callsim::agent::ToolVerdict::kBlock && decision.reason.empty()) {
    __builtin_trap();  // a block always names its reason
  }
  return 0;
}
