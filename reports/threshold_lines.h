// How threshold verdicts read in reports: one line per threshold, with the value observed in the
// unit of the metric it was read from (milliseconds with one decimal, counts whole, rates and
// values to four significant digits), so a failed gate says at a glance by how much it missed.
#pragma once

#include <string>

#include "harness/store/rows.h"

namespace callsim::reports {

// "1143.2" for turn_latency_p95_ms, "3" for dropped_calls_count, "0.0712" for wer, "no data" for
// NaN (a metric the run had no samples for; such a threshold passes, as in k6).
std::string FormatObserved(const std::string& observed_metric, double observed);

// "✓ turn_latency p(95)<1200  observed 1143.2" or "✗ wer value<0.08  observed 0.0912", without
// indentation or newline.
std::string ThresholdLine(const harness::ThresholdRow& row);

}  // namespace callsim::reports
