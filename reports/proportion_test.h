// The two-proportion z-test, for rates compared between two runs (WER over words, completion
// over calls): did x1/n1 and x2/n2 come from the same rate? Also the normal quantile it needs.
#pragma once

#include <cstdint>

namespace callsim::reports {

struct ProportionChange {
  double p1 = 0, p2 = 0;           // x1/n1, x2/n2
  double z = 0;                    // (p2 - p1) / pooled standard error; 0 when both are 0 or 1
  bool significant = false;        // |z| beyond the two-sided critical value
  double ci_low = 0, ci_high = 0;  // normal-approximation interval of p2 - p1 (unpooled)
};

// x <= n, n >= 1 on both sides; confidence in (0, 1). Counts above n (WER's insertions can exceed
// the reference words) are clamped to n.
ProportionChange TwoProportionTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2,
                                   double confidence);

// The standard normal quantile: z such that P(Z <= z) = p, p in (0, 1). Within 1e-9.
double NormalQuantile(double p);

}  // namespace callsim::reports
