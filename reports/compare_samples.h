// What `callsim compare` reads from one run: the per-turn latency samples of each latency family
// and the counts behind each rate. Everything comes from stored rows (turns, turn_spans events,
// tool_calls) or the run's stored counters (metrics); nothing is recomputed from a simulation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::reports {

// x events out of n trials (errors over reference words, completed calls over calls...).
struct RateCount {
  int64_t x = 0;
  int64_t n = 0;
};

struct RunSamples {
  // Family -> samples in milliseconds: turn_latency and barge_in_stop from the turns table, the
  // stage spans (endpointing, stt_final, llm_ttft, first_sentence, tts_ttfb) from turn_spans.
  // A family with no sample is absent.
  std::map<std::string, std::vector<double>> latency;
  // Family -> counts (the rate families of harness/measure/compared_metrics.h). A rate whose counters the run lacks, or whose n is 0, is absent.
  std::map<std::string, RateCount> rates;
};

// Throws harness::StoreError if the store cannot be read.
RunSamples LoadRunSamples(const harness::Store& store, int64_t run_id);

}  // namespace callsim::reports
