#include "harness/run/record_policy.h"

#include <charconv>

namespace callsim::harness {

bool ParseRecordPolicy(std::string_view text, int64_t max_first, RecordPolicy* policy,
                       std::string* error) {
  if (text == "failed" || text == "all") {
    *policy = RecordPolicy{text == "all" ? RecordPolicy::Mode::kAll : RecordPolicy::Mode::kFailed,
                           0};
    return true;
  }
  int64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  const bool digits_only = !text.empty() && text.front() != '-' && text.front() != '+';
  if (digits_only && ec == std::errc() && ptr == end && n >= 1 && n <= max_first) {
    *policy = RecordPolicy{RecordPolicy::Mode::kFirst, n};
    return true;
  }
  *error = "expected failed, all or a whole number of calls in [1, " + std::to_string(max_first) +
           "], got \"" + std::string(text) + "\"";
  return false;
}

std::string RecordPolicyText(const RecordPolicy& policy) {
  switch (policy.mode) {
    case RecordPolicy::Mode::kOff: return "off";
    case RecordPolicy::Mode::kFailed: return "failed";
    case RecordPolicy::Mode::kAll: return "all";
    case RecordPolicy::Mode::kFirst: return std::to_string(policy.first_calls);
  }
  return "off";
}

bool TapesCall(const RecordPolicy& policy, int64_t call_id) {
  switch (policy.mode) {
    case RecordPolicy::Mode::kOff: return false;
    case RecordPolicy::Mode::kFailed:
    case RecordPolicy::Mode::kAll: return true;
    case RecordPolicy::Mode::kFirst: return call_id >= 0 && call_id < policy.first_calls;
  }
  return false;
}

bool KeepsTape(const RecordPolicy& policy, CallStatus status, bool task_completed) {
  switch (policy.mode) {
    case RecordPolicy::Mode::kOff: return false;
    case RecordPolicy::Mode::kAll:
    case RecordPolicy::Mode::kFirst: return true;
    case RecordPolicy::Mode::kFailed:
      // A call passed only if it completed with every expectation held (call_recorder.h).
      return status != CallStatus::kAborted && !task_completed;
  }
  return false;
}

}  // namespace callsim::harness
