// callsim: the command line. `run` simulates a scenario's calls and stores them, `validate` checks
// scenario files, `wer` scores transcripts like the store does. Exit codes (contract): 0 all passed,
// 99 an expectation or threshold failed, 2 invalid input (nothing run), 1 internal error.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fakes/llm/rule_llm.h"
#include "harness/measure/wer.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"
#include "reports/summary.h"

namespace {

using namespace callsim;

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitInvalid = 2;
constexpr int kExitFailed = 99;

std::atomic<bool> g_abort{false};

extern "C" void OnSignal(int) { g_abort.store(true); }

// Loads a scenario and its LLM script; prints every error as file:line:col: message.
bool LoadAll(const std::string& path, const std::vector<std::string>& sets,
             harness::Scenario* scenario, fakes::LlmScript* script) {
  harness::LoadResult loaded = harness::LoadScenarioFile(path, sets);
  for (const harness::ScenarioError& e : loaded.errors) std::cerr << e.ToString() << "\n";
  if (!loaded.scenario) return false;
  *scenario = std::move(*loaded.scenario);
  if (scenario->fakes.llm.script.empty()) {
    std::cerr << path << ": fakes.llm.script: the fake LLM needs a script (see scenarios/README.md)\n";
    return false;
  }
  std::string error;
  if (!fakes::LoadLlmScript(scenario->fakes.llm.script, script, &error)) {
    std::cerr << error << "\n";
    return false;
  }
  return true;
}

int Run(const std::string& path, std::optional<uint64_t> seed, const std::string& db_path,
        int callers, std::vector<std::string> sets) {
  if (callers > 0) sets.push_back("load.callers=" + std::to_string(callers));
  harness::Scenario scenario;
  fakes::LlmScript script;
  if (!LoadAll(path, sets, &scenario, &script)) return kExitInvalid;
  std::string error;
  std::unique_ptr<harness::Store> store = harness::Store::Open(db_path, &error);
  if (!store) {
    std::cerr << "callsim: cannot open " << db_path << ": " << error << "\n";
    return kExitInvalid;
  }
  harness::RunOptions options;
  options.seed = seed.value_or(scenario.seed.value_or(1));
  options.scenario_arg = path;
  options.overrides = sets;
  options.abort = &g_abort;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const harness::RunResult result = harness::RunScenario(scenario, script, options, *store);
  std::cout << reports::RenderSummary(*store, result.run_id);
  return result.exit_code;
}

int Validate(const std::vector<std::string>& paths) {
  int status = kExitOk;
  for (const std::string& path : paths) {
    harness::Scenario scenario;
    fakes::LlmScript script;
    if (LoadAll(path, {}, &scenario, &script)) {
      std::cout << path << ": ok (" << scenario.turns.size() << " turns, " << scenario.load.callers
                << " callers)\n";
    } else {
      status = kExitInvalid;
    }
  }
  return status;
}

int Wer(const std::string& ref_path, const std::string& hyp_path) {
  harness::WerFileResult result;
  std::string error;
  if (!harness::ComputeWerFiles(ref_path, hyp_path, &result, &error)) {
    std::cerr << "callsim wer: " << error << "\n";
    return kExitInvalid;
  }
  const harness::WerCounts& t = result.total;
  std::printf("S=%d D=%d I=%d N=%d WER=%.4f\n", t.substitutions, t.deletions, t.insertions,
              t.ref_words, t.Rate());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"callsim: deterministic test harness and load simulator for voice AI agents"};
  app.require_subcommand(1);

  std::string run_path;
  std::optional<uint64_t> seed;
  std::string db_path = "callsim.db";
  int callers = 0;
  std::vector<std::string> sets;
  CLI::App* run = app.add_subcommand("run", "simulate a scenario's calls and store the results");
  run->add_option("scenario", run_path, "scenario YAML file")->required();
  run->add_option("--seed", seed, "run seed (default: the scenario's seed, else 1)");
  run->add_option("--db", db_path, "SQLite database to append the run to")->capture_default_str();
  run->add_option("--callers", callers, "number of callers (same as --set load.callers=N)")
      ->check(CLI::PositiveNumber);
  run->add_option("--set", sets, "override a scenario field: PATH=VALUE (repeatable)");

  std::vector<std::string> validate_paths;
  CLI::App* validate = app.add_subcommand("validate", "check scenario files; nothing is run");
  validate->add_option("scenarios", validate_paths, "scenario YAML files")->required();

  std::string ref_path, hyp_path;
  CLI::App* wer = app.add_subcommand("wer", "word error rate of HYP against REF, line by line");
  wer->add_option("ref", ref_path, "reference text file")->required();
  wer->add_option("hyp", hyp_path, "hypothesis text file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalid;
  }
  try {
    if (*run) return Run(run_path, seed, db_path, callers, sets);
    if (*validate) return Validate(validate_paths);
    if (*wer) return Wer(ref_path, hyp_path);
  } catch (const std::exception& e) {
    std::cerr << "callsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}
