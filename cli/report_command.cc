#include "cli/report_command.h"

#include <charconv>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "agent/runtime/output_file.h"
#include "harness/store/store.h"
#include "reports/compare.h"
#include "reports/html_report.h"
#include "reports/summary.h"
#include "reports/sweep_report.h"

namespace callsim::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 2;

// One argument, resolved: its store and run.
struct ReportRun {
  std::string path;
  std::optional<int64_t> run_id;  // nullopt until resolved: the database's last run
  const harness::Store* store = nullptr;
};

bool Fail(const std::string& message) {
  std::cerr << "callsim: report: " << message << "\n";
  return false;
}

int Invalid(const std::string& message) {
  Fail(message);
  return kExitInvalid;
}

// A positive whole number in decimal digits only (a sweep id).
std::optional<int64_t> ParseId(const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || text[0] == '+' || ec != std::errc() || ptr != end || v < 1) return std::nullopt;
  return v;
}

// "DB" or "DB#RUN_ID", read as compare reads its runs (reports::ParseRunRef).
bool ParseArgument(const std::string& text, ReportRun* out) {
  reports::RunRef ref;
  std::string error;
  if (!reports::ParseRunRef(text, &ref, &error)) return Fail(error);
  out->path = ref.path;
  out->run_id = ref.run_id;
  return true;
}

// Opens each database once. Store::Open would create a missing file, so that is refused first.
class Stores {
 public:
  const harness::Store* Get(const std::string& path) {
    if (auto it = stores_.find(path); it != stores_.end()) return it->second.get();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      Fail(path + ": " + (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
      return nullptr;
    }
    std::string error;
    std::unique_ptr<harness::Store> store = harness::Store::Open(path, &error);
    if (!store) {
      Fail("cannot open " + path + ": " + error);
      return nullptr;
    }
    return (stores_[path] = std::move(store)).get();
  }

 private:
  std::map<std::string, std::unique_ptr<harness::Store>> stores_;
};

bool Resolve(Stores& stores, ReportRun* run) {
  run->store = stores.Get(run->path);
  if (run->store == nullptr) return false;
  if (!run->run_id) {
    run->run_id = run->store->LatestRunId();
    return run->run_id.has_value() || Fail(run->path + " has no runs");
  }
  return run->store->LoadRun(*run->run_id).has_value() ||
         Fail(run->path + " has no run " + std::to_string(*run->run_id));
}

// The sweep of --sweep in the first database: the one named, or its latest.
std::optional<int64_t> ResolveSweep(const ReportFlags& flags, const ReportRun& first) {
  if (flags.sweep_text.empty()) {
    const std::optional<int64_t> latest = first.store->LatestSweepId();
    if (!latest) Fail(first.path + " has no sweeps");
    return latest;
  }
  const std::optional<int64_t> id = ParseId(flags.sweep_text);
  if (!id) {
    Fail("--sweep: expected a positive whole number, got \"" + flags.sweep_text + "\"");
  } else if (!first.store->LoadSweep(*id)) {
    Fail(first.path + " has no sweep " + std::to_string(*id));
    return std::nullopt;
  }
  return id;
}

std::string Label(const ReportRun& run) { return run.path + "#" + std::to_string(*run.run_id); }

// Two runs are a base and a new one: compared as `callsim compare` would (the new run's scenario
// settings, the defaults otherwise).
reports::CompareResult CompareTwo(const std::vector<ReportRun>& runs) {
  const harness::RunInfo now = *runs[1].store->LoadRun(*runs[1].run_id);
  reports::CompareResult result =
      reports::CompareRuns(*runs[0].store, *runs[0].run_id, *runs[1].store, *runs[1].run_id,
                           reports::OptionsFromRun(now));
  result.base_label = Label(runs[0]);
  result.new_label = Label(runs[1]);
  return result;
}

int WriteHtml(const ReportFlags& flags, const std::vector<ReportRun>& runs,
              std::optional<int64_t> sweep_id) {
  reports::HtmlReportInput input;
  for (const ReportRun& r : runs) input.runs.push_back({r.store, *r.run_id, Label(r)});
  if (sweep_id) {
    input.sweeps.push_back({runs[0].store, *sweep_id, runs[0].path + " sweep " + std::to_string(*sweep_id)});
  }
  if (runs.size() == 2) input.compare = CompareTwo(runs);
  input.output_dir = std::filesystem::path(flags.html).parent_path().string();
  input.title = "callsim report: " + (runs.size() == 1 ? Label(runs[0]) : std::to_string(runs.size()) + " runs");
  const std::string html = reports::RenderHtmlReport(input);
  std::string error;
  if (!agent::WriteOutputFile(flags.html, html, &error)) return Invalid("--html: " + error);
  std::cout << "report: " << flags.html << " (" << runs.size() << (runs.size() == 1 ? " run" : " runs")
            << (sweep_id ? ", 1 sweep" : "") << ", " << (html.size() + 1023) / 1024 << " KiB)\n";
  return kExitOk;
}

}  // namespace

int Report(const ReportFlags& flags) {
  if (flags.html_given) {
    const std::string problem = agent::OutputFileProblem(flags.html);
    if (!problem.empty()) return Invalid("--html: " + problem);
  }
  std::vector<ReportRun> runs(flags.runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!ParseArgument(flags.runs[i], &runs[i])) return kExitInvalid;
  }
  Stores stores;
  for (ReportRun& r : runs) {
    if (!Resolve(stores, &r)) return kExitInvalid;
  }
  std::optional<int64_t> sweep_id;
  if (flags.sweep_given) {
    sweep_id = ResolveSweep(flags, runs[0]);
    if (!sweep_id) return kExitInvalid;
  }
  if (flags.html_given) return WriteHtml(flags, runs, sweep_id);
  for (size_t i = 0; i < runs.size(); ++i) {
    std::cout << (i > 0 ? "\n" : "") << reports::RenderSummary(*runs[i].store, *runs[i].run_id);
  }
  if (sweep_id) std::cout << "\n" << reports::RenderSweepTable(*runs[0].store, *sweep_id);
  if (runs.size() == 2) std::cout << "\n" << reports::RenderCompareText(CompareTwo(runs));
  return kExitOk;
}

}  // namespace callsim::cli
