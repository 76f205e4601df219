#include "fakes/faults/fault_spec.h"

#include <cmath>

#include "agent/runtime/scheduler.h"

namespace callsim::fakes {
namespace {

bool IsRate(double r) { return std::isfinite(r) && r >= 0 && r <= 1; }

using agent::MsToUs;

}  // namespace

std::string ValidateFaultSpec(const FaultSpec& spec) {
  if (!IsRate(spec.error_rate)) return "error_rate must be in [0, 1]";
  if (!IsRate(spec.timeout_rate)) return "timeout_rate must be in [0, 1]";
  if (!IsRate(spec.drop_rate)) return "drop_rate must be in [0, 1]";
  if (spec.error_rate + spec.timeout_rate + spec.drop_rate > 1 + 1e-9) {
    return "error_rate + timeout_rate + drop_rate must be at most 1";
  }
  for (size_t i = 0; i < spec.outages.size(); ++i) {
    const OutageWindow& w = spec.outages[i];
    if (!std::isfinite(w.start_ms) || !std::isfinite(w.end_ms) || w.start_ms > w.end_ms) {
      return "outages[" + std::to_string(i) + "]: start_ms must be finite and <= end_ms";
    }
  }
  if (spec.drop_max_tokens < 1) return "drop_max_tokens must be at least 1";
  if (spec.drop_max_frames < 1) return "drop_max_frames must be at least 1";
  if (spec.drop_max_results < 0) return "drop_max_results must be at least 0";
  return "";
}

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone: return "none";
    case FaultKind::kError: return "error";
    case FaultKind::kTimeout: return "timeout";
    case FaultKind::kDrop: return "drop";
  }
  return "none";
}

// One uniform draw picks the kind, so the three rates partition [0, 1) exactly: an invalid spec
// (a sum over 1) favours errors, then timeouts.
FaultDraw DrawFault(const FaultSpec& spec, agent::Rng& rng, int drop_min, int drop_max) {
  FaultDraw draw;
  const double u = rng.Uniform();
  if (u < spec.error_rate) {
    draw.kind = FaultKind::kError;
  } else if (u < spec.error_rate + spec.timeout_rate) {
    draw.kind = FaultKind::kTimeout;
  } else if (u < spec.error_rate + spec.timeout_rate + spec.drop_rate) {
    draw.kind = FaultKind::kDrop;
  }
  draw.error_delay_us = spec.error_delay.DrawUs(rng);  // two draws
  const int span = drop_max >= drop_min ? drop_max - drop_min + 1 : 1;
  draw.drop_after = drop_min + static_cast<int>(rng.UniformInt(static_cast<uint64_t>(span)));
  return draw;
}

bool InOutage(const FaultSpec& spec, int64_t now_us) {
  for (const OutageWindow& w : spec.outages) {
    if (now_us >= MsToUs(w.start_ms) && now_us < MsToUs(w.end_ms)) return true;
  }
  return false;
}

int64_t NextOutageStartUs(const FaultSpec& spec, int64_t now_us) {
  int64_t best = -1;
  for (const OutageWindow& w : spec.outages) {
    const int64_t start_us = MsToUs(w.start_ms);
    const int64_t end_us = MsToUs(w.end_ms);
    if (end_us <= now_us || start_us >= end_us) continue;  // over, or empty
    const int64_t at = start_us > now_us ? start_us : now_us;
    if (best < 0 || at < best) best = at;
  }
  return best;
}

}  // namespace callsim::fakes
