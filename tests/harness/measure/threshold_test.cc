#include "harness/measure/threshold.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

namespace callsim::harness {
namespace {

ThresholdExpr Expr(const std::string& metric, const std::string& text) {
  ThresholdExpr expr;
  std::string error;
  const MetricInfo* info = FindMetric(metric);
  EXPECT_NE(info, nullptr) << metric;
  EXPECT_TRUE(info && ParseThresholdExpr(text, *info, &expr, &error)) << error;
  return expr;
}

TEST(ThresholdTest, ObservedNamesReadBackAsTheMetricAndAggregate) {
  struct Case {
    const char* metric;
    const char* expr;
    const char* name;
    ThresholdAggregate aggregate;
    double percentile;
  };
  const Case cases[] = {
      {"turn_latency", "p(95)<1200", "turn_latency_p95_ms", ThresholdAggregate::kPercentile, 95},
      {"turn_latency", "p(99.9)<3000", "turn_latency_p99.9_ms", ThresholdAggregate::kPercentile, 99.9},
      {"llm_ttft", "med<400", "llm_ttft_p50_ms", ThresholdAggregate::kPercentile, 50},
      {"stt_final", "avg<200", "stt_final_avg_ms", ThresholdAggregate::kAvg, 0},
      {"tts_ttfb", "min>1", "tts_ttfb_min_ms", ThresholdAggregate::kMin, 0},
      {"barge_in_stop", "max<500", "barge_in_stop_max_ms", ThresholdAggregate::kMax, 0},
      {"turn_latency", "count>10", "turn_latency_count", ThresholdAggregate::kCount, 0},
      {"wer", "value<0.08", "wer", ThresholdAggregate::kValue, 0},
      {"heard_wer", "value<0.1", "heard_wer", ThresholdAggregate::kValue, 0},
      {"task_completion", "rate>0.9", "task_completion_rate", ThresholdAggregate::kRate, 0},
      {"dropped_calls", "count==0", "dropped_calls_count", ThresholdAggregate::kCount, 0},
      {"call_errors", "rate<0.01", "call_errors_rate", ThresholdAggregate::kRate, 0},
  };
  for (const Case& c : cases) {
    const std::string name = ObservedMetricName(c.metric, Expr(c.metric, c.expr));
    EXPECT_EQ(name, c.name);
    ObservedMetric parsed;
    ASSERT_TRUE(ParseObservedMetricName(name, &parsed)) << name;
    EXPECT_EQ(parsed.metric, FindMetric(c.metric)) << name;
    EXPECT_EQ(parsed.aggregate, c.aggregate) << name;
    EXPECT_EQ(parsed.percentile, c.percentile) << name;
  }
}

TEST(ThresholdTest, NamesNoThresholdCanProduceAreRejected) {
  ObservedMetric parsed;
  parsed.percentile = -1;
  for (const char* name : {"", "calls_total", "turn_latency", "turn_latency_p-1_ms",
                           "turn_latency_p+5_ms", "turn_latency_p101_ms", "turn_latency_p_ms", "turn_latency_p95",
                           "turn_latency_p 95_ms", "turn_latency_pabc_ms", "wer_rate",
                           "wer_count", "task_completion", "task_completion_count",
                           "turn_latency_rate", "dropped_calls_p95_ms", "turn_latency_avg",
                           "unknown_metric_count"}) {
    EXPECT_FALSE(ParseObservedMetricName(name, &parsed)) << name;
  }
  EXPECT_EQ(parsed.metric, nullptr);  // untouched
  EXPECT_EQ(parsed.percentile, -1);
}

TEST(ThresholdTest, NoDataPassesAsInK6) {
  const ThresholdExpr ne = Expr("dropped_calls", "count!=3");
  EXPECT_TRUE(ThresholdHolds(ne, std::nan("")));
  EXPECT_TRUE(ThresholdHolds(Expr("turn_latency", "p(95)<0"), std::nan("")));
  EXPECT_TRUE(ThresholdHolds(ne, 2));
  EXPECT_FALSE(ThresholdHolds(ne, 3));
}

bool Parses(const std::string& metric, const std::string& text, ThresholdExpr* out = nullptr) {
  ThresholdExpr expr;
  std::string error;
  const bool ok = ParseThresholdExpr(text, *FindMetric(metric), &expr, &error);
  if (ok && out != nullptr) *out = expr;
  if (!ok) {
    EXPECT_FALSE(error.empty()) << text;
  }
  return ok;
}

// k6's own cases (metrics/thresholds_parser_test.go), on metrics that take the aggregate.
TEST(ThresholdTest, AcceptsAndRejectsWhatK6sParserTestsDo) {
  ThresholdExpr e;
  ASSERT_TRUE(Parses("dropped_calls", "count>20", &e));
  EXPECT_EQ(e.aggregate, ThresholdAggregate::kCount);
  EXPECT_EQ(e.op, ThresholdOp::kGt);
  EXPECT_EQ(e.bound, 20);
  EXPECT_FALSE(Parses("dropped_calls", "count!20"));   // unknown operator
  EXPECT_FALSE(Parses("dropped_calls", "foo>20"));     // unknown method
  EXPECT_FALSE(Parses("dropped_calls", "count>abc"));  // non-numerical value
  EXPECT_FALSE(Parses("dropped_calls", "count!bar"));

  for (const char* ok : {"rate<1", "count<1"}) EXPECT_TRUE(Parses("dropped_calls", ok)) << ok;
  EXPECT_TRUE(Parses("wer", "value<1"));
  for (const char* ok : {"avg<1", "min<1", "max<1", "med<1"}) EXPECT_TRUE(Parses("tts_ttfb", ok));
  const std::pair<const char*, double> percentiles[] = {
      {"p(99)<1", 99}, {"p(99.9)<1", 99.9}, {"p(0)<1", 0}, {"p(100)<1", 100}, {"p(0.0)<1", 0}};
  for (const auto& [text, q] : percentiles) {
    ASSERT_TRUE(Parses("turn_latency", text, &e)) << text;
    EXPECT_EQ(e.aggregate, ThresholdAggregate::kPercentile) << text;
    EXPECT_EQ(e.percentile, q) << text;
  }
  // k6 lets a bare "p" through its parser (to find no value for it later); callsim refuses it.
  for (const char* bad : {"foo<1", "p()<1", "p(99<1", "p(foo)<1", "p(-1)<1", "p(101)<1",
                          "p(NaN)<1", "p(+Inf)<1", "p( 95 )<1", "p<1"}) {
    EXPECT_FALSE(Parses("turn_latency", bad)) << bad;
  }
}

TEST(ThresholdTest, ReadsEveryK6OperatorWithWhiteSpaceAroundIt) {
  const std::pair<const char*, ThresholdOp> cases[] = {
      {"avg<=5", ThresholdOp::kLe},   {"avg<5", ThresholdOp::kLt},   {"avg>=5", ThresholdOp::kGe},
      {"avg>5", ThresholdOp::kGt},    {"avg===5", ThresholdOp::kEq}, {"avg==5", ThresholdOp::kEq},
      {"avg!=5", ThresholdOp::kNe},   {"  avg  <=5", ThresholdOp::kLe},
      {"avg<=  5  ", ThresholdOp::kLe}, {"avg\t<\t5", ThresholdOp::kLt},
      {"\tavg === 5\t", ThresholdOp::kEq}, {"avg\u00A0<\u00A05", ThresholdOp::kLt},
  };
  for (const auto& [text, op] : cases) {
    ThresholdExpr e;
    ASSERT_TRUE(Parses("turn_latency", text, &e)) << text;
    EXPECT_EQ(e.op, op) << text;
    EXPECT_EQ(e.bound, 5) << text;
    EXPECT_EQ(e.aggregate, ThresholdAggregate::kAvg) << text;
  }
  // "===" compares like "==": 5 holds, 5.5 does not.
  const ThresholdExpr strict = Expr("turn_latency", "avg===5");
  EXPECT_TRUE(ThresholdHolds(strict, 5));
  EXPECT_FALSE(ThresholdHolds(strict, 5.5));
  // Each operator at its first occurrence, "<=" before "<": these leave junk on one side.
  for (const char* bad : {"avg====5", "avg<", "avg<=", "<5", "avg=<5", "avg<<5", "avg=5"}) {
    EXPECT_FALSE(Parses("turn_latency", bad)) << bad;
  }
  // A sign before the bound, as Go's ParseFloat allows; never an infinite bound.
  EXPECT_TRUE(Parses("turn_latency", "avg>+5"));
  EXPECT_TRUE(Parses("turn_latency", "avg>-5"));
  EXPECT_FALSE(Parses("turn_latency", "avg<inf"));
  EXPECT_FALSE(Parses("turn_latency", "avg<+-5"));
}

TEST(ThresholdTest, PercentileZeroIsTheMinimumUnderOneName) {
  EXPECT_EQ(ObservedMetricName("turn_latency", Expr("turn_latency", "p(0)<5")), "turn_latency_p0_ms");
  EXPECT_EQ(ObservedMetricName("turn_latency", Expr("turn_latency", "p(0.0)<5")),
            "turn_latency_p0_ms");
  ObservedMetric parsed;
  ASSERT_TRUE(ParseObservedMetricName("turn_latency_p0_ms", &parsed));
  EXPECT_EQ(parsed.aggregate, ThresholdAggregate::kPercentile);
  EXPECT_EQ(parsed.percentile, 0);
  const std::string tiny = ObservedMetricName("turn_latency", Expr("turn_latency", "p(0.00001)<5"));
  EXPECT_EQ(tiny, "turn_latency_p1e-05_ms");
  ASSERT_TRUE(ParseObservedMetricName(tiny, &parsed));
  EXPECT_EQ(parsed.percentile, 0.00001);
}

}  // namespace
}  // namespace callsim::harness
