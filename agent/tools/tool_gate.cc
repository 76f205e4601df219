#include "agent/tools/tool_gate.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "agent/runtime/rng.h"
#include "agent/tools/tool_schema.h"

namespace callsim::agent {
namespace {

using Json = nlohmann::json;

// Outcomes remembered per call, per map: far beyond max_steps_per_turn times a call's turns.
// Beyond it new outcomes are not remembered; the back end's idempotency key (the same for the
// same destructive request) still stops a second action.
constexpr size_t kMaxRemembered = 256;
// A day: keeps time arithmetic far from int64 overflow.
constexpr double kMaxTimeoutMs = 86'400'000;

int64_t TimeoutUs(double timeout_ms) {
  const double ms = std::isnan(timeout_ms) ? 0 : std::clamp(timeout_ms, 0.0, kMaxTimeoutMs);
  return static_cast<int64_t>(std::llround(ms * 1000.0));
}

ToolOutcome Failure(std::string error) {
  ToolOutcome outcome;
  outcome.error = std::move(error);
  return outcome;
}

// valijson reads every integer as int64_t: one above INT64_MAX would wrap to a negative number
// and could pass a "maximum". As a double it keeps its magnitude. Iterative, because arguments
// are untrusted and may nest deeply.
void WidenHugeIntegers(Json* root) {
  std::vector<Json*> stack{root};
  while (!stack.empty()) {
    Json* node = stack.back();
    stack.pop_back();
    if (node->is_number_unsigned() &&
        node->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *node = static_cast<double>(node->get<uint64_t>());
    } else if (node->is_structured()) {
      for (Json& child : *node) stack.push_back(&child);
    }
  }
}

ToolDecision Block(ToolDecision decision, std::string reason) {
  decision.verdict = ToolVerdict::kBlock;
  decision.reason = std::move(reason);
  return decision;
}

}  // namespace

const char* ToolVerdictName(ToolVerdict verdict) {
  switch (verdict) {
    case ToolVerdict::kRun:
      return "run";
    case ToolVerdict::kConfirm:
      return "confirm";
    case ToolVerdict::kBlock:
      return "block";
    case ToolVerdict::kReuse:
      return "reuse";
  }
  return "?";
}

struct ToolGate::Compiled {
  explicit Compiled(const Json& parameters) : schema(parameters) {}
  ToolSchema schema;
};

// One Run(): delivers exactly one outcome on the Scheduler unless stopped first, and does the
// breaker's and the gate's bookkeeping for it.
class ToolGate::Running final : public ToolInvocation {
 public:
  using Done = std::function<void(const ToolOutcome&)>;

  Running(ToolGate* gate, uint64_t id, Done done)
      : gate_(gate), scheduler_(gate->scheduler_), id_(id), done_(std::move(done)) {}
  ~Running() override { Stop(); }
  void Cancel() override { Stop(); }

  // An outcome known now (reuse, block, no back end, open breaker): delivered after 0 ms.
  void FinishSoon(ToolOutcome outcome) {
    soon_ = scheduler_.After(0, [this, outcome = std::move(outcome)] {
      soon_ = kNoTask;
      Finish(outcome, Source::kGate);
    });
  }

  // Calls the back end, which `breaker` let through (`trial`: as its half-open trial).
  void Start(ToolBackend& backend, CircuitBreaker& breaker, bool trial, const ToolCallRequest& call,
             const ToolSpec& spec, const Json& args, const std::string& request_key,
             const std::string& idempotency_key) {
    breaker_ = &breaker;
    trial_ = trial;
    call_id_ = call.id;
    if (spec.destructive) request_key_ = request_key;
    invoking_ = true;
    backend_call_ = backend.Invoke(spec.name, args, idempotency_key,
                                   [this](const ToolOutcome& outcome) { OnAnswer(outcome); });
    invoking_ = false;
    timeout_ = scheduler_.After(TimeoutUs(spec.timeout_ms), [this] {
      timeout_ = kNoTask;
      Finish(Failure("timeout"), Source::kTimeout);
    });
  }

  // The gate is going away: stop without a word, and never touch the gate again.
  void Detach() {
    Stop();
    gate_ = nullptr;
  }

 private:
  enum class Source { kGate, kBackend, kTimeout };

  void OnAnswer(const ToolOutcome& outcome) {
    if (invoking_) {
      // The back end answered inside Invoke, against its contract; keep ours (never synchronous).
      soon_ = scheduler_.After(0, [this, outcome] {
        soon_ = kNoTask;
        Finish(outcome, Source::kBackend);
      });
      return;
    }
    Finish(outcome, Source::kBackend);
  }

  void Finish(ToolOutcome outcome, Source source);
  void CancelTimers();
  void Stop();

  ToolGate* gate_;
  Scheduler& scheduler_;
  const uint64_t id_;
  Done done_;  // empty once finished or stopped
  CircuitBreaker* breaker_ = nullptr;
  bool trial_ = false;
  bool invoking_ = false;
  std::unique_ptr<ToolInvocation> backend_call_;
  TaskId soon_ = kNoTask;
  TaskId timeout_ = kNoTask;
  std::string call_id_;
  std::string request_key_;  // destructive tools only
};

void ToolGate::Running::CancelTimers() {
  if (soon_ != kNoTask) scheduler_.Cancel(soon_);
  if (timeout_ != kNoTask) scheduler_.Cancel(timeout_);
  soon_ = timeout_ = kNoTask;
}

void ToolGate::Running::Finish(ToolOutcome outcome, Source source) {
  if (!done_) return;
  CancelTimers();
  const int64_t now_us = scheduler_.NowUs();
  if (source == Source::kTimeout) {
    if (backend_call_) backend_call_->Cancel();
    breaker_->OnFailure(now_us);
  } else if (source == Source::kBackend) {
    if (outcome.ok) {
      breaker_->OnSuccess(now_us);
      gate_->Remember(call_id_, request_key_, outcome);
    } else if (outcome.rejected) {
      breaker_->OnSuccess(now_us);  // a refusal is an answer from a working back end
    } else {
      breaker_->OnFailure(now_us);
    }
  }
  gate_->running_.erase(id_);
  Done done = std::move(done_);
  done_ = nullptr;
  done(outcome);  // may destroy *this: nothing after it
}

void ToolGate::Running::Stop() {
  if (!done_) return;
  done_ = nullptr;
  CancelTimers();
  if (backend_call_) backend_call_->Cancel();
  // A cancelled call counts neither way, but a half-open trial must not stay taken forever.
  if (trial_ && breaker_) breaker_->ReleaseTrial();
  if (gate_) gate_->running_.erase(id_);
}

ToolGate::ToolGate(Scheduler& scheduler, ToolGateConfig config, const ToolBackends& backends,
                   CircuitBreakers& breakers)
    : scheduler_(scheduler), config_(std::move(config)), backends_(backends), breakers_(breakers) {
  compiled_.reserve(config_.tools.size());
  for (const ToolSpec& spec : config_.tools) {
    compiled_.push_back(std::make_unique<Compiled>(spec.parameters));
  }
}

ToolGate::~ToolGate() {
  std::map<uint64_t, Running*> running = std::move(running_);
  running_.clear();
  for (auto& [id, run] : running) run->Detach();
}

void ToolGate::BeginTurn() { steps_this_turn_ = 0; }

const ToolSpec* ToolGate::Find(std::string_view name) const {
  for (const ToolSpec& spec : config_.tools) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool ToolGate::Allowed(const std::string& name) const {
  return config_.allowlist.empty() ||
         std::find(config_.allowlist.begin(), config_.allowlist.end(), name) !=
             config_.allowlist.end();
}

std::string ToolGate::RequestKey(const ToolSpec& spec, const nlohmann::json& args) {
  return spec.name + " " + args.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ToolDecision ToolGate::Check(const ToolCallRequest& call) {
  ++steps_this_turn_;
  ToolDecision decision;
  decision.spec = Find(call.name);
  if (steps_this_turn_ > config_.max_steps_per_turn) return Block(decision, "max_tool_steps");
  if (call.arguments_json.size() > kMaxToolArgumentsBytes) {
    return Block(decision, "arguments_too_long");
  }
  Json args = Json::parse(call.arguments_json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) return Block(decision, "malformed_json");
  if (!args.is_object()) return Block(decision, "arguments_not_object");
  WidenHugeIntegers(&args);
  decision.args = std::move(args);
  if (!decision.spec) return Block(decision, "unknown_tool");
  if (!Allowed(decision.spec->name)) return Block(decision, "not_allowed");
  const Compiled& compiled = *compiled_[static_cast<size_t>(decision.spec - config_.tools.data())];
  if (std::string why = compiled.schema.Check(decision.args); !why.empty()) {
    return Block(decision, "schema: " + why);
  }
  return Decide(call, std::move(decision));
}

// The arguments are valid: reuse what already ran, else ask the breaker, else run or confirm.
ToolDecision ToolGate::Decide(const ToolCallRequest& call, ToolDecision decision) {
  const ToolSpec& spec = *decision.spec;
  const char* reason = "";
  if (const ToolOutcome* first = Remembered(call, spec, decision.args, &reason)) {
    decision.verdict = ToolVerdict::kReuse;
    decision.reason = reason;
    decision.reused = *first;
    return decision;
  }
  if (!breakers_.For(spec.backend).WouldAllow(scheduler_.NowUs())) {
    return Block(decision, "circuit_open");
  }
  decision.verdict = spec.destructive ? ToolVerdict::kConfirm : ToolVerdict::kRun;
  return decision;
}

const ToolOutcome* ToolGate::Remembered(const ToolCallRequest& call, const ToolSpec& spec,
                                        const nlohmann::json& args, const char** reason) const {
  if (!call.id.empty()) {
    if (auto it = by_call_id_.find(call.id); it != by_call_id_.end()) {
      *reason = "duplicate_call_id";
      return &it->second;
    }
  }
  if (spec.destructive) {
    if (auto it = by_request_.find(RequestKey(spec, args)); it != by_request_.end()) {
      *reason = "duplicate_request";
      return &it->second;
    }
  }
  return nullptr;
}

void ToolGate::Remember(const std::string& call_id, const std::string& request_key,
                        const ToolOutcome& outcome) {
  if (!call_id.empty() && by_call_id_.size() < kMaxRemembered) {
    by_call_id_.try_emplace(call_id, outcome);
  }
  if (!request_key.empty() && by_request_.size() < kMaxRemembered) {
    by_request_.try_emplace(request_key, outcome);
  }
}

// The same destructive request always gets the same key (a retry after a timeout cannot act
// twice); other calls are keyed by their call id. The arguments are hashed, not spelled out, so
// a card number never travels in a key.
std::string ToolGate::IdempotencyKey(const ToolCallRequest& call, const ToolSpec& spec,
                                     const std::string& request_key) {
  std::string key = config_.idempotency_scope + "/" + spec.name + "/";
  if (spec.destructive) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016" PRIx64, Fnv1a64(request_key));
    return key + "request:" + hex;
  }
  if (!call.id.empty()) return key + "id:" + call.id;
  return key + "run:" + std::to_string(runs_started_);
}

std::unique_ptr<ToolInvocation> ToolGate::Run(const ToolCallRequest& call,
                                              const ToolDecision& decision,
                                              std::function<void(const ToolOutcome&)> done) {
  const uint64_t id = ++runs_started_;
  auto run = std::make_unique<Running>(this, id, std::move(done));
  running_.emplace(id, run.get());
  const ToolSpec* spec = decision.spec;
  if (decision.verdict == ToolVerdict::kReuse) {
    run->FinishSoon(decision.reused);
    return run;
  }
  if (decision.verdict == ToolVerdict::kBlock || !spec) {
    run->FinishSoon(Failure(decision.reason.empty() ? "blocked" : decision.reason));
    return run;
  }
  const char* reason = "";
  if (const ToolOutcome* first = Remembered(call, *spec, decision.args, &reason)) {
    run->FinishSoon(*first);  // it succeeded since the decision: never act twice
    return run;
  }
  const auto backend = backends_.find(spec->backend);
  if (backend == backends_.end() || backend->second == nullptr) {
    run->FinishSoon(Failure("no_backend"));
    return run;
  }
  CircuitBreaker& breaker = breakers_.For(spec->backend);
  const int64_t now_us = scheduler_.NowUs();
  const bool trial = breaker.state(now_us) != BreakerState::kClosed;
  if (!breaker.Allow(now_us)) {
    run->FinishSoon(Failure("circuit_open"));
    return run;
  }
  const std::string request_key = RequestKey(*spec, decision.args);
  run->Start(*backend->second, breaker, trial, call, *spec, decision.args, request_key,
             IdempotencyKey(call, *spec, request_key));
  return run;
}

}  // namespace callsim::agent
