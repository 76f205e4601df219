// The one place the run's progress display reads the wall clock: how often to print and the ETA
// are about the person waiting, not the simulation, and never feed back into it.
#include <unistd.h>

#include <chrono>
#include <memory>

#include "harness/run/progress.h"

namespace callsim::harness {

ProgressFn MakeStderrProgress() {
  auto printer = std::make_shared<ProgressPrinter>(stderr, isatty(fileno(stderr)) != 0);
  const auto start = std::chrono::steady_clock::now();
  return [printer, start](const RunProgress& progress) {
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
    printer->Report(progress, wall.count());
  };
}

}  // namespace callsim::harness
