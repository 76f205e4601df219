// GitHub-flavoured Markdown for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY, GitLab's
// Markdown artifacts): a run's end-of-run summary, its thresholds table and its failed calls
// with the replay line; a sweep's levels; a comparison's table with arrows. Every piece of text
// from the store is escaped for a table cell or fenced, and the whole stays well under the 1 MiB
// GitHub accepts per step (failed calls and expectations are capped; the summary file is bounded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/store/store.h"
#include "reports/compare.h"

namespace callsim::reports {

// GitHub rejects a step summary above 1 MiB.
inline constexpr size_t kMaxSummaryBytes = 1024 * 1024;
// At most this many failed calls are listed, each with at most 5 failed expectations.
inline constexpr size_t kMaxSummaryFailedCalls = 50;

// Throws harness::StoreError if the store cannot be read; a missing run gives one line.
std::string RunSummaryMarkdown(const harness::Store& store, int64_t run_id);
std::string SweepSummaryMarkdown(const harness::Store& store, int64_t sweep_id);
std::string CompareSummaryMarkdown(const CompareResult& result);

// Appends `markdown` to `path` (created if missing), as GitHub's step summary file is meant to be
// written: several commands in one step add up. The file never grows past kMaxSummaryBytes: text
// that would cross it is cut at a line and a note says so. False with *error when it cannot write.
bool AppendSummaryMarkdown(const std::string& path, const std::string& markdown,
                           std::string* error);

}  // namespace callsim::reports
