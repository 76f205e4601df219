// One request to a fake provider from arrival to its last byte, as the OpenAI-shaped servers
// handle it: it holds itself alive until it stops, watches its connection, asks the shared
// capacity for a slot, draws its fate from the fault model, and gives everything back once. The
// API's part (the chat completion, the speech) is a subclass. Everything runs on the request's
// worker thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/server/http_server.h"
#include "fakes/faults/fault_spec.h"
#include "fakes/wire/provider_state.h"
#include "fakes/wire/shared_capacity.h"

namespace callsim::fakes::wire {

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  virtual ~Exchange() = default;

  // Holds itself until Stop, stops when the connection goes, then asks `capacity` (null: no
  // limit) for a slot: Admitted() or Refused(error) follows on a later turn (at once without a
  // limit). Call once, right after making the shared object.
  void Start(SharedCapacity* capacity);

 protected:
  // `counters` and `capacity` are the API's, in `state`; `who` names the fake in error messages
  // ("callsim fake LLM").
  Exchange(std::shared_ptr<FakeProviders::State> state,
           const FakeProviders::State::ApiCounters& counters, const CapacityConfig& capacity,
           std::string who, std::shared_ptr<agent::HttpResponder> responder);

  virtual void Admitted() = 0;
  // Called once from Stop: cancel the API's own work (its fake's stream). Must not touch the
  // scheduler after returning.
  virtual void OnStop() {}

  // The request's fate under `faults`. kNone and kDrop proceed (true; a drop sets *drop_after,
  // the events still delivered before the connection is cut). An injected error answers 500, an
  // outage 503, in OpenAI's shape after the drawn delay; a timeout never answers (the client
  // gives up, or the server's idle bound closes it).
  bool Fate(const FaultSpec& faults, agent::Rng rng, int drop_max, int* drop_after);

  // A whole JSON answer, then Stop.
  void Finish(int status, std::string body, agent::HttpHeaders headers);
  // The answer is complete, cut or no longer wanted: the API's work stops, the slot goes back,
  // and the object lets go of itself on a later turn. Idempotent.
  void Stop();

  bool done() const { return done_; }
  agent::HttpResponder& responder() { return *responder_; }
  agent::Scheduler& scheduler() { return scheduler_; }
  FakeProviders::State& state() { return *state_; }

 private:
  std::shared_ptr<FakeProviders::State> state_;
  const FakeProviders::State::ApiCounters& counters_;
  const CapacityConfig& capacity_;
  const std::string who_;
  std::shared_ptr<agent::HttpResponder> responder_;
  agent::Scheduler& scheduler_;
  std::unique_ptr<SharedCapacity::Claim> claim_;
  agent::TaskId pending_ = agent::kNoTask;
  std::shared_ptr<Exchange> self_;
  bool done_ = false;

  // A capacity refusal: 429 with Retry-After, as OpenAI answers one.
  void Refused(const std::string& error);
};

}  // namespace callsim::fakes::wire
