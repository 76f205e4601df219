#include "harness/measure/threshold.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace callsim::harness {
namespace {

struct AggregateName {
  std::string_view prefix;
  ThresholdAggregate aggregate;
};

constexpr AggregateName kAggregates[] = {
    {"avg", ThresholdAggregate::kAvg},     {"min", ThresholdAggregate::kMin},
    {"max", ThresholdAggregate::kMax},     {"med", ThresholdAggregate::kMed},
    {"value", ThresholdAggregate::kValue}, {"rate", ThresholdAggregate::kRate},
    {"count", ThresholdAggregate::kCount},
};

bool Applies(ThresholdAggregate a, const MetricInfo& m) {
  switch (a) {
    case ThresholdAggregate::kPercentile:
    case ThresholdAggregate::kAvg:
    case ThresholdAggregate::kMin:
    case ThresholdAggregate::kMax:
    case ThresholdAggregate::kMed: return m.trend;
    case ThresholdAggregate::kValue: return m.value;
    case ThresholdAggregate::kRate: return m.rate;
    case ThresholdAggregate::kCount: return m.count || m.trend;
  }
  return false;
}

std::string Accepted(const MetricInfo& m) {
  std::string s;
  auto add = [&](std::string_view what) {
    if (!s.empty()) s += ", ";
    s += what;
  };
  if (m.trend) add("p(N), avg, min, max, med, count");
  if (m.value) add("value");
  if (m.rate) add("rate");
  if (m.count && !m.trend) add("count");
  return s;
}

// Go's strings.TrimSpace, which k6 applies to both sides of the operator: ASCII white space and
// the other Unicode White_Space characters (NEL, NBSP, the U+2000 block, ideographic space).
constexpr std::string_view kUnicodeSpaces[] = {
    "\u0085", "\u00A0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004",
    "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200A", "\u2028", "\u2029",
    "\u202F", "\u205F", "\u3000"};

bool StripSpace(std::string_view* s, bool front) {
  if (s->empty()) return false;
  const char c = front ? s->front() : s->back();
  if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
    front ? s->remove_prefix(1) : s->remove_suffix(1);
    return true;
  }
  for (std::string_view space : kUnicodeSpaces) {
    if (front ? s->starts_with(space) : s->ends_with(space)) {
      front ? s->remove_prefix(space.size()) : s->remove_suffix(space.size());
      return true;
    }
  }
  return false;
}

std::string_view TrimSpace(std::string_view s) {
  while (StripSpace(&s, true)) {
  }
  while (StripSpace(&s, false)) {
  }
  return s;
}

// A number as Go's strconv.ParseFloat reads one (k6 uses it on both the bound and the
// percentile), less hexadecimal and underscores: an optional sign, digits, a fraction, an
// exponent. No white space inside. Infinities and NaN are refused: no threshold means them.
bool ParseNumber(std::string_view s, double* out) {
  if (s.starts_with('+') && s.size() > 1 && s[1] != '-') s.remove_prefix(1);
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

struct OperatorToken {
  std::string_view text;
  ThresholdOp op;
};

// k6's operators in the order its scanner tries them: the first whose split leaves something on
// the right wins, so "<=" is found before "<", and "===" (JavaScript's strict equality, the same
// on numbers) before "==".
constexpr OperatorToken kOperators[] = {
    {"<=", ThresholdOp::kLe}, {"<", ThresholdOp::kLt},   {">=", ThresholdOp::kGe},
    {">", ThresholdOp::kGt},  {"===", ThresholdOp::kEq}, {"==", ThresholdOp::kEq},
    {"!=", ThresholdOp::kNe},
};

// Splits "lhs <op> rhs" as k6's scanThresholdExpression does: each operator in turn, at its first
// occurrence, both sides trimmed of white space.
bool SplitOp(std::string_view text, std::string_view* lhs, ThresholdOp* op, std::string_view* rhs) {
  for (const OperatorToken& token : kOperators) {
    const size_t pos = text.find(token.text);
    if (pos == std::string_view::npos || pos + token.text.size() == text.size()) continue;
    *lhs = TrimSpace(text.substr(0, pos));
    *op = token.op;
    *rhs = TrimSpace(text.substr(pos + token.text.size()));
    return true;
  }
  return false;
}

// "p(N)" with N in [0, 100], written as ParseNumber reads it, nothing around it inside the
// parentheses (k6: "p( 95 )" is malformed); or one of the named aggregates.
bool ParseAggregate(std::string_view lhs, ThresholdExpr* out) {
  if (lhs.size() > 3 && lhs.substr(0, 2) == "p(" && lhs.back() == ')') {
    double q = 0;
    if (!ParseNumber(lhs.substr(2, lhs.size() - 3), &q) || q < 0 || q > 100) return false;
    out->aggregate = ThresholdAggregate::kPercentile;
    out->percentile = q;
    return true;
  }
  for (const AggregateName& a : kAggregates) {
    if (lhs == a.prefix) {
      out->aggregate = a.aggregate;
      return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<MetricInfo>& KnownMetrics() {
  static const std::vector<MetricInfo> kMetrics = {
      {"turn_latency", true, false, false, false, "voice-to-voice latency at the caller's ear, ms"},
      {"barge_in_stop", true, false, false, false, "barge-in start to the last agent sample heard, ms"},
      {"endpointing", true, false, false, false, "the agent's endpointing delay per turn, ms"},
      {"stt_final", true, false, false, false, "endpoint to final transcript, ms"},
      {"llm_ttft", true, false, false, false, "LLM request to first token, ms"},
      {"first_sentence", true, false, false, false, "LLM request to the first complete sentence, ms"},
      {"tts_ttfb", true, false, false, false, "TTS request to first audio, ms"},
      {"wer", false, true, false, false, "corpus word error rate of the agent's transcripts"},
      {"heard_wer", false, true, false, false, "word error rate of what the caller heard"},
      {"silence_ratio", false, true, false, false, "share of call time in dead air over 2 s"},
      {"task_completion", false, false, true, false, "share of calls whose expectations all held"},
      {"dropped_calls", false, false, true, true,
       "calls refused or cut by the system (active-call bound, run duration); not aborted ones"},
      {"false_barge_ins", false, false, true, true, "agent stopped although the caller did not speak"},
      {"agent_cut_ins", false, false, true, true, "agent began while the caller's utterance was unfinished"},
      {"call_errors", false, false, true, true, "calls dropped or with a provider error"},
      {"tool_calls_executed", false, false, false, true, "tool calls the agent ran"},
      {"tool_calls_blocked", false, false, false, true, "tool calls the guardrails blocked"},
      {"unsafe_tool_executions", false, false, false, true,
       "tool calls that ran although undeclared, not allowed, or destructive without a yes"},
      {"false_interruptions", false, false, false, true,
       "barge-ins with no words after them, where the agent resumed"},
      {"wasted_llm_requests", false, false, true, true,
       "preemptive LLM requests thrown away (rate: per caller utterance)"},
      {"wasted_llm_tokens", false, false, false, true,
       "output tokens of the wasted preemptive LLM requests"},
  };
  return kMetrics;
}

const MetricInfo* FindMetric(std::string_view name) {
  for (const MetricInfo& m : KnownMetrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string KnownMetricNames() {
  std::string s;
  for (const MetricInfo& m : KnownMetrics()) {
    if (!s.empty()) s += ", ";
    s += m.name;
  }
  return s;
}

bool ParseThresholdExpr(std::string_view text, const MetricInfo& metric, ThresholdExpr* out,
                        std::string* error) {
  ThresholdExpr expr;
  expr.text = std::string(TrimSpace(text));
  std::string_view lhs, rhs;
  if (!SplitOp(expr.text, &lhs, &expr.op, &rhs) || !ParseAggregate(lhs, &expr)) {
    *error = "expected AGGREGATE OP NUMBER such as \"p(95)<1200\" (aggregates for " +
             std::string(metric.name) + ": " + Accepted(metric) + "), got \"" + expr.text + "\"";
    return false;
  }
  if (!ParseNumber(rhs, &expr.bound)) {
    *error = "expected a number after the operator in \"" + expr.text + "\"";
    return false;
  }
  if (!Applies(expr.aggregate, metric)) {
    *error = "\"" + std::string(lhs) + "\" does not apply to " + std::string(metric.name) +
             " (it takes " + Accepted(metric) + ")";
    return false;
  }
  *out = std::move(expr);
  return true;
}

bool ThresholdHolds(const ThresholdExpr& expr, double observed) {
  if (std::isnan(observed)) return true;  // no data: k6 passes the threshold (reports say so)
  switch (expr.op) {
    case ThresholdOp::kLt: return observed < expr.bound;
    case ThresholdOp::kLe: return observed <= expr.bound;
    case ThresholdOp::kGt: return observed > expr.bound;
    case ThresholdOp::kGe: return observed >= expr.bound;
    case ThresholdOp::kEq: return observed == expr.bound;
    case ThresholdOp::kNe: return observed != expr.bound;
  }
  return false;
}

std::string ObservedMetricName(std::string_view metric, const ThresholdExpr& expr) {
  const std::string m(metric);
  switch (expr.aggregate) {
    case ThresholdAggregate::kPercentile: {
      char q[32];
      std::snprintf(q, sizeof q, "%g", expr.percentile);
      return m + "_p" + q + "_ms";
    }
    case ThresholdAggregate::kAvg: return m + "_avg_ms";
    case ThresholdAggregate::kMin: return m + "_min_ms";
    case ThresholdAggregate::kMax: return m + "_max_ms";
    case ThresholdAggregate::kMed: return m + "_p50_ms";
    case ThresholdAggregate::kValue: return m;
    case ThresholdAggregate::kRate: return m + "_rate";
    case ThresholdAggregate::kCount: return m + "_count";
  }
  return m;
}

namespace {

// Reads the aggregate out of the suffix after "<metric>_"; false when it is not one of ours.
bool ParseObservedSuffix(std::string_view suffix, ObservedMetric* out) {
  constexpr std::string_view kMs = "_ms";
  if (suffix == "count") {
    out->aggregate = ThresholdAggregate::kCount;
    return true;
  }
  if (suffix == "rate") {
    out->aggregate = ThresholdAggregate::kRate;
    return true;
  }
  if (suffix.size() <= kMs.size() || suffix.substr(suffix.size() - kMs.size()) != kMs) return false;
  const std::string_view stem = suffix.substr(0, suffix.size() - kMs.size());
  if (stem == "avg") out->aggregate = ThresholdAggregate::kAvg;
  else if (stem == "min") out->aggregate = ThresholdAggregate::kMin;
  else if (stem == "max") out->aggregate = ThresholdAggregate::kMax;
  else if (stem.size() > 1 && stem[0] == 'p') {
    double q = 0;
    // Only what "%g" writes for a percentile in [0, 100]: digits, a point, "e-" (p(0.00001)).
    if (stem.find_first_not_of("0123456789.e-", 1) != std::string_view::npos) return false;
    if (!ParseNumber(stem.substr(1), &q) || q < 0 || q > 100) return false;
    out->aggregate = ThresholdAggregate::kPercentile;
    out->percentile = q;
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool ParseObservedMetricName(std::string_view name, ObservedMetric* out) {
  for (const MetricInfo& m : KnownMetrics()) {
    if (name.size() < m.name.size() || name.substr(0, m.name.size()) != m.name) continue;
    ObservedMetric parsed;
    parsed.metric = &m;
    if (name.size() == m.name.size()) {
      if (!m.value) continue;
      *out = parsed;
      return true;
    }
    if (name[m.name.size()] != '_') continue;
    if (!ParseObservedSuffix(name.substr(m.name.size() + 1), &parsed)) continue;
    if (!Applies(parsed.aggregate, m)) continue;
    *out = parsed;
    return true;
  }
  return false;
}

}  // namespace callsim::harness
