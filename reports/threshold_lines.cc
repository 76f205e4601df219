#include "reports/threshold_lines.h"

#include <cmath>
#include <cstdio>

#include "harness/measure/threshold.h"

namespace callsim::reports {

std::string FormatObserved(const std::string& observed_metric, double observed) {
  if (std::isnan(observed)) return "no data";
  harness::ObservedMetric parsed;
  const bool known = harness::ParseObservedMetricName(observed_metric, &parsed);
  char buf[64];
  if (known && parsed.aggregate == harness::ThresholdAggregate::kCount) {
    std::snprintf(buf, sizeof buf, "%.0f", observed);
  } else if (known && parsed.metric->trend) {
    std::snprintf(buf, sizeof buf, "%.1f", observed);  // milliseconds
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", observed);
  }
  return buf;
}

std::string ThresholdLine(const harness::ThresholdRow& row) {
  return std::string(row.passed ? "\u2713 " : "\u2717 ") + row.metric + " " + row.expression +
         "  observed " + FormatObserved(row.observed_metric, row.observed);
}

}  // namespace callsim::reports
