#include "harness/run/load_run.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "agent/postcall/postcall_queue.h"
#include "agent/runtime/check.h"
#include "harness/run/call_rows.h"
#include "harness/run/sim_call.h"

namespace callsim::harness {
namespace {

std::shared_ptr<fakes::CapacityLimiter> MakeLimiter(agent::Scheduler& scheduler, const CapacitySpec& c) {
  return fakes::MakeCapacityLimiter(scheduler, c.max_concurrent, c.queue, c.queue_timeout_ms,
                                    c.rate_limit_per_s);
}

// A part's limiters in kProviderNames order (stt, llm, tts); null where unlimited.
std::array<fakes::CapacityLimiter*, 3> ByProvider(const fakes::ProviderLimiters& l) {
  return {l.stt.get(), l.llm.get(), l.tts.get()};
}

// One limited provider's use, as the run's merge state and capacity metrics take it.
void AddProviderUse(const char* provider, const fakes::CapacityLimiter* limiter,
                    std::vector<ProviderUse>* out) {
  if (limiter == nullptr) return;
  out->push_back(ProviderUse{provider, limiter->config(), limiter->stats(), limiter->log()});
}

}  // namespace

// A call on a lane: the SimCall, and the lane it runs on, released when the call goes.
class VirtualEngine::LaneCall final : public RunCall {
 public:
  LaneCall(VirtualEngine& engine, Lane& lane, std::unique_ptr<SimCall> call)
      : engine_(engine), lane_(lane), call_(std::move(call)) {}
  ~LaneCall() override {
    call_.reset();
    lane_.released = true;
    if (!engine_.running_) engine_.DropReleased();
  }
  void RecordAudio(int64_t max_samples) override { call_->RecordAudio(max_samples); }
  void Start() override { call_->Start(); }
  void End(const std::string& reason, CallStatus status) override { call_->End(reason, status); }
  bool ended() const override { return call_->ended(); }

 private:
  VirtualEngine& engine_;
  Lane& lane_;
  std::unique_ptr<SimCall> call_;
};

VirtualEngine::~VirtualEngine() = default;

std::unique_ptr<RunCall> VirtualEngine::MakeCall(const PlannedScenario& planned, int call_id,
                                                 const agent::Rng& run_rng,
                                                 const CallServices& services,
                                                 RunCall::FinishedFn on_finished) {
  if (!lanes_) {
    return std::make_unique<SimCall>(scheduler_, *planned.scenario, *planned.script, call_id,
                                     run_rng, services, std::move(on_finished));
  }
  Lane& lane = *lane_list_.emplace_back(std::make_unique<Lane>(scheduler_.NowUs()));
  CallServices own = services;
  if (services.own_limiters) own.limiters = services.own_limiters(lane.scheduler);
  return std::make_unique<LaneCall>(
      *this, lane,
      std::make_unique<SimCall>(lane.scheduler, *planned.scenario, *planned.script, call_id,
                                run_rng, own, std::move(on_finished)));
}

bool VirtualEngine::UseLanes() {
  lanes_ = true;
  return true;
}

bool VirtualEngine::RunLanes(int64_t until_us, const std::atomic<bool>* abort) {
  scheduler_.RunBefore(until_us);  // arrivals: each makes its lane, which runs below
  running_ = true;
  bool whole = true;
  for (size_t i = 0; i < lane_list_.size() && whole; ++i) {
    if (!lane_list_[i]->released) lane_list_[i]->scheduler.RunBefore(until_us);
    whole = abort == nullptr || !abort->load(std::memory_order_relaxed);
  }
  running_ = false;
  DropReleased();
  return whole;
}

void VirtualEngine::Settle() {
  if (!lanes_) {
    scheduler_.RunUntil(scheduler_.NowUs());
    return;
  }
  // On lanes the run's own clock holds only arrivals and the end bound: neither is settling.
  running_ = true;
  for (size_t i = 0; i < lane_list_.size(); ++i) {
    Lane& lane = *lane_list_[i];
    if (!lane.released) lane.scheduler.RunUntil(lane.scheduler.NowUs());
  }
  running_ = false;
  DropReleased();
}

// A released lane's tasks are gone with it: nothing of its call is left for them to touch.
void VirtualEngine::DropReleased() {
  std::erase_if(lane_list_, [](const std::unique_ptr<Lane>& lane) { return lane->released; });
}

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

LoadRun::LoadRun(const RunPlan& plan, const RunOptions& options, CallSink sink, int64_t run_id,
                 RunEngine& engine)
    : plan_(plan), load_(plan.main->load), options_(options), sink_(sink), run_id_(run_id),
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

RunResult ResultOf(int64_t run_id, const FinishedRun& finished, const std::vector<RunPart>& parts,
                   const std::vector<const LoadRun*>& runs) {
  RunResult result;
  result.run_id = run_id;
  result.status = finished.status == "aborted" ? RunStatus::kAborted : RunStatus::kCompleted;
  result.event_log_hash = finished.event_log_hash;
  result.calls = static_cast<int>(finished.calls);
  result.calls_passed = static_cast<int>(finished.calls_passed);
  result.calls_not_started = static_cast<int>(finished.calls_not_started);
  result.thresholds = finished.thresholds;
  result.lateness_p99_ms = finished.lateness_p99_ms;
  result.saturated = finished.saturated;
  result.exit_code = finished.exit_code;
  for (const RunPart& part : parts) {
    result.calls_dropped += static_cast<int>(part.metrics.Observed("dropped_calls_count"));
    result.calls_aborted += static_cast<int>(part.metrics.Observed("aborted_calls_count"));
  }
  result.lanes = !runs.empty();
  for (const LoadRun* run : runs) {
    result.lanes = result.lanes && run->lanes();
    result.peak_active_calls += run->peak_active();
    result.virtual_end_us = std::max(result.virtual_end_us, run->virtual_end_us());
    result.stt_capacity += run->capacity("stt");
    result.llm_capacity += run->capacity("llm");
    result.tts_capacity += run->capacity("tts");
  }
  return result;
}

fakes::CapacityStats LoadRun::capacity(const char* provider) const {
  const std::string p = provider;
  if (lanes_) {
    for (size_t i = 0; i < 3; ++i) {
      if (p == kProviderNames[i]) return lane_uses_[i].stats;  // zero when unlimited
    }
    return {};
  }
  const fakes::CapacityLimiter* limiter = p == "stt"   ? limiters_.stt.get()
                                          : p == "llm" ? limiters_.llm.get()
                                                       : limiters_.tts.get();
  return limiter ? limiter->stats() : fakes::CapacityStats{};
}

RunPart LoadRun::Execute() {
  // Every call's arrival is known up front; this part holds its slice's (all of them unsharded).
  const std::vector<int64_t> all_arrivals_us = ArrivalTimesUs(load_, run_rng_);
  for (size_t id = 0; id < all_arrivals_us.size(); ++id) {
    last_arrival_us_ = std::max(last_arrival_us_, all_arrivals_us[id]);
    if (!options_.shard.Holds(static_cast<int>(id))) continue;
    arrivals_us_.push_back(all_arrivals_us[id]);
    arrival_ids_.push_back(static_cast<int>(id));
  }
  call_hashes_.assign(all_arrivals_us.size(), 0);
  calls_.resize(all_arrivals_us.size());
  lane_limiters_.resize(all_arrivals_us.size());
  end_us_ = EndBoundUs();
  scheduler_.At(end_us_, [this] { stop_ = true; });
  next_progress_us_ = std::llround(std::max(0.001, options_.progress_interval_s) * 1e6);
  lanes_ = LanesFit() && engine_.UseLanes();
  ScheduleArrival(0);
  const bool aborted = lanes_ ? RunLanes() : RunLoop();
  const bool at_duration = stop_ && load_.duration_s > 0 &&
                           end_us_ == std::llround(load_.duration_s * 1e6);
  if (aborted) {
    EndRemaining("run aborted", CallStatus::kAborted);
  } else {
    EndRemaining(at_duration ? "run duration reached" : "run time limit", CallStatus::kDropped);
  }
  AdmitReports(std::numeric_limits<int64_t>::max());  // the last calls' reports
  // On lanes the run's clock stops at a window's end; the run ended with its last call.
  virtual_end_us_ = lanes_ && !aborted && !stop_ ? last_end_us_ : scheduler_.NowUs();
  if (lanes_) {
    peak_active_ = PeakOfSpans();
    FinishLaneUses();
  }
  {
    std::unique_lock<std::mutex> lock;
    if (sink_.lock) lock = std::unique_lock<std::mutex>(*sink_.lock);
    sink_.store.Flush();
  }
  RunPart part;
  part.state = State();
  part.metrics = metrics_;
  part.call_hashes = call_hashes_;
  part.reported_calls = reported_calls_;
  part.reports_written = reports_written_;
  part.reports_dropped = reports_dropped_;
  if (const Histogram* lateness = engine_.lateness()) {
    part.lateness = *lateness;
    part.lateness_bound_ms = plan_.main->realtime.lateness_bound_ms;
  }
  part.aborted = aborted;
  Report(/*finished=*/true);
  return part;
}

MergeState LoadRun::State() const {
  MergeState s;
  s.arrivals = static_cast<int64_t>(call_hashes_.size());
  s.shard = options_.shard;
  s.counters = metrics_.CountersJson();
  if (lanes_) {
    const auto shared = ByProvider(limiters_);
    for (size_t i = 0; i < 3; ++i) {
      if (shared[i] != nullptr) s.providers.push_back(lane_uses_[i]);
    }
  } else {
    AddProviderUse("stt", limiters_.stt.get(), &s.providers);
    AddProviderUse("llm", limiters_.llm.get(), &s.providers);
    AddProviderUse("tts", limiters_.tts.get(), &s.providers);
  }
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

// The rows are built outside the lock; only the store's write is under it.
void LoadRun::StoreRecord(CallRecord record) {
  StoreCall(std::move(record), run_id_, sink_.store, sink_.lock);
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
  if (lanes_) {
    services.own_limiters = [this, id](agent::Scheduler& clock) {
      fakes::ProviderLimiters& own = lane_limiters_[static_cast<size_t>(id)];
      const FakesSpec& fakes = plan_.main->fakes;
      own.stt = MakeLimiter(clock, fakes.stt.capacity);
      own.llm = MakeLimiter(clock, fakes.llm.capacity);
      own.tts = MakeLimiter(clock, fakes.tts.capacity);
      return own;
    };
  }
  services.breakers = &breakers_;
  services.metrics = options_.agent_metrics;
  services.tools = planned.tools;
  calls_[static_cast<size_t>(id)] = engine_.MakeCall(
      planned, id, run_rng_, services, [this](CallRecord r) { OnFinished(std::move(r)); });
  ++active_;
  CALLSIM_CHECK(active_ <= options_.max_active_calls);
  peak_active_ = std::max(peak_active_, active_);
  if (lanes_) span_edges_.emplace_back(scheduler_.NowUs(), +1);
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
  StoreRecord(std::move(r));
}

void LoadRun::OnFinished(CallRecord record) {
  const size_t id = static_cast<size_t>(record.call_id);
  // A record from a call this run started and has not heard from yet: the counts stay true.
  CALLSIM_CHECK(id < calls_.size() && calls_[id] != nullptr && active_ > 0);
  call_us_sum_ += record.ended_us - record.started_us;
  call_hashes_[id] = record.event_hash;
  if (lanes_) {
    span_edges_.emplace_back(record.ended_us, -1);
    last_end_us_ = std::max(last_end_us_, record.ended_us);
  }
  metrics_.AddCall(record);
  if (engine_.builds_reports()) EnqueueReport(record);
  record.recording = recordings_.Keep(record);  // written before the row that names it
  record.audio.reset();
  StoreRecord(std::move(record));
  calls_[id].reset();
  --active_;
  if (lanes_) FoldLaneLimiters(id);
}

// A call on a lane is gone (its tickets given back): what its own limiters saw joins the part's.
void LoadRun::FoldLaneLimiters(size_t id) {
  fakes::ProviderLimiters& own = lane_limiters_[id];
  const auto limiters = ByProvider(own);
  auto append = [](std::vector<int64_t>& into, const std::vector<int64_t>& more) {
    into.insert(into.end(), more.begin(), more.end());
  };
  for (size_t i = 0; i < 3; ++i) {
    if (limiters[i] == nullptr) continue;
    ProviderUse& use = lane_uses_[i];
    use.stats += limiters[i]->stats();
    append(use.log.requests_us, limiters[i]->log().requests_us);
    append(use.log.grants_us, limiters[i]->log().grants_us);
    append(use.log.releases_us, limiters[i]->log().releases_us);
  }
  own = fakes::ProviderLimiters{};
}

// The calls' own limiters as one use per provider: the logs in time order, the peak in service
// that of the logs together (one call's limiter never saw the others' requests).
void LoadRun::FinishLaneUses() {
  const auto shared = ByProvider(limiters_);
  for (size_t i = 0; i < 3; ++i) {
    if (shared[i] == nullptr) continue;
    ProviderUse& use = lane_uses_[i];
    use.provider = kProviderNames[i];
    use.config = shared[i]->config();  // every call's own limiter had the same
    std::sort(use.log.requests_us.begin(), use.log.requests_us.end());
    std::sort(use.log.grants_us.begin(), use.log.grants_us.end());
    std::sort(use.log.releases_us.begin(), use.log.releases_us.end());
    use.stats.peak_in_service = fakes::PeakInService(use.log.grants_us, use.log.releases_us);
  }
}

void LoadRun::EnqueueReport(const CallRecord& r) {
  ended_.push_back(EndedCall{r.ended_us, r.call_id, ReportInput(r)});
}

void LoadRun::AdmitReports(int64_t before_us) {
  // On one clock the calls end in time order; on lanes, in each window, lane by lane.
  std::stable_sort(ended_.begin(), ended_.end(), [](const EndedCall& a, const EndedCall& b) {
    return a.ended_us != b.ended_us ? a.ended_us < b.ended_us : a.call_id < b.call_id;
  });
  auto end = std::find_if(ended_.begin(), ended_.end(),
                          [&](const EndedCall& c) { return c.ended_us >= before_us; });
  if (end == ended_.begin()) return;
  const agent::PriceTable prices = agent::PostCallQueueConfig{}.prices;
  for (auto it = ended_.begin(); it != end; ++it) {
    const bool accepted = options_.shard.whole() ? admission_.Offer(it->ended_us) : true;
    if (accepted) {
      CallReportRow row = ReportRow(run_id_, it->call_id, agent::BuildCallReport(it->input, prices));
      {
        std::unique_lock<std::mutex> lock;
        if (sink_.lock) lock = std::unique_lock<std::mutex>(*sink_.lock);
        sink_.store.AddCallReport(std::move(row));
      }
      reported_calls_.emplace_back(it->ended_us, it->call_id);
      ++reports_written_;
    } else {
      ++reports_dropped_;
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

// Lanes need calls whose sharing can be settled: no recording (its bound counts across calls) and
// an active-call bound that no arrival can reach. Provider capacity and circuit breakers are
// checked after the run (runner.cc, LanesCoupling): each call had limiters of the full size of
// its own, and if their logs together never exceed the shared limiter and the breakers' failures
// stay under the threshold, nothing shared changed any call.
bool LoadRun::LanesFit() const {
  return !recordings_.on() && options_.call_lanes &&
         arrivals_us_.size() <= static_cast<size_t>(std::max(0, options_.max_active_calls));
}

// The lane loop: every window the arrivals due in it start their calls, then every call runs to
// the window's end, one after another. The abort flag is read after every call's turn.
bool LoadRun::RunLanes() {
  while (!stop_ && (next_arrival_ < arrivals_us_.size() || active_ > 0)) {
    if (options_.abort && options_.abort->load(std::memory_order_relaxed)) return true;
    const int64_t now_us = scheduler_.NowUs();
    if (now_us >= end_us_) {
      engine_.RunOne();  // the end bound's task: the first due then, as on one clock
      continue;
    }
    const int64_t until_us = std::min(end_us_, (now_us / kLaneWindowUs + 1) * kLaneWindowUs);
    // Stopped by an abort part way: the calls not yet run this window end at its start.
    if (!engine_.RunLanes(until_us, options_.abort)) return true;
    if (!ended_.empty()) AdmitReports(until_us);
    if (options_.progress && scheduler_.NowUs() >= next_progress_us_) Report(false);
  }
  return false;
}

// The most calls active at once, from when each started and ended; a call that ends at the
// instant another starts is not counted with it.
int LoadRun::PeakOfSpans() const {
  std::vector<std::pair<int64_t, int>> edges = span_edges_;
  std::sort(edges.begin(), edges.end());  // at one instant, ends (-1) before starts (+1)
  int active = 0, peak = 0;
  for (const auto& [at_us, delta] : edges) {
    active += delta;
    peak = std::max(peak, active);
  }
  return peak;
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
  std::unique_lock<std::mutex> lock;
  if (sink_.lock) lock = std::unique_lock<std::mutex>(*sink_.lock);
  sink_.store.FinishRun(run_id_, RunOutcome{std::string(kRunStatusNames.Name(RunStatus::kFailed)),
                                       RunHash(call_hashes_), 1, why, not_started});
}

void LoadRun::Report(bool finished) {
  const int64_t now_us = finished ? virtual_end_us_ : scheduler_.NowUs();
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

}  // namespace callsim::harness
