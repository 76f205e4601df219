// Pass/fail criteria in k6's grammar: a metric name and expressions such as "p(95)<1200",
// "avg<800", "value<0.08", "rate>0.9" or "count==0". This file holds the catalogue of metrics a
// threshold may name and what each accepts, the parser (used by the scenario loader, so bad
// thresholds are input errors with a location) and the comparison itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace callsim::harness {

enum class ThresholdAggregate { kPercentile, kAvg, kMin, kMax, kMed, kValue, kRate, kCount };
enum class ThresholdOp { kLt, kLe, kGt, kGe, kEq, kNe };

// What a metric is and which aggregates it accepts.
struct MetricInfo {
  std::string_view name;  // as written in thresholds: "turn_latency"
  // A distribution of per-turn (or per-event) values in milliseconds: p(N), avg, min, max, med.
  bool trend = false;
  bool value = false;  // a single run-level value (wer, silence_ratio)
  bool rate = false;   // a share of calls or turns in [0, 1]
  bool count = false;  // a number of occurrences
  std::string_view help;
};

struct ThresholdExpr {
  std::string text;  // as written, for messages: "p(95)<1200"
  ThresholdAggregate aggregate = ThresholdAggregate::kValue;
  double percentile = 0;  // kPercentile: in [0, 100]; p(0) is the minimum
  ThresholdOp op = ThresholdOp::kLt;
  double bound = 0;
};

// Every metric a threshold may name, in a stable order.
const std::vector<MetricInfo>& KnownMetrics();
// nullptr for an unknown name.
const MetricInfo* FindMetric(std::string_view name);
// "turn_latency, barge_in_stop, ..." for error messages.
std::string KnownMetricNames();

// Parses one expression for `metric` as k6's parseThresholdExpression does: the operators <=, <,
// >=, >, ===, ==, != tried in that order at their first occurrence; white space (Go's TrimSpace:
// spaces, tabs, line breaks, Unicode spaces) trimmed around both sides, none allowed inside
// "p(N)"; N in [0, 100]. "===" reads as "==". The bound must be finite (k6 would take NaN or Inf).
// Returns false with a message saying what was expected when the syntax is wrong or the aggregate
// does not apply to the metric (e.g. "p(95)" on wer).
bool ParseThresholdExpr(std::string_view text, const MetricInfo& metric, ThresholdExpr* out,
                        std::string* error);

// True when `observed` satisfies the expression's comparison, or is NaN: like k6, a threshold on a
// metric without samples passes (reports print "no data" beside it).
bool ThresholdHolds(const ThresholdExpr& expr, double observed);

// The name of the run metric (metrics table) that holds the observed value for `expr` on
// `metric`: "turn_latency_p95_ms", "turn_latency_avg_ms", "wer", "task_completion_rate",
// "dropped_calls_count". Percentiles with a fraction keep it: "turn_latency_p99.9_ms".
std::string ObservedMetricName(std::string_view metric, const ThresholdExpr& expr);

// The inverse of ObservedMetricName: what a run-metric name holds. "turn_latency_p97.5_ms" is
// {turn_latency, kPercentile, 97.5}; "turn_latency_avg_ms" {.., kAvg}; "turn_latency_count"
// {.., kCount}; "wer" {wer, kValue}; "task_completion_rate" {task_completion, kRate};
// "dropped_calls_count" {dropped_calls, kCount}. (kMed is never produced: ObservedMetricName
// names it as the 50th percentile.)
struct ObservedMetric {
  const MetricInfo* metric = nullptr;
  ThresholdAggregate aggregate = ThresholdAggregate::kValue;
  double percentile = 0;  // kPercentile: in [0, 100]
};
// Returns false, leaving *out unchanged, for a name no threshold can produce: an unknown metric,
// an aggregate the metric does not take, or a malformed percentile.
bool ParseObservedMetricName(std::string_view name, ObservedMetric* out);

}  // namespace callsim::harness
