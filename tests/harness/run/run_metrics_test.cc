#include "harness/run/run_metrics.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/measure/percentile.h"
#include "harness/run/call_timeline.h"

namespace callsim::harness {
namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kS = 1000 * kMs;

EventEntry Ev(int64_t t_us, const char* source, const char* kind, const char* detail = "{}") {
  return EventEntry{t_us, source, kind, detail};
}

TurnOutcome UserTurn(int index, const std::string& reference, std::optional<double> latency_ms) {
  TurnOutcome o;
  o.turn_index = index;
  o.has_user = true;
  o.reference_text = reference;
  o.turn_latency_ms = latency_ms;
  return o;
}

CallRecord Call(int id, int64_t started_us, int64_t ended_us,
                CallStatus status = CallStatus::kCompleted,
                bool passed = true) {
  CallRecord r;
  r.call_id = id;
  r.scenario = "s";
  r.started_us = started_us;
  r.ended_us = ended_us;
  r.status = status;
  r.task_completed = passed;
  return r;
}

Threshold Parse(const std::string& metric, const std::string& text) {
  Threshold t;
  t.metric = metric;
  std::string error;
  const MetricInfo* info = FindMetric(metric);
  EXPECT_NE(info, nullptr) << metric;
  EXPECT_TRUE(info && ParseThresholdExpr(text, *info, &t.expr, &error)) << error;
  return t;
}

// The turn rows the runner stores for a call (runner.cc, MakeTurnRows), for checks against the
// turns table.
std::vector<TurnRow> TurnRows(const CallRecord& r) {
  std::vector<TurnRow> rows;
  for (const TurnOutcome& o : r.outcomes) {
    if (!o.has_user) continue;
    TurnRow t;
    t.turn_index = o.turn_index;
    t.reference_text = o.reference_text;
    t.turn_latency_ms = o.turn_latency_ms;
    rows.push_back(t);
  }
  return rows;
}

class TempStore {
 public:
  TempStore() {
    char tmpl[] = "/tmp/callsim_run_metrics_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string error;
    store_ = Store::Open(dir_ + "/runs.db", &error);
    EXPECT_NE(store_, nullptr) << error;
  }
  ~TempStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

// 2,000 answered turns over 100 calls with latencies spread from 0.4 ms to ~40 s (whole
// microseconds, as the simulation measures them), plus unanswered turns that must not count.
std::vector<CallRecord> LatencyCalls() {
  std::vector<CallRecord> calls;
  uint64_t x = 12345;
  for (int c = 0; c < 100; ++c) {
    CallRecord r = Call(c, c * kS, c * kS + 30 * kS);
    for (int t = 0; t < 21; ++t) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const int64_t us = 400 + static_cast<int64_t>((x >> 33) % 40'000'000);
      r.outcomes.push_back(UserTurn(t, "", t == 20 ? std::nullopt : std::optional<double>(us / 1000.0)));
    }
    r.hypotheses.assign(r.outcomes.size(), "");
    calls.push_back(std::move(r));
  }
  return calls;
}

TEST(RunMetricsTest, TurnLatencyPercentilesMatchTheExactOnesWithinATenthOfAPercent) {
  RunMetrics m;
  std::vector<double> exact;
  for (const CallRecord& r : LatencyCalls()) {
    m.AddCall(r);
    for (const TurnOutcome& o : r.outcomes) {
      if (o.turn_latency_ms) exact.push_back(*o.turn_latency_ms);
    }
  }
  ASSERT_EQ(exact.size(), 2000u);
  EXPECT_EQ(m.Observed("turn_latency_count"), 2000);
  for (double q : {50.0, 90.0, 95.0, 99.0, 99.9, 97.5, 1.0}) {
    const double want = NearestRankPercentile(exact, q);
    char name[48];
    std::snprintf(name, sizeof name, "turn_latency_p%g_ms", q);
    EXPECT_NEAR(m.Observed(name), want, want * 0.001) << name;
  }
  EXPECT_EQ(m.Observed("turn_latency_max_ms"), NearestRankPercentile(exact, 100));
  EXPECT_EQ(m.Observed("turn_latency_min_ms"), NearestRankPercentile(exact, 0));
  double sum = 0;
  for (double v : exact) sum += v;
  EXPECT_NEAR(m.Observed("turn_latency_avg_ms"), sum / exact.size(), 1e-9 * sum);
  EXPECT_NEAR(m.RunningP95TurnLatencyMs(), NearestRankPercentile(exact, 95),
              NearestRankPercentile(exact, 95) * 0.001);
}

TEST(RunMetricsTest, StoredPercentilesAgreeWithTheStoredTurnsTable) {
  TempStore store;
  RunInfo info;
  info.scenario = "s";
  const int64_t run_id = store->BeginRun(info);
  RunMetrics m;
  for (const CallRecord& r : LatencyCalls()) {
    m.AddCall(r);
    CallRow row;
    row.run_id = run_id;
    row.call_id = r.call_id;
    row.scenario = r.scenario;
    store->AddCall(row, TurnRows(r), {}, {});
  }
  m.Store(*store, run_id);
  store->FinishRun(run_id, "completed", "h", 0);

  std::vector<double> stored_latencies;
  for (const TurnRow& t : store->LoadTurns(run_id)) {
    if (t.turn_latency_ms) stored_latencies.push_back(*t.turn_latency_ms);
  }
  ASSERT_EQ(stored_latencies.size(), 2000u);
  const std::map<std::string, double> metrics = store->LoadMetrics(run_id);
  for (auto [name, q] : std::vector<std::pair<std::string, double>>{
           {"turn_latency_p50_ms", 50}, {"turn_latency_p90_ms", 90}, {"turn_latency_p95_ms", 95},
           {"turn_latency_p99_ms", 99}, {"turn_latency_p99.9_ms", 99.9},
           {"turn_latency_max_ms", 100}, {"turn_latency_min_ms", 0}}) {
    ASSERT_TRUE(metrics.count(name)) << name;
    const double exact = NearestRankPercentile(stored_latencies, q);
    EXPECT_NEAR(metrics.at(name), exact, exact * 0.001) << name;
  }
  EXPECT_EQ(metrics.at("turn_latency_count"), 2000);
  // The stored histogram is the same one, and merges without loss.
  std::optional<std::string> data = store->LoadHistogram(run_id, "turn_latency_us");
  ASSERT_TRUE(data);
  Histogram h;
  ASSERT_TRUE(Histogram::Deserialize(*data, &h));
  EXPECT_TRUE(h == *m.Trend("turn_latency"));
  // Empty trends store their count only: no percentile rows, no histogram.
  EXPECT_EQ(metrics.at("barge_in_stop_count"), 0);
  EXPECT_FALSE(metrics.count("barge_in_stop_p50_ms"));
  EXPECT_FALSE(store->LoadHistogram(run_id, "barge_in_stop_us"));
}

TEST(RunMetricsTest, WerIsTheCorpusSumNotTheMeanOfTurnRates) {
  CallRecord a = Call(0, 0, 10 * kS);
  a.outcomes = {UserTurn(0, "check my order status", 500.0)};
  a.hypotheses = {"check my older status"};  // S=1, N=4
  CallRecord b = Call(1, 0, 10 * kS);
  TurnOutcome greeting;  // no user words: not scored
  greeting.turn_index = 0;
  b.outcomes = {greeting, UserTurn(1, "hi", 400.0)};
  b.hypotheses = {"", "hello there"};  // S=1 I=1, N=1
  RunMetrics m;
  m.AddCall(a);
  m.AddCall(b);
  EXPECT_DOUBLE_EQ(m.Observed("wer"), 3.0 / 5.0);  // the mean of per-turn rates would be 1.125
  EXPECT_EQ(m.Observed("ref_words"), 5);
  EXPECT_TRUE(std::isnan(m.Observed("heard_wer")));  // no reply was heard
}

// One call: the greeting, then an answer the caller hears with one word wrong, then an answer
// the caller interrupts (left out of heard WER).
CallRecord HeardCall() {
  CallRecord r = Call(0, 0, 20 * kS);
  r.events = {
      Ev(0, "call", "start"),
      Ev(100 * kMs, "agent", "sentence", R"({"text":"Hello, how can I help?"})"),
      Ev(300 * kMs, "agent", "speech_start", R"({"kind":"greeting"})"),
      Ev(2 * kS, "agent", "speech_end", R"({"kind":"greeting","interrupted":false})"),
      Ev(3 * kS, "caller", "utterance_start"),
      Ev(5 * kS, "caller", "utterance_end"),
      Ev(6 * kS, "agent", "sentence", R"({"text":"Your order has shipped."})"),
      Ev(6200 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(6900 * kMs, "agent", "sentence", R"({"text":"Have a nice day."})"),
      Ev(9 * kS, "agent", "speech_end", R"({"kind":"answer","interrupted":false})"),
      Ev(10 * kS, "caller", "utterance_start"),
      Ev(12 * kS, "caller", "utterance_end"),
      Ev(13 * kS, "agent", "sentence", R"({"text":"It will arrive on monday."})"),
      Ev(13 * kS, "agent", "sentence", R"({"text":"Anything else?"})"),
      Ev(13100 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(14 * kS, "caller", "utterance_start"),
      Ev(14500 * kMs, "agent", "barge_in"),
      Ev(14500 * kMs, "agent", "speech_end", R"({"kind":"answer","interrupted":true})"),
      Ev(14500 * kMs, "agent", "reply_cancelled", R"({"reason":"barge_in"})"),
      Ev(15 * kS, "caller", "utterance_end"),
  };
  TurnOutcome greeting;
  greeting.turn_index = 0;
  greeting.reply_onset_us = 380 * kMs;
  greeting.heard_text = "hello how can i help";
  TurnOutcome order = UserTurn(1, "where is my order", 1280.0);
  order.reply_onset_us = 6280 * kMs;
  order.heard_text = "your order has shipped have a nice bay";
  TurnOutcome day = UserTurn(2, "when will it arrive", 1180.0);
  day.reply_onset_us = 13180 * kMs;
  day.heard_text = "it will arrive";
  TurnOutcome barge = UserTurn(3, "thanks bye", std::nullopt);
  barge.barge_in = true;
  barge.barge_in_stop_ms = 560.0;
  r.outcomes = {greeting, order, day, barge};
  r.hypotheses = {"", "where is my order", "when will it arrive", "thanks bye"};
  return r;
}

TEST(RunMetricsTest, HeardWerPairsEachOnsetWithTheReplyPlayingAndSkipsInterruptedOnes) {
  RunMetrics m;
  m.AddCall(HeardCall());
  // Greeting: 5 words, all heard. Answer: 8 words, "day" heard as "bay". The interrupted reply is
  // left out.
  EXPECT_EQ(m.Observed("heard_replies"), 2);
  EXPECT_EQ(m.Observed("heard_ref_words"), 13);
  EXPECT_DOUBLE_EQ(m.Observed("heard_wer"), 1.0 / 13.0);
  EXPECT_EQ(m.Observed("agent_replies"), 3);
  EXPECT_EQ(m.Observed("barge_in_stop_count"), 1);
  EXPECT_DOUBLE_EQ(m.Observed("barge_in_stop_max_ms"), 560.0);
  EXPECT_EQ(m.Observed("false_barge_ins_count"), 0);  // the caller was speaking
  EXPECT_EQ(m.Observed("agent_cut_ins_count"), 0);
}

TEST(RunMetricsTest, ReplyTextsCollectSentencesBeforeAndAfterTheAudioStarts) {
  const CallRecord r = HeardCall();
  const CallTimeline t = BuildCallTimeline(r.events, r.started_us, r.ended_us);
  ASSERT_EQ(t.replies.size(), 3u);
  EXPECT_EQ(t.replies[1].text, "Your order has shipped. Have a nice day.");
  EXPECT_FALSE(t.replies[1].interrupted);
  EXPECT_EQ(t.replies[2].text, "It will arrive on monday. Anything else?");
  EXPECT_TRUE(t.replies[2].interrupted);
  ASSERT_EQ(t.caller_speech.size(), 3u);
  EXPECT_EQ(t.caller_speech[2].start_us, 14 * kS);
  EXPECT_EQ(t.caller_speech[2].end_us, 15 * kS);
  EXPECT_EQ(FindHeardReply(t, 6280 * kMs), 1);
  EXPECT_EQ(FindHeardReply(t, 200 * kMs), -1);       // before any reply
  EXPECT_EQ(FindHeardReply(t, 10500 * kMs), -1);     // long after the answer ended
}

TEST(RunMetricsTest, FalseBargeInsAreThoseWithNoCallerSpeechBehindThem) {
  CallRecord r = Call(0, 0, 20 * kS);
  r.events = {
      Ev(1 * kS, "agent", "speech_start", R"({"kind":"greeting"})"),
      Ev(4900 * kMs, "agent", "barge_in"),  // before the caller spoke: false
      Ev(4900 * kMs, "agent", "speech_end", R"({"interrupted":true})"),
      Ev(5 * kS, "caller", "utterance_start"),
      Ev(5100 * kMs, "agent", "speech_start", R"({"kind":"apology"})"),
      Ev(5300 * kMs, "agent", "barge_in"),  // 300 ms into the caller's speech: genuine
      Ev(5300 * kMs, "agent", "speech_end", R"({"interrupted":true})"),
      Ev(6 * kS, "caller", "utterance_end"),
      Ev(6500 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(6800 * kMs, "agent", "barge_in"),  // 0.8 s after the caller stopped: detection lag
      Ev(6800 * kMs, "agent", "speech_end", R"({"interrupted":true})"),
      Ev(8 * kS, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(9 * kS, "agent", "barge_in"),  // 3 s after the caller stopped: noise or echo
      Ev(9 * kS, "agent", "speech_end", R"({"interrupted":true})"),
  };
  RunMetrics m;
  m.AddCall(r);
  EXPECT_EQ(m.Observed("barge_in_events"), 4);
  EXPECT_EQ(m.Observed("false_barge_ins_count"), 2);
  EXPECT_EQ(m.Observed("agent_replies"), 4);
  EXPECT_DOUBLE_EQ(m.Observed("false_barge_ins_rate"), 2.0 / 4.0);
}

TEST(RunMetricsTest, AgentCutInsCountUtterancesAnAnswerStartedInside) {
  CallRecord r = Call(0, 0, 20 * kS);
  r.events = {
      Ev(1 * kS, "caller", "utterance_start"),
      Ev(2 * kS, "agent", "speech_start", R"({"kind":"answer"})"),  // inside: a cut-in
      Ev(2500 * kMs, "agent", "speech_end", R"({"interrupted":true})"),
      Ev(2600 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),  // same utterance: once
      Ev(2700 * kMs, "agent", "speech_end", R"({"interrupted":true})"),
      Ev(3 * kS, "caller", "utterance_end"),
      Ev(5 * kS, "caller", "utterance_start"),
      Ev(5500 * kMs, "agent", "speech_start", R"({"kind":"greeting"})"),  // not an answer
      Ev(5600 * kMs, "agent", "speech_end", R"({"interrupted":false})"),
      Ev(8 * kS, "caller", "utterance_end"),
      Ev(8 * kS, "agent", "speech_start", R"({"kind":"answer"})"),  // at the end: not inside
      Ev(9 * kS, "agent", "speech_end", R"({"interrupted":false})"),
      Ev(11 * kS, "caller", "utterance_start"),
      Ev(12 * kS, "caller", "utterance_end"),
  };
  RunMetrics m;
  m.AddCall(r);
  EXPECT_EQ(m.Observed("user_utterances"), 3);
  EXPECT_EQ(m.Observed("agent_cut_ins_count"), 1);
  EXPECT_DOUBLE_EQ(m.Observed("agent_cut_ins_rate"), 1.0 / 3.0);
}

TEST(RunMetricsTest, WastedPreemptiveRequestsSumOverCallsPerCallerUtterance) {
  auto call = [](int id, int64_t preemptive, int64_t wasted, int64_t tokens) {
    CallRecord r = Call(id, 0, 20 * kS);
    r.events = {Ev(1 * kS, "caller", "utterance_start"), Ev(2 * kS, "caller", "utterance_end"),
                Ev(5 * kS, "caller", "utterance_start"), Ev(6 * kS, "caller", "utterance_end")};
    r.usage.preemptive_requests = preemptive;
    r.usage.wasted_llm_requests = wasted;
    r.usage.wasted_llm_tokens = tokens;
    return r;
  };
  RunMetrics a;
  a.AddCall(call(0, 2, 1, 12));
  a.AddCall(call(1, 3, 0, 0));
  RunMetrics b;
  b.AddCall(call(2, 2, 2, 30));
  a.Merge(b);  // as workers' and shards' metrics are combined
  EXPECT_EQ(a.Observed("user_utterances"), 6);
  EXPECT_EQ(a.Observed("preemptive_requests"), 7);
  EXPECT_EQ(a.Observed("wasted_llm_requests_count"), 3);
  EXPECT_DOUBLE_EQ(a.Observed("wasted_llm_requests_rate"), 0.5);
  EXPECT_EQ(a.Observed("wasted_llm_tokens_count"), 42);
}

TEST(RunMetricsTest, SilenceRatioSumsDeadAirOverTwoSecondsAcrossCalls) {
  // Call A, 0-20 s: caller 1-3, agent 3.5-6 (gap 0.5 s), caller 9-10 (gap 3 s), agent 10.5-12,
  // then nothing until 20 (8 s). The first second is a pause, not dead air. Dead air: 11 s.
  CallRecord a = Call(0, 0, 20 * kS);
  a.events = {
      Ev(1 * kS, "caller", "utterance_start"),
      Ev(3 * kS, "caller", "utterance_end"),
      Ev(3500 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(6 * kS, "agent", "speech_end", R"({"interrupted":false})"),
      Ev(9 * kS, "caller", "utterance_start"),
      Ev(10 * kS, "caller", "utterance_end"),
      Ev(10500 * kMs, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(12 * kS, "agent", "speech_end", R"({"interrupted":false})"),
  };
  // Call B, 100-110 s: overlapping speech covers it all; an agent reply never ended runs to the
  // call's end.
  CallRecord b = Call(1, 100 * kS, 110 * kS);
  b.events = {
      Ev(100 * kS, "caller", "utterance_start"),
      Ev(104 * kS, "agent", "speech_start", R"({"kind":"answer"})"),
      Ev(105 * kS, "caller", "utterance_end"),
  };
  RunMetrics m;
  m.AddCall(a);
  m.AddCall(b);
  EXPECT_EQ(m.Observed("dead_air_ms"), 11000);
  EXPECT_EQ(m.Observed("call_time_ms"), 30000);
  EXPECT_DOUBLE_EQ(m.Observed("silence_ratio"), 11.0 / 30.0);
}

TEST(RunMetricsTest, DroppedCallsTaskCompletionAndErrors) {
  RunMetrics m;
  m.AddCall(Call(0, 0, kS, CallStatus::kCompleted, true));
  m.AddCall(Call(1, 0, kS, CallStatus::kFailed, false));
  CallRecord errored = Call(2, 0, kS, CallStatus::kCompleted, true);
  errored.events = {Ev(500 * kMs, "agent", "provider_error", R"({"stage":"llm","error":"busy"})")};
  m.AddCall(errored);
  m.AddCall(Call(3, 0, kS, CallStatus::kDropped, false));
  EXPECT_EQ(m.calls(), 4);
  EXPECT_EQ(m.calls_passed(), 2);
  EXPECT_EQ(m.Observed("dropped_calls_count"), 1);
  EXPECT_DOUBLE_EQ(m.Observed("dropped_calls_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.Observed("task_completion_rate"), 0.5);
  EXPECT_EQ(m.Observed("provider_errors_count"), 1);
  EXPECT_EQ(m.Observed("call_errors_count"), 2);  // the dropped call and the one with an error
  EXPECT_DOUBLE_EQ(m.Observed("call_errors_rate"), 0.5);
}

TEST(RunMetricsTest, ComponentSpansComeFromTheAgentsTurnSpansEvents) {
  CallRecord r = Call(0, 0, 10 * kS);
  r.events = {
      Ev(1 * kS, "agent", "turn_spans",
         R"({"endpointing_ms":300,"stt_final_ms":120.5,"llm_ttft_ms":null,"first_sentence_ms":410,"tts_ttfb_ms":95,"response_ms":900})"),
      Ev(5 * kS, "agent", "turn_spans",
         R"({"endpointing_ms":500,"stt_final_ms":80,"llm_ttft_ms":350,"first_sentence_ms":600,"tts_ttfb_ms":105})"),
  };
  RunMetrics m;
  m.AddCall(r);
  EXPECT_EQ(m.Observed("endpointing_count"), 2);
  EXPECT_DOUBLE_EQ(m.Observed("endpointing_avg_ms"), 400);
  EXPECT_DOUBLE_EQ(m.Observed("stt_final_max_ms"), 120.5);
  EXPECT_EQ(m.Observed("llm_ttft_count"), 1);  // null is no sample
  EXPECT_DOUBLE_EQ(m.Observed("llm_ttft_p50_ms"), 350);
  EXPECT_DOUBLE_EQ(m.Observed("first_sentence_min_ms"), 410);
  EXPECT_DOUBLE_EQ(m.Observed("tts_ttfb_p99_ms"), 105);
}

TEST(RunMetricsTest, EvaluatesEveryAggregateAndFailsWithoutData) {
  RunMetrics m;
  for (const CallRecord& r : LatencyCalls()) m.AddCall(r);
  const double p999 = m.Observed("turn_latency_p99.9_ms");
  const double avg = m.Observed("turn_latency_avg_ms");
  const std::vector<Threshold> thresholds = {
      Parse("turn_latency", "p(99.9)<" + std::to_string(p999 + 1)),
      Parse("turn_latency", "p(99.9)<" + std::to_string(p999 - 1)),
      Parse("turn_latency", "avg<=" + std::to_string(avg)),
      Parse("turn_latency", "med>0"),
      Parse("turn_latency", "count==2000"),
      Parse("task_completion", "rate>0.99"),
      Parse("dropped_calls", "count==0"),
      Parse("wer", "value<0.5"),
      Parse("heard_wer", "value<0.5"),   // no replies heard: NaN passes, as in k6
      Parse("barge_in_stop", "p(95)<0"),  // no samples: passes although no value is below 0
  };
  const std::vector<ThresholdResult> r = m.Evaluate(thresholds);
  ASSERT_EQ(r.size(), thresholds.size());
  EXPECT_TRUE(r[0].passed);
  EXPECT_EQ(r[0].observed_metric, "turn_latency_p99.9_ms");
  EXPECT_EQ(r[0].observed, p999);
  EXPECT_EQ(r[0].expression, thresholds[0].expr.text);
  EXPECT_FALSE(r[1].passed);
  EXPECT_TRUE(r[2].passed);
  EXPECT_EQ(r[2].observed_metric, "turn_latency_avg_ms");
  EXPECT_TRUE(r[3].passed);
  EXPECT_EQ(r[3].observed_metric, "turn_latency_p50_ms");
  EXPECT_TRUE(r[4].passed);
  EXPECT_TRUE(r[5].passed);
  EXPECT_EQ(r[5].observed_metric, "task_completion_rate");
  EXPECT_EQ(r[5].observed, 1.0);
  EXPECT_TRUE(r[6].passed);
  EXPECT_EQ(r[6].observed_metric, "dropped_calls_count");
  EXPECT_TRUE(r[7].passed);  // every hypothesis empty against empty references: 0
  EXPECT_TRUE(r[8].passed);
  EXPECT_TRUE(std::isnan(r[8].observed));
  EXPECT_TRUE(r[9].passed);
  EXPECT_TRUE(std::isnan(r[9].observed));
  EXPECT_FALSE(AllPassed(r));  // r[1]
}

TEST(RunMetricsTest, StoredEvaluationMatchesTheLiveOneAndIsRecorded) {
  TempStore store;
  RunInfo info;
  info.scenario = "s";
  const int64_t run_id = store->BeginRun(info);
  RunMetrics m;
  for (const CallRecord& r : LatencyCalls()) m.AddCall(r);
  m.AddCall(HeardCall());
  m.Store(*store, run_id);
  const std::vector<Threshold> thresholds = {
      Parse("turn_latency", "p(95)<30000"),
      Parse("turn_latency", "p(97.3)<30000"),  // not stored: read from the stored histogram
      Parse("turn_latency", "min>0"),
      Parse("heard_wer", "value<0.1"),
      Parse("false_barge_ins", "rate<0.1"),
      Parse("silence_ratio", "value<0.5"),
      Parse("agent_cut_ins", "count==0"),
      Parse("barge_in_stop", "max<500"),
  };
  const std::vector<ThresholdResult> live = m.Evaluate(thresholds);
  const std::vector<ThresholdResult> stored = GateRunThresholds(*store, run_id, thresholds);
  ASSERT_EQ(live.size(), stored.size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(stored[i].observed_metric, live[i].observed_metric) << i;
    EXPECT_EQ(stored[i].observed, live[i].observed) << live[i].observed_metric;
    EXPECT_EQ(stored[i].passed, live[i].passed) << live[i].observed_metric;
  }
  EXPECT_FALSE(live.back().passed);  // 560 ms
  const std::vector<ThresholdRow> rows = store->LoadThresholds(run_id);
  ASSERT_EQ(rows.size(), thresholds.size());
  EXPECT_EQ(rows[1].metric, "turn_latency");
  EXPECT_EQ(rows[1].expression, "p(97.3)<30000");
  EXPECT_EQ(rows[1].observed_metric, "turn_latency_p97.3_ms");
  EXPECT_EQ(rows[1].observed, live[1].observed);
  EXPECT_EQ(rows[7].passed, false);
}

// A turn outcome whose turn has no hypothesis would be scored against nothing (a WER of 1 that
// the agent never earned): the run stops instead.
TEST(RunMetricsDeathTest, ATurnWithoutItsHypothesisStops) {
  CallRecord r = Call(0, 0, kS);
  r.outcomes = {UserTurn(0, "hello", 300.0), UserTurn(1, "check my order", 400.0)};
  r.hypotheses = {"hello"};  // turn 1 missing
  RunMetrics m;
  EXPECT_DEATH(m.AddCall(r), "check failed: turn_index >= 0");
  EXPECT_EQ(TurnHypothesis(r, 0), "hello");
}

}  // namespace
}  // namespace callsim::harness
