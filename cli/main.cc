// callsim: the command line. `run` simulates a scenario's calls (or places them over the wire with
// --target) and stores them, `serve` serves the reference agent over Twilio Media Streams,
// `compare` gates a run against a baseline, `validate` checks scenario files, `report` renders
// stored runs (text or one HTML file), `wer` scores transcripts like the store does. Exit codes
// (contract): 0 all passed, 99 an expectation or threshold failed, 2 invalid input (nothing run),
// 1 internal error.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/observability/agent_metrics.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/output_file.h"
#include "cli/report_command.h"
#include "fakes/llm/rule_llm.h"
#include "harness/measure/wer.h"
#include "harness/run/agent_side.h"
#include "harness/run/available_memory.h"
#include "harness/run/memory_estimate.h"
#include "harness/run/progress.h"
#include "harness/run/runner.h"
#include "harness/run/sweep.h"
#include "harness/scenario/limits.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"
#include "harness/wire/serve.h"
#include "harness/wire/wire_setup.h"
#include "cli/compare_command.h"
#include "cli/merge_command.h"
#include "cli/modem_command.h"
#include "reports/junit.h"
#include "reports/summary.h"
#include "reports/summary_md.h"
#include "reports/sweep_report.h"

namespace {

using namespace callsim;

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitInvalid = 2;

std::atomic<bool> g_abort{false};
std::atomic<int> g_signals{0};

extern "C" void OnSignal(int) {
  g_abort.store(true);
  g_signals.fetch_add(1);
}

// A whole number written in decimal digits only (no sign, spaces or prefix) in [lo, hi]. CLI11's
// own conversion reads "-1" as 2^64 - 1, so numeric flags are taken as text and read here.
std::optional<uint64_t> ParseFlagNumber(const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) return std::nullopt;
  return v;
}

// The flags' values, checked before anything is read or run; false after printing what is wrong
// ("callsim: --seed: ...").
struct Flags {
  std::optional<std::string> seed_text;
  std::optional<uint64_t> seed;
  std::optional<std::string> callers_text;
  int callers = 0;
  std::string db_path = "callsim.db";
  std::string metrics_out;
  bool metrics_out_given = false;
  std::string junit;
  bool junit_given = false;
  std::optional<std::string> record_text;  // --record failed|all|N
  harness::RecordPolicy record;
  std::string summary_md;  // appended to, as GitHub's step summary is
  std::optional<std::string> shard_text;  // --shard I/N
  harness::Shard shard;
};

bool CheckFlags(Flags* f) {
  auto fail = [](const std::string& message) {
    std::cerr << "callsim: " << message << "\n";
    return false;
  };
  if (f->seed_text) {
    f->seed = ParseFlagNumber(*f->seed_text, 0, std::numeric_limits<uint64_t>::max());
    if (!f->seed) {
      return fail("--seed: expected a whole number in [0, " +
                  std::to_string(std::numeric_limits<uint64_t>::max()) + "], got \"" +
                  *f->seed_text + "\"");
    }
  }
  if (f->callers_text) {
    const auto max = static_cast<uint64_t>(harness::limits::kMaxCallers);
    const std::optional<uint64_t> callers = ParseFlagNumber(*f->callers_text, 1, max);
    if (!callers) {
      return fail("--callers: expected a whole number in [1, " + std::to_string(max) +
                  "], got \"" + *f->callers_text + "\"");
    }
    f->callers = static_cast<int>(*callers);
  }
  if (f->db_path.empty()) return fail("--db: the path is empty");
  if (f->metrics_out_given) {
    const std::string problem = agent::OutputFileProblem(f->metrics_out);
    if (!problem.empty()) return fail("--metrics-out: " + problem);
  }
  if (f->junit_given) {
    const std::string problem = agent::OutputFileProblem(f->junit);
    if (!problem.empty()) return fail("--junit: " + problem);
  }
  std::string record_error;
  if (f->record_text && !harness::ParseRecordPolicy(*f->record_text, harness::limits::kMaxCallers,
                                                    &f->record, &record_error)) {
    return fail("--record: " + record_error);
  }
  if (!f->summary_md.empty()) {
    const std::string problem = agent::OutputFileProblem(f->summary_md);
    if (!problem.empty()) return fail("--summary-md: " + problem);
  }
  std::string shard_error;
  if (f->shard_text && !harness::ParseShard(*f->shard_text, &f->shard, &shard_error)) {
    return fail("--shard: " + shard_error);
  }
  return true;
}

// Loads a scenario (and its mix) and every LLM script it needs; prints every error as
// file:line:col: message. `plan` points into `*scenario`.
bool LoadAll(const std::string& path, const std::vector<std::string>& sets,
             harness::Scenario* scenario, harness::RunPlan* plan) {
  harness::LoadResult loaded = harness::LoadScenarioFile(path, sets);
  for (const harness::ScenarioError& e : loaded.errors) std::cerr << e.ToString() << "\n";
  if (!loaded.scenario) return false;
  *scenario = std::move(*loaded.scenario);
  std::string error;
  if (!harness::MakeRunPlan(*scenario, plan, &error)) {
    std::cerr << error << "\n";
    return false;
  }
  return true;
}

// False (with the reason on stderr) when a scenario's providers over the wire (fakes.<kind>.url)
// cannot be used: in virtual time, or with a bad URL or an unset api_key_env.
bool WireProvidersUsable(const harness::RunPlan& plan, bool realtime) {
  for (const harness::PlannedScenario& planned : plan.scenarios) {
    const std::string error = harness::CheckWireProviders(*planned.scenario, realtime);
    if (!error.empty()) {
      std::cerr << "callsim: " << error << "\n";
      return false;
    }
  }
  return true;
}

// False (with the estimate and the memory available on stderr) when the run's estimated peak
// memory exceeds what the machine has available (harness/run/memory_estimate.h).
// `peak_bytes`, if given, gets the estimate (left alone when nothing was estimated).
bool FitsInMemory(const harness::RunPlan& plan, uint64_t seed, bool skip_check,
                  const harness::RecordOptions& record = {}, const harness::Shard& shard = {},
                  int64_t* peak_bytes = nullptr) {
  if (skip_check) return true;
  const std::optional<harness::AvailableMemory> available = harness::ReadAvailableMemory();
  if (!available) return true;
  const harness::MemoryEstimate estimate =
      harness::EstimateRunMemory(plan, seed, harness::RunOptions{}.max_active_calls, record, shard);
  if (peak_bytes != nullptr) *peak_bytes = estimate.peak_bytes;
  if (estimate.peak_bytes <= available->bytes) return true;
  std::cerr << plan.main->source_path << ": the run would need about "
            << harness::DescribeEstimate(estimate) << ", more than the "
            << harness::FormatBytes(available->bytes) << " available (" << available->source
            << "); spread the arrivals (load.arrival), lower load.callers, or pass "
               "--skip-memory-check to run anyway\n";
  return false;
}

// Where `--record` put the run's recordings (stderr: the summary on stdout ends with its replay line).
void PrintRecordings(const harness::RunResult& result) {
  if (result.recordings_folder.empty()) return;
  std::cerr << "callsim: run " << result.run_id << ": "
            << (result.recordings_written > 0
                    ? std::to_string(result.recordings_written) + " recordings in " +
                          result.recordings_folder
                    : std::string("no recordings"))
            << (result.recordings_failed > 0
                    ? " (" + std::to_string(result.recordings_failed) + " could not be written)"
                    : "")
            << "\n";
}

int Run(const std::string& path, std::optional<uint64_t> seed, const std::string& db_path,
        int callers, std::vector<std::string> sets, const std::string& metrics_out,
        bool skip_memory_check, const harness::TargetFlags& target, const std::string& junit,
        const std::string& summary_md, const harness::RecordPolicy& record,
        const harness::Shard& shard) {
  if (callers > 0) sets.push_back("load.callers=" + std::to_string(callers));
  harness::Scenario scenario;
  harness::RunPlan plan;
  if (!LoadAll(path, sets, &scenario, &plan)) return kExitInvalid;
  if (!WireProvidersUsable(plan, !target.target.empty())) return kExitInvalid;
  const uint64_t run_seed = seed.value_or(scenario.seed.value_or(1));
  const harness::RecordOptions recording = harness::RecordingsBesideDatabase(db_path, record);
  if (!FitsInMemory(plan, run_seed, skip_memory_check, recording, shard)) return kExitInvalid;
  std::string error;
  std::unique_ptr<harness::Store> store = harness::Store::Open(db_path, &error);
  if (!store) {
    std::cerr << "callsim: cannot open " << db_path << ": " << error << "\n";
    return kExitInvalid;
  }
  std::unique_ptr<harness::WireSetup> wire;
  if (!target.target.empty()) {
    wire = harness::WireSetup::Make(target, plan, run_seed, &error);
    if (!wire) {
      std::cerr << "callsim: " << error << "\n";
      return kExitInvalid;
    }
  }
  harness::RunOptions options;
  if (wire) options.engine = &wire->engine();
  options.workers = wire ? 1 : target.workers;  // a wire engine has its own caller threads
  options.call_lanes = !target.no_lanes;
  options.seed = run_seed;
  options.shard = shard;
  options.scenario_arg = path;
  options.overrides = sets;
  options.abort = &g_abort;
  options.progress = harness::MakeStderrProgress();
  agent::AgentMetrics metrics(harness::DeclaredToolNames(plan.scenarios));
  options.agent_metrics = &metrics;
  options.record = recording;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const harness::RunResult result = harness::RunScenario(plan, options, *store);
  PrintRecordings(result);
  if (!result.workers_note.empty() && target.workers != 1) {
    std::cerr << "callsim: run " << result.run_id << ": " << result.workers_note << "\n";
  }
  if (!result.lanes_note.empty()) {  // the calls shared something: the run took twice the time
    std::cerr << "callsim: run " << result.run_id << ": " << result.lanes_note << "\n";
  }
  std::cout << reports::RenderSummary(*store, result.run_id) << std::flush;  // before /dev/stdout
  if (!metrics_out.empty() && !metrics.WriteExposition(metrics_out, &error)) {
    std::cerr << "callsim: --metrics-out: " << error << "\n";
    return result.exit_code == kExitOk ? kExitInternal : result.exit_code;
  }
  if (!junit.empty() &&
      !agent::WriteOutputFile(junit, reports::RenderJunit(*store, {result.run_id}), &error)) {
    std::cerr << "callsim: --junit: " << error << "\n";
    return result.exit_code == kExitOk ? kExitInternal : result.exit_code;
  }
  if (!summary_md.empty() &&
      !reports::AppendSummaryMarkdown(summary_md, reports::RunSummaryMarkdown(*store, result.run_id),
                                      &error)) {
    std::cerr << "callsim: --summary-md: " << error << "\n";
    return result.exit_code == kExitOk ? kExitInternal : result.exit_code;
  }
  return result.exit_code;
}

int Validate(const std::vector<std::string>& paths) {
  int status = kExitOk;
  for (const std::string& path : paths) {
    harness::Scenario scenario;
    harness::RunPlan plan;
    if (LoadAll(path, {}, &scenario, &plan)) {
      std::cout << path << ": ok (" << scenario.turns.size() << " turns, " << scenario.load.callers
                << " callers)\n";
    } else {
      status = kExitInvalid;
    }
  }
  return status;
}

// How many levels of a sweep run at once: `asked` (0: one per core), no more than there are
// levels, and no more than fit in memory together (the largest levels' estimates summed). One
// with a target: real-time levels beside each other would measure each other.
int LevelsAtOnce(int asked, const harness::SweepPlan& plan,
                 const std::vector<int64_t>& level_bytes, bool wire, bool skip_memory_check) {
  if (wire || plan.stop_on_failure) return 1;
  int n = asked > 0 ? asked : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n = std::min<int>(n, static_cast<int>(plan.levels.size()));
  const std::optional<harness::AvailableMemory> available = harness::ReadAvailableMemory();
  if (skip_memory_check || !available) return std::max(n, 1);
  std::vector<int64_t> largest = level_bytes;
  std::sort(largest.rbegin(), largest.rend());
  while (n > 1) {
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) sum += largest[static_cast<size_t>(i)];
    if (sum <= available->bytes) break;
    --n;
  }
  return std::max(n, 1);
}

int Sweep(const std::string& path, std::optional<uint64_t> seed, const std::string& db_path,
          bool skip_memory_check, const harness::TargetFlags& target, const std::string& junit,
          const std::string& summary_md, const harness::RecordPolicy& record,
          int levels_at_once_asked) {
  const harness::RecordOptions recording = harness::RecordingsBesideDatabase(db_path, record);
  harness::SweepPlan plan;
  std::vector<std::string> errors;
  if (!harness::LoadSweepPlan(path, &plan, &errors) || !harness::CheckSweepLevels(plan, &errors)) {
    for (const std::string& e : errors) std::cerr << e << "\n";
    return kExitInvalid;
  }
  std::vector<int64_t> level_bytes;
  for (const double level : plan.levels) {  // every level must fit before the first one runs
    harness::Scenario scenario;
    harness::RunPlan run_plan;
    int64_t bytes = 0;
    if (!LoadAll(plan.scenario_path, harness::SweepLevelOverrides(plan, level), &scenario,
                 &run_plan) ||
        !FitsInMemory(run_plan, seed.value_or(1), skip_memory_check, recording, {}, &bytes)) {
      return kExitInvalid;
    }
    level_bytes.push_back(bytes);
  }
  const bool wire_sweep = !target.target.empty();
  const int levels_at_once =
      LevelsAtOnce(levels_at_once_asked, plan, level_bytes, wire_sweep, skip_memory_check);
  std::string error;
  std::unique_ptr<harness::Store> store = harness::Store::Open(db_path, &error);
  if (!store) {
    std::cerr << "callsim: cannot open " << db_path << ": " << error << "\n";
    return kExitInvalid;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::mutex print_lock;  // levels at once report from their own threads
  auto run_level = [&](const harness::LevelRun& level) {
    const std::vector<std::string>& overrides = level.overrides;
    const uint64_t s = level.seed;
    harness::Scenario scenario;
    harness::RunPlan run_plan;
    if (!LoadAll(plan.scenario_path, overrides, &scenario, &run_plan)) {
      throw std::runtime_error("the scenario no longer loads with " + overrides.back());
    }
    for (const harness::PlannedScenario& planned : run_plan.scenarios) {
      const std::string error = harness::CheckWireProviders(*planned.scenario, !target.target.empty());
      if (!error.empty()) throw std::runtime_error(error);
    }
    std::unique_ptr<harness::WireSetup> wire;
    if (!target.target.empty()) {
      std::string wire_error;
      wire = harness::WireSetup::Make(target, run_plan, s, &wire_error);
      if (!wire) throw std::runtime_error(wire_error);
    }
    harness::RunOptions o;
    if (wire) o.engine = &wire->engine();
    o.workers = wire ? 1 : target.workers;
    o.call_lanes = !target.no_lanes;
    if (!wire && target.workers == 0 && levels_at_once > 1) {  // the levels share the cores
      o.workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / levels_at_once);
    }
    o.seed = s;
    o.scenario_arg = plan.scenario_path;
    o.overrides = overrides;
    o.abort = &g_abort;
    o.record = recording;  // each level's run in its own run-<id> folder
    if (levels_at_once == 1) {
      o.progress = harness::MakeStderrProgress();
      o.on_begin = level.on_begin;
    } else {  // one line each as a level starts: live progress lines would fight
      o.on_begin = [&, on_begin = level.on_begin, text = overrides.back()](int64_t run_id) {
        {
          const std::lock_guard<std::mutex> lock(print_lock);
          std::cerr << "callsim: " << text << ": run " << run_id << " started\n";
        }
        if (on_begin) on_begin(run_id);
      };
    }
    const harness::RunResult result = harness::RunScenario(run_plan, o, *level.store);
    const std::lock_guard<std::mutex> lock(print_lock);
    PrintRecordings(result);
    return result;
  };
  auto on_level = [](const harness::SweepLevelResult& l) {
    std::cout << "level " << harness::FormatLevel(l.level) << ": run " << l.run_id
              << (l.slo_met ? " met" : " missed") << " the SLO\n";
  };
  harness::SweepOptions sweep_options;
  sweep_options.levels_at_once = levels_at_once;
  sweep_options.open_store = [&db_path] {
    std::string open_error;
    return harness::Store::Open(db_path, &open_error);
  };
  if (levels_at_once > 1) {
    std::cerr << "callsim: " << plan.levels.size() << " levels, " << levels_at_once
              << " at once\n";
  }
  const harness::SweepResult r =
      harness::RunSweep(plan, seed.value_or(1), *store, run_level, on_level, sweep_options);
  std::cout << reports::RenderSweepTable(*store, r.sweep_id);
  if (!junit.empty()) {
    std::vector<int64_t> run_ids;
    for (const harness::SweepLevelResult& l : r.levels) run_ids.push_back(l.run_id);
    if (!agent::WriteOutputFile(junit, reports::RenderJunit(*store, run_ids), &error)) {
      std::cerr << "callsim: --junit: " << error << "\n";
      return harness::SweepExitCode(r) == kExitOk ? kExitInternal : harness::SweepExitCode(r);
    }
  }
  if (!summary_md.empty() &&
      !reports::AppendSummaryMarkdown(summary_md, reports::SweepSummaryMarkdown(*store, r.sweep_id),
                                      &error)) {
    std::cerr << "callsim: --summary-md: " << error << "\n";
    return harness::SweepExitCode(r) == kExitOk ? kExitInternal : harness::SweepExitCode(r);
  }
  return harness::SweepExitCode(r);
}

// The serve command's own flags, checked before anything is read.
struct ServeFlags {
  std::string agent_path;
  std::string listen = "127.0.0.1:8080";
  std::string api_keys_path;
  std::string workers_text = "0";
  std::string drain_text = "30";
  std::string send_rate_text = "1";
  std::string sip;                 // HOST:PORT for SIP over UDP; empty: no SIP
  std::string srtp = "optional";   // off, optional or required
  std::string sip_auth_env;        // USER:PASSWORD that INVITEs must authenticate with
};

int Serve(const ServeFlags& f, std::optional<uint64_t> seed, const std::string& db_path,
          bool db_given) {
  harness::ServeConfig config;
  const size_t colon = f.listen.rfind(':');
  const std::optional<uint64_t> port =
      colon == std::string::npos ? std::nullopt
                                 : ParseFlagNumber(f.listen.substr(colon + 1), 0, 65535);
  if (!port || colon == 0) {
    std::cerr << "callsim: --listen: expected HOST:PORT, got \"" << f.listen << "\"\n";
    return kExitInvalid;
  }
  config.server.host = f.listen.substr(0, colon);
  config.server.port = static_cast<uint16_t>(*port);
  const std::optional<uint64_t> workers = ParseFlagNumber(f.workers_text, 0, 256);
  const std::optional<uint64_t> drain = ParseFlagNumber(f.drain_text, 0, 3600);
  const std::optional<uint64_t> rate = ParseFlagNumber(f.send_rate_text, 1, 8);
  if (!workers || !drain || !rate) {
    std::cerr << "callsim: " << (!workers ? "--workers: expected 0 to 256"
                                 : !drain ? "--drain-s: expected 0 to 3600"
                                          : "--send-rate: expected 1 to 8") << "\n";
    return kExitInvalid;
  }
  config.server.workers = static_cast<int>(*workers);
  config.drain_s = static_cast<double>(*drain);
  config.service.stream.send_rate = static_cast<double>(*rate);
  std::string error;
  if (!f.sip.empty()) {
    harness::SipServeConfig sip;
    const size_t sip_colon = f.sip.rfind(':');
    const std::optional<uint64_t> sip_port =
        sip_colon == std::string::npos ? std::nullopt
                                       : ParseFlagNumber(f.sip.substr(sip_colon + 1), 0, 65535);
    if (!sip_port || sip_colon == 0) {
      std::cerr << "callsim: --sip: expected HOST:PORT, got \"" << f.sip << "\"\n";
      return kExitInvalid;
    }
    sip.host = f.sip.substr(0, sip_colon);
    sip.port = static_cast<uint16_t>(*sip_port);
    if (f.srtp == "off") {
      sip.srtp = harness::SrtpPolicy::kOff;
    } else if (f.srtp == "required") {
      sip.srtp = harness::SrtpPolicy::kRequired;
    } else if (f.srtp != "optional") {
      std::cerr << "callsim: --srtp: expected off, optional or required\n";
      return kExitInvalid;
    }
    if (!f.sip_auth_env.empty()) {
      const char* value = std::getenv(f.sip_auth_env.c_str());
      const std::string text = value ? value : "";
      const size_t c = text.find(':');
      if (c == std::string::npos || c == 0) {
        std::cerr << "callsim: --sip-auth-env: $" << f.sip_auth_env
                  << (value ? " must hold USER:PASSWORD" : " is not set") << "\n";
        return kExitInvalid;
      }
      sip.auth = agent::sip::DigestCredentials{text.substr(0, c), text.substr(c + 1)};
    }
    config.sip = sip;
  } else if (f.srtp != "optional" || !f.sip_auth_env.empty()) {
    std::cerr << "callsim: --srtp and --sip-auth-env need --sip\n";
    return kExitInvalid;
  }
  if (!f.api_keys_path.empty() && !harness::ReadApiKeys(f.api_keys_path, &config.api_keys, &error)) {
    std::cerr << "callsim: --api-keys: " << error << "\n";
    return kExitInvalid;
  }
  harness::Scenario scenario;
  harness::RunPlan plan;
  if (!LoadAll(f.agent_path, {}, &scenario, &plan)) return kExitInvalid;
  if (!WireProvidersUsable(plan, true)) return kExitInvalid;
  if (plan.scenarios.size() != 1) {
    std::cerr << "callsim: --agent: " << f.agent_path << " has a mix; serve one agent per file\n";
    return kExitInvalid;
  }
  std::unique_ptr<harness::Store> store;
  if (db_given) {
    store = harness::Store::Open(db_path, &error);
    if (!store) {
      std::cerr << "callsim: cannot open " << db_path << ": " << error << "\n";
      return kExitInvalid;
    }
  }
  config.service.seed = seed.value_or(scenario.seed.value_or(1));
  config.service.agent_arg = f.agent_path;
  auto log_mutex = std::make_shared<std::mutex>();
  config.service.log = [log_mutex](std::string_view line) {
    std::lock_guard<std::mutex> lock(*log_mutex);
    std::cerr << "callsim serve: " << line << "\n";
  };
  if (config.api_keys.empty()) {
    std::cerr << "callsim serve: no --api-keys: streams are open to anyone who can connect\n";
  }
  harness::Server server(plan.scenarios[0], std::move(config), store.get());
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  try {
    server.Start();
  } catch (const std::exception& e) {
    std::cerr << "callsim: " << e.what() << "\n";
    return kExitInvalid;
  }
  std::cout << "callsim serve: listening on http://" << f.listen.substr(0, colon) << ":"
            << server.port() << " (Twilio Media Streams on /twilio)" << std::endl;
  const std::string authority = f.listen.substr(0, colon) + ":" + std::to_string(server.port());
  std::cerr << "callsim serve: fake providers on http://" << authority
            << "/v1 (OpenAI chat completions, models, speech) and ws://" << authority
            << "/v1/listen (Deepgram live)" << std::endl;
  if (server.sip_port() != 0) {
    std::cout << "callsim serve: SIP on udp " << f.sip.substr(0, f.sip.rfind(':')) << ":"
              << server.sip_port() << " (RTP" << (f.srtp == "off" ? "" : f.srtp == "required" ? "/SRTP only" : " or SRTP")
              << ")" << std::endl;
  }
  return server.ServeUntilSignalled(g_signals);
}

int Wer(const std::string& ref_path, const std::string& hyp_path) {
  harness::WerFileResult result;
  std::string error;
  if (!harness::ComputeWerFiles(ref_path, hyp_path, &result, &error)) {
    std::cerr << "callsim wer: " << error << "\n";
    return kExitInvalid;
  }
  if (result.ref_lines != result.hyp_lines) {
    std::cerr << "callsim wer: warning: " << ref_path << " has " << result.ref_lines << " lines, "
              << hyp_path << " has " << result.hyp_lines
              << "; the missing lines were scored as empty\n";
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
  Flags flags;
  std::vector<std::string> sets;
  CLI::App* run = app.add_subcommand("run", "simulate a scenario's calls and store the results");
  run->add_option("scenario", run_path, "scenario YAML file")->required();
  run->add_option("--seed", flags.seed_text, "run seed (default: the scenario's seed, else 1)");
  run->add_option("--db", flags.db_path, "SQLite database to append the run to")
      ->capture_default_str();
  run->add_option("--callers", flags.callers_text,
                  "number of callers (same as --set load.callers=N)");
  run->add_option("--set", sets, "override a scenario field: PATH=VALUE (repeatable)");
  CLI::Option* metrics_option =
      run->add_option("--metrics-out", flags.metrics_out,
                      "write the agent's Prometheus metrics (text exposition) to this file");
  CLI::Option* junit_option =
      run->add_option("--junit", flags.junit, "write JUnit XML (a testcase per call and threshold)");
  run->add_option("--record", flags.record_text,
                  "record calls as stereo WAV beside the database: failed, all, or the first N");
  run->add_option("--summary-md", flags.summary_md,
                  "append a Markdown job summary (e.g. \"$GITHUB_STEP_SUMMARY\")");
  run->add_option("--shard", flags.shard_text,
                  "run only slice I of N of the callers (call ids i with i % N == I-1), for "
                  "splitting a load across processes or machines");
  bool skip_memory_check = false;
  run->add_flag("--skip-memory-check", skip_memory_check,
                "run even when the estimated peak memory exceeds the memory available");
  harness::TargetFlags target;
  auto add_target_flags = [&target](CLI::App* cmd) {
    cmd->add_option("--target", target.target,
                    "run in real time against an agent: ws://HOST:PORT/PATH (Twilio Media "
                    "Streams), sip:USER@HOST:PORT (SIP with RTP), or self (callsim's own agent, "
                    "served in this process)");
    cmd->add_option("--protocol", target.protocol,
                    "with --target self: twilio (the default) or sip");
    cmd->add_flag("--srtp", target.srtp,
                  "with a SIP target: offer RTP/SAVP with an SDES key (AES_CM_128_HMAC_SHA1_80)");
    cmd->add_option("--sip-auth-env", target.sip_auth_env,
                    "with a SIP target: the environment variable holding USER:PASSWORD for "
                    "digest authentication");
    cmd->add_option("--token-url", target.token_url,
                    "with --target: fetch a call token here (POST, Bearer API key)");
    cmd->add_option("--api-key-env", target.api_key_env,
                    "with --token-url: the environment variable holding the API key");
    cmd->add_option("--header", target.headers,
                    "with --target: add NAME:VALUE to the WebSocket upgrade (repeatable)");
    cmd->add_option("--workers", target.workers,
                    "threads the calls run on (0, the default: one per core). In virtual time "
                    "each runs a slice of the calls and the slices are merged: rows, aggregates "
                    "and hash are those of one thread. With --target: caller threads")
        ->check(CLI::Range(0, 256));
    cmd->add_flag("--no-lanes", target.no_lanes,
                  "in virtual time, run every call on the run's one clock instead of each on "
                  "a lane of its own (slower; the rows are the same): to measure or check lanes");
  };
  add_target_flags(run);

  cli::MergeFlags merge_flags;
  CLI::App* merge = app.add_subcommand(
      "merge", "combine the shards of a run (run --shard I/N) into one run and gate it");
  merge->add_option("out", merge_flags.out, "database the merged run is appended to")->required();
  merge->add_option("shards", merge_flags.inputs, "the shards' databases (each one's latest run)")
      ->required();

  std::vector<std::string> validate_paths;
  CLI::App* validate = app.add_subcommand("validate", "check scenario files; nothing is run");
  validate->add_option("scenarios", validate_paths, "scenario YAML files")->required();

  std::string sweep_path;
  CLI::App* sweep = app.add_subcommand("sweep", "run a load at several levels and find the knee");
  sweep->add_option("plan", sweep_path, "sweep plan YAML file")->required();
  sweep->add_option("--seed", flags.seed_text, "seed for every level (default 1)");
  sweep->add_option("--db", flags.db_path, "SQLite database to append the runs to")
      ->capture_default_str();
  sweep->add_flag("--skip-memory-check", skip_memory_check,
                  "run even when a level's estimated peak memory exceeds the memory available");
  add_target_flags(sweep);
  CLI::Option* sweep_junit_option = sweep->add_option(
      "--junit", flags.junit, "write JUnit XML (a testsuite per level's run)");
  sweep->add_option("--record", flags.record_text,
                    "record calls as stereo WAV beside the database: failed, all, or the first N");
  sweep->add_option("--summary-md", flags.summary_md,
                    "append a Markdown job summary (e.g. \"$GITHUB_STEP_SUMMARY\")");
  int levels_at_once = 0;
  sweep->add_option("--levels-at-once", levels_at_once,
                    "levels running side by side (0: one per core, as memory allows; with "
                    "--target or stop_on_failure always 1)")
      ->check(CLI::Range(0, 256));

  cli::CompareFlags compare_flags;
  std::optional<std::string> compare_seed_text;
  CLI::App* compare = app.add_subcommand(
      "compare", "compare a run against a baseline run; exit 99 when a gated metric regressed");
  compare->add_option("base", compare_flags.base, "baseline: FILE.db (its last run) or FILE.db#RUN_ID")
      ->required();
  compare->add_option("new", compare_flags.now, "new run: FILE.db or FILE.db#RUN_ID")->required();
  compare->add_option("--tolerance-pct", compare_flags.tolerance_pct,
                      "relative noise tolerance in percent of the base value (default 5)")
      ->check(CLI::Range(0.0, 1000.0));
  compare->add_option("--tolerance-ms", compare_flags.tolerance_ms,
                      "absolute noise tolerance for latency in ms (default 20)")
      ->check(CLI::Range(0.0, 60000.0));
  compare->add_option("--confidence", compare_flags.confidence,
                      "confidence of the intervals and tests (default 0.95)")
      ->check(CLI::Range(0.5, 0.999));
  compare->add_option("--resamples", compare_flags.resamples,
                      "bootstrap resamples per percentile (default 2000)")
      ->check(CLI::Range(100, 100000));
  compare->add_option("--seed", compare_seed_text, "the bootstrap's seed (default 1)");
  compare->add_option("--min-samples", compare_flags.min_samples,
                      "fewer samples on either side: no verdict (default 10)")
      ->check(CLI::Range(1, 1000000));
  compare->add_option("--gate", compare_flags.gate,
                      "a metric that can fail the gate (repeatable; default: all): a family such "
                      "as turn_latency or wer, or FAMILY.p95");
  compare->add_option("--junit", compare_flags.junit, "write JUnit XML (a testcase per metric)");
  compare->add_option("--summary-md", compare_flags.summary_md,
                      "append the compare table as Markdown (e.g. \"$GITHUB_STEP_SUMMARY\")");

  ServeFlags serve_flags;
  CLI::App* serve = app.add_subcommand(
      "serve", "serve the reference agent over Twilio Media Streams (and SIP with --sip)");
  serve->add_option("--agent", serve_flags.agent_path,
                    "scenario-format file whose agent, fakes and tools sections configure the agent")
      ->required();
  serve->add_option("--listen", serve_flags.listen, "HOST:PORT for HTTP and WebSocket")
      ->capture_default_str();
  serve->add_option("--seed", flags.seed_text, "server seed (each call: the seed and its callSid)");
  CLI::Option* serve_db =
      serve->add_option("--db", flags.db_path, "SQLite database for the served calls' records");
  serve->add_option("--api-keys", serve_flags.api_keys_path,
                    "file of API keys, one per line: streams then need a token from /v1/token");
  serve->add_option("--workers", serve_flags.workers_text, "worker threads (0: one per core)")
      ->capture_default_str();
  serve->add_option("--drain-s", serve_flags.drain_text,
                    "on SIGTERM, how long active calls may finish")
      ->capture_default_str();
  serve->add_option("--send-rate", serve_flags.send_rate_text,
                    "agent audio sent per 20 ms while speaking, in frames (2: twice real time, as "
                    "Pipecat sends)")
      ->capture_default_str();
  serve->add_option("--sip", serve_flags.sip,
                    "HOST:PORT: also answer SIP calls over UDP (HOST goes into the SDP, so an "
                    "address such as 127.0.0.1, not 0.0.0.0)");
  serve->add_option("--srtp", serve_flags.srtp,
                    "with --sip: off (RTP only), optional (SRTP when offered) or required")
      ->capture_default_str();
  serve->add_option("--sip-auth-env", serve_flags.sip_auth_env,
                    "with --sip: the environment variable holding USER:PASSWORD; INVITEs are "
                    "then challenged (digest)");

  cli::ReportFlags report_flags;
  CLI::App* report = app.add_subcommand("report", "render stored runs: a summary, or one HTML file");
  report->add_option("runs", report_flags.runs, "DB (its last run) or DB#RUN_ID, one or more")
      ->required();
  bool report_text_flag = false;
  CLI::Option* report_text =
      report->add_flag("--text", report_text_flag, "print each run's summary (the default)");
  CLI::Option* report_html = report->add_option(
      "--html", report_flags.html, "write one self-contained HTML file (no network fetches)");
  report_text->excludes(report_html);
  CLI::Option* report_sweep = report->add_option(
      "--sweep", report_flags.sweep_text,
      "add a sweep of the first database: its id, or the latest when none is given");
  report_sweep->expected(0, 1);

  std::string ref_path, hyp_path;
  CLI::App* wer = app.add_subcommand("wer", "word error rate of HYP against REF, line by line");
  wer->add_option("ref", ref_path, "reference text file")->required();
  wer->add_option("hyp", hyp_path, "hypothesis text file")->required();

  cli::ModemFlags modem_flags;
  CLI::App* modem = app.add_subcommand(
      "modem", "the word modem as files: speak text to audio, or hear the words in audio");
  modem->require_subcommand(1);
  CLI::App* modem_say = modem->add_subcommand("say", "write TEXT as modem audio to a file");
  modem_say->add_option("text", modem_flags.text, "the words")->required();
  modem_say->add_option("-o,--output", modem_flags.path, "the audio file to write")->required();
  CLI::App* modem_hear = modem->add_subcommand("hear", "print the words in a modem audio file");
  modem_hear->add_option("file", modem_flags.path, "the audio file (\"-\": stdin, raw formats)")
      ->required();
  for (CLI::App* sub : {modem_say, modem_hear}) {
    sub->add_option("--format", modem_flags.format,
                    "wav, s16le (raw 16-bit little-endian) or mulaw (raw G.711); default: from "
                    "the extension (.raw/.pcm: s16le, .ulaw: mulaw), else wav");
    sub->add_option("--rate", modem_flags.rate_hz, "sample rate of raw audio, Hz")
        ->capture_default_str();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalid;
  }
  flags.metrics_out_given = metrics_option->count() > 0;
  flags.junit_given = junit_option->count() > 0 || sweep_junit_option->count() > 0;
  if (!CheckFlags(&flags)) return kExitInvalid;
  if (std::string error; !harness::CheckTargetFlags(target, &error)) {
    std::cerr << "callsim: " << error << "\n";
    return kExitInvalid;
  }
  try {
    if (*run) {
      return Run(run_path, flags.seed, flags.db_path, flags.callers, sets, flags.metrics_out,
                 skip_memory_check, target, flags.junit, flags.summary_md, flags.record,
                 flags.shard);
    }
    if (*validate) return Validate(validate_paths);
    if (*merge) return cli::Merge(merge_flags);
    if (*sweep) {
      return Sweep(sweep_path, flags.seed, flags.db_path, skip_memory_check, target, flags.junit,
                   flags.summary_md, flags.record, levels_at_once);
    }
    if (*serve) return Serve(serve_flags, flags.seed, flags.db_path, serve_db->count() > 0);
    if (*wer) return Wer(ref_path, hyp_path);
    if (*modem_say) return cli::ModemSay(modem_flags);
    if (*modem_hear) return cli::ModemHear(modem_flags);
    if (*compare) {
      if (compare_seed_text) {
        compare_flags.seed =
            ParseFlagNumber(*compare_seed_text, 0, std::numeric_limits<uint64_t>::max());
        if (!compare_flags.seed) {
          std::cerr << "callsim: --seed: expected a whole number, got \"" << *compare_seed_text
                    << "\"\n";
          return kExitInvalid;
        }
      }
      return cli::Compare(compare_flags);
    }
    if (*report) {
      report_flags.html_given = report_html->count() > 0;
      report_flags.sweep_given = report_sweep->count() > 0;
      return cli::Report(report_flags);
    }
  } catch (const std::exception& e) {
    std::cerr << "callsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}
