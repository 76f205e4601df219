// The metric families `callsim compare` judges, in report order: the latency families (per-turn
// samples; p50, p95 and p99 of each) and the rates (counts over trials). A scenario's compare
// section and `--gate` name them as FAMILY or, for a latency family, FAMILY.p50/.p95/.p99.
#pragma once

#include <string>
#include <vector>

namespace callsim::harness {

struct ComparedFamily {
  std::string name;
  bool latency = false;          // per-turn samples in milliseconds; else a rate
  bool higher_is_worse = true;
  const char* what = "";         // for people: "word errors over reference words"
};

const std::vector<ComparedFamily>& ComparedFamilies();

// The percentiles judged for a latency family.
inline constexpr double kComparedPercentiles[] = {50, 95, 99};

// True for a family name or FAMILY.p50/.p95/.p99 of a latency family.
bool IsComparedMetricName(const std::string& name);

// "turn_latency, barge_in_stop, ... (a latency family also as FAMILY.p50, .p95 or .p99)".
std::string ComparedMetricNamesHelp();

}  // namespace callsim::harness
