#include "fakes/net/jitter_distribution.h"

namespace callsim::fakes {

double MaxJitterMs(JitterDistribution distribution, double jitter_ms) {
  CALLSIM_CHECK(kJitterDistributionNames.Contains(distribution));
  double scale = 0;  // in units of jitter_ms: the clamps documented in the header
  switch (distribution) {
    case JitterDistribution::kNormal: scale = 4; break;
    case JitterDistribution::kUniform: scale = 1; break;
    case JitterDistribution::kExponential: scale = 10; break;
    case JitterDistribution::kPareto: scale = 20; break;
  }
  return scale * jitter_ms;
}

}  // namespace callsim::fakes
