// The shapes a link's jitter can take, with their one table of names (as scenarios write them),
// and the bound each puts on the delay.
#pragma once

#include "agent/runtime/name_table.h"

namespace callsim::fakes {

// How the jitter added to delay_ms is drawn (jitter_ms is its scale; 0 means no jitter), and the
// bounds the delay is clamped to:
//   kNormal:      Normal(0, jitter_ms), earlier or later; [0, delay_ms + 4 * jitter_ms].
//   kUniform:     uniform in [-jitter_ms, +jitter_ms); [0, delay_ms + jitter_ms].
//   kExponential: Exponential with mean jitter_ms, only ever later; [delay_ms, delay_ms + 10 *
//                 jitter_ms] (a 4.5e-5 tail: the mean stays jitter_ms within 0.01%).
//   kPareto:      Pareto with shape 2.5 and mean jitter_ms, only ever later: rare long spikes, as
//                 on congested Wi-Fi and mobile links. It is the Pareto shifted to start at 0
//                 (type II, Lomax, scale 1.5 * jitter_ms), so delay_ms stays the floor as with
//                 kExponential; median 0.48 * jitter_ms, p99 8.6 * jitter_ms. Clamped to
//                 [delay_ms, delay_ms + 20 * jitter_ms], which cuts 0.13% of the draws and lowers
//                 the mean by 1.8%.
enum class JitterDistribution { kNormal, kUniform, kExponential, kPareto };

inline constexpr agent::NameTable<JitterDistribution, 4> kJitterDistributionNames{
    {"normal", "uniform", "exponential", "pareto"}};

// The most a distribution adds to delay_ms: 4, 1, 10 or 20 times jitter_ms (its clamp above).
double MaxJitterMs(JitterDistribution distribution, double jitter_ms);

}  // namespace callsim::fakes
