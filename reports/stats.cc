#include "reports/stats.h"


#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace callsim::reports {

double CorpusWer(const std::vector<harness::TurnRow>& turns) {
  int64_t errors = 0;
  int64_t ref_words = 0;
  for (const harness::TurnRow& t : turns) {
    errors += t.substitutions + t.deletions + t.insertions;
    ref_words += t.ref_words;
  }
  if (ref_words <= 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(errors) / static_cast<double>(ref_words);
}

}  // namespace callsim::reports
