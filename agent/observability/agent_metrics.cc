#include "agent/observability/agent_metrics.h"

#include <algorithm>
#include <cmath>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/runtime/check.h"
#include "agent/runtime/output_file.h"

namespace callsim::agent {
namespace {

constexpr const char* kCallOutcomeNames[kCallOutcomeCount] = {
    "caller_hangup", "agent_hangup", "transfer", "max_call", "silence_timeout", "error", "other"};
constexpr const char* kLatencyStageNames[kLatencyStageCount] = {"endpointing", "stt_final",
                                                                "llm_ttft", "tts_ttfb"};
constexpr const char* kErrorStageNames[kErrorStageCount] = {"stt", "llm", "tts", "tool"};
constexpr const char* kToolAuditDecisionNames[kToolAuditDecisionCount] = {
    "executed", "blocked", "declined", "failed", "reused", "cancelled"};

// The name of an enum value: an index past the table would label a metric with garbage.
template <size_t N>
const char* NameAt(const char* const (&names)[N], size_t index) {
  CALLSIM_CHECK(index < N);
  return names[index];
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool ValidLatency(double seconds) { return std::isfinite(seconds) && seconds >= 0; }

}  // namespace

const char* CallOutcomeName(CallOutcome outcome) {
  return NameAt(kCallOutcomeNames, static_cast<size_t>(outcome));
}

CallOutcome CallOutcomeForEndReason(std::string_view reason) {
  if (reason == "hangup") return CallOutcome::kCallerHangup;
  if (reason == "agent_hangup") return CallOutcome::kAgentHangup;
  if (reason == "transfer") return CallOutcome::kTransfer;
  if (reason == "max_call") return CallOutcome::kMaxCall;
  if (reason == "silence_timeout") return CallOutcome::kSilenceTimeout;
  if (reason == "error" || reason == "provider_error" || EndsWith(reason, "_failed") ||
      EndsWith(reason, "_error")) {
    return CallOutcome::kError;
  }
  return CallOutcome::kOther;
}

const char* LatencyStageName(LatencyStage stage) {
  return NameAt(kLatencyStageNames, static_cast<size_t>(stage));
}

const char* ErrorStageName(ErrorStage stage) {
  return NameAt(kErrorStageNames, static_cast<size_t>(stage));
}

bool ParseErrorStage(std::string_view text, ErrorStage* stage) {
  for (size_t i = 0; i < kErrorStageCount; ++i) {
    if (text == kErrorStageNames[i]) {
      *stage = static_cast<ErrorStage>(i);
      return true;
    }
  }
  return false;
}

const char* ToolAuditDecisionName(ToolAuditDecision decision) {
  return NameAt(kToolAuditDecisionNames, static_cast<size_t>(decision));
}

bool ParseToolAuditDecision(std::string_view text, ToolAuditDecision* decision) {
  for (size_t i = 0; i < kToolAuditDecisionCount; ++i) {
    if (text == kToolAuditDecisionNames[i]) {
      *decision = static_cast<ToolAuditDecision>(i);
      return true;
    }
  }
  return false;
}

// ---- construction ---------------------------------------------------------------------------

AgentMetrics::AgentMetrics(const std::vector<std::string>& declared_tools)
    : registry_(std::make_shared<prometheus::Registry>()) {
  BuildCallMetrics();
  BuildLatencyMetrics();
  BuildEventCounters();
  BuildToolCounters(declared_tools);
}

AgentMetrics::~AgentMetrics() = default;

const std::vector<double>& AgentMetrics::TurnLatencyBucketsSeconds() {
  // Voice-to-voice: good agents answer in 0.5-1 s, so the buckets are finest there.
  static const std::vector<double> kBuckets = {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
                                               1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0};
  return kBuckets;
}

const std::vector<double>& AgentMetrics::StageLatencyBucketsSeconds() {
  // One set for all stages: TTS first bytes take tens of ms, endpointing and LLM first tokens
  // hundreds, a stalled provider seconds.
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5,
                                               0.75,  1.0,  1.5,   2.0,  3.0, 5.0, 10.0};
  return kBuckets;
}

void AgentMetrics::BuildCallMetrics() {
  active_calls_ = &prometheus::BuildGauge()
                       .Name("callsim_agent_active_calls")
                       .Help("Calls the agent is handling now.")
                       .Register(*registry_)
                       .Add({});
  auto& calls = prometheus::BuildCounter()
                    .Name("callsim_agent_calls_total")
                    .Help("Calls the agent finished, by why they ended.")
                    .Register(*registry_);
  for (size_t i = 0; i < kCallOutcomeCount; ++i) {
    calls_[i] = &calls.Add({{"outcome", kCallOutcomeNames[i]}});
  }
}

void AgentMetrics::BuildLatencyMetrics() {
  turn_latency_ = &prometheus::BuildHistogram()
                       .Name("callsim_agent_turn_latency_seconds")
                       .Help("Agent response time per turn: from the end of the caller's speech "
                             "to the first audio of the agent's answer.")
                       .Register(*registry_)
                       .Add({}, TurnLatencyBucketsSeconds());
  auto& stages = prometheus::BuildHistogram()
                     .Name("callsim_agent_stage_latency_seconds")
                     .Help("Latency of each stage of a turn: endpointing delay, STT final, LLM "
                           "time to first token, TTS time to first byte.")
                     .Register(*registry_);
  for (size_t i = 0; i < kLatencyStageCount; ++i) {
    stage_latency_[i] = &stages.Add({{"stage", kLatencyStageNames[i]}},
                                    StageLatencyBucketsSeconds());
  }
}

void AgentMetrics::BuildEventCounters() {
  barge_ins_ = &prometheus::BuildCounter()
                    .Name("callsim_agent_barge_ins_total")
                    .Help("Times the caller interrupted the agent and the agent stopped speaking.")
                    .Register(*registry_)
                    .Add({});
  false_interruptions_ = &prometheus::BuildCounter()
                              .Name("callsim_agent_false_interruptions_total")
                              .Help("Barge-ins after which no words followed and the agent "
                                    "resumed.")
                              .Register(*registry_)
                              .Add({});
  preemptive_requests_ = &prometheus::BuildCounter()
                              .Name("callsim_agent_preemptive_requests_total")
                              .Help("LLM requests started before the endpoint on words that "
                                    "sounded finished (preemptive generation).")
                              .Register(*registry_)
                              .Add({});
  wasted_llm_requests_ = &prometheus::BuildCounter()
                              .Name("callsim_agent_wasted_llm_requests_total")
                              .Help("Preemptive LLM requests thrown away because the caller "
                                    "went on or the transcript changed: paid for, never heard.")
                              .Register(*registry_)
                              .Add({});
  wasted_llm_tokens_ = &prometheus::BuildCounter()
                            .Name("callsim_agent_wasted_llm_tokens_total")
                            .Help("Output tokens of the wasted preemptive LLM requests.")
                            .Register(*registry_)
                            .Add({});
  auto& errors = prometheus::BuildCounter()
                     .Name("callsim_agent_errors_total")
                     .Help("Provider and tool errors, by stage.")
                     .Register(*registry_);
  for (size_t i = 0; i < kErrorStageCount; ++i) {
    errors_[i] = &errors.Add({{"stage", kErrorStageNames[i]}});
  }
  auto& reports = prometheus::BuildCounter()
                      .Name("callsim_agent_post_call_reports_total")
                      .Help("Post-call reports, written or dropped.")
                      .Register(*registry_);
  post_call_written_ = &reports.Add({{"result", "written"}});
  post_call_dropped_ = &reports.Add({{"result", "dropped"}});
}

void AgentMetrics::BuildToolCounters(const std::vector<std::string>& declared_tools) {
  undeclared_tool_ = AddToolSeries(kUndeclaredTool);
  for (const std::string& tool : declared_tools) {
    if (tools_.size() >= kMaxDeclaredTools) break;
    if (tool.empty() || tool == kUndeclaredTool || tools_.count(tool) > 0) continue;
    tools_.emplace(tool, AddToolSeries(tool));
  }
}

AgentMetrics::ToolCounters AgentMetrics::AddToolSeries(const std::string& tool) {
  // Merge behaviour: the second call returns the family the first one registered.
  auto& family = prometheus::BuildCounter()
                     .Name("callsim_agent_tool_calls_total")
                     .Help("Tool calls the model proposed, by tool and audit decision. Names "
                           "that were not declared count as tool=\"undeclared\".")
                     .Register(*registry_);
  ToolCounters counters{};
  for (size_t i = 0; i < kToolAuditDecisionCount; ++i) {
    counters[i] = &family.Add({{"tool", tool}, {"outcome", kToolAuditDecisionNames[i]}});
  }
  return counters;
}

std::vector<std::string> AgentMetrics::declared_tools() const {
  std::vector<std::string> names;
  names.reserve(tools_.size());
  for (const auto& entry : tools_) names.push_back(entry.first);
  return names;
}

// ---- recording ------------------------------------------------------------------------------

void AgentMetrics::CallStarted() { active_calls_->Increment(); }

void AgentMetrics::CallEnded(CallOutcome outcome) {
  active_calls_->Decrement();
  calls_[static_cast<size_t>(outcome)]->Increment();
}

void AgentMetrics::ObserveTurnLatency(double seconds) {
  if (ValidLatency(seconds)) turn_latency_->Observe(seconds);
}

void AgentMetrics::ObserveStageLatency(LatencyStage stage, double seconds) {
  if (ValidLatency(seconds)) stage_latency_[static_cast<size_t>(stage)]->Observe(seconds);
}

void AgentMetrics::CountBargeIn() { barge_ins_->Increment(); }

void AgentMetrics::CountFalseInterruption() { false_interruptions_->Increment(); }

void AgentMetrics::CountPreemptiveRequest() { preemptive_requests_->Increment(); }

void AgentMetrics::CountWastedLlmRequest(int64_t tokens) {
  wasted_llm_requests_->Increment();
  if (tokens > 0) wasted_llm_tokens_->Increment(static_cast<double>(tokens));
}

void AgentMetrics::CountToolCall(std::string_view tool, ToolAuditDecision decision) {
  const auto it = tools_.find(tool);
  const ToolCounters& counters = it == tools_.end() ? undeclared_tool_ : it->second;
  counters[static_cast<size_t>(decision)]->Increment();
}

void AgentMetrics::CountError(ErrorStage stage) {
  errors_[static_cast<size_t>(stage)]->Increment();
}

void AgentMetrics::CountPostCallReport(bool written) {
  (written ? post_call_written_ : post_call_dropped_)->Increment();
}

// ---- adding another registry's counts ------------------------------------------------------

namespace {

// Adds what `from` observed into `into` (the same buckets): its per-bucket counts and its sum.
void AddHistogram(prometheus::Histogram& into, const prometheus::Histogram& from) {
  const prometheus::ClientMetric m = from.Collect();
  std::vector<double> increments;
  increments.reserve(m.histogram.bucket.size());
  uint64_t below = 0;
  for (const prometheus::ClientMetric::Bucket& b : m.histogram.bucket) {
    increments.push_back(static_cast<double>(b.cumulative_count - below));
    below = b.cumulative_count;
  }
  into.ObserveMultiple(increments, m.histogram.sample_sum);
}

void AddCounter(prometheus::Counter* into, const prometheus::Counter* from) {
  if (from->Value() > 0) into->Increment(from->Value());
}

}  // namespace

void AgentMetrics::Add(const AgentMetrics& other) {
  AddHistogram(*turn_latency_, *other.turn_latency_);
  for (size_t i = 0; i < kLatencyStageCount; ++i) {
    AddHistogram(*stage_latency_[i], *other.stage_latency_[i]);
  }
  active_calls_->Increment(other.active_calls_->Value());
  for (size_t i = 0; i < kCallOutcomeCount; ++i) AddCounter(calls_[i], other.calls_[i]);
  for (auto [into, from] : {std::pair{barge_ins_, other.barge_ins_},
                            std::pair{false_interruptions_, other.false_interruptions_},
                            std::pair{preemptive_requests_, other.preemptive_requests_},
                            std::pair{wasted_llm_requests_, other.wasted_llm_requests_},
                            std::pair{wasted_llm_tokens_, other.wasted_llm_tokens_},
                            std::pair{post_call_written_, other.post_call_written_},
                            std::pair{post_call_dropped_, other.post_call_dropped_}}) {
    AddCounter(into, from);
  }
  for (size_t i = 0; i < kErrorStageCount; ++i) AddCounter(errors_[i], other.errors_[i]);
  // A tool `other` declared and this registry did not counts as undeclared here.
  auto add_tool = [this](const std::string& name, const ToolCounters& from) {
    auto it = tools_.find(name);
    const ToolCounters& into = it != tools_.end() ? it->second : undeclared_tool_;
    for (size_t d = 0; d < kToolAuditDecisionCount; ++d) AddCounter(into[d], from[d]);
  };
  for (const auto& [name, counters] : other.tools_) add_tool(name, counters);
  add_tool(kUndeclaredTool, other.undeclared_tool_);
}

// ---- exposition -----------------------------------------------------------------------------

std::string AgentMetrics::Exposition() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  // A family keeps its series in an unordered_map: sort them so the text is reproducible.
  for (prometheus::MetricFamily& family : families) {
    std::stable_sort(family.metric.begin(), family.metric.end(),
                     [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
                       return a.label < b.label;
                     });
  }
  return prometheus::TextSerializer().Serialize(families);
}

bool AgentMetrics::WriteExposition(const std::string& path, std::string* error) const {
  return WriteOutputFile(path, Exposition(), error);
}

}  // namespace callsim::agent
