// --set overrides: each input line is one PATH=VALUE applied to a valid scenario, which then loads
// to a scenario or to errors located at the override.
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "harness/scenario/loader.h"

namespace {

constexpr const char* kBase = R"(name: fuzz_base
codec: pcmu
network:
  uplink: { delay_ms: 40, jitter_ms: 5, loss: 0.01 }
caller: { voice: default }
turns:
  - user: "where is my order"
    expect: { agent_says: { contains: order }, latency_ms: { max: 3000 } }
  - user: "thanks"
load: { callers: 2 }
thresholds: { turn_latency: ["p(95)<1500"] }
)";

constexpr size_t kMaxOverrides = 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> overrides;
  std::string_view rest = callsim::fuzz::AsText(data, size);
  while (!rest.empty() && overrides.size() < kMaxOverrides) {
    auto [line, after] = callsim::fuzz::SplitOnce(rest, "\n");
    overrides.emplace_back(line);
    rest = after;
  }
  const callsim::harness::LoadResult result =
      callsim::harness::LoadScenarioText(kBase, "fuzz-set/base.yaml", overrides);
  if (result.ok() == !result.errors.empty()) __builtin_trap();
  return 0;
}
