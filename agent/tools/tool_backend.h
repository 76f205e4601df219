// Where tools run: a back end takes a validated call and answers once, later, on the Scheduler.
// Back ends are untrusted in their timing (they may be slow, fail or never answer) but not in
// their output shape: the result is a JSON value.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace callsim::agent {

struct ToolOutcome {
  bool ok = false;
  nlohmann::json result;  // ok: the tool's result (an object)
  std::string error;      // !ok: why ("timeout", "circuit_open", "unavailable", the back end's words)
  // !ok: the back end worked and refused the request ("order not found", "invalid amount"). Such
  // answers show a healthy back end, so they do not count against its circuit breaker.
  bool rejected = false;
};

class ToolInvocation {
 public:
  virtual ~ToolInvocation() = default;
  // No callback after Cancel() (or destruction).
  virtual void Cancel() = 0;
};

class ToolBackend {
 public:
  virtual ~ToolBackend() = default;
  // Runs `tool` with `args` (already validated against the tool's schema). `idempotency_key`
  // identifies the request: a back end that sees the same key twice must not act twice and
  // answers with the first result. `done` is called at most once, never synchronously.
  virtual std::unique_ptr<ToolInvocation> Invoke(const std::string& tool,
                                                 const nlohmann::json& args,
                                                 const std::string& idempotency_key,
                                                 std::function<void(const ToolOutcome&)> done) = 0;
};

// Back ends by name (std::map: iteration order never depends on pointers). Not owned.
using ToolBackends = std::map<std::string, ToolBackend*>;

}  // namespace callsim::agent
