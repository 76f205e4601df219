#include "agent/runtime/check.h"

#include <cstdio>
#include <cstdlib>

namespace callsim::agent {

void CheckFailed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "callsim: check failed: %s (%s:%d)\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace callsim::agent
