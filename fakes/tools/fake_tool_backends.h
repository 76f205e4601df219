// The fake tool back ends of one simulated call, built from their specs by name, and the
// agent's view of them (agent::ToolBackends). Each back end draws from its own Rng stream,
// forked from the call's by "tools/<name>", so adding a back end never changes another's draws.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/tools/tool_backend.h"
#include "fakes/tools/fake_tool_backend.h"

namespace callsim::fakes {

// Owned back ends by name (std::map: a stable order).
using FakeToolBackendMap = std::map<std::string, std::unique_ptr<FakeToolBackend>>;

// One FakeToolBackend per entry of `specs`, named by its key. Specs should be valid
// (ValidateFakeToolBackendSpec). `scheduler` must outlive the back ends.
FakeToolBackendMap MakeFakeToolBackends(agent::Scheduler& scheduler, const agent::Rng& rng,
                                        const std::map<std::string, FakeToolBackendSpec>& specs);

// The agent's view: the same back ends, not owned. Valid while `backends` lives unchanged.
agent::ToolBackends ToolBackendsView(const FakeToolBackendMap& backends);

// Side effects performed by all of them (FakeToolBackend::executed_actions).
int TotalExecutedActions(const FakeToolBackendMap& backends);

}  // namespace callsim::fakes
