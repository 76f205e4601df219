#include "harness/measure/threshold.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

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
  for (const char* name : {"", "calls_total", "turn_latency", "turn_latency_p0_ms",
                           "turn_latency_p101_ms", "turn_latency_p_ms", "turn_latency_p95",
                           "turn_latency_p 95_ms", "turn_latency_pabc_ms", "wer_rate",
                           "wer_count", "task_completion", "task_completion_count",
                           "turn_latency_rate", "dropped_calls_p95_ms", "turn_latency_avg",
                           "unknown_metric_count"}) {
    EXPECT_FALSE(ParseObservedMetricName(name, &parsed)) << name;
  }
  EXPECT_EQ(parsed.metric, nullptr);  // untouched
  EXPECT_EQ(parsed.percentile, -1);
}

TEST(ThresholdTest, NoDataNeverPasses) {
  const ThresholdExpr ne = Expr("dropped_calls", "count!=3");
  EXPECT_FALSE(ThresholdHolds(ne, std::nan("")));
  EXPECT_TRUE(ThresholdHolds(ne, 2));
}

}  // namespace
}  // namespace callsim::harness
