// Asserts that two stored runs hold the same results: every per-call row (calls, turns,
// expectations, events, tool calls, reports, media), every metric and histogram, the threshold
// verdicts, the event-log hash, the status and exit code. Run ids and the wall-clock stamps may
// differ; so may config_json (a merged run says it was merged only when its parts were coupled).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::harness::testing {

template <typename Row>
std::vector<Row> WithoutRunId(std::vector<Row> rows) {
  for (Row& r : rows) r.run_id = 0;
  return rows;
}

inline void ExpectSameRun(const Store& a, int64_t run_a, const Store& b, int64_t run_b) {
  const std::optional<RunInfo> ia = a.LoadRun(run_a);
  const std::optional<RunInfo> ib = b.LoadRun(run_b);
  ASSERT_TRUE(ia && ib);
  EXPECT_EQ(ia->status, ib->status);
  EXPECT_EQ(ia->event_log_hash, ib->event_log_hash);
  EXPECT_EQ(ia->exit_code, ib->exit_code);
  EXPECT_EQ(ia->end_reason, ib->end_reason);
  EXPECT_EQ(ia->calls_not_started, ib->calls_not_started);
  EXPECT_EQ(ia->seed, ib->seed);
  EXPECT_EQ(ia->mode, ib->mode);
  const std::vector<CallRow> calls = WithoutRunId(a.LoadCalls(run_a));
  EXPECT_EQ(calls, WithoutRunId(b.LoadCalls(run_b)));
  EXPECT_EQ(WithoutRunId(a.LoadTurns(run_a)), WithoutRunId(b.LoadTurns(run_b)));
  EXPECT_EQ(WithoutRunId(a.LoadExpectations(run_a)), WithoutRunId(b.LoadExpectations(run_b)));
  EXPECT_EQ(WithoutRunId(a.LoadToolCalls(run_a)), WithoutRunId(b.LoadToolCalls(run_b)));
  EXPECT_EQ(WithoutRunId(a.LoadCallReports(run_a)), WithoutRunId(b.LoadCallReports(run_b)));
  EXPECT_EQ(WithoutRunId(a.LoadCallMedia(run_a)), WithoutRunId(b.LoadCallMedia(run_b)));
  size_t differing_event_calls = 0;
  for (const CallRow& call : calls) {
    if (WithoutRunId(a.LoadEvents(run_a, call.call_id)) !=
        WithoutRunId(b.LoadEvents(run_b, call.call_id))) {
      ++differing_event_calls;
    }
  }
  EXPECT_EQ(differing_event_calls, 0u);
  const std::map<std::string, double> ma = a.LoadMetrics(run_a);
  const std::map<std::string, double> mb = b.LoadMetrics(run_b);
  EXPECT_EQ(ma.size(), mb.size());
  for (const auto& [name, value] : ma) {
    auto it = mb.find(name);
    if (it == mb.end()) {
      ADD_FAILURE() << "metric " << name << " only in the first run";
      continue;
    }
    if (!(value == it->second || (std::isnan(value) && std::isnan(it->second)))) {
      ADD_FAILURE() << "metric " << name << ": " << value << " vs " << it->second;
    }
  }
  for (const char* h : {"turn_latency_us", "barge_in_stop_us", "endpointing_us", "stt_final_us",
                        "llm_ttft_us", "first_sentence_us", "tts_ttfb_us", "harness_lateness_us"}) {
    EXPECT_EQ(a.LoadHistogram(run_a, h), b.LoadHistogram(run_b, h)) << h;
  }
  EXPECT_EQ(WithoutRunId(a.LoadThresholds(run_a)), WithoutRunId(b.LoadThresholds(run_b)));
}

}  // namespace callsim::harness::testing
