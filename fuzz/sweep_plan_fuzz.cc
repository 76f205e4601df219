// Sweep plans: any bytes parse to a plan or to located errors.
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "harness/run/sweep_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  callsim::harness::SweepPlan plan;
  std::vector<std::string> errors;
  const bool ok = callsim::harness::ParseSweepPlan(std::string(callsim::fuzz::AsText(data, size)),
                                                   "fuzz-sweep/plan.yaml", &plan, &errors);
  if (ok == !errors.empty()) __builtin_trap();
  if (ok) callsim::harness::SweepPlanJson(plan);
  return 0;
}
