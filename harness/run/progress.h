// Progress of a run for the people watching it. The runner reports a RunProgress every second of
// virtual time (it never reads a clock); a ProgressPrinter turns reports into one live terminal
// line or, in CI logs, plain lines, rate-limited by wall time that its caller passes in.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>

namespace callsim::harness {

struct RunProgress {
  int64_t virtual_us = 0;
  int calls_total = 0;    // calls the arrival schedule starts in all
  int calls_started = 0;
  int calls_done = 0;     // ended (and handed to the store)
  int calls_active = 0;
  // Over the turns of the calls done so far; NaN until there is one.
  double turn_latency_p95_ms = std::numeric_limits<double>::quiet_NaN();
  // When the runner expects the last call to end (the last arrival plus the mean length of the
  // calls done so far, within the run's bounds); -1 while unknown.
  int64_t estimated_end_us = -1;
  bool finished = false;  // the run's last report
};

using ProgressFn = std::function<void(const RunProgress&)>;

// "calls 512/1000 done, 230 active, p95 1.42 s, eta 12 s"; the p95 and eta parts are left out
// while unknown (NaN, or eta_s < 0).
std::string FormatProgress(const RunProgress& progress, double eta_s);

// Decides when to print what. Live (a terminal): one line rewritten with '\r' at most 10 times
// per wall-second. Otherwise: a plain line at most every 5 wall-seconds. The finished report is
// always printed and ends the line. The ETA is the virtual time left divided by the virtual-time
// rate (virtual seconds per wall-second) observed since the first report.
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool live);

  // `wall_s`: wall-clock seconds since any fixed origin, non-decreasing.
  void Report(const RunProgress& progress, double wall_s);

 private:
  double EtaS(const RunProgress& progress, double wall_s) const;

  std::FILE* out_;
  bool live_;
  double min_interval_s_;
  bool have_origin_ = false;
  double origin_wall_s_ = 0;
  int64_t origin_virtual_us_ = 0;
  double last_print_wall_s_ = 0;
  bool printed_ = false;
  size_t last_length_ = 0;  // of the live line, to blank out what a shorter line leaves
};

// A ProgressFn printing to stderr, live when stderr is a terminal. It reads the wall clock (in
// progress_wall_clock.cc, the only place that does): the runner never does.
ProgressFn MakeStderrProgress();

}  // namespace callsim::harness
