// The runner under load: calls arrive on the schedule, a mix picks each call's scenario, shared
// provider capacity raises latency and fails calls, the run's duration drops what still runs,
// the active-call bound rejects arrivals, and progress is reported in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "harness/run/load.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"

namespace callsim::harness {
namespace {

const std::string kScript = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/llm/support.yaml";

// A short support call: greeting, one question, thanks, hang up. `extra` is appended (fakes
// capacity, load).
std::string CallYaml(const std::string& name, const std::string& fakes_extra,
                     const std::string& load) {
  return "name: " + name + "\ncodec: l16\n"
         "network:\n  uplink: { delay_ms: 40, jitter_ms: 5 }\n  downlink: { delay_ms: 40, jitter_ms: 5 }\n"
         "fakes:\n  stt: { profile: perfect }\n  llm: { script: " + kScript + fakes_extra + " }\n"
         "turns:\n"
         "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
         "  - user: \"hi, i want to check on my order, number four five six seven\"\n"
         "    expect: [ { agent_says: { contains: \"has shipped\" } } ]\n"
         "  - user: \"great, thank you. bye\"\n"
         "  - hangup: {}\n" + load;
}

// The top file of a mix: its calls run the mixed-in scenarios; it gives the load and capacity.
std::string MixMainYaml(const std::string& llm_capacity, const std::string& load) {
  return "name: main\n" + (llm_capacity.empty() ? "" : "fakes:\n  llm: { " + llm_capacity + " }\n") + load;
}

class RunnerLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_runner_load_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str());
    std::string error;
    store_ = Store::Open(dir_ + "/runs.db", &error);
    ASSERT_TRUE(store_) << error;
  }
  void TearDown() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // Loads `yaml` as dir_/main.yaml and runs it.
  RunResult Run(const std::string& yaml, uint64_t seed, RunOptions options = {}) {
    LoadResult loaded = LoadScenarioText(yaml, Write("main.yaml", yaml));
    EXPECT_TRUE(loaded.scenario) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
    if (!loaded.scenario) return {};
    scenarios_.push_back(std::make_unique<Scenario>(std::move(*loaded.scenario)));
    RunPlan plan;
    std::string error;
    EXPECT_TRUE(MakeRunPlan(*scenarios_.back(), &plan, &error)) << error;
    options.seed = seed;
    options.scenario_arg = "main.yaml";
    return RunScenario(plan, options, *store_);
  }

  double Metric(int64_t run_id, const std::string& name) {
    const auto metrics = store_->LoadMetrics(run_id);
    auto it = metrics.find(name);
    EXPECT_NE(it, metrics.end()) << name;
    return it == metrics.end() ? std::nan("") : it->second;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Scenario>> scenarios_;
};

TEST_F(RunnerLoad, CallsStartOnTheArrivalSchedule) {
  const std::string load =
      "load:\n  callers: 12\n  arrival:\n    phases:\n"
      "      - ramp: { from_rate_per_s: 1, to_rate_per_s: 5, duration_s: 2 }\n"
      "      - constant: { rate_per_s: 4, duration_s: 1.5 }\n";
  const RunResult r = Run(CallYaml("sched", "", load), 3);
  const std::vector<int64_t> expected = ArrivalTimesUs(scenarios_.back()->load, agent::Rng(3));
  ASSERT_EQ(expected.size(), 12u);  // ramp: count 6 in 2 s; then 6 more in the 1.5 s at 4/s
  const std::vector<CallRow> calls = store_->LoadCalls(r.run_id);
  ASSERT_EQ(calls.size(), 12u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_DOUBLE_EQ(calls[i].started_ms, static_cast<double>(expected[i]) / 1000.0) << i;
    EXPECT_EQ(calls[i].status, "completed") << i;
  }
  EXPECT_EQ(r.calls_passed, 12) << "seed 3";
}

TEST_F(RunnerLoad, ASmallLlmCapacityRaisesTurnLatency) {
  const std::string load = "load: { callers: 20, arrival: { rate_per_s: 10 } }\n";
  const RunResult free_run = Run(CallYaml("free", "", load), 5);
  const RunResult tight_run = Run(
      CallYaml("tight", ", capacity: { max_concurrent: 4, queue: 100, queue_timeout_ms: 60000 }", load), 5);
  EXPECT_EQ(free_run.llm_capacity.requests, 0u) << "unlimited: no limiter";
  EXPECT_EQ(tight_run.llm_capacity.peak_in_service, 4);
  EXPECT_GT(tight_run.llm_capacity.queued, 0u);
  EXPECT_EQ(tight_run.llm_capacity.queue_timeouts + tight_run.llm_capacity.over_capacity, 0u);
  const double free_p95 = Metric(free_run.run_id, "turn_latency_p95_ms");
  const double tight_p95 = Metric(tight_run.run_id, "turn_latency_p95_ms");
  EXPECT_GT(tight_p95, free_p95 + 500) << "seed 5: queueing for the LLM must show at the ear";
  EXPECT_GT(Metric(tight_run.run_id, "llm_capacity_max_wait_ms"), 500);
  // The greeting needs no LLM, so the same calls still pass: they are only slower.
  EXPECT_EQ(tight_run.calls_passed, 20) << "seed 5";
}

TEST_F(RunnerLoad, WithoutAQueueSomeCallsFailOverCapacity) {
  const std::string load = "load: { callers: 20, arrival: { rate_per_s: 10 } }\n";
  const RunResult r = Run(CallYaml("noqueue", ", capacity: { max_concurrent: 1, queue: 0 }", load), 5);
  EXPECT_GT(r.llm_capacity.over_capacity, 0u);
  EXPECT_LT(r.calls_passed, r.calls) << "seed 5";
  EXPECT_GT(r.calls_passed, 0) << "seed 5";
  EXPECT_EQ(Metric(r.run_id, "llm_capacity_over_capacity"), static_cast<double>(r.llm_capacity.over_capacity));
  // Each refusal is retried once after a backoff; a request refused twice reaches the agent as a
  // provider error, and the agent apologises.
  int errors = 0;
  int retries = 0;
  for (const CallRow& call : store_->LoadCalls(r.run_id)) {
    for (const EventRow& e : store_->LoadEvents(r.run_id, call.call_id)) {
      const bool refused = e.detail_json.find("over capacity") != std::string::npos;
      if (e.kind == "provider_error" && refused) ++errors;
      if (e.kind == "provider_retry" && refused) ++retries;
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_EQ(retries + errors, static_cast<int>(r.llm_capacity.over_capacity));
}

TEST_F(RunnerLoad, TheRunDurationEndsRunningCallsAsDropped) {
  const std::string load = "load: { callers: 10, arrival: { rate_per_s: 2 }, duration_s: 3 }\n";
  const RunResult r = Run(CallYaml("short", "", load), 7);
  EXPECT_EQ(r.virtual_end_us, 3000000);
  EXPECT_EQ(r.calls, 6);  // arrivals at 0, 0.5, ..., 2.5 s
  EXPECT_EQ(r.calls_dropped, 6);
  for (const CallRow& call : store_->LoadCalls(r.run_id)) {
    EXPECT_EQ(call.status, "dropped");
    EXPECT_EQ(call.failure_reason, "run duration reached");
    EXPECT_DOUBLE_EQ(call.ended_ms, 3000.0);
  }
  EXPECT_EQ(r.exit_code, 99);
}

TEST_F(RunnerLoad, TheMixPicksEachCallsScenarioByWeight) {
  const std::string a = Write("a.yaml", CallYaml("mix_a", "", ""));
  const std::string b = Write("b.yaml", CallYaml("mix_b", "", ""));
  const std::string load = "load:\n  callers: 24\n  mix:\n    - { scenario: " + a +
                           ", weight: 3 }\n    - { scenario: " + b + ", weight: 1 }\n";
  const RunResult r = Run(MixMainYaml("", load), 9);
  const std::vector<CallRow> calls = store_->LoadCalls(r.run_id);
  ASSERT_EQ(calls.size(), 24u);
  int b_calls = 0;
  for (const CallRow& call : calls) {
    const int pick = PickMixEntry(scenarios_.back()->load.mix, agent::Rng(9), static_cast<int>(call.call_id));
    EXPECT_EQ(call.scenario, pick == 0 ? "mix_a" : "mix_b") << call.call_id;
    b_calls += call.scenario == "mix_b";
  }
  EXPECT_GT(b_calls, 0);
  EXPECT_LT(b_calls, 12);
  EXPECT_EQ(r.calls_passed, 24) << "seed 9";
}

TEST_F(RunnerLoad, ArrivalsBeyondTheActiveCallBoundAreDropped) {
  RunOptions options;
  options.max_active_calls = 3;
  const RunResult r = Run(CallYaml("bound", "", "load: { callers: 10 }\n"), 11, options);
  EXPECT_EQ(r.calls, 10);
  EXPECT_EQ(r.peak_active_calls, 3);
  EXPECT_EQ(r.calls_dropped, 7);
  int rejected = 0;
  for (const CallRow& call : store_->LoadCalls(r.run_id)) {
    if (call.failure_reason == "active call limit reached (3)") ++rejected;
  }
  EXPECT_EQ(rejected, 7);
}

TEST_F(RunnerLoad, ProgressIsReportedEverySecondOfVirtualTime) {
  std::vector<RunProgress> reports;
  RunOptions options;
  options.progress = [&](const RunProgress& p) { reports.push_back(p); };
  const RunResult r = Run(CallYaml("progress", "", "load: { callers: 6, arrival: { rate_per_s: 1 } }\n"), 13, options);
  ASSERT_GT(reports.size(), 10u);
  for (size_t i = 0; i + 1 < reports.size(); ++i) {
    const RunProgress& p = reports[i];
    // At most one report per virtual second, the first once a second has passed.
    EXPECT_GE(p.virtual_us, static_cast<int64_t>(i + 1) * 1000000) << i;
    if (i > 0) {
      EXPECT_GT(p.virtual_us / 1000000, reports[i - 1].virtual_us / 1000000) << i;
    }
    EXPECT_FALSE(p.finished);
    EXPECT_EQ(p.calls_active, p.calls_started - p.calls_done) << i;
    // Calls arrive at 0, 1, ..., 5 s; one due exactly now may not have run yet.
    const int arrived = std::min<int>(6, static_cast<int>(p.virtual_us / 1000000) + 1);
    EXPECT_GE(p.calls_started, arrived - (p.virtual_us % 1000000 == 0 ? 1 : 0)) << i;
    EXPECT_LE(p.calls_started, arrived) << i;
  }
  const RunProgress& last = reports.back();
  EXPECT_TRUE(last.finished);
  EXPECT_EQ(last.calls_done, r.calls);
  EXPECT_EQ(last.calls_total, 6);
  EXPECT_EQ(last.calls_active, 0);
  EXPECT_FALSE(std::isnan(last.turn_latency_p95_ms));
  EXPECT_NEAR(last.turn_latency_p95_ms, Metric(r.run_id, "turn_latency_p95_ms"), 5.0);
}

TEST_F(RunnerLoad, ALoadedRunReplaysFromItsSeed) {
  const std::string a = Write("a.yaml", CallYaml("mix_a", "", ""));
  const std::string b = Write("b.yaml", CallYaml("mix_b", "", ""));
  const std::string load = "load:\n  callers: 16\n  arrival:\n    phases:\n"
                           "      - poisson: { rate_per_s: 8, duration_s: 10 }\n"
                           "  mix:\n    - { scenario: " + a + " }\n    - { scenario: " + b + " }\n";
  const std::string yaml =
      MixMainYaml("capacity: { max_concurrent: 2, queue: 3, queue_timeout_ms: 2000 }", load);
  const RunResult x = Run(yaml, 17), y = Run(yaml, 17), z = Run(yaml, 18);
  EXPECT_EQ(x.event_log_hash, y.event_log_hash);
  EXPECT_NE(x.event_log_hash, z.event_log_hash);
  EXPECT_EQ(x.llm_capacity.requests, y.llm_capacity.requests);
  EXPECT_EQ(x.llm_capacity.max_wait_us, y.llm_capacity.max_wait_us);
  const auto calls_x = store_->LoadCalls(x.run_id), calls_y = store_->LoadCalls(y.run_id);
  ASSERT_EQ(calls_x.size(), calls_y.size());
  for (size_t i = 0; i < calls_x.size(); ++i) {
    EXPECT_EQ(calls_x[i].scenario, calls_y[i].scenario);
    EXPECT_EQ(calls_x[i].started_ms, calls_y[i].started_ms);
    EXPECT_EQ(calls_x[i].ended_ms, calls_y[i].ended_ms);
  }
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

// Three shards of a run: each call runs in its shard exactly as in the whole run (its rows and
// events equal), the shards hold every call once, and each records which slice it is.
TEST_F(RunnerLoad, ShardsRunTheirCallsAsTheWholeRunDoes) {
  const std::string yaml = CallYaml("shards", "", "load:\n  callers: 8\n  arrival: { rate_per_s: 4 }\n");
  const RunResult whole = Run(yaml, 5);
  const std::vector<CallRow> whole_calls = store_->LoadCalls(whole.run_id);
  ASSERT_EQ(whole_calls.size(), 8u);
  std::vector<int> seen(8, 0);
  for (int index = 1; index <= 3; ++index) {
    RunOptions options;
    options.shard = Shard{index, 3};
    const RunResult part = Run(yaml, 5, options);
    EXPECT_EQ(part.calls, index == 3 ? 2 : 3);  // ids 0,3,6 / 1,4,7 / 2,5
    EXPECT_EQ(part.calls_not_started, 0);
    const std::optional<RunInfo> info = store_->LoadRun(part.run_id);
    ASSERT_TRUE(info);
    EXPECT_NE(info->config_json.find("\"shard\":\"" + std::to_string(index) + "/3\""),
              std::string::npos)
        << info->config_json;
    for (CallRow call : store_->LoadCalls(part.run_id)) {
      ASSERT_GE(call.call_id, 0);
      ASSERT_LT(call.call_id, 8);
      EXPECT_EQ(call.call_id % 3, index - 1);
      ++seen[static_cast<size_t>(call.call_id)];
      CallRow expected = whole_calls[static_cast<size_t>(call.call_id)];
      expected.run_id = call.run_id;
      EXPECT_EQ(call, expected) << "call " << call.call_id;
      std::vector<EventRow> expected_events = store_->LoadEvents(whole.run_id, call.call_id);
      for (EventRow& e : expected_events) e.run_id = part.run_id;
      EXPECT_EQ(store_->LoadEvents(part.run_id, call.call_id), expected_events)
          << "call " << call.call_id;
    }
  }
  EXPECT_EQ(seen, std::vector<int>(8, 1));
}

}  // namespace
}  // namespace callsim::harness
