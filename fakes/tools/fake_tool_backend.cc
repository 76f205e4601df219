#include "fakes/tools/fake_tool_backend.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "fakes/tools/fake_tools.h"

namespace callsim::fakes {
namespace {

using agent::ToolOutcome;

ToolOutcome Failure(const char* error) {
  ToolOutcome outcome;
  outcome.error = error;
  return outcome;
}

std::string Number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string CheckRate(const char* field, double rate) {
  if (rate >= 0 && rate <= 1) return "";
  return std::string(field) + " must be in [0, 1] (got " + Number(rate) + ")";
}

using agent::MsToUs;

}  // namespace

std::string ValidateFakeToolBackendSpec(const FakeToolBackendSpec& spec) {
  const agent::LatencyModel& l = spec.latency;
  for (auto [field, ms] : {std::pair{"latency.p50_ms", l.p50_ms}, std::pair{"latency.p95_ms", l.p95_ms},
                           std::pair{"latency.max_ms", l.max_ms}}) {
    if (!(ms >= 0 && ms <= kMaxToolLatencyMs)) {
      return std::string(field) + " must be in [0, " + Number(kMaxToolLatencyMs) + "] (got " +
             Number(ms) + ")";
    }
  }
  if (std::string e = CheckRate("error_rate", spec.error_rate); !e.empty()) return e;
  if (std::string e = CheckRate("timeout_rate", spec.timeout_rate); !e.empty()) return e;
  if (spec.outages.size() > kMaxToolOutages) {
    return "outages: at most " + std::to_string(kMaxToolOutages) + " windows";
  }
  for (size_t i = 0; i < spec.outages.size(); ++i) {
    const ToolOutage& o = spec.outages[i];
    const std::string at = "outages[" + std::to_string(i) + "]: ";
    if (!(o.start_ms >= 0 && o.start_ms <= kMaxToolOutageMs)) {
      return at + "start_ms must be in [0, " + Number(kMaxToolOutageMs) + "]";
    }
    if (!(o.end_ms >= o.start_ms && o.end_ms <= kMaxToolOutageMs)) {
      return at + "end_ms must be in [start_ms, " + Number(kMaxToolOutageMs) + "]";
    }
  }
  return "";
}

// One Invoke(): answers once through the Scheduler unless cancelled, or never (a timeout).
class FakeToolBackend::Call final : public agent::ToolInvocation {
 public:
  using Done = std::function<void(const ToolOutcome&)>;
  Call(FakeToolBackend* backend, uint64_t id, Done done)
      : backend_(backend), id_(id), done_(std::move(done)) {}
  ~Call() override { Cancel(); }

  void Cancel() override {
    if (!done_ || !backend_) return;
    done_ = nullptr;
    if (task_ != agent::kNoTask) backend_->scheduler_.Cancel(task_);
    task_ = agent::kNoTask;
    ++backend_->stats_.cancelled;
    backend_->live_.erase(id_);
  }

  // The back end is going away: no answer, and no touching it again.
  void Detach() {
    Cancel();
    backend_ = nullptr;
  }

  // After `delay_us`: `immediate` when set (an outage), else the tool's answer.
  void AnswerAfter(int64_t delay_us, std::optional<ToolOutcome> immediate, std::string tool,
                   nlohmann::json args, std::string key, bool injected_error) {
    task_ = backend_->scheduler_.After(
        delay_us, [this, immediate = std::move(immediate), tool = std::move(tool),
                   args = std::move(args), key = std::move(key), injected_error] {
          task_ = agent::kNoTask;
          Answer(immediate ? *immediate : backend_->Execute(tool, args, key, injected_error));
        });
  }

 private:
  void Answer(const ToolOutcome& outcome) {
    FakeToolBackend& backend = *backend_;
    ++(outcome.ok ? backend.stats_.ok : backend.stats_.failed);
    backend.live_.erase(id_);
    Done done = std::move(done_);
    done_ = nullptr;
    done(outcome);  // may destroy *this: nothing after it
  }

  FakeToolBackend* backend_;
  const uint64_t id_;
  Done done_;
  agent::TaskId task_ = agent::kNoTask;
};

FakeToolBackend::FakeToolBackend(agent::Scheduler& scheduler, agent::Rng rng, std::string name,
                                 FakeToolBackendSpec spec)
    : scheduler_(scheduler), rng_(rng), name_(std::move(name)), spec_(std::move(spec)) {
  spec_.error_rate = std::isnan(spec_.error_rate) ? 0 : std::clamp(spec_.error_rate, 0.0, 1.0);
  spec_.timeout_rate = std::isnan(spec_.timeout_rate) ? 0 : std::clamp(spec_.timeout_rate, 0.0, 1.0);
}

FakeToolBackend::~FakeToolBackend() {
  std::map<uint64_t, Call*> live = std::move(live_);
  live_.clear();
  for (auto& [id, call] : live) call->Detach();
}

int FakeToolBackend::executed_actions(std::string_view tool) const {
  const auto it = executed_by_tool_.find(tool);
  return it == executed_by_tool_.end() ? 0 : it->second;
}

bool FakeToolBackend::InOutage(int64_t now_us) const {
  return std::any_of(spec_.outages.begin(), spec_.outages.end(), [&](const ToolOutage& o) {
    return now_us >= MsToUs(o.start_ms) && now_us < MsToUs(o.end_ms);
  });
}

std::unique_ptr<agent::ToolInvocation> FakeToolBackend::Invoke(
    const std::string& tool, const nlohmann::json& args, const std::string& idempotency_key,
    std::function<void(const ToolOutcome&)> done) {
  ++stats_.calls;
  // Always the same four draws, in this order.
  const int64_t latency_us = spec_.latency.DrawUs(rng_);
  const bool lost = rng_.Uniform() < spec_.timeout_rate;
  const bool injected_error = rng_.Uniform() < spec_.error_rate;
  const uint64_t id = ++calls_started_;
  auto call = std::make_unique<Call>(this, id, std::move(done));
  live_.emplace(id, call.get());
  if (InOutage(scheduler_.NowUs())) {
    ++stats_.unavailable;
    call->AnswerAfter(latency_us, Failure("unavailable"), "", nullptr, "", false);
  } else if (lost) {
    ++stats_.timeouts;  // never answered: the request was lost on its way, nothing is done
  } else {
    call->AnswerAfter(latency_us, std::nullopt, tool, args, idempotency_key, injected_error);
  }
  return call;
}

ToolOutcome FakeToolBackend::Execute(const std::string& tool, const nlohmann::json& args,
                                     const std::string& key, bool injected_error) {
  if (injected_error) {
    ++stats_.errors;
    return Failure("internal error");
  }
  // Only a tool that changes something can act twice, so only those are remembered by key.
  const bool acts = FakeToolChangesSomething(tool);
  if (acts && !key.empty()) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      ++stats_.replays;
      return it->second;
    }
    if (by_key_.size() >= kMaxIdempotencyKeys) return Failure("idempotency store full");
  }
  ToolOutcome outcome = RunFakeTool(name_, tool, args);
  if (!outcome.ok || !acts) return outcome;
  ++executed_actions_;
  ++executed_by_tool_[tool];
  if (!key.empty()) by_key_.emplace(key, outcome);
  return outcome;
}

}  // namespace callsim::fakes
