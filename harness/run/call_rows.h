// A finished call's record as store rows, PII redacted (nothing unredacted is stored; WER is
// scored on the words before redaction), and its post-call report's input and row. Used by the
// runner for its calls and by `callsim serve` for the calls it served.
#pragma once

#include <cstdint>
#include <mutex>

#include "agent/postcall/call_report.h"
#include "harness/run/call_record.h"
#include "harness/store/rows.h"
#include "harness/store/store.h"

namespace callsim::harness {

// Hands the call's rows to the store's batch (see Store::AddCall).
void StoreCall(CallRecord record, int64_t run_id, Store& store, std::mutex* lock = nullptr);

// What the post-call report is built from: the spoken messages of the agent's history, the tool
// audit, the usage and how the call ended.
agent::CallReportInput ReportInput(const CallRecord& record);

CallReportRow ReportRow(int64_t run_id, int64_t call_id, const agent::CallReport& report);

}  // namespace callsim::harness
