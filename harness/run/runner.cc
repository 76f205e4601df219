#include "harness/run/runner.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <stdexcept>

#include "agent/postcall/pii_redaction.h"
#include "agent/runtime/check.h"
#include "agent/postcall/postcall_queue.h"
#include "harness/measure/wer.h"
#include "agent/pipeline/voice_agent.h"
#include "harness/run/call_rows.h"
#include "harness/run/load.h"
#include "harness/run/merge_state.h"
#include "harness/run/run_metrics.h"
#include "harness/run/run_engine.h"
#include "harness/run/sim_call.h"
#include "harness/run/workers.h"
#include "agent/runtime/sim_scheduler.h"
#include "harness/scenario/tool_file.h"

namespace callsim::harness {
namespace {

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }


std::string ConfigJson(const Scenario& s, const RunOptions& options, const RunEngine& engine) {
  nlohmann::json j = {{"scenario", options.scenario_arg}, {"name", s.name},
                      {"codec", std::string(agent::kCodecNames.Name(s.codec))},
                      {"callers", s.load.callers}, {"set", options.overrides},
                      {"post_call_queue", options.post_call_queue}};
  if (!options.shard.whole()) {
    j["shard"] = std::to_string(options.shard.index) + "/" + std::to_string(options.shard.count);
  }
  if (!s.load.mix.empty()) {
    nlohmann::json mix = nlohmann::json::array();
    for (const MixEntry& e : s.load.mix) mix.push_back({{"scenario", e.scenario_path}, {"weight", e.weight}});
    j["mix"] = std::move(mix);
  }
  if (const CompareSpec& c = s.compare; c.tolerance_pct || c.tolerance_ms || c.confidence ||
                                        !c.gate.empty()) {
    nlohmann::json compare = nlohmann::json::object();
    if (c.tolerance_pct) compare["tolerance_pct"] = *c.tolerance_pct;
    if (c.tolerance_ms) compare["tolerance_ms"] = *c.tolerance_ms;
    if (c.confidence) compare["confidence"] = *c.confidence;
    if (!c.gate.empty()) compare["gate"] = c.gate;
    j["compare"] = std::move(compare);
  }
  if (nlohmann::json described = engine.Describe(); !described.is_null()) {
    j["wire"] = std::move(described);
  }
  return j.dump();
}

std::shared_ptr<fakes::CapacityLimiter> MakeLimiter(agent::Scheduler& scheduler, const CapacitySpec& c) {
  return fakes::MakeCapacityLimiter(scheduler, c.max_concurrent, c.queue, c.queue_timeout_ms,
                                    c.rate_limit_per_s);
}

// One limited provider's use, as the run's merge state and capacity metrics take it.
void AddProviderUse(const char* provider, const fakes::CapacityLimiter* limiter,
                    std::vector<ProviderUse>* out) {
  if (limiter == nullptr) return;
  out->push_back(ProviderUse{provider, limiter->config(), limiter->stats(), limiter->log()});
}

// Whether the run's row says it finished (a read: never waits for another writer in WAL mode).
bool RunMarked(const Store& store, int64_t run_id) {
  try {
    const std::optional<RunInfo> run = store.LoadRun(run_id);
    return run && run->status != kRunStatusNames.Name(RunStatus::kRunning);
  } catch (const StoreError&) {
    return false;
  }
}

fakes::CapacityStats StatsOf(const std::shared_ptr<fakes::CapacityLimiter>& limiter) {
  return limiter ? limiter->stats() : fakes::CapacityStats{};
}

// SimCalls in virtual time: the default engine.
class VirtualEngine final : public RunEngine {
 public:
  agent::Scheduler& scheduler() override { return scheduler_; }
  const char* mode() const override { return "virtual"; }
  nlohmann::json Describe() const override { return nullptr; }
  std::unique_ptr<RunCall> MakeCall(const PlannedScenario& planned, int call_id,
                                    const agent::Rng& run_rng, const CallServices& services,
                                    RunCall::FinishedFn on_finished) override {
    return std::make_unique<SimCall>(scheduler_, *planned.scenario, *planned.script, call_id,
                                     run_rng, services, std::move(on_finished));
  }
  bool RunOne() override { return scheduler_.RunOne(); }
  void Settle() override { scheduler_.RunUntil(scheduler_.NowUs()); }
  bool builds_reports() const override { return true; }
  const Histogram* lateness() const override { return nullptr; }

 private:
  agent::SimScheduler scheduler_;
};

// One run: owns the limiters and the live calls (the engine owns the clock); members are declared
// so that the calls go first (they hold tickets of the limiters).
class LoadRun {
 public:
  LoadRun(const RunPlan& plan, const RunOptions& options, Store& store, int64_t run_id,
          RunEngine& engine)
      : plan_(plan), load_(plan.main->load), options_(options), store_(store), run_id_(run_id),
        engine_(engine), scheduler_(engine.scheduler()),
        run_rng_(options.seed),
        recordings_(options.record, run_id),
        breakers_(agent::CircuitBreakerConfig{plan.main->agent.tools.breaker_failures,
                                              plan.main->agent.tools.breaker_open_ms}),
        admission_(options.post_call_queue, agent::PostCallQueueConfig{}.processing_time_us) {
    const FakesSpec& fakes = plan.main->fakes;
    limiters_.stt = MakeLimiter(scheduler_, fakes.stt.capacity);
    limiters_.llm = MakeLimiter(scheduler_, fakes.llm.capacity);
    limiters_.tts = MakeLimiter(scheduler_, fakes.tts.capacity);
  }

  RunResult Execute();
  // After an exception out of Execute: marks the run failed with `reason` (see runner.h).
  void MarkFailed(const std::string& reason);

 private:
  void ScheduleArrival(size_t index);
  void Arrive(int id);
  void Reject(int id, const Scenario& scenario);
  void OnFinished(CallRecord record);
  void EnqueueReport(const CallRecord& record);
  // Offers the reports of the calls that ended before `before_us` to the post-call queue, in
  // (end time, call id) order, and stores the accepted ones.
  void AdmitReports(int64_t before_us);
  MergeState State() const;
  bool RunLoop();
  void EndRemaining(const std::string& reason, CallStatus status);
  int NotStarted() const { return static_cast<int>(arrivals_us_.size() - next_arrival_); }
  int64_t EndBoundUs() const;
  void Report(bool finished);

  const RunPlan& plan_;
  const LoadSpec& load_;
  const RunOptions& options_;
  Store& store_;
  const int64_t run_id_;
  RunEngine& engine_;
  agent::Scheduler& scheduler_;
  const agent::Rng run_rng_;
  Recordings recordings_;  // tapes are held by the calls until their verdict
  fakes::ProviderLimiters limiters_;
  agent::CircuitBreakers breakers_;  // one per tool back end, shared by every call
  // Post-call reports: each call's report is offered to the run's post-call queue once every call
  // that ended at the same instant is in (ReportAdmission), and built outside any live call's
  // task. A shard stores every report and leaves admission to the merge (merge_state.h).
  struct EndedCall {
    int64_t ended_us = 0;
    int call_id = 0;
    agent::CallReportInput input;
  };
  std::vector<EndedCall> ended_;  // waiting for their instant to pass, in end-time order
  ReportAdmission admission_;
  int64_t reports_written_ = 0;
  int64_t reports_dropped_ = 0;
  std::vector<int64_t> arrivals_us_;  // this shard's arrivals, in time order
  std::vector<int> arrival_ids_;      // the call id of each
  int64_t last_arrival_us_ = 0;       // of the whole run (the end bound does not depend on shards)
  RunMetrics metrics_;
  std::vector<uint64_t> call_hashes_;  // by call id
  int64_t call_us_sum_ = 0;            // summed length of the calls done
  size_t next_arrival_ = 0;
  int active_ = 0;
  int peak_active_ = 0;
  int64_t end_us_ = 0;
  bool stop_ = false;
  int64_t next_progress_us_ = 0;
  std::vector<std::unique_ptr<RunCall>> calls_;  // by call id; reset once stored
};

RunResult LoadRun::Execute() {
  // Every call's arrival is known up front; this run holds its shard's (all of them unsharded).
  const std::vector<int64_t> all_arrivals_us = ArrivalTimesUs(load_, run_rng_);
  for (size_t id = 0; id < all_arrivals_us.size(); ++id) {
    last_arrival_us_ = std::max(last_arrival_us_, all_arrivals_us[id]);
    if (!options_.shard.Holds(static_cast<int>(id))) continue;
    arrivals_us_.push_back(all_arrivals_us[id]);
    arrival_ids_.push_back(static_cast<int>(id));
  }
  call_hashes_.assign(all_arrivals_us.size(), 0);
  calls_.resize(all_arrivals_us.size());
  end_us_ = EndBoundUs();
  scheduler_.At(end_us_, [this] { stop_ = true; });
  next_progress_us_ = std::llround(std::max(0.001, options_.progress_interval_s) * 1e6);
  ScheduleArrival(0);
  const bool aborted = RunLoop();
  const bool at_duration = stop_ && load_.duration_s > 0 &&
                           end_us_ == std::llround(load_.duration_s * 1e6);
  if (aborted) {
    EndRemaining("run aborted", CallStatus::kAborted);
  } else {
    EndRemaining(at_duration ? "run duration reached" : "run time limit", CallStatus::kDropped);
  }
  AdmitReports(std::numeric_limits<int64_t>::max());  // the last calls' reports

  RunResult result;
  result.run_id = run_id_;
  metrics_.Store(store_, run_id_);
  const std::vector<ThresholdResult> gates = metrics_.Evaluate(plan_.main->thresholds);
  StoreThresholdResults(store_, run_id_, gates);
  const MergeState state = State();
  for (const ProviderUse& use : state.providers) store_.SetMetrics(run_id_, CapacityMetrics({&use}));
  store_.SetMetric(run_id_, "post_call_reports", static_cast<double>(reports_written_));
  store_.SetMetric(run_id_, "post_call_reports_dropped", static_cast<double>(reports_dropped_));
  recordings_.StoreMetrics(store_, run_id_);
  if (recordings_.on()) {
    result.recordings_written = recordings_.written();
    result.recordings_failed = recordings_.failed();
    result.recordings_folder = recordings_.run_folder();
  }
  result.event_log_hash = RunHash(call_hashes_);
  result.calls = static_cast<int>(metrics_.calls());
  result.calls_passed = static_cast<int>(metrics_.calls_passed());
  result.calls_dropped = static_cast<int>(metrics_.Observed("dropped_calls_count"));
  result.calls_aborted = static_cast<int>(metrics_.Observed("aborted_calls_count"));
  result.calls_not_started = NotStarted();
  store_.SetMetric(run_id_, "calls_not_started", result.calls_not_started);
  result.thresholds = gates;
  result.peak_active_calls = peak_active_;
  result.virtual_end_us = scheduler_.NowUs();
  result.stt_capacity = StatsOf(limiters_.stt);
  result.llm_capacity = StatsOf(limiters_.llm);
  result.tts_capacity = StatsOf(limiters_.tts);
  result.status = aborted ? RunStatus::kAborted : RunStatus::kCompleted;
  std::string end_reason = aborted ? "run aborted (SIGINT or SIGTERM)" : "";
  if (const Histogram* lateness = engine_.lateness()) {
    const LatenessVerdict verdict =
        StoreLateness(store_, run_id_, *lateness, plan_.main->realtime.lateness_bound_ms);
    result.lateness_p99_ms = verdict.p99_ms;
    result.saturated = verdict.saturated;
    if (result.saturated && !aborted) end_reason = verdict.reason;
  }
  result.exit_code = RunExitCode(aborted, plan_.main->thresholds.empty(), result.calls_passed,
                                 result.calls, gates, result.saturated);
  store_.SetMergeState(run_id_, MergeStateToJson(state).dump());
  store_.FinishRun(run_id_, RunOutcome{std::string(kRunStatusNames.Name(result.status)),
                                       result.event_log_hash, result.exit_code, end_reason,
                                       result.calls_not_started});
  Report(/*finished=*/true);
  return result;
}

MergeState LoadRun::State() const {
  MergeState s;
  s.arrivals = static_cast<int64_t>(call_hashes_.size());
  s.shard = options_.shard;
  s.counters = metrics_.CountersJson();
  AddProviderUse("stt", limiters_.stt.get(), &s.providers);
  AddProviderUse("llm", limiters_.llm.get(), &s.providers);
  AddProviderUse("tts", limiters_.tts.get(), &s.providers);
  s.breaker_threshold = plan_.main->agent.tools.breaker_failures;
  s.breaker_failures = breakers_.TotalFailures();
  s.max_active_calls = options_.max_active_calls;
  s.peak_active_calls = peak_active_;
  s.builds_reports = engine_.builds_reports();
  s.post_call_capacity = options_.post_call_queue;
  s.post_call_processing_us = agent::PostCallQueueConfig{}.processing_time_us;
  s.all_reports = !options_.shard.whole();
  s.summed_metrics = recordings_.Counters();
  s.calls_not_started = NotStarted();
  return s;
}

// load.duration_s when set, and in any case the last arrival plus the longest call bound of any
// scenario the calls run, plus slack for the calls' own end handling.
int64_t LoadRun::EndBoundUs() const {
  double max_call_ms = 0;
  for (const PlannedScenario& p : plan_.scenarios) {
    max_call_ms = std::max(max_call_ms, p.scenario->agent.max_call_ms);
  }
  int64_t end_us = last_arrival_us_ + std::llround(max_call_ms * 1000.0) + 120 * agent::kMicrosPerSecond;
  if (load_.duration_s > 0) end_us = std::min<int64_t>(end_us, std::llround(load_.duration_s * 1e6));
  return end_us;
}

// One arrival pending at a time: the next is scheduled when this one fires.
void LoadRun::ScheduleArrival(size_t index) {
  if (index >= arrivals_us_.size()) return;
  scheduler_.At(arrivals_us_[index], [this, index] {
    next_arrival_ = index + 1;
    Arrive(arrival_ids_[index]);
    ScheduleArrival(index + 1);
  });
}

void LoadRun::Arrive(int id) {
  const int pick = PickMixEntry(load_.mix, run_rng_, id);
  CALLSIM_CHECK(pick < static_cast<int>(plan_.scenarios.size()));
  // Each arrival once, into its own slot (calls_ and call_hashes_ have one per arrival).
  CALLSIM_CHECK(id >= 0 && static_cast<size_t>(id) < calls_.size());
  CALLSIM_CHECK(calls_[static_cast<size_t>(id)] == nullptr);
  const PlannedScenario& planned = plan_.scenarios[static_cast<size_t>(std::max(0, pick))];
  if (active_ >= options_.max_active_calls) {
    Reject(id, *planned.scenario);
    return;
  }
  CallServices services;
  services.limiters = limiters_;
  services.breakers = &breakers_;
  services.metrics = options_.agent_metrics;
  services.tools = planned.tools;
  calls_[static_cast<size_t>(id)] = engine_.MakeCall(
      planned, id, run_rng_, services, [this](CallRecord r) { OnFinished(std::move(r)); });
  ++active_;
  CALLSIM_CHECK(active_ <= options_.max_active_calls);
  peak_active_ = std::max(peak_active_, active_);
  RunCall& call = *calls_[static_cast<size_t>(id)];
  if (recordings_.Tapes(id)) call.RecordAudio(recordings_.max_samples());
  call.Start();
}

// The bound on active calls: the arrival is stored as dropped without running.
void LoadRun::Reject(int id, const Scenario& scenario) {
  CallRecord r;
  r.call_id = id;
  r.scenario = scenario.name;
  r.started_us = r.ended_us = scheduler_.NowUs();
  r.status = CallStatus::kDropped;
  r.ended_by = CallEndedBy::kOther;
  r.failure_reason = "active call limit reached (" + std::to_string(options_.max_active_calls) + ")";
  r.event_hash = agent::Fnv1a64(r.failure_reason);
  call_hashes_[static_cast<size_t>(id)] = r.event_hash;
  metrics_.AddCall(r);  // before StoreCall moves the events away
  StoreCall(std::move(r), run_id_, store_);
}

void LoadRun::OnFinished(CallRecord record) {
  const size_t id = static_cast<size_t>(record.call_id);
  // A record from a call this run started and has not heard from yet: the counts stay true.
  CALLSIM_CHECK(id < calls_.size() && calls_[id] != nullptr && active_ > 0);
  call_us_sum_ += record.ended_us - record.started_us;
  call_hashes_[id] = record.event_hash;
  metrics_.AddCall(record);
  if (engine_.builds_reports()) EnqueueReport(record);
  record.recording = recordings_.Keep(record);  // written before the row that names it
  record.audio.reset();
  StoreCall(std::move(record), run_id_, store_);
  calls_[id].reset();
  --active_;
}

void LoadRun::EnqueueReport(const CallRecord& r) {
  ended_.push_back(EndedCall{r.ended_us, r.call_id, ReportInput(r)});
}

void LoadRun::AdmitReports(int64_t before_us) {
  auto end = std::find_if(ended_.begin(), ended_.end(),
                          [&](const EndedCall& c) { return c.ended_us >= before_us; });
  if (end == ended_.begin()) return;
  std::stable_sort(ended_.begin(), end, [](const EndedCall& a, const EndedCall& b) {
    return a.ended_us != b.ended_us ? a.ended_us < b.ended_us : a.call_id < b.call_id;
  });
  const agent::PriceTable prices = agent::PostCallQueueConfig{}.prices;
  for (auto it = ended_.begin(); it != end; ++it) {
    const bool accepted = options_.shard.whole() ? admission_.Offer(it->ended_us) : true;
    if (accepted) {
      store_.AddCallReport(ReportRow(run_id_, it->call_id, agent::BuildCallReport(it->input, prices)));
      ++reports_written_;
    } else {
      ++reports_dropped_;
    }
    if (options_.agent_metrics && options_.count_post_call_reports) {
      options_.agent_metrics->CountPostCallReport(accepted);
    }
  }
  ended_.erase(ended_.begin(), end);
}

// Runs tasks until every call has arrived and ended, the end bound, or an abort (returns true).
// The flag is read before every task (one relaxed load), so an abort waits for one task at most.
bool LoadRun::RunLoop() {
  while (!stop_ && (next_arrival_ < arrivals_us_.size() || active_ > 0)) {
    if (options_.abort && options_.abort->load(std::memory_order_relaxed)) return true;
    if (!engine_.RunOne()) break;
    if (!ended_.empty() && ended_.front().ended_us < scheduler_.NowUs()) {
      AdmitReports(scheduler_.NowUs());
    }
    if (options_.progress && scheduler_.NowUs() >= next_progress_us_) Report(false);
  }
  return false;
}

// Calls still running end now, in call-id order, and their records are stored with `status`.
// Arrivals still due are not run (NotStarted counts them).
void LoadRun::EndRemaining(const std::string& reason, CallStatus status) {
  for (std::unique_ptr<RunCall>& call : calls_) {
    if (call && !call->ended()) call->End(reason, status);
  }
  engine_.Settle();  // delivers the records (each from a task due now)
}

void LoadRun::MarkFailed(const std::string& reason) {
  const int not_started = NotStarted();
  std::string why = reason;
  if (active_ > 0) why += "; " + std::to_string(active_) + " calls in progress were not stored";
  store_.FinishRun(run_id_, RunOutcome{std::string(kRunStatusNames.Name(RunStatus::kFailed)),
                                       RunHash(call_hashes_), 1, why, not_started});
}

void LoadRun::Report(bool finished) {
  const int64_t now_us = scheduler_.NowUs();
  const int64_t interval_us = std::llround(std::max(0.001, options_.progress_interval_s) * 1e6);
  next_progress_us_ = (now_us / interval_us + 1) * interval_us;
  if (!options_.progress) return;
  RunProgress p;
  p.virtual_us = now_us;
  p.calls_total = static_cast<int>(arrivals_us_.size());
  p.calls_started = static_cast<int>(next_arrival_);
  p.calls_done = static_cast<int>(metrics_.calls());
  p.calls_active = active_;
  p.turn_latency_p95_ms = metrics_.RunningP95TurnLatencyMs();
  if (metrics_.calls() > 0 && !arrivals_us_.empty()) {
    const int64_t mean_call_us = call_us_sum_ / metrics_.calls();
    p.estimated_end_us = std::min(end_us_, std::max(now_us, arrivals_us_.back() + mean_call_us));
  }
  p.finished = finished;
  options_.progress(p);
}

}  // namespace

LatenessVerdict StoreLateness(Store& store, int64_t run_id, const Histogram& lateness,
                              double bound_ms) {
  LatenessVerdict v;
  v.p99_ms = UsToMs(lateness.ValueAtPercentile(99));
  v.saturated = lateness.count() > 0 && v.p99_ms > bound_ms;
  std::map<std::string, double> m;
  m["harness_lateness_count"] = static_cast<double>(lateness.count());
  if (lateness.count() > 0) {
    m["harness_lateness_p50_ms"] = UsToMs(lateness.ValueAtPercentile(50));
    m["harness_lateness_p99_ms"] = v.p99_ms;
    m["harness_lateness_max_ms"] = UsToMs(lateness.max());
    m["harness_lateness_avg_ms"] = lateness.Mean() / 1000.0;
    store.SetHistogram(run_id, "harness_lateness_us", lateness.Serialize());
  }
  m["harness_lateness_bound_ms"] = bound_ms;
  m["saturated"] = v.saturated ? 1 : 0;
  store.SetMetrics(run_id, m);
  if (v.saturated) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "saturated: harness lateness p99 %.1f ms > %.1f ms (the load generator, not the "
                  "agent, limited the results)",
                  v.p99_ms, bound_ms);
    v.reason = buf;
  }
  return v;
}

int RunExitCode(bool aborted, bool no_thresholds, int64_t calls_passed, int64_t calls,
                const std::vector<ThresholdResult>& gates, bool saturated) {
  // Like k6: when the scenario declares thresholds they alone gate the run (failed calls count
  // through task_completion); without thresholds every call must pass. A saturated run measured
  // the load generator, so it never passes.
  const bool passed = (no_thresholds ? calls_passed == calls : AllPassed(gates)) && !saturated;
  return aborted ? 1 : (passed ? 0 : 99);
}

std::vector<std::string> DeclaredToolNames(const std::vector<PlannedScenario>& scenarios) {
  std::vector<std::string> names;
  for (const PlannedScenario& p : scenarios) {
    if (!p.tools) continue;
    for (const agent::ToolSpec& t : *p.tools) names.push_back(t.name);
  }
  names.push_back(std::string(agent::kEndCallTool));
  names.push_back(std::string(agent::kTransferCallTool));
  return names;
}

bool MakeRunPlan(const Scenario& main, RunPlan* plan, std::string* error) {
  RunPlan out;
  out.main = &main;
  std::map<std::string, std::shared_ptr<const fakes::LlmScript>> by_path;  // lookups only
  std::map<std::string, std::shared_ptr<const std::vector<agent::ToolSpec>>> tools_by_path;
  auto load_tools = [&](const Scenario& s, std::shared_ptr<const std::vector<agent::ToolSpec>>* out) {
    const std::string& path = s.agent.tools.file;
    if (path.empty()) return true;
    std::shared_ptr<const std::vector<agent::ToolSpec>>& tools = tools_by_path[path];
    if (!tools) {
      auto loaded = std::make_shared<std::vector<agent::ToolSpec>>();
      if (!LoadToolFile(path, loaded.get(), error)) return false;
      for (const std::string& name : s.agent.tools.allow) {
        const bool declared = std::any_of(loaded->begin(), loaded->end(),
                                          [&](const agent::ToolSpec& t) { return t.name == name; });
        if (!declared) {
          *error = s.source_path + ": agent.tools.allow: " + name + " is not declared in " + path;
          return false;
        }
      }
      tools = std::move(loaded);
    }
    *out = tools;
    return true;
  };
  auto add = [&](const Scenario& s) {
    const std::string& path = s.fakes.llm.script;
    if (path.empty() && s.fakes.llm.wire && (!s.fakes.llm.secondary.present || s.fakes.llm.secondary.wire)) {
      // Every LLM of this scenario is over the wire: no script is needed.
      std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
      if (!load_tools(s, &tools)) return false;
      out.scenarios.push_back(PlannedScenario{&s, std::make_shared<const fakes::LlmScript>(), std::move(tools)});
      return true;
    }
    if (path.empty()) {
      *error = s.source_path + ": fakes.llm.script: the fake LLM needs a script (see scenarios/README.md)";
      return false;
    }
    std::shared_ptr<const fakes::LlmScript>& script = by_path[path];
    if (!script) {
      auto loaded = std::make_shared<fakes::LlmScript>();
      if (!fakes::LoadLlmScript(path, loaded.get(), error)) return false;
      script = std::move(loaded);
    }
    std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
    if (!load_tools(s, &tools)) return false;
    out.scenarios.push_back(PlannedScenario{&s, script, std::move(tools)});
    return true;
  };
  if (main.load.mix.empty()) {
    if (!add(main)) return false;
  } else {
    bool any_weight = false;
    for (size_t i = 0; i < main.load.mix.size(); ++i) {
      const MixEntry& entry = main.load.mix[i];
      if (!entry.scenario) {
        *error = main.source_path + ": load.mix." + std::to_string(i) + ": " + entry.scenario_path +
                 " was not loaded";
        return false;
      }
      any_weight = any_weight || entry.weight > 0;
      if (!add(*entry.scenario)) return false;
    }
    if (!any_weight) {
      *error = main.source_path + ": load.mix: no entry has a positive weight";
      return false;
    }
  }
  *plan = std::move(out);
  return true;
}

RunResult RunScenario(const RunPlan& plan, const RunOptions& options, Store& store) {
  const Scenario& main = *plan.main;
  const size_t expected = main.load.mix.empty() ? 1 : main.load.mix.size();
  if (plan.scenarios.size() != expected) {
    throw std::invalid_argument("RunPlan: " + std::to_string(plan.scenarios.size()) +
                                " scenarios for " + std::to_string(expected) + " (see MakeRunPlan)");
  }
  std::string workers_note;
  if (const int workers = EffectiveWorkers(plan, options, &workers_note); workers > 1) {
    return RunOnWorkers(plan, options, store, workers);
  }
  VirtualEngine virtual_engine;
  RunEngine& engine = options.engine ? *options.engine : virtual_engine;
  RunInfo info;
  info.seed = options.seed;
  info.mode = engine.mode();
  info.scenario = options.scenario_arg;
  info.config_json = ConfigJson(main, options, engine);
  const int64_t run_id = store.BeginRun(info);
  LoadRun run(plan, options, store, run_id, engine);
  std::exception_ptr error;
  std::string reason;
  try {
    RunResult result = run.Execute();
    result.workers_note = workers_note;
    return result;
  } catch (const std::exception& e) {
    error = std::current_exception();
    reason = e.what();
  } catch (...) {
    error = std::current_exception();
    reason = "unknown exception";
  }
  // Marked failed before the error passes on: the calls the store still buffers and the outcome
  // commit together (one more lock wait at most).
  try {
    run.MarkFailed(reason);
  } catch (const StoreError& e) {
    if (!RunMarked(store, run_id)) {
      throw StoreError("run " + std::to_string(run_id) + " failed (" + reason +
                           ") and could not be marked failed, so it still says 'running': " +
                           e.what(),
                       e.sqlite_code());
    }
  }
  std::rethrow_exception(error);
}

RunResult RunScenario(const Scenario& scenario, const fakes::LlmScript& script,
                      const RunOptions& options, Store& store) {
  if (!scenario.load.mix.empty()) {
    throw std::invalid_argument("RunScenario: " + scenario.name + " has a mix: use MakeRunPlan");
  }
  RunPlan plan;
  plan.main = &scenario;
  plan.scenarios.push_back(
      PlannedScenario{&scenario, std::make_shared<const fakes::LlmScript>(script), nullptr});
  return RunScenario(plan, options, store);
}

}  // namespace callsim::harness
