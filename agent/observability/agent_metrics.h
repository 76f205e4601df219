// The reference agent's Prometheus metrics: one registry shared by every call of a run (or of a
// process), with a fixed, bounded set of series created up front, so a hostile caller or model can
// never grow it. Names follow Prometheus conventions (prefix callsim_agent_, base units, counters
// end in _total, no per-call labels); the exposition passes `promtool check metrics` with no lint.
// Recording may come from several threads: the series are prometheus-cpp atomics and the tool
// table is fixed at construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace callsim::agent {

// Why a call ended, folded into a small fixed set (the outcome label of calls_total).
enum class CallOutcome {
  kCallerHangup,
  kAgentHangup,
  kTransfer,
  kMaxCall,
  kSilenceTimeout,
  kError,
  kOther,
};
inline constexpr size_t kCallOutcomeCount = 7;
// "caller_hangup", "agent_hangup", "transfer", "max_call", "silence_timeout", "error", "other".
const char* CallOutcomeName(CallOutcome outcome);
// Maps the agent's end reason (the `reason` of its state -> "ended" event): "hangup" is the
// caller's; "agent_hangup", "transfer", "max_call", "silence_timeout" are themselves; a reason
// ending in "_failed" or "_error", or equal to "error" or "provider_error", is kError; any other
// reason is kOther.
CallOutcome CallOutcomeForEndReason(std::string_view reason);

// The measured parts of a turn (the stage label of stage_latency_seconds).
enum class LatencyStage { kEndpointing, kSttFinal, kLlmTtft, kTtsTtfb };
inline constexpr size_t kLatencyStageCount = 4;
// "endpointing", "stt_final", "llm_ttft", "tts_ttfb".
const char* LatencyStageName(LatencyStage stage);

// Where an error happened (the stage label of errors_total).
enum class ErrorStage { kStt, kLlm, kTts, kTool };
inline constexpr size_t kErrorStageCount = 4;
const char* ErrorStageName(ErrorStage stage);  // "stt", "llm", "tts", "tool"
// False for any other text.
bool ParseErrorStage(std::string_view text, ErrorStage* stage);

// The audit decision on one tool call the model proposed (the outcome label of tool_calls_total).
// kCancelled: the tool was running when the reply or the call was cancelled (a barge-in, a hangup).
enum class ToolAuditDecision { kExecuted, kBlocked, kDeclined, kFailed, kReused, kCancelled };
inline constexpr size_t kToolAuditDecisionCount = 6;
// "executed", "blocked", "declined", "failed", "reused", "cancelled".
const char* ToolAuditDecisionName(ToolAuditDecision decision);
// False for any other text.
bool ParseToolAuditDecision(std::string_view text, ToolAuditDecision* decision);

class AgentMetrics {
 public:
  // More declared tools than this are not given their own label value (they count as
  // "undeclared"), which bounds the tool series at
  // (kMaxDeclaredTools + 1) * kToolAuditDecisionCount.
  static constexpr size_t kMaxDeclaredTools = 64;
  // The tool label of a name that is not declared.
  static constexpr const char* kUndeclaredTool = "undeclared";

  // `declared_tools`: the tool names the agent's configuration declares; each gets its own tool
  // label value. Empty and duplicate names are ignored, and so are names beyond the first
  // kMaxDeclaredTools distinct ones. Every series is created here, at zero.
  explicit AgentMetrics(const std::vector<std::string>& declared_tools = {});
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // Histogram bucket upper bounds, in seconds (the +Inf bucket is implicit).
  static const std::vector<double>& TurnLatencyBucketsSeconds();   // 0.2 s .. 10 s
  static const std::vector<double>& StageLatencyBucketsSeconds();  // 5 ms .. 10 s

  // active_calls goes up by one.
  void CallStarted();
  // active_calls goes down by one and calls_total{outcome} up by one. Pair with CallStarted.
  void CallEnded(CallOutcome outcome);
  // Latencies are ignored when negative or not finite (a span that cannot be; it would corrupt
  // the sum).
  void ObserveTurnLatency(double seconds);
  void ObserveStageLatency(LatencyStage stage, double seconds);
  void CountBargeIn();
  void CountFalseInterruption();
  // Preemptive generation: a request started before the endpoint, and one thrown away with the
  // output tokens it had produced (negative counts as none).
  void CountPreemptiveRequest();
  void CountWastedLlmRequest(int64_t tokens);
  // `tool` is untrusted model output: a name that was not declared counts as "undeclared".
  void CountToolCall(std::string_view tool, ToolAuditDecision decision);
  void CountError(ErrorStage stage);
  void CountPostCallReport(bool written);

  // Adds everything `other` recorded to this registry's series (a run's first attempt, kept
  // apart until it is known to stand: harness/run/runner.cc). A tool `other` declared that this
  // registry did not counts as undeclared.
  void Add(const AgentMetrics& other);

  // The text exposition format (what a /metrics scrape returns). Series within a family are
  // sorted by their labels, so the text depends only on what was recorded.
  std::string Exposition() const;
  // Writes Exposition() to `path` with WriteOutputFile (agent/runtime/output_file.h): a regular
  // file is replaced atomically (a node-exporter textfile collector never reads half a file); a
  // FIFO, a device or /dev/stdout is written in place. On failure returns false with `*error`
  // saying what failed.
  bool WriteExposition(const std::string& path, std::string* error) const;

  // The registry, for a scrape endpoint (prometheus::Exposer::RegisterCollectable) or tests.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  // The tool names that got their own label value, in sorted order.
  std::vector<std::string> declared_tools() const;

 private:
  using ToolCounters = std::array<prometheus::Counter*, kToolAuditDecisionCount>;

  void BuildCallMetrics();
  void BuildLatencyMetrics();
  void BuildEventCounters();
  void BuildToolCounters(const std::vector<std::string>& declared_tools);
  ToolCounters AddToolSeries(const std::string& tool);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* turn_latency_ = nullptr;
  std::array<prometheus::Histogram*, kLatencyStageCount> stage_latency_{};
  prometheus::Gauge* active_calls_ = nullptr;
  std::array<prometheus::Counter*, kCallOutcomeCount> calls_{};
  prometheus::Counter* barge_ins_ = nullptr;
  prometheus::Counter* false_interruptions_ = nullptr;
  prometheus::Counter* preemptive_requests_ = nullptr;
  prometheus::Counter* wasted_llm_requests_ = nullptr;
  prometheus::Counter* wasted_llm_tokens_ = nullptr;
  std::array<prometheus::Counter*, kErrorStageCount> errors_{};
  prometheus::Counter* post_call_written_ = nullptr;
  prometheus::Counter* post_call_dropped_ = nullptr;
  // Declared tool name -> its counters (std::less<>: looked up by string_view, no allocation).
  std::map<std::string, ToolCounters, std::less<>> tools_;
  ToolCounters undeclared_tool_{};
};

}  // namespace callsim::agent
