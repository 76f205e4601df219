// `callsim compare BASE NEW`: the CI gate against a baseline run (reports/compare.h). Exit 0 when
// no gated metric regressed, 99 when one did, 2 for invalid input (a missing database or run, a
// bad flag), 1 for an internal error.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace callsim::cli {

struct CompareFlags {
  std::string base;  // FILE.db or FILE.db#RUN_ID
  std::string now;
  // Unset flags fall back to the new run's scenario (its compare section), then the defaults.
  std::optional<double> tolerance_pct, tolerance_ms, confidence;
  std::optional<int> resamples;
  std::optional<uint64_t> seed;
  std::optional<int> min_samples;
  std::vector<std::string> gate;
  std::string junit;       // empty: none
  std::string summary_md;  // empty: none
};

int Compare(const CompareFlags& flags);

}  // namespace callsim::cli
