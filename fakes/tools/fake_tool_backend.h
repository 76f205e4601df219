// A fake tool back end (one instance per simulated call): answers after a drawn latency, fails
// at error_rate, never answers at timeout_rate, fails every call that starts inside an outage
// window, and honours idempotency keys (a repeated key gets the first successful result and does
// nothing; a failed call leaves the key free for a retry).
// Its tools are the deterministic functions in fake_tools.h. Every call takes exactly four draws
// from the back end's own Rng (two for latency, one for timeout, one for error), whatever happens,
// so one call's fate never shifts another's.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/tools/tool_backend.h"

namespace callsim::fakes {

// The back ends with tools (fake_tools.h), by the names tool files and scenarios use.
inline constexpr std::array<std::string_view, 4> kFakeToolBackendNames{
    "orders", "appointments", "payments", "transfer"};

// Every call that starts at a scheduler time in [start_ms, end_ms) fails with "unavailable".
struct ToolOutage {
  double start_ms = 0;
  double end_ms = 0;
};

struct FakeToolBackendSpec {
  agent::LatencyModel latency{120, 400, 10000};
  double error_rate = 0;    // P(a call fails with "internal error"; nothing is done)
  double timeout_rate = 0;  // P(a call is never answered; nothing is done)
  std::vector<ToolOutage> outages;  // any order; may overlap
};

// Bounds on a spec, so times stay far from int64 overflow.
inline constexpr double kMaxToolLatencyMs = 3'600'000;
inline constexpr double kMaxToolOutageMs = 1e12;
inline constexpr size_t kMaxToolOutages = 1000;
// Idempotency keys one back end remembers (only for tools that change something: a read-only
// tool simply runs again); a call with a new key beyond it fails with "idempotency store full"
// and does nothing.
inline constexpr size_t kMaxIdempotencyKeys = 1024;

// "" when `spec` is usable; otherwise a message naming the first bad field by its path in the
// struct, e.g. "error_rate must be in [0, 1] (got 1.5)" or "outages[1]: end_ms must be >= start_ms".
std::string ValidateFakeToolBackendSpec(const FakeToolBackendSpec& spec);

struct FakeToolStats {
  uint64_t calls = 0;        // Invoke() calls
  uint64_t ok = 0;           // answered with a result (replays included)
  uint64_t failed = 0;       // answered with an error (the kinds below included)
  uint64_t errors = 0;       // of which error_rate hit ("internal error")
  uint64_t unavailable = 0;  // of which started inside an outage
  uint64_t timeouts = 0;     // never answered (timeout_rate)
  uint64_t replays = 0;      // answered from the idempotency store: nothing done
  uint64_t cancelled = 0;    // cancelled before their answer (timeouts included)
};

class FakeToolBackend final : public agent::ToolBackend {
 public:
  // `name` picks the tools ("orders", "appointments", "payments", "transfer": fake_tools.h); a
  // back end with another name answers every call "unknown tool". `spec` must be valid
  // (ValidateFakeToolBackendSpec); rates are clamped to [0, 1] regardless.
  FakeToolBackend(agent::Scheduler& scheduler, agent::Rng rng, std::string name,
                  FakeToolBackendSpec spec);
  ~FakeToolBackend() override;
  FakeToolBackend(const FakeToolBackend&) = delete;
  FakeToolBackend& operator=(const FakeToolBackend&) = delete;

  std::unique_ptr<agent::ToolInvocation> Invoke(
      const std::string& tool, const nlohmann::json& args, const std::string& idempotency_key,
      std::function<void(const agent::ToolOutcome&)> done) override;

  const std::string& name() const { return name_; }
  const FakeToolBackendSpec& spec() const { return spec_; }
  // Side effects actually performed: successful calls of a tool that changes something
  // (FakeToolChangesSomething), not counting replays of an idempotency key.
  int executed_actions() const { return executed_actions_; }
  int executed_actions(std::string_view tool) const;
  const FakeToolStats& stats() const { return stats_; }

 private:
  class Call;

  bool InOutage(int64_t now_us) const;
  // The answer of a call that was not lost: runs the tool unless the key already ran.
  agent::ToolOutcome Execute(const std::string& tool, const nlohmann::json& args,
                             const std::string& key, bool injected_error);

  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  std::string name_;
  FakeToolBackendSpec spec_;
  FakeToolStats stats_;
  int executed_actions_ = 0;
  std::map<std::string, int, std::less<>> executed_by_tool_;
  std::map<std::string, agent::ToolOutcome> by_key_;  // first successful action per key
  std::map<uint64_t, Call*> live_;                    // unanswered calls, by start order
  uint64_t calls_started_ = 0;
};

}  // namespace callsim::fakes
