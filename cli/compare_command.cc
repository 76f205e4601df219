#include "cli/compare_command.h"

#include <iostream>
#include <memory>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "agent/runtime/output_file.h"
#include "harness/store/store.h"
#include "reports/compare.h"
#include "reports/junit.h"
#include "reports/summary_md.h"

namespace callsim::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitInvalid = 2;
constexpr int kExitRegressed = 99;

struct OpenRun {
  std::unique_ptr<harness::Store> store;
  harness::RunInfo run;
  std::string label;  // FILE.db#RUN_ID
};

// Opens the database of `text` (which must exist: compare never creates one) and finds its run.
bool Resolve(const std::string& role, const std::string& text, OpenRun* out) {
  reports::RunRef ref;
  std::string error;
  if (!reports::ParseRunRef(text, &ref, &error)) {
    std::cerr << "callsim compare: " << role << ": " << error << "\n";
    return false;
  }
  struct stat st {};
  if (::stat(ref.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::cerr << "callsim compare: " << role << ": " << ref.path << " is not a database file\n";
    return false;
  }
  out->store = harness::Store::Open(ref.path, &error);
  if (!out->store) {
    std::cerr << "callsim compare: " << role << ": cannot open " << ref.path << ": " << error
              << "\n";
    return false;
  }
  const std::optional<int64_t> id = ref.run_id ? ref.run_id : out->store->LatestRunId();
  const std::optional<harness::RunInfo> run = id ? out->store->LoadRun(*id) : std::nullopt;
  if (!run) {
    std::cerr << "callsim compare: " << role << ": "
              << (id ? "no run " + std::to_string(*id) + " in " + ref.path
                     : ref.path + " holds no run")
              << "\n";
    return false;
  }
  out->run = *run;
  out->label = ref.path + "#" + std::to_string(run->run_id);
  if (run->status != "completed") {
    std::cerr << "callsim compare: warning: " << role << " run " << run->run_id << " is "
              << run->status << "\n";
  }
  return true;
}

// The new run's scenario settings (config_json "compare"), then the flags on top.
bool ResolveOptions(const CompareFlags& f, const harness::RunInfo& now,
                    reports::CompareOptions* o) {
  const nlohmann::json config = nlohmann::json::parse(now.config_json, nullptr, false);
  if (config.is_object() && config.contains("compare") && config["compare"].is_object()) {
    const nlohmann::json& c = config["compare"];
    o->tolerance_pct = c.value("tolerance_pct", o->tolerance_pct);
    o->tolerance_ms = c.value("tolerance_ms", o->tolerance_ms);
    o->confidence = c.value("confidence", o->confidence);
    if (c.contains("gate") && c["gate"].is_array()) {
      for (const nlohmann::json& g : c["gate"]) {
        if (g.is_string()) o->gate.push_back(g.get<std::string>());
      }
    }
  }
  if (f.tolerance_pct) o->tolerance_pct = *f.tolerance_pct;
  if (f.tolerance_ms) o->tolerance_ms = *f.tolerance_ms;
  if (f.confidence) o->confidence = *f.confidence;
  if (f.resamples) o->resamples = *f.resamples;
  if (f.seed) o->seed = *f.seed;
  if (f.min_samples) o->min_samples = static_cast<size_t>(*f.min_samples);
  if (!f.gate.empty()) o->gate = f.gate;
  std::string error;
  if (!reports::CheckGateNames(o->gate, &error)) {
    std::cerr << "callsim compare: --gate: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace

int Compare(const CompareFlags& f) {
  for (const auto& [flag, path] : {std::pair{"--junit", f.junit}, {"--summary-md", f.summary_md}}) {
    if (path.empty()) continue;
    if (const std::string problem = agent::OutputFileProblem(path); !problem.empty()) {
      std::cerr << "callsim compare: " << flag << ": " << problem << "\n";
      return kExitInvalid;
    }
  }
  OpenRun base, now;
  if (!Resolve("BASE", f.base, &base) || !Resolve("NEW", f.now, &now)) return kExitInvalid;
  reports::CompareOptions options;
  if (!ResolveOptions(f, now.run, &options)) return kExitInvalid;
  reports::CompareResult result =
      reports::CompareRuns(*base.store, base.run.run_id, *now.store, now.run.run_id, options);
  result.base_label = base.label;
  result.new_label = now.label;
  std::cout << reports::RenderCompareText(result) << std::flush;
  std::string error;
  if (!f.junit.empty() &&
      !agent::WriteOutputFile(f.junit, reports::RenderCompareJunit(result), &error)) {
    std::cerr << "callsim compare: --junit: " << error << "\n";
    return kExitInternal;
  }
  if (!f.summary_md.empty() &&
      !reports::AppendSummaryMarkdown(f.summary_md, reports::CompareSummaryMarkdown(result),
                                      &error)) {
    std::cerr << "callsim compare: --summary-md: " << error << "\n";
    return kExitInternal;
  }
  if (result.rows.empty()) {
    std::cerr << "callsim compare: the runs have no metric in common\n";
    return kExitInvalid;
  }
  return result.regressed() ? kExitRegressed : kExitOk;
}

}  // namespace callsim::cli
