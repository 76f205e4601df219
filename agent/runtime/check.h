// CALLSIM_CHECK(cond): an invariant that holds in every build type. A simulator that measures with
// a broken invariant (an index past a per-turn array, a negative queue count, a state transition
// that cannot happen) would record a wrong number quietly; this stops the process instead, with the
// file, line and condition on stderr. Use it where a violation would corrupt a measurement or a
// stored row, not for input from outside (that gets an error message, see scenario_error.h).
#pragma once

namespace callsim::agent {

// Prints "callsim: check failed: <cond> (file:line)" and aborts. Never returns.
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line) noexcept;

}  // namespace callsim::agent

#define CALLSIM_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (__builtin_expect(!(cond), 0)) ::callsim::agent::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)
