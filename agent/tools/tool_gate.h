// The guardrails between the model and the world, for one call. Every tool call the LLM proposes
// is checked here before anything runs: the arguments must be JSON and an object, the tool must
// be declared and allowed, the arguments must satisfy the tool's JSON Schema (valijson), the turn
// must have tool steps left, and the back end's circuit breaker must be closed. A destructive
// tool needs the caller's spoken yes first (the agent asks; kConfirm). A call id, or a
// destructive request with the same arguments, that already ran in this call is not run again
// (kReuse, with the first result). Approved calls run under the tool's timeout.
//
// The gate decides and runs; it does not talk. The agent owns the conversation (asking for
// confirmation, fillers) and writes the audit record of every proposal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/providers/llm.h"
#include "agent/runtime/scheduler.h"
#include "agent/tools/circuit_breaker.h"
#include "agent/tools/tool_backend.h"
#include "agent/tools/tool_spec.h"

namespace callsim::agent {

struct ToolGateConfig {
  std::vector<ToolSpec> tools;  // declared tools
  // Declared tools this agent may run; empty: every declared tool.
  std::vector<std::string> allowlist;
  // Proposals per caller turn (BeginTurn); beyond this they are blocked ("max_tool_steps"), which
  // stops a model that loops on tools.
  int max_steps_per_turn = 3;
  // Prefixes every idempotency key the gate sends (e.g. the call's id), so that a back end shared
  // by several calls never takes one call's request for another's. May be empty.
  std::string idempotency_scope;
};

// Arguments longer than this are blocked ("arguments_too_long") before they are parsed: a bound
// on what an untrusted model output may cost to parse, validate and remember.
inline constexpr size_t kMaxToolArgumentsBytes = 8192;

enum class ToolVerdict {
  kRun,      // run it now
  kConfirm,  // destructive: run only after the caller says yes
  kBlock,    // never runs; `reason` says why
  kReuse,    // already ran in this call: `reused` is the first outcome
};
const char* ToolVerdictName(ToolVerdict verdict);  // "run", "confirm", "block", "reuse"

struct ToolDecision {
  ToolVerdict verdict = ToolVerdict::kBlock;
  // kBlock, in the order checked: "max_tool_steps", "arguments_too_long", "malformed_json",
  // "arguments_not_object", "unknown_tool", "not_allowed",
  // "schema: <json pointer>: <what was expected>" (ToolSchema::Check), then kReuse, then
  // "circuit_open".
  // kReuse: "duplicate_call_id" or "duplicate_request". Empty otherwise.
  std::string reason;
  const ToolSpec* spec = nullptr;  // the declared tool, when there is one
  nlohmann::json args;             // the parsed arguments (kRun, kConfirm, kReuse)
  ToolOutcome reused;              // kReuse: the first run's outcome
};

class ToolGate {
 public:
  // `backends` and `breakers` must outlive the gate. Schemas are compiled here once; a declared
  // schema that valijson cannot compile makes that tool's every proposal a schema block.
  ToolGate(Scheduler& scheduler, ToolGateConfig config, const ToolBackends& backends,
           CircuitBreakers& breakers);
  ~ToolGate();
  ToolGate(const ToolGate&) = delete;
  ToolGate& operator=(const ToolGate&) = delete;

  // A new caller turn: the step count starts again.
  void BeginTurn();
  // Checks one proposal. Every proposal counts as a step, whatever the verdict.
  ToolDecision Check(const ToolCallRequest& call);
  // Runs an approved call (kRun; or kConfirm after the caller's yes) on its back end under the
  // tool's timeout and the back end's breaker. `done` is called once, never synchronously: the
  // back end's outcome, or an error "timeout", "circuit_open", "no_backend". Successful outcomes
  // are remembered for kReuse. The returned handle cancels (no `done` afterwards; a cancelled
  // call counts as neither success nor failure for the breaker). Destroying the gate cancels
  // every run it started. A destructive request (or call id) that already succeeded in this call
  // is not run again: `done` gets the first outcome. Given a kReuse decision, `done` gets
  // decision.reused; given a kBlock decision, the error is decision.reason.
  std::unique_ptr<ToolInvocation> Run(const ToolCallRequest& call, const ToolDecision& decision,
                                      std::function<void(const ToolOutcome&)> done);

  const ToolSpec* Find(std::string_view name) const;
  bool has_tools() const { return !config_.tools.empty(); }

  // The key a destructive request is remembered by: "<tool> <canonical arguments>" (the
  // arguments' JSON with sorted keys and no spaces).
  static std::string RequestKey(const ToolSpec& spec, const nlohmann::json& args);

 private:
  struct Compiled;  // a tool's compiled schema (valijson)
  class Running;    // one Run(): its timers, its back end call, its breaker accounting

  ToolDecision Decide(const ToolCallRequest& call, ToolDecision decision);
  const ToolOutcome* Remembered(const ToolCallRequest& call, const ToolSpec& spec,
                               const nlohmann::json& args, const char** reason) const;
  void Remember(const std::string& call_id, const std::string& request_key,
                const ToolOutcome& outcome);
  std::string IdempotencyKey(const ToolCallRequest& call, const ToolSpec& spec,
                             const std::string& request_key);
  bool Allowed(const std::string& name) const;

  Scheduler& scheduler_;
  ToolGateConfig config_;
  const ToolBackends& backends_;
  CircuitBreakers& breakers_;
  std::vector<std::unique_ptr<Compiled>> compiled_;  // parallel to config_.tools
  int steps_this_turn_ = 0;
  // Successful outcomes by tool call id, and by "<tool> <canonical arguments>" for destructive
  // tools. At most 256 entries each; beyond that new outcomes are not remembered (the back end's
  // idempotency key, the same for the same destructive request, still stops a second action).
  std::map<std::string, ToolOutcome> by_call_id_;
  std::map<std::string, ToolOutcome> by_request_;
  // Runs in flight, by start order, so the destructor can stop them.
  std::map<uint64_t, Running*> running_;
  uint64_t runs_started_ = 0;
};

}  // namespace callsim::agent
