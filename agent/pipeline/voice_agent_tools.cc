// The reference agent's tool handling (a part of VoiceAgent, apart for size): every proposal
// through the ToolGate, spoken confirmation of destructive tools, runs with their filler, results
// fed back to the model, and one audit event per proposal.
#include <algorithm>
#include <cmath>
#include <utility>

#include "agent/pipeline/agent_events.h"
#include "agent/pipeline/repeat_request.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/check.h"
#include "agent/text/words.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

// How long `run` has been running: the duration its audit reports.
double RanForMs(const Scheduler& scheduler, const ToolRun& run) {
  return static_cast<double>(scheduler.NowUs() - run.started_us) / kMicrosPerMs;
}

}  // namespace

void VoiceAgent::OnToolCall(const ToolCallRequest& call) {
  stall_.MarkProgress();
  if (reply_.held) {  // nothing runs before the turn has ended on these words
    reply_.held_tool_calls.push_back(call);
    return;
  }
  Emit(agent_events::kToolCallProposed,
       {{"id", call.id}, {"name", call.name}, {"arguments", call.arguments_json}});
  const bool control = call.name == kEndCallTool || call.name == kTransferCallTool;
  if (control && gate_->Find(call.name) == nullptr) {
    // The call-control tools are the agent's own: no back end, nothing to validate but a target.
    if (call.name == kEndCallTool) {
      reply_.after.action = AfterReply::Action::kHangup;
      reply_.after.reason = "agent_hangup";
    } else {
      reply_.after.action = AfterReply::Action::kTransfer;
      reply_.after.reason = "transfer";
      // Untrusted model output: a target that is not a string in a JSON object is left empty.
      const json args = json::parse(call.arguments_json, nullptr, /*allow_exceptions=*/false);
      if (args.is_object() && args.contains("target") && args["target"].is_string()) {
        reply_.after.transfer_target = args["target"].get<std::string>();
      }
    }
    Audit(call, "executed", "call_control", json::object(), 0, false);
    return;
  }
  OnToolDecision(call, gate_->Check(call));
}

void VoiceAgent::OnToolDecision(const ToolCallRequest& call, ToolDecision decision) {
  switch (decision.verdict) {
    case ToolVerdict::kRun:
      StartToolRun(call, decision, /*confirmed=*/false);
      return;
    case ToolVerdict::kReuse: {
      const ToolOutcome& first = decision.reused;
      Audit(call, "reused", decision.reason, first.result, 0, false);
      Emit(agent_events::kToolResult, {{"id", call.id}, {"name", call.name}, {"ok", first.ok}});
      AddToolMessages(call, first.ok ? first.result.dump() : json{{"error", first.error}}.dump());
      reply_.follow_up = true;
      MaybeFollowUp();
      return;
    }
    case ToolVerdict::kConfirm:
      if (confirmation_.active || !reply_.notices.question().empty()) {
        Audit(call, "blocked", "confirmation_pending", nullptr, 0, false);
        break;
      }
      reply_.notices.AskConfirmation(config_.confirm_prefix + " " + decision.spec->description +
                                     ". " + config_.confirm_suffix);
      confirmation_ = PendingConfirmation{true, call, decision, reply_.notices.question()};
      Emit(agent_events::kToolConfirmationRequested, {{"id", call.id}, {"name", call.name}});
      if (reply_.llm_done) SayPendingNotices();
      return;
    case ToolVerdict::kBlock:
      Audit(call, "blocked", decision.reason, nullptr, 0, false);
      break;
  }
  // Blocked: the model hears why in the history; the caller hears one short refusal, after
  // the model's own words (the tool call can come before its last sentence is complete).
  AddToolMessages(call, json{{"error", "blocked: " + decision.reason}}.dump());
  reply_.notices.Block();
  if (reply_.llm_done) SayPendingNotices();
}

// What the agent adds to the model's words once they are all queued: the refusal of a blocked
// call, the confirmation question of a destructive one.
void VoiceAgent::SayPendingNotices() {
  const uint64_t id = reply_.id;
  while (reply_.id == id) {  // a sentence can fail synchronously and end the reply
    const std::optional<ReplyNotices::Notice> notice =
        reply_.notices.TakeNext(reply_.segments.size());
    if (!notice) return;
    switch (*notice) {
      case ReplyNotices::Notice::kBlocked: AddSentence(config_.blocked_reply); break;
      case ReplyNotices::Notice::kToolFailed: AddSentence(config_.tool_failed_reply); break;
      case ReplyNotices::Notice::kConfirmation: AddSentence(reply_.notices.question()); break;
    }
  }
}

void VoiceAgent::StartToolRun(const ToolCallRequest& call, const ToolDecision& decision,
                              bool confirmed) {
  const size_t index = reply_.tools.size();
  reply_.tools.emplace_back();
  ToolRun& run = reply_.tools.back();
  run.key = next_run_key_++;
  run.call = call;
  run.started_us = scheduler_.NowUs();
  run.confirmed = confirmed;
  ++reply_.tools_running;
  Emit(agent_events::kToolStarted, {{"id", call.id}, {"name", call.name}});
  const uint64_t id = reply_.id;
  const uint64_t key = run.key;
  std::unique_ptr<ToolInvocation> invocation =
      gate_->Run(call, decision, [this, key](const ToolOutcome& outcome) { OnToolDone(key, outcome); });
  if (reply_.id == id) reply_.tools[index].invocation = std::move(invocation);
  ArmFiller();
}

void VoiceAgent::OnToolDone(uint64_t key, const ToolOutcome& outcome) {
  for (size_t i = 0; i < detached_runs_.size(); ++i) {
    if (detached_runs_[i].key == key) {
      OnDetachedToolDone(i, outcome);
      return;
    }
  }
  size_t index = reply_.tools.size();
  for (size_t i = 0; i < reply_.tools.size(); ++i) {
    if (reply_.tools[i].key == key && !reply_.tools[i].done) index = i;
  }
  if (index == reply_.tools.size()) return;  // a cancelled run: its audit is written
  stall_.MarkProgress();
  ToolRun& run = reply_.tools[index];
  run.done = true;
  --reply_.tools_running;
  CALLSIM_CHECK(reply_.tools_running >= 0);
  Audit(run.call, outcome.ok ? "executed" : "failed", outcome.ok ? "" : outcome.error,
        outcome.ok ? outcome.result : json(nullptr), RanForMs(scheduler_, run), run.confirmed);
  Emit(agent_events::kToolResult,
       {{"id", run.call.id}, {"name", run.call.name}, {"ok", outcome.ok}});
  AddToolMessages(run.call, outcome.ok ? outcome.result.dump()
                                       : json{{"error", outcome.error}}.dump());
  if (outcome.ok) {
    reply_.follow_up = true;
  } else {
    // Say so rather than go silent (after the model's words); the model hears the error with
    // its next request.
    reply_.notices.ToolFailed();
    if (reply_.llm_done) SayPendingNotices();
  }
  MaybeFollowUp();
}

// A confirmed run that finished after its reply was cut off: audited, and its result joins the
// history so the model knows what was done.
void VoiceAgent::OnDetachedToolDone(size_t index, const ToolOutcome& outcome) {
  CALLSIM_CHECK(index < detached_runs_.size());
  ToolRun run = std::move(detached_runs_[index]);
  detached_runs_.erase(detached_runs_.begin() + static_cast<ptrdiff_t>(index));
  Audit(run.call, outcome.ok ? "executed" : "failed",
        outcome.ok ? "finished_after_interruption" : outcome.error,
        outcome.ok ? outcome.result : json(nullptr), RanForMs(scheduler_, run), run.confirmed);
  Emit(agent_events::kToolResult,
       {{"id", run.call.id}, {"name", run.call.name}, {"ok", outcome.ok}});
  history_.AddToolExchange(
      run.call, outcome.ok ? outcome.result.dump() : json{{"error", outcome.error}}.dump());
}

void VoiceAgent::AddToolMessages(const ToolCallRequest& call, const std::string& result_json) {
  for (ChatMessage& message : ConversationHistory::ToolExchange(call, result_json)) {
    reply_.tool_messages.push_back(std::move(message));
  }
}

// Once the model's step is over and every tool of it has answered, the results go back to the
// model and its next step streams into the same reply.
void VoiceAgent::MaybeFollowUp() {
  if (!reply_.follow_up || !reply_.llm_done || reply_.tools_running > 0) return;
  reply_.follow_up = false;
  CommitReplyText(/*played_only=*/false);
  history_.Add(&reply_.tool_messages);
  history_.Trim();
  chunker_.Reset();
  OpenLlmStream();
}

void VoiceAgent::ArmFiller() {
  if (reply_.filler_said || reply_.filler_timer.pending() || !HasText(config_.tool_filler)) return;
  reply_.filler_timer.After(MsToUs(config_.tool_filler_after_ms), [this] { OnFillerTimer(); });
}

// A slow tool: say the filler once the reply has almost nothing left to play (a sentence's
// trailing pause at most), so the caller never sits in silence wondering whether the line dropped.
void VoiceAgent::OnFillerTimer() {
  if (reply_.tools_running == 0 || reply_.filler_said) return;
  const bool synthesizing = reply_.FirstUnsynthesized() != nullptr;
  constexpr int kFillerSlackFrames = 30;  // 600 ms: about a sentence's closing pause
  if (synthesizing || reply_.queued_frames > kFillerSlackFrames) {
    reply_.filler_timer.After(MsToUs(200), [this] { OnFillerTimer(); });
    return;
  }
  reply_.filler_said = true;
  Emit(agent_events::kToolFiller, json::object());
  AddSentence(config_.tool_filler);
}

// The caller's message answers a pending confirmation. Returns true when it was handled here.
bool VoiceAgent::AnswerConfirmation() {
  if (IsRepeatRequest(history_.back().content)) {  // say the question again; still pending
    Emit(agent_events::kRepeat, {{"text", confirmation_.question}});
    BeginReply(ReplyKind::kAnswer);
    SpeakFixedText(confirmation_.question);
    return true;
  }
  PendingConfirmation pending = std::move(confirmation_);
  confirmation_ = PendingConfirmation{};
  const ConfirmationAnswer answer = ReadConfirmation(history_.back().content);
  Emit(agent_events::kToolConfirmation, {{"id", pending.call.id},
                                         {"name", pending.call.name},
                                         {"answer", ConfirmationAnswerName(answer)}});
  if (answer == ConfirmationAnswer::kYes) {
    gate_->BeginTurn();
    BeginReply(ReplyKind::kAnswer);
    StartToolRun(pending.call, pending.decision, /*confirmed=*/true);
    return true;
  }
  const bool declined = answer == ConfirmationAnswer::kNo;
  Audit(pending.call, "declined", declined ? "caller_declined" : "no_confirmation", nullptr, 0,
        false);
  history_.AddToolExchange(pending.call, json{{"error", "the caller did not confirm"}}.dump());
  if (declined) {
    BeginReply(ReplyKind::kAnswer);
    SpeakFixedText(config_.declined_reply);
    return true;
  }
  // Neither yes nor no: the caller moved on; the message is answered as any other.
  history_.MoveUserMessageLast();
  return false;
}

void VoiceAgent::Audit(const ToolCallRequest& call, const char* decision,
                       const std::string& reason, const json& result, double duration_ms,
                       bool confirmed) {
  ToolAuditEvent audit;
  audit.tool_call_id = call.id;
  audit.name = call.name;
  audit.arguments_json = call.arguments_json;
  audit.decision = decision;
  audit.reason = reason;
  audit.result_json = result.is_null() ? std::string() : result.dump();
  audit.duration_ms = duration_ms;
  audit.confirmed = confirmed;
  Emit(agent_events::kToolAudit, ToJson(audit));
}

void VoiceAgent::CancelTools(const char* reason) {
  reply_.filler_timer.Cancel();
  for (ToolRun& run : reply_.tools) {
    if (run.done) continue;
    if (run.confirmed && run.invocation) {
      // The caller said yes: let it finish (EndCall settles what is still running at the end).
      run.done = true;
      detached_runs_.push_back(std::move(run));
      continue;
    }
    if (run.invocation) run.invocation->Cancel();
    run.done = true;
    Audit(run.call, "cancelled", reason, nullptr, RanForMs(scheduler_, run), run.confirmed);
  }
  reply_.tools_running = 0;
}

void VoiceAgent::SettleTools(const char* reason) {
  if (confirmation_.active) {
    Audit(confirmation_.call, "declined", "call_ended", nullptr, 0, false);
    confirmation_ = PendingConfirmation{};
  }
  for (ToolRun& run : detached_runs_) {  // the call is over: what has not answered never will
    if (run.invocation) run.invocation->Cancel();
    Audit(run.call, "cancelled", std::string("call_ended: ") + reason, nullptr,
          RanForMs(scheduler_, run), run.confirmed);
  }
  detached_runs_.clear();
}

}  // namespace callsim::agent
