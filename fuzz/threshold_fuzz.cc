// Threshold expressions (k6's grammar) for every metric, and run-metric names read back.
#include <string>

#include "fuzz/fuzz_input.h"
#include "harness/measure/threshold.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::harness;
  const std::string_view text = callsim::fuzz::AsText(data, size);
  for (const MetricInfo& metric : KnownMetrics()) {
    ThresholdExpr expr;
    std::string error;
    if (ParseThresholdExpr(text, metric, &expr, &error)) {
      ThresholdHolds(expr, 0.0);
      // What the store calls the observed value must read back as the same metric.
      ObservedMetric observed;
      if (!ParseObservedMetricName(ObservedMetricName(metric.name, expr), &observed) ||
          observed.metric != &metric) {
        __builtin_trap();
      }
    } else if (error.empty()) {
      __builtin_trap();
    }
  }
  ObservedMetric observed;
  ParseObservedMetricName(text, &observed);
  return 0;
}
