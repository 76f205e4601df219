#include "reports/junit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "reports/compare.h"
#include "reports/summary.h"

namespace callsim::reports {
namespace {

// XML 1.0 text: the five special characters escaped, control characters other than tab, newline
// and carriage return (which XML 1.0 cannot carry at all) replaced by U+FFFD.
std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::max(0.0, ms) / 1000.0);
  return buf;
}

std::string Number(double v) {
  if (std::isnan(v)) return "no data";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct Case {
  std::string classname;
  std::string name;
  std::string time;
  std::string failure_message;  // empty: passed
  std::string failure_body;
};

std::string RenderCase(const Case& c) {
  std::string out = "    <testcase classname=\"" + Escape(c.classname) + "\" name=\"" +
                    Escape(c.name) + "\" time=\"" + c.time + "\"";
  if (c.failure_message.empty()) return out + "/>\n";
  out += ">\n      <failure message=\"" + Escape(c.failure_message) + "\" type=\"callsim\">" +
         Escape(c.failure_body) + "</failure>\n    </testcase>\n";
  return out;
}

std::vector<Case> CallCases(const harness::Store& store, const harness::RunInfo& run,
                            const std::string& replay) {
  std::map<int64_t, std::vector<harness::ExpectationRow>> failed;
  for (harness::ExpectationRow& e : store.LoadExpectations(run.run_id)) {
    if (!e.passed) failed[e.call_id].push_back(std::move(e));
  }
  std::vector<Case> cases;
  for (const harness::CallRow& call : store.LoadCalls(run.run_id)) {
    Case c{call.scenario, "call " + std::to_string(call.call_id),
           Seconds(call.ended_ms - call.started_ms), "", ""};
    if (!call.task_completed) {
      c.failure_message = call.failure_reason.empty() ? "call " + call.status : call.failure_reason;
      c.failure_body = "status: " + call.status + "\n";
      for (const harness::ExpectationRow& e : failed[call.call_id]) {
        c.failure_body += "turn " + std::to_string(e.turn_index) + " " + e.kind + ": " + e.detail + "\n";
      }
      if (!call.failure_reason.empty()) c.failure_body += "reason: " + call.failure_reason + "\n";
      c.failure_body += "replay: " + replay + "\n";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<Case> ThresholdCases(const harness::Store& store, int64_t run_id) {
  std::vector<Case> cases;
  for (const harness::ThresholdRow& t : store.LoadThresholds(run_id)) {
    Case c{"thresholds", t.metric + " " + t.expression, "0.000", "", ""};
    if (!t.passed) {
      c.failure_message = t.metric + " " + t.expression + " observed " + Number(t.observed);
      c.failure_body = t.observed_metric + " = " + Number(t.observed) + "\n";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string RenderSuite(const harness::Store& store, int64_t run_id) {
  const std::optional<harness::RunInfo> run = store.LoadRun(run_id);
  if (!run) {
    return "  <testsuite name=\"run " + std::to_string(run_id) +
           " (not in the store)\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\"/>\n";
  }
  const std::string replay = ReplayCommand(*run);
  std::vector<Case> cases = CallCases(store, *run, replay);
  for (Case& c : ThresholdCases(store, run_id)) cases.push_back(std::move(c));
  size_t failures = 0;
  double seconds = 0;
  for (const Case& c : cases) {
    failures += c.failure_message.empty() ? 0 : 1;
    seconds += std::stod(c.time);
  }
  std::string out = "  <testsuite name=\"" + Escape(run->scenario) + " (run " +
                    std::to_string(run_id) + ")\" tests=\"" + std::to_string(cases.size()) +
                    "\" failures=\"" + std::to_string(failures) +
                    "\" errors=\"0\" skipped=\"0\" time=\"" + Seconds(seconds * 1000) +
                    "\" timestamp=\"" + Escape(run->started_at) + "\">\n";
  for (const Case& c : cases) out += RenderCase(c);
  std::string system_out = "run " + std::to_string(run_id) + ": mode " + run->mode + ", status " +
                           run->status + ", seed " + std::to_string(run->seed) + "\nreplay: " +
                           replay + "\n";
  for (const auto& [name, value] : store.LoadMetrics(run_id)) {
    system_out += name + " = " + Number(value) + "\n";
  }
  out += "    <system-out>" + Escape(system_out) + "</system-out>\n  </testsuite>\n";
  return out;
}

std::string CompareCaseBody(const CompareRow& row) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "base %s %s (%zu samples)\nnew %s %s (%zu samples)\nchange %s %s, interval [%s, %s], "
                "tolerance %s\nverdict: %s%s%s\n",
                Number(row.base).c_str(), row.unit.c_str(), row.base_n, Number(row.now).c_str(),
                row.unit.c_str(), row.new_n, Number(row.change).c_str(), row.unit.c_str(),
                Number(row.ci_low).c_str(), Number(row.ci_high).c_str(),
                Number(row.tolerance).c_str(), VerdictName(row.verdict),
                row.note.empty() ? "" : "; ", row.note.c_str());
  return buf;
}

}  // namespace

std::string RenderCompareJunit(const CompareResult& result) {
  std::vector<Case> cases;
  size_t failures = 0;
  for (const CompareRow& row : result.rows) {
    Case c{"compare", row.metric, "0.000", "", ""};
    if (row.gated && row.verdict == Verdict::kRegressed) {
      char change[64];
      std::snprintf(change, sizeof change, "%+.4g", row.change);
      c.failure_message = row.metric + " regressed: " + change + " " + row.unit;
      c.failure_body = CompareCaseBody(row);
      ++failures;
    }
    cases.push_back(std::move(c));
  }
  const std::string name = "compare run " + std::to_string(result.base.run_id) + " (" +
                           result.base.scenario + ") -> run " + std::to_string(result.now.run_id) +
                           " (" + result.now.scenario + ")";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"callsim\">\n";
  out += "  <testsuite name=\"" + Escape(name) + "\" tests=\"" + std::to_string(cases.size()) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"0.000\">\n";
  std::string system_out;
  for (const Case& c : cases) out += RenderCase(c);
  for (const CompareRow& row : result.rows) system_out += row.metric + ": " + CompareCaseBody(row);
  out += "    <system-out>" + Escape(system_out) + "</system-out>\n  </testsuite>\n";
  return out + "</testsuites>\n";
}

std::string RenderJunit(const harness::Store& store, const std::vector<int64_t>& run_ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"callsim\">\n";
  for (const int64_t id : run_ids) out += RenderSuite(store, id);
  return out + "</testsuites>\n";
}

}  // namespace callsim::reports
