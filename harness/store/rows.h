// Plain rows of the run store (README.md, "The store"; harness/store/schema.cc). Times of calls,
// turns and events are virtual milliseconds since the run started; nothing here holds wall-clock
// time except the run's started_at/finished_at metadata.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace callsim::harness {

struct RunInfo {
  int64_t run_id = 0;       // assigned by Store::BeginRun; ignored on input
  std::string started_at;   // ISO-8601 UTC; empty on input lets the store stamp it (see StoreOptions)
  std::string finished_at;  // set by Store::FinishRun; ignored on input
  std::string status = "running";  // running | completed | failed | aborted; BeginRun writes running
  uint64_t seed = 0;
  std::string mode = "virtual";  // virtual | realtime
  std::string scenario;          // as given to `callsim run`, so the replay line works
  std::string config_json = "{}";
  std::string event_log_hash;      // empty until FinishRun
  std::optional<int> exit_code;    // nullopt until FinishRun
  // Why a run ended failed or aborted ("SIGTERM", the store or internal error); empty otherwise.
  std::string end_reason;
  // Calls still due to arrive when the run was aborted or failed: counted, not stored one by one.
  int64_t calls_not_started = 0;

  bool operator==(const RunInfo&) const = default;
};

// How a run ended, as Store::FinishRun records it.
struct RunOutcome {
  std::string status;  // completed | failed | aborted
  std::string event_log_hash;
  int exit_code = 0;
  std::string end_reason;  // empty when completed
  int64_t calls_not_started = 0;
};

struct CallRow {
  int64_t run_id = 0;
  int64_t call_id = 0;
  std::string scenario;
  double started_ms = 0;
  double ended_ms = 0;
  // completed | failed | dropped (refused or lost by the system under load, or cut by the run's
  // duration or time limit) | aborted (cut short by an abort of the run: SIGINT/SIGTERM)
  std::string status = "completed";
  bool task_completed = false;
  std::string failure_reason;  // empty when none (stored as NULL)
  // The call's recording (`--record`), relative to the database's folder:
  // "NAME.recordings/run-<run_id>/call-<call_id>.wav"; empty when none (stored as NULL).
  std::string recording;
  // The call's event-log hash, 16 lowercase hex digits (the run's event_log_hash combines them);
  // empty when not known (stored as NULL: calls of databases older than schema version 7).
  std::string event_hash;

  bool operator==(const CallRow&) const = default;
};

struct TurnRow {
  int64_t run_id = 0;   // AddCall uses the call's run_id and call_id for every child row
  int64_t call_id = 0;
  int turn_index = 0;
  std::string reference_text;
  std::string hypothesis_text;
  int64_t ref_words = 0;  // N
  int64_t substitutions = 0;
  int64_t deletions = 0;
  int64_t insertions = 0;
  std::optional<double> turn_latency_ms;  // nullopt when the agent never answered
  bool barge_in = false;
  std::optional<double> barge_in_stop_ms;  // set for barge-in turns whose stop was observed

  bool operator==(const TurnRow&) const = default;
};

// One checked expectation. A failed call has at least one row with passed == false.
struct ExpectationRow {
  int64_t run_id = 0;
  int64_t call_id = 0;
  int64_t seq = 0;  // position within the call; AddCall assigns it from the vector order
  int turn_index = 0;
  std::string kind;    // "agent_says", "tool_call", "agent_stops"...
  bool passed = false;
  std::string detail;  // why it failed (or what held), for people

  bool operator==(const ExpectationRow&) const = default;
};

struct EventRow {
  int64_t run_id = 0;
  int64_t call_id = 0;
  int64_t seq = 0;  // order within the call, unique per call
  double t_ms = 0;
  std::string source;
  std::string kind;
  std::string detail_json = "{}";

  bool operator==(const EventRow&) const = default;
};

// One threshold of a run, checked against the run's metrics (schema version 2).
// One tool call the model proposed, and what the guardrails made of it (the audit record).
// arguments_json and result_json are stored with PII redacted.
struct ToolCallRow {
  int64_t run_id = 0;  // AddCall uses the call's run_id and call_id; seq = position
  int64_t call_id = 0;
  int64_t seq = 0;
  double t_ms = 0;            // when the decision was final
  std::string tool_call_id;   // the model's id for the call
  std::string name;
  std::string arguments_json;  // as proposed (may be malformed JSON)
  std::string decision;        // executed | failed | blocked | declined | reused | cancelled
  std::string reason;          // why blocked / failed / declined; empty otherwise
  std::string result_json;     // executed or reused: the result; empty otherwise
  double duration_ms = 0;
  bool confirmed = false;      // the caller said yes first (destructive tools)

  bool operator==(const ToolCallRow&) const = default;
};

// One direction of a SIP call's RTP media as one party saw it (the call_media table): the
// receiver's own statistics (measured_by "receiver"), what the receiver reported in RTCP and the
// sender read (measured_by "rtcp"), or the network callsim simulated on its side of the socket
// (measured_by "impairment": what it dropped, and the RFC 3550 jitter it added as of the peer's
// last report). The rows of one direction side by side show whether a report and a measurement
// agree.
struct CallMediaRow {
  int64_t run_id = 0;  // AddCall uses the call's run_id and call_id
  int64_t call_id = 0;
  std::string direction;    // "uplink" (caller to agent) or "downlink"
  std::string measured_by;  // "receiver", "rtcp" or "impairment"
  double packets_expected = 0;
  double packets_lost = 0;  // may be negative with duplicates (RFC 3550 A.3)
  double fraction_lost = 0;  // 0 to 1; for "rtcp", the report's own (since the report before)
  double jitter_ms = 0;      // RFC 3550 interarrival jitter
  std::optional<double> concealed_frames;  // the receiver's jitter buffer; NULL otherwise
  std::optional<double> late_dropped;
  int64_t srtp_auth_failures = 0;  // the receiver's SRTP drops; 0 otherwise
  int64_t srtp_replays = 0;

  bool operator==(const CallMediaRow&) const = default;
};

// The post-call report of one call, built after the call ended: transcript, summary and action
// items with PII redacted, and the estimated cost.
struct CallReportRow {
  int64_t run_id = 0;
  int64_t call_id = 0;
  std::string transcript_json;    // [{"role", "text", "t_ms"}...]
  std::string summary;
  std::string action_items_json;  // ["..."]
  std::string cost_json;          // {"stt_usd", "llm_usd", "tts_usd", "total_usd", usage...}
  double total_cost_usd = 0;
  int64_t redactions = 0;         // PII spans replaced in the report

  bool operator==(const CallReportRow&) const = default;
};

struct ThresholdRow {
  int64_t run_id = 0;
  int64_t seq = 0;              // position in the scenario's thresholds; SetThresholds assigns it
  std::string metric;           // "turn_latency"
  std::string expression;       // "p(95)<1200"
  std::string observed_metric;  // the metrics-table name it was read from: "turn_latency_p95_ms"
  double observed = 0;          // NaN when the run had no data for it (stored as NULL)
  bool passed = false;

  // NaN-aware: two rows with NaN observed values are equal.
  bool operator==(const ThresholdRow& o) const {
    const bool same_observed =
        observed == o.observed || (std::isnan(observed) && std::isnan(o.observed));
    return run_id == o.run_id && seq == o.seq && metric == o.metric &&
           expression == o.expression && observed_metric == o.observed_metric &&
           same_observed && passed == o.passed;
  }
};

// A concurrency sweep: one run per level in the same database (schema version 2).
struct SweepRow {
  int64_t sweep_id = 0;     // assigned by Store::BeginSweep; ignored on input
  std::string name;
  std::string scenario;     // the scenario file each level ran
  std::string parameter;    // the --set path the levels went to: "load.callers"
  uint64_t seed = 0;        // every level ran with this seed
  std::string plan_json = "{}";
  std::string status = "running";  // running | completed | aborted | failed
  std::optional<double> knee;      // the highest level L such that every level <= L met the SLO
  std::string started_at;   // ISO-8601 UTC, stamped like runs.started_at; empty on input
  std::string finished_at;  // set by FinishSweep

  bool operator==(const SweepRow&) const = default;
};

struct SweepLevelRow {
  int64_t sweep_id = 0;
  int64_t seq = 0;          // position in the plan's levels
  double level = 0;
  int64_t run_id = 0;
  bool slo_met = false;
  std::string slo_json = "[]";  // the level's SLO results: [{metric, expression, observed, passed}]

  bool operator==(const SweepLevelRow&) const = default;
};

}  // namespace callsim::harness
