#include "harness/run/progress.h"

#include <algorithm>
#include <cmath>

namespace callsim::harness {

std::string FormatProgress(const RunProgress& p, double eta_s) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "calls %d/%d done, %d active", p.calls_done,
                        p.calls_total, p.calls_active);
  if (!std::isnan(p.turn_latency_p95_ms)) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ", p95 %.2f s",
                       p.turn_latency_p95_ms / 1000.0);
  }
  if (eta_s >= 0) {
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ", eta %.0f s", std::ceil(eta_s));
  }
  return buf;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool live)
    : out_(out), live_(live), min_interval_s_(live ? 0.1 : 5.0) {}

double ProgressPrinter::EtaS(const RunProgress& p, double wall_s) const {
  if (p.finished) return -1;  // the run is over: no estimate to show
  if (!have_origin_ || p.estimated_end_us < 0) return -1;
  const double wall_elapsed_s = wall_s - origin_wall_s_;
  const double virtual_elapsed_s = static_cast<double>(p.virtual_us - origin_virtual_us_) / 1e6;
  if (wall_elapsed_s <= 0 || virtual_elapsed_s <= 0) return -1;
  const double left_s = static_cast<double>(std::max<int64_t>(0, p.estimated_end_us - p.virtual_us)) / 1e6;
  return left_s / (virtual_elapsed_s / wall_elapsed_s);
}

void ProgressPrinter::Report(const RunProgress& p, double wall_s) {
  const double eta_s = EtaS(p, wall_s);
  if (!have_origin_) {
    have_origin_ = true;
    origin_wall_s_ = wall_s;
    origin_virtual_us_ = p.virtual_us;
  }
  if (!p.finished && printed_ && wall_s - last_print_wall_s_ < min_interval_s_) return;
  printed_ = true;
  last_print_wall_s_ = wall_s;
  const std::string line = FormatProgress(p, eta_s);
  if (live_) {
    // Pad with spaces over the rest of a longer previous line.
    const int pad = static_cast<int>(last_length_ > line.size() ? last_length_ - line.size() : 0);
    std::fprintf(out_, "\r%s%*s%s", line.c_str(), pad, "", p.finished ? "\n" : "");
    last_length_ = line.size();
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace callsim::harness
