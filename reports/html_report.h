// `callsim report --html`: one self-contained HTML file for runs, sweeps and (when given) the
// comparison of two runs. It opens offline and fetches nothing: the styles are inline, every
// chart is inline SVG drawn here, there is no script, and a Content-Security-Policy of
// default-src 'none' keeps the browser from loading anything even if a stored text tried to; the
// one exception is a call recording (`--record`), which a failed call's <audio preload="none">
// plays from a local file (media-src file:) only when the reader presses play.
// Every text from the store is escaped (reports/html_text.h) and every part is bounded (bins,
// CDF points, failed calls, timeline items, text lengths), so the file stays small however large
// the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/compare.h"
#include "reports/html_failed_calls.h"

namespace callsim::reports {

// A run or a sweep to show, and the store it is read from (not owned; must outlive the call).
struct HtmlRunRef {
  const harness::Store* store = nullptr;
  int64_t run_id = 0;
  std::string label;  // where it came from: "demo.db#3"
};
struct HtmlSweepRef {
  const harness::Store* store = nullptr;
  int64_t sweep_id = 0;
  std::string label;
};

struct HtmlReportInput {
  std::string title = "callsim report";
  std::vector<HtmlRunRef> runs;      // a section each, in this order
  std::vector<HtmlSweepRef> sweeps;  // a section each, after the runs
  // The comparison of two of the runs (CompareRuns, reports/compare.h), when the caller made
  // one: its table comes first.
  std::optional<CompareResult> compare;
  FailedCallsOptions failed_calls;
  // The folder the HTML file goes to: recordings are linked relative to it (each run's
  // recordings_url_prefix is set from it and the run's database path). Empty: the current one.
  std::string output_dir;
};

// The whole document. With more than one section it opens with a table of contents linking to
// each. Throws harness::StoreError if a store cannot be read.
std::string RenderHtmlReport(const HtmlReportInput& input);

}  // namespace callsim::reports
