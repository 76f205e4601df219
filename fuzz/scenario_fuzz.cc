// Scenario YAML -> typed model: any bytes load to a scenario or to located errors, never a crash.
#include "fuzz/fuzz_input.h"
#include "harness/scenario/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(callsim::fuzz::AsText(data, size));
  const callsim::harness::LoadResult result =
      callsim::harness::LoadScenarioText(text, "fuzz-scenario/scenario.yaml");
  if (result.ok() == !result.errors.empty()) __builtin_trap();  // exactly one of the two
  return 0;
}
