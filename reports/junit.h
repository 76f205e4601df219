// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters), read from the store: one
// <testsuite> per run, one <testcase> per call (classname the scenario, name "call N", time the
// call's length in seconds) with a <failure> that lists each failed expectation and the replay
// command, and one <testcase> per threshold (classname "thresholds") that fails with its observed
// value. A dropped or aborted call is a failure with its reason; the run's metrics go in the
// suite's <system-out> (GitLab ignores <properties>). Text is XML-escaped; characters XML 1.0
// cannot carry are replaced by U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/compare.h"

namespace callsim::reports {

// The document for `run_ids` (each a <testsuite> of one <testsuites>). Throws harness::StoreError
// if the store cannot be read; a run that is not there is an empty suite named for it.
std::string RenderJunit(const harness::Store& store, const std::vector<int64_t>& run_ids);

// The document for a comparison: one <testsuite>, one <testcase> per compared metric (classname
// "compare", name the metric) that fails when the metric regressed and can fail the gate; every
// row's base, new, change, interval and verdict go in the failure body and <system-out>.
std::string RenderCompareJunit(const CompareResult& result);

}  // namespace callsim::reports
