// WER on two texts (split at the first NUL byte): any bytes give counts or an input error, and
// the counts obey S+D <= N and the corpus total equals the sum of the lines.
#include <string>

#include "fuzz/fuzz_input.h"
#include "harness/measure/wer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::harness;
  auto [reference, hypothesis] =
      callsim::fuzz::SplitOnce(callsim::fuzz::AsText(data, size), std::string_view("\0", 1));
  WerFileResult result;
  std::string error;
  if (!ComputeWerLines(reference, hypothesis, "ref", "hyp", &result, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  WerCounts sum;
  for (const WerCounts& line : result.lines) {
    if (line.substitutions + line.deletions > line.ref_words) __builtin_trap();
    sum += line;
  }
  if (!(sum == result.total)) __builtin_trap();
  return 0;
}
