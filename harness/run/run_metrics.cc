#include "harness/run/run_metrics.h"

#include <cmath>
#include <limits>
#include <optional>

#include "harness/run/call_timeline.h"

namespace callsim::harness {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The percentiles every trend metric stores; any other is answered from the histogram.
constexpr double kStoredPercentiles[] = {50, 90, 95, 99, 99.9};

double UsToMs(double us) { return us / 1000.0; }

double Ratio(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator)
                         : kNaN;
}

// Latencies are whole microseconds in the simulation, so this loses nothing.
void RecordMs(Histogram& h, double ms) {
  if (std::isfinite(ms)) h.Record(std::llround(ms * 1000.0));
}

// A span the agent reported (empty: it was null).
void RecordMs(Histogram& h, const std::optional<double>& ms) {
  if (ms.has_value()) RecordMs(h, *ms);
}

// A trend aggregate from its histogram; NaN without samples (except the count).
double TrendObserved(const Histogram& h, const ObservedMetric& m) {
  if (m.aggregate == ThresholdAggregate::kCount) return static_cast<double>(h.count());
  if (h.count() == 0) return kNaN;
  switch (m.aggregate) {
    case ThresholdAggregate::kPercentile:
      return UsToMs(static_cast<double>(h.ValueAtPercentile(m.percentile)));
    case ThresholdAggregate::kMed: return UsToMs(static_cast<double>(h.ValueAtPercentile(50)));
    case ThresholdAggregate::kAvg: return UsToMs(h.Mean());
    case ThresholdAggregate::kMin: return UsToMs(static_cast<double>(h.min()));
    case ThresholdAggregate::kMax: return UsToMs(static_cast<double>(h.max()));
    default: return kNaN;
  }
}

std::string TrendName(std::string_view metric, ThresholdAggregate aggregate, double q = 0) {
  ThresholdExpr expr;
  expr.aggregate = aggregate;
  expr.percentile = q;
  return ObservedMetricName(metric, expr);
}

void PutIfKnown(std::map<std::string, double>& out, const std::string& name, double value) {
  if (!std::isnan(value)) out[name] = value;
}

}  // namespace

void RunMetrics::AddCall(const CallRecord& record) {
  ++calls_;
  if (record.task_completed) ++passed_;
  if (record.status == CallStatus::kDropped) ++dropped_;
  if (record.status == CallStatus::kAborted) ++aborted_;
  for (const ToolCallRow& row : record.tool_calls) {
    if (row.decision == "executed") ++tools_executed_;
    if (row.decision == "blocked") ++tools_blocked_;
  }
  tools_unsafe_ += record.unsafe_tool_executions;
  tool_side_effects_ += record.tool_side_effects;
  false_interruptions_ += record.false_interruptions;
  preemptive_requests_ += record.usage.preemptive_requests;
  wasted_llm_requests_ += record.usage.wasted_llm_requests;
  wasted_llm_tokens_ += record.usage.wasted_llm_tokens;
  const agent::JitterBufferStats* directions[2] = {&record.agent_media.jitter,
                                                   &record.caller_media.jitter};
  for (int d = 0; d < 2; ++d) {
    const agent::JitterBufferStats& j = *directions[d];
    JitterTotals& t = jitter_[d];
    t.output_frames += static_cast<int64_t>(j.played + j.fec_recovered + j.concealed);
    t.concealed += static_cast<int64_t>(j.concealed);
    t.fec_recovered += static_cast<int64_t>(j.fec_recovered);
    t.late_dropped += static_cast<int64_t>(j.late_dropped);
    t.played += static_cast<int64_t>(j.played);
    t.delay_sum_us_frames +=
        std::llround(j.mean_buffer_delay_ms * 1000.0 * static_cast<double>(j.played));
    t.delay_max_us = std::max<int64_t>(t.delay_max_us, std::llround(j.max_buffer_delay_ms * 1000.0));
  }
  AddTurns(record);
  AddTimeline(record);
}

void RunMetrics::AddTurns(const CallRecord& r) {
  Histogram& turn_latency = trends_[kTurnLatency];
  Histogram& barge_in_stop = trends_[kBargeInStop];
  for (const TurnOutcome& o : r.outcomes) {
    if (o.has_user) {
      // Scored exactly as the turns table scores it (call_rows.cc, MakeTurnRows).
      if (r.agent_transcripts) {
        wer_ += ComputeWer(o.reference_text, TurnHypothesis(r, o.turn_index));
        ++wer_turns_;
      }
      if (o.turn_latency_ms) RecordMs(turn_latency, *o.turn_latency_ms);
    }
    if (o.barge_in_stop_ms) RecordMs(barge_in_stop, *o.barge_in_stop_ms);
  }
}

void RunMetrics::AddTimeline(const CallRecord& r) {
  const CallTimeline t = BuildCallTimeline(r.events, r.started_us, r.ended_us);
  for (const agent::TurnSpansEvent& s : t.spans) {
    RecordMs(trends_[kEndpointing], s.endpointing_ms);
    RecordMs(trends_[kSttFinal], s.stt_final_ms);
    RecordMs(trends_[kLlmTtft], s.llm_ttft_ms);
    RecordMs(trends_[kFirstSentence], s.first_sentence_ms);
    RecordMs(trends_[kTtsTtfb], s.tts_ttfb_ms);
  }
  std::vector<bool> paired(t.replies.size(), false);
  for (const TurnOutcome& o : r.outcomes) {
    if (!o.reply_onset_us) continue;
    const int index = FindHeardReply(t, *o.reply_onset_us);
    if (index < 0 || paired[static_cast<size_t>(index)]) continue;
    const AgentReply& reply = t.replies[static_cast<size_t>(index)];
    paired[static_cast<size_t>(index)] = true;
    if (reply.interrupted || !reply.ended || reply.text.empty()) continue;
    heard_wer_ += ComputeWer(reply.text, o.heard_text);
    ++heard_replies_;
  }
  agent_replies_ += static_cast<int64_t>(t.replies.size());
  barge_in_events_ += static_cast<int64_t>(t.barge_in_us.size());
  false_barge_ins_ += CountFalseBargeIns(t);
  user_utterances_ += static_cast<int64_t>(t.caller_speech.size());
  agent_cut_ins_ += CountAgentCutIns(t);
  dead_air_us_ += DeadAirUs(t, kDeadAirMinUs);
  call_time_us_ += t.call_end_us - t.call_start_us;
  provider_errors_ += t.provider_errors;
  if (r.status == CallStatus::kDropped || t.provider_errors > 0) ++call_errors_;
}

// The counters of CountersJson, by name, so both directions share one list.
template <typename Self, typename Fn>
void RunMetrics::ForEachCounter(Self& m, Fn&& fn) {
  fn("calls", m.calls_);
  fn("passed", m.passed_);
  fn("dropped", m.dropped_);
  fn("aborted", m.aborted_);
  fn("call_errors", m.call_errors_);
  for (int d = 0; d < 2; ++d) {
    auto& t = m.jitter_[d];
    const std::string p = d == 0 ? "uplink_" : "downlink_";
    fn(p + "output_frames", t.output_frames);
    fn(p + "concealed", t.concealed);
    fn(p + "fec_recovered", t.fec_recovered);
    fn(p + "late_dropped", t.late_dropped);
    fn(p + "played", t.played);
    fn(p + "delay_sum_us_frames", t.delay_sum_us_frames);
  }
  fn("tools_executed", m.tools_executed_);
  fn("tools_blocked", m.tools_blocked_);
  fn("tools_unsafe", m.tools_unsafe_);
  fn("tool_side_effects", m.tool_side_effects_);
  fn("false_interruptions", m.false_interruptions_);
  fn("preemptive_requests", m.preemptive_requests_);
  fn("wasted_llm_requests", m.wasted_llm_requests_);
  fn("wasted_llm_tokens", m.wasted_llm_tokens_);
  fn("provider_errors", m.provider_errors_);
  fn("wer_ref_words", m.wer_.ref_words);
  fn("wer_substitutions", m.wer_.substitutions);
  fn("wer_deletions", m.wer_.deletions);
  fn("wer_insertions", m.wer_.insertions);
  fn("wer_turns", m.wer_turns_);
  fn("heard_ref_words", m.heard_wer_.ref_words);
  fn("heard_substitutions", m.heard_wer_.substitutions);
  fn("heard_deletions", m.heard_wer_.deletions);
  fn("heard_insertions", m.heard_wer_.insertions);
  fn("heard_replies", m.heard_replies_);
  fn("agent_replies", m.agent_replies_);
  fn("barge_in_events", m.barge_in_events_);
  fn("false_barge_ins", m.false_barge_ins_);
  fn("user_utterances", m.user_utterances_);
  fn("agent_cut_ins", m.agent_cut_ins_);
  fn("dead_air_us", m.dead_air_us_);
  fn("call_time_us", m.call_time_us_);
}

void RunMetrics::Merge(const RunMetrics& other) {
  for (size_t i = 0; i < trends_.size(); ++i) trends_[i].Merge(other.trends_[i]);
  nlohmann::json theirs = other.CountersJson();
  ForEachCounter(*this, [&](const std::string& name, auto& value) {
    value += theirs[name].template get<std::decay_t<decltype(value)>>();
  });
  for (int d = 0; d < 2; ++d) {
    jitter_[d].delay_max_us = std::max(jitter_[d].delay_max_us, other.jitter_[d].delay_max_us);
  }
}

nlohmann::json RunMetrics::CountersJson() const {
  nlohmann::json j = nlohmann::json::object();
  ForEachCounter(*this, [&](const std::string& name, const auto& value) { j[name] = value; });
  j["uplink_delay_max_us"] = jitter_[0].delay_max_us;
  j["downlink_delay_max_us"] = jitter_[1].delay_max_us;
  return j;
}

bool RunMetrics::FromState(const nlohmann::json& counters,
                           const std::map<std::string, Histogram>& histograms, RunMetrics* out,
                           std::string* error) {
  RunMetrics m;
  if (!counters.is_object()) {
    *error = "counters: expected an object";
    return false;
  }
  bool ok = true;
  auto read = [&](const std::string& name, auto& value) {
    auto it = counters.find(name);
    if (!ok) return;
    if (it == counters.end() || !it->is_number_integer()) {
      *error = "counters." + name + ": expected an integer";
      ok = false;
      return;
    }
    value = it->template get<std::decay_t<decltype(value)>>();
  };
  ForEachCounter(m, read);
  read("uplink_delay_max_us", m.jitter_[0].delay_max_us);
  read("downlink_delay_max_us", m.jitter_[1].delay_max_us);
  if (!ok) return false;
  for (size_t i = 0; i < kTrendNames.size(); ++i) {
    auto it = histograms.find(std::string(kTrendNames[i]));
    if (it != histograms.end()) m.trends_[i] = it->second;
  }
  *out = std::move(m);
  return true;
}

double RunMetrics::RunningP95TurnLatencyMs() const {
  const Histogram& h = trends_[kTurnLatency];
  return h.count() == 0 ? kNaN : UsToMs(static_cast<double>(h.ValueAtPercentile(95)));
}

const Histogram* RunMetrics::Trend(std::string_view metric) const {
  for (size_t i = 0; i < kTrendNames.size(); ++i) {
    if (kTrendNames[i] == metric) return &trends_[i];
  }
  return nullptr;
}

std::map<std::string, double> RunMetrics::Scalars() const {
  std::map<std::string, double> m;
  auto put = [&m](const std::string& name, double value) { PutIfKnown(m, name, value); };
  auto count = [](int64_t n) { return static_cast<double>(n); };
  put("calls_total", count(calls_));
  put("calls_passed", count(passed_));
  put("task_completion_rate", Ratio(passed_, calls_));
  put("dropped_calls_count", count(dropped_));
  put("calls_dropped", count(dropped_));
  put("dropped_calls_rate", Ratio(dropped_, calls_));
  put("aborted_calls_count", count(aborted_));
  put("calls_aborted", count(aborted_));
  put("wer", wer_turns_ > 0 ? wer_.Rate() : kNaN);
  put("ref_words", count(wer_.ref_words));
  put("heard_wer", heard_replies_ > 0 ? heard_wer_.Rate() : kNaN);
  put("heard_ref_words", count(heard_wer_.ref_words));
  put("heard_replies", count(heard_replies_));
  put("silence_ratio", Ratio(dead_air_us_, call_time_us_));
  put("dead_air_ms", UsToMs(static_cast<double>(dead_air_us_)));
  put("call_time_ms", UsToMs(static_cast<double>(call_time_us_)));
  put("agent_replies", count(agent_replies_));
  put("barge_in_events", count(barge_in_events_));
  put("false_barge_ins_count", count(false_barge_ins_));
  put("false_barge_ins_rate", Ratio(false_barge_ins_, agent_replies_));
  put("user_utterances", count(user_utterances_));
  put("agent_cut_ins_count", count(agent_cut_ins_));
  put("agent_cut_ins_rate", Ratio(agent_cut_ins_, user_utterances_));
  put("provider_errors_count", count(provider_errors_));
  put("call_errors_count", count(call_errors_));
  put("call_errors_rate", Ratio(call_errors_, calls_));
  put("tool_calls_executed_count", count(tools_executed_));
  put("tool_calls_blocked_count", count(tools_blocked_));
  put("unsafe_tool_executions_count", count(tools_unsafe_));
  put("tool_side_effects", count(tool_side_effects_));
  put("false_interruptions_count", count(false_interruptions_));
  put("preemptive_requests", count(preemptive_requests_));
  put("wasted_llm_requests_count", count(wasted_llm_requests_));
  put("wasted_llm_requests_rate", Ratio(wasted_llm_requests_, user_utterances_));
  put("wasted_llm_tokens_count", count(wasted_llm_tokens_));
  for (int d = 0; d < 2; ++d) {
    const JitterTotals& t = jitter_[d];
    const std::string p = d == 0 ? "uplink_" : "downlink_";
    put(p + "concealed_share", t.output_frames > 0 ? static_cast<double>(t.concealed) /
                                                         static_cast<double>(t.output_frames)
                                                   : kNaN);
    put(p + "fec_recovered", count(t.fec_recovered));
    put(p + "late_dropped", count(t.late_dropped));
    put(p + "buffer_delay_mean_ms",
        t.played > 0 ? static_cast<double>(t.delay_sum_us_frames) / 1000.0 / count(t.played) : kNaN);
    put(p + "buffer_delay_max_ms", static_cast<double>(t.delay_max_us) / 1000.0);
  }
  AddTrendScalars(&m);
  return m;
}

void RunMetrics::AddTrendScalars(std::map<std::string, double>* out) const {
  for (size_t i = 0; i < kTrendNames.size(); ++i) {
    const std::string_view name = kTrendNames[i];
    const Histogram& h = trends_[i];
    (*out)[TrendName(name, ThresholdAggregate::kCount)] = static_cast<double>(h.count());
    if (h.count() == 0) continue;
    for (double q : kStoredPercentiles) {
      (*out)[TrendName(name, ThresholdAggregate::kPercentile, q)] =
          UsToMs(static_cast<double>(h.ValueAtPercentile(q)));
    }
    (*out)[TrendName(name, ThresholdAggregate::kMin)] = UsToMs(static_cast<double>(h.min()));
    (*out)[TrendName(name, ThresholdAggregate::kMax)] = UsToMs(static_cast<double>(h.max()));
    (*out)[TrendName(name, ThresholdAggregate::kAvg)] = UsToMs(h.Mean());
  }
}

void RunMetrics::Store(harness::Store& store, int64_t run_id) const {
  store.SetMetrics(run_id, Scalars());
  for (size_t i = 0; i < kTrendNames.size(); ++i) {
    if (trends_[i].count() == 0) continue;
    store.SetHistogram(run_id, std::string(kTrendNames[i]) + "_us", trends_[i].Serialize());
  }
}

double RunMetrics::Observed(const std::string& metric_name) const {
  ObservedMetric parsed;
  if (ParseObservedMetricName(metric_name, &parsed) && parsed.metric->trend) {
    const Histogram* h = Trend(parsed.metric->name);
    return h ? TrendObserved(*h, parsed) : kNaN;
  }
  const std::map<std::string, double> scalars = Scalars();
  auto it = scalars.find(metric_name);
  return it == scalars.end() ? kNaN : it->second;
}

std::vector<ThresholdResult> RunMetrics::Evaluate(const std::vector<Threshold>& thresholds) const {
  std::vector<ThresholdResult> results;
  results.reserve(thresholds.size());
  for (const Threshold& t : thresholds) {
    ThresholdResult r;
    r.metric = t.metric;
    r.expression = t.expr.text;
    r.observed_metric = ObservedMetricName(t.metric, t.expr);
    r.observed = Observed(r.observed_metric);
    r.passed = ThresholdHolds(t.expr, r.observed);
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<ThresholdResult> EvaluateStoredThresholds(const Store& store, int64_t run_id,
                                                      const std::vector<Threshold>& thresholds) {
  const std::map<std::string, double> metrics = store.LoadMetrics(run_id);
  std::map<std::string, std::optional<Histogram>> histograms;  // loaded once per metric
  auto histogram = [&](const std::string& metric) -> const std::optional<Histogram>& {
    auto [it, inserted] = histograms.try_emplace(metric);
    if (!inserted) return it->second;
    if (std::optional<std::string> data = store.LoadHistogram(run_id, metric + "_us")) {
      Histogram h;
      if (Histogram::Deserialize(*data, &h)) it->second = std::move(h);
    }
    return it->second;
  };
  std::vector<ThresholdResult> results;
  for (const Threshold& t : thresholds) {
    ThresholdResult r;
    r.metric = t.metric;
    r.expression = t.expr.text;
    r.observed_metric = ObservedMetricName(t.metric, t.expr);
    r.observed = kNaN;
    ObservedMetric parsed;
    if (auto it = metrics.find(r.observed_metric); it != metrics.end()) {
      r.observed = it->second;
    } else if (ParseObservedMetricName(r.observed_metric, &parsed) && parsed.metric->trend) {
      if (const std::optional<Histogram>& h = histogram(t.metric)) r.observed = TrendObserved(*h, parsed);
    }
    r.passed = ThresholdHolds(t.expr, r.observed);
    results.push_back(std::move(r));
  }
  return results;
}

void StoreThresholdResults(Store& store, int64_t run_id,
                           const std::vector<ThresholdResult>& results) {
  std::vector<ThresholdRow> rows;
  rows.reserve(results.size());
  for (const ThresholdResult& r : results) {
    ThresholdRow row;
    row.run_id = run_id;
    row.metric = r.metric;
    row.expression = r.expression;
    row.observed_metric = r.observed_metric;
    row.observed = r.observed;
    row.passed = r.passed;
    rows.push_back(std::move(row));
  }
  store.SetThresholds(run_id, rows);
}

std::vector<ThresholdResult> GateRunThresholds(Store& store, int64_t run_id,
                                               const std::vector<Threshold>& thresholds) {
  std::vector<ThresholdResult> results = EvaluateStoredThresholds(store, run_id, thresholds);
  StoreThresholdResults(store, run_id, results);
  return results;
}

bool AllPassed(const std::vector<ThresholdResult>& results) {
  for (const ThresholdResult& r : results) {
    if (!r.passed) return false;
  }
  return true;
}

}  // namespace callsim::harness
