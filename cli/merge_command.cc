#include "cli/merge_command.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include "harness/run/merge.h"
#include "harness/store/store.h"
#include "reports/summary.h"

namespace callsim::cli {
namespace {

constexpr int kExitInvalid = 2;

int Invalid(const std::string& message) {
  std::cerr << "callsim: merge: " << message << "\n";
  return kExitInvalid;
}

// The same file under two spellings counts as one.
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

}  // namespace

int Merge(const MergeFlags& flags) {
  for (const std::string& input : flags.inputs) {
    if (SameFile(input, flags.out)) {
      return Invalid(flags.out + " is both the output and an input: merge into another file");
    }
  }
  harness::MergePlan plan;
  try {
    plan = harness::PlanMerge(flags.inputs, harness::Shard{});
  } catch (const harness::MergeError& e) {
    return Invalid(e.what());
  }
  std::string error;
  std::unique_ptr<harness::Store> out = harness::Store::Open(flags.out, &error);
  if (!out) return Invalid("cannot open " + flags.out + ": " + error);
  harness::MergeResult result;
  try {
    result = harness::WriteMerge(plan, *out);
  } catch (const harness::MergeError& e) {
    return Invalid(e.what());
  }
  std::cerr << "callsim: merge: " << plan.parts.size() << " shard"
            << (plan.parts.size() == 1 ? "" : "s") << " into run " << result.run_id << " of "
            << flags.out << "\n";
  if (!result.coupling.empty()) {
    std::cerr << "callsim: merge: the shards are coupled, so the merged run is not exactly what "
                 "one process would have run: "
              << result.coupling << "\n";
  }
  std::cout << reports::RenderSummary(*out, result.run_id) << std::flush;
  return result.exit_code;
}

}  // namespace callsim::cli
