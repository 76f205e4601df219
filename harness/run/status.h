// How a call and a run end. The names are part of the store's contract (calls.status, runs.status
// and sweeps.status: harness/store/schema.cc checks them), so each enum has one table with exactly
// the strings stored; the run code switches on the enum and names it only to store or print it.
#pragma once

#include "agent/runtime/name_table.h"

namespace callsim::harness {

// completed: the call ran to its end (its expectations may still have failed); failed: it could
// not (a setup error, the maximum duration); dropped: the run's limits ended or refused it;
// aborted: the run was interrupted while it ran.
enum class CallStatus { kCompleted, kFailed, kDropped, kAborted };
inline constexpr agent::NameTable<CallStatus, 4> kCallStatusNames{
    {"completed", "failed", "dropped", "aborted"}};

// A run (or a sweep) is running until it completes, fails (an error stopped it) or is aborted.
enum class RunStatus { kRunning, kCompleted, kFailed, kAborted };
inline constexpr agent::NameTable<RunStatus, 4> kRunStatusNames{
    {"running", "completed", "failed", "aborted"}};

}  // namespace callsim::harness
