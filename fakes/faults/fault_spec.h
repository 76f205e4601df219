// What can go wrong with a provider, for the fault-injecting decorators (faulty_stt.h,
// faulty_llm.h, faulty_tts.h): per-request rates of errors, timeouts and dropped streams, and
// outage windows in scheduler time. Each request draws its fate from its own Rng stream, with a
// fixed number of draws, so one request's fate never depends on another's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/runtime/rng.h"

namespace callsim::fakes {

// The errors injected requests report through on_error.
inline constexpr const char* kInjectedError = "injected error";
inline constexpr const char* kUnavailableError = "unavailable";

// A span of scheduler time, [start_ms, end_ms), in which the provider is down.
struct OutageWindow {
  double start_ms = 0;
  double end_ms = 0;
};

struct FaultSpec {
  // Shares of requests (each in [0, 1], summed at most 1; see ValidateFaultSpec):
  double error_rate = 0;    // on_error(kInjectedError) after error_delay instead of the answer
  double timeout_rate = 0;  // never answered, until cancelled
  double drop_rate = 0;     // the stream stops part way: neither done nor error
  // Every request that starts inside a window fails with kUnavailableError after error_delay; an
  // STT session open when a window starts fails at its start.
  std::vector<OutageWindow> outages;

  agent::LatencyModel error_delay{50, 150, 1000};  // request to injected error
  // How far a dropped stream gets: LLM 1..drop_max_tokens tokens (or tool calls), TTS
  // 1..drop_max_frames frames, STT 0..drop_max_results interims of the dropped request.
  int drop_max_tokens = 8;
  int drop_max_frames = 50;
  int drop_max_results = 2;
};

// Checks rates are finite and in [0, 1] with a sum <= 1, windows have start <= end, and the
// drop bounds are >= 1 (drop_max_results >= 0). Returns "" when valid, else what is wrong
// ("error_rate must be in [0, 1]").
std::string ValidateFaultSpec(const FaultSpec& spec);

enum class FaultKind { kNone, kError, kTimeout, kDrop };

// "none", "error", "timeout", "drop".
const char* FaultKindName(FaultKind kind);

// One request's fate. Always consumes exactly four draws of `rng`, whatever the outcome.
struct FaultDraw {
  FaultKind kind = FaultKind::kNone;
  int64_t error_delay_us = 0;  // used by errors and outage errors
  int drop_after = 0;          // events a dropped stream still delivers, in [drop_min, drop_max]
};
FaultDraw DrawFault(const FaultSpec& spec, agent::Rng& rng, int drop_min, int drop_max);

// Whether `now_us` lies inside an outage window.
bool InOutage(const FaultSpec& spec, int64_t now_us);
// The start of the earliest window that starts after `now_us` or contains it (then `now_us`),
// or -1 if none.
int64_t NextOutageStartUs(const FaultSpec& spec, int64_t now_us);

// What a faulty provider did, summed over its requests (for tests and run metrics).
struct FaultStats {
  uint64_t requests = 0;  // LLM/TTS: streams started; STT: see FaultyStt::stats()
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t drops = 0;
  uint64_t outage_errors = 0;
};

}  // namespace callsim::fakes
