#include "reports/proportion_test.h"

#include <algorithm>
#include <cmath>

#include "agent/runtime/check.h"

namespace callsim::reports {

double NormalQuantile(double p) {
  CALLSIM_CHECK(p > 0 && p < 1);
  // Bisection on the CDF, 0.5 * erfc(-z / sqrt 2): 100 halvings of [-40, 40] are exact enough.
  double lo = -40, hi = 40;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}

ProportionChange TwoProportionTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2,
                                   double confidence) {
  CALLSIM_CHECK(n1 >= 1 && n2 >= 1 && x1 >= 0 && x2 >= 0);
  CALLSIM_CHECK(confidence > 0 && confidence < 1);
  x1 = std::min(x1, n1);
  x2 = std::min(x2, n2);
  ProportionChange out;
  out.p1 = static_cast<double>(x1) / static_cast<double>(n1);
  out.p2 = static_cast<double>(x2) / static_cast<double>(n2);
  const double critical = NormalQuantile(1 - (1 - confidence) / 2);
  const double pooled = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  const double inv_n = 1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2);
  const double se_pooled = std::sqrt(pooled * (1 - pooled) * inv_n);
  out.z = se_pooled > 0 ? (out.p2 - out.p1) / se_pooled : 0;
  out.significant = std::fabs(out.z) > critical;
  const double se = std::sqrt(out.p1 * (1 - out.p1) / static_cast<double>(n1) +
                              out.p2 * (1 - out.p2) / static_cast<double>(n2));
  out.ci_low = out.p2 - out.p1 - critical * se;
  out.ci_high = out.p2 - out.p1 + critical * se;
  return out;
}

}  // namespace callsim::reports
