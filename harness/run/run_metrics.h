// A run's aggregates, built call by call as calls end, in bounded memory (HDR histograms and
// counters, never per-turn vectors, so 100k calls cost the same as 10), then stored, and checked
// against thresholds. The definitions below are the contract of what callsim measures (README,
// "What it measures"); the metrics-table names follow ObservedMetricName (threshold.h).
//
// Trend metrics (histograms in microseconds; stored as <m>_p50_ms, _p90_ms, _p95_ms, _p99_ms,
// _p99.9_ms, _max_ms, _min_ms, _avg_ms and _count, plus the histogram <m>_us; any p(N) is
// answered from the histogram, within 0.1% of the exact nearest-rank value; min and max exact):
//   turn_latency    per user turn the agent answered: TurnOutcome::turn_latency_ms (at the ear).
//   barge_in_stop   per barge-in turn whose stop was observed: TurnOutcome::barge_in_stop_ms.
//   endpointing, stt_final, llm_ttft, first_sentence, tts_ttfb
//                   the agent's "turn_spans" event fields <m>_ms, one per answer (null: skipped).
// Values (stored under the metric's own name):
//   wer             corpus WER: sum(S+D+I) / sum(N) over user turns, reference = the caller's
//                   words, hypothesis = the agent's final transcript for the turn (as the turns
//                   table scores them).
//   heard_wer       corpus WER of what the agent meant against what the caller heard. For each
//                   scenario turn with a reply onset at the ear, the reply heard is the agent
//                   reply (speech_start..speech_end) with the latest start at or before the onset
//                   (FindHeardReply, call_timeline.h); reference = that reply's "sentence" texts,
//                   hypothesis = TurnOutcome::heard_text. Replies that were interrupted (barge-in,
//                   cancelled, call ended) are left out, and a reply is paired with one turn only.
//   silence_ratio   total dead air / total call time, summed over calls; dead air = stretches
//                   longer than 2 s in which neither the caller (utterance_start..utterance_end)
//                   nor the agent (speech_start..speech_end) spoke (DeadAirUs).
// Rates and counts:
//   task_completion_rate    calls whose expectations all held / calls.
//   dropped_calls_count, _rate   calls with status "dropped" (and / calls): refused or lost by
//                   the system under load, or cut by the run's duration or time limit.
//   aborted_calls_count          calls with status "aborted": in progress when the run was
//                   aborted (not dropped: the system did not fail them). They count in calls_total.
//   false_barge_ins_count, _rate  agent "barge_in" events with no caller speech behind them
//                   (CountFalseBargeIns) / agent replies that began playing.
//   agent_cut_ins_count, _rate    caller utterances an answer began inside (CountAgentCutIns) /
//                   caller utterances (user turns spoken).
//   calls_total, calls_passed, calls_dropped (= dropped_calls_count), calls_aborted
//   (= aborted_calls_count), ref_words, heard_ref_words,
//   heard_replies, agent_replies, barge_in_events, user_utterances, dead_air_ms, call_time_ms,
//   provider_errors_count (agent "provider_error" events), call_errors_count, _rate (calls that
//   were dropped or had at least one provider error, / calls).
// A metric with no data (a rate over zero, a trend with no samples) is NaN: it is left out of the
// metrics table (except <m>_count, which is 0), and every threshold on it passes, as in k6 (the
// summary prints "no data" beside it).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/measure/histogram.h"
#include "harness/measure/threshold.h"
#include "harness/measure/wer.h"
#include "harness/run/sim_call.h"
#include "harness/scenario/scenario.h"
#include "harness/store/store.h"

namespace callsim::harness {

struct ThresholdResult {
  std::string metric;           // "turn_latency"
  std::string expression;       // "p(95)<1200"
  double observed = 0;          // NaN when there was no data
  bool passed = false;
  std::string observed_metric;  // "turn_latency_p95_ms"
};

class RunMetrics {
 public:
  // The trend metrics, in storage order.
  static constexpr std::array<std::string_view, 7> kTrendNames = {
      "turn_latency", "barge_in_stop",  "endpointing", "stt_final",
      "llm_ttft",     "first_sentence", "tts_ttfb"};
  // Dead air shorter than or equal to this is a pause, not silence.
  static constexpr int64_t kDeadAirMinUs = 2'000'000;

  // Folds in one finished call; the record is not kept.
  void AddCall(const CallRecord& record);

  // The turn-latency p95 so far, for progress lines; NaN before any answered turn.
  double RunningP95TurnLatencyMs() const;

  // Writes every aggregate into the metrics table (one transaction) and every non-empty trend
  // histogram into histograms as "<m>_us". Throws StoreError.
  void Store(harness::Store& store, int64_t run_id) const;

  // One result per threshold, in order: observed = Observed(ObservedMetricName(metric, expr)).
  std::vector<ThresholdResult> Evaluate(const std::vector<Threshold>& thresholds) const;

  // The value of a metrics-table name: anything Scalars() holds, and for trend metrics any
  // <m>_p<N>_ms, _avg_ms, _min_ms, _max_ms or _count from the histogram. NaN when unknown or
  // without data.
  double Observed(const std::string& metric_name) const;

  // Every non-histogram metric Store writes, by name (NaN ones left out; see the header).
  std::map<std::string, double> Scalars() const;
  // The histogram of a trend metric (microseconds), or nullptr for another name.
  const Histogram* Trend(std::string_view metric) const;

  int64_t calls() const { return calls_; }
  int64_t calls_passed() const { return passed_; }

  // Folds in another run's (a shard's, a worker's) aggregates: the result is what one RunMetrics
  // that saw both runs' calls holds, bit for bit (every sum is over integers; histograms add).
  void Merge(const RunMetrics& other);
  // Everything but the histograms, as a JSON object of integers (the run's merge state), and back:
  // FromState takes the counters and the stored histograms ("<m>_us" by trend name, missing =
  // empty). False with *error naming the field when the state is malformed.
  nlohmann::json CountersJson() const;
  static bool FromState(const nlohmann::json& counters,
                        const std::map<std::string, Histogram>& histograms, RunMetrics* out,
                        std::string* error);

 private:
  // Positions in kTrendNames and trends_.
  enum Trend { kTurnLatency, kBargeInStop, kEndpointing, kSttFinal, kLlmTtft, kFirstSentence,
               kTtsTtfb };

  // Calls fn(name, counter&) for every counter CountersJson holds (run_metrics.cc).
  template <typename Self, typename Fn>
  static void ForEachCounter(Self& m, Fn&& fn);

  void AddTurns(const CallRecord& record);
  void AddTimeline(const CallRecord& record);
  void AddTrendScalars(std::map<std::string, double>* out) const;

  std::array<Histogram, kTrendNames.size()> trends_;
  int64_t calls_ = 0;
  int64_t passed_ = 0;
  int64_t dropped_ = 0;
  int64_t aborted_ = 0;
  int64_t call_errors_ = 0;
  // NetEq-style jitter buffer statistics, summed over calls, per direction (0: uplink, as the
  // agent received it; 1: downlink, as the caller received it).
  // Integers, so that sums do not depend on the order calls are folded in (shards, workers);
  // the delay sum is in microsecond-frames, the maximum in microseconds.
  struct JitterTotals {
    int64_t output_frames = 0;
    int64_t concealed = 0;
    int64_t fec_recovered = 0;
    int64_t late_dropped = 0;
    int64_t played = 0;
    int64_t delay_sum_us_frames = 0;  // mean delay x frames played, per call
    int64_t delay_max_us = 0;
  };
  JitterTotals jitter_[2];
  int64_t tools_executed_ = 0;
  int64_t tools_blocked_ = 0;
  int64_t tools_unsafe_ = 0;
  int64_t tool_side_effects_ = 0;
  int64_t false_interruptions_ = 0;
  // Preemptive generation (the agent's usage): requests started early, and those thrown away.
  int64_t preemptive_requests_ = 0;
  int64_t wasted_llm_requests_ = 0;
  int64_t wasted_llm_tokens_ = 0;
  int64_t provider_errors_ = 0;
  WerCounts wer_;
  int64_t wer_turns_ = 0;
  WerCounts heard_wer_;
  int64_t heard_replies_ = 0;
  int64_t agent_replies_ = 0;
  int64_t barge_in_events_ = 0;
  int64_t false_barge_ins_ = 0;
  int64_t user_utterances_ = 0;
  int64_t agent_cut_ins_ = 0;
  int64_t dead_air_us_ = 0;
  int64_t call_time_us_ = 0;
};

// Checks `thresholds` against a stored run: each observed value is read from the run's metrics
// table, and a percentile that was not stored is computed from the stored histogram "<m>_us".
// Gives the same results as RunMetrics::Evaluate on the metrics that were stored. Throws
// StoreError.
std::vector<ThresholdResult> EvaluateStoredThresholds(const Store& store, int64_t run_id,
                                                      const std::vector<Threshold>& thresholds);

// Writes `results` as the run's rows of the thresholds table (replacing earlier ones).
void StoreThresholdResults(Store& store, int64_t run_id,
                           const std::vector<ThresholdResult>& results);

// EvaluateStoredThresholds, then StoreThresholdResults; returns the results. What the CLI calls
// after a run.
std::vector<ThresholdResult> GateRunThresholds(Store& store, int64_t run_id,
                                               const std::vector<Threshold>& thresholds);

// True when every result passed (also when there are none).
bool AllPassed(const std::vector<ThresholdResult>& results);

}  // namespace callsim::harness
