#include "fakes/tools/fake_tool_backends.h"

namespace callsim::fakes {

FakeToolBackendMap MakeFakeToolBackends(agent::Scheduler& scheduler, const agent::Rng& rng,
                                        const std::map<std::string, FakeToolBackendSpec>& specs) {
  FakeToolBackendMap backends;
  for (const auto& [name, spec] : specs) {
    backends.emplace(name, std::make_unique<FakeToolBackend>(scheduler, rng.Fork("tools/" + name),
                                                             name, spec));
  }
  return backends;
}

agent::ToolBackends ToolBackendsView(const FakeToolBackendMap& backends) {
  agent::ToolBackends view;
  for (const auto& [name, backend] : backends) view.emplace(name, backend.get());
  return view;
}

int TotalExecutedActions(const FakeToolBackendMap& backends) {
  int total = 0;
  for (const auto& [name, backend] : backends) total += backend->executed_actions();
  return total;
}

}  // namespace callsim::fakes
