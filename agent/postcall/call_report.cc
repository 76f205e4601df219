#include "agent/postcall/call_report.h"

#include <string_view>

#include "agent/postcall/call_summary.h"

namespace callsim::agent {
namespace {

// Tool arguments or results longer than this are not walked: the report says how long they were.
constexpr size_t kMaxToolJsonBytes = 64 * 1024;

// Invalid UTF-8 (a transcript is bytes) becomes U+FFFD, so the report's JSON always dumps.
std::string ValidUtf8(std::string text) {
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return text;
  const std::string dumped =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}

std::string Redact(std::string_view text, PiiCounts* counts) {
  return ValidUtf8(RedactPii(text, counts));
}

// Assembled text gets a second pass: parts that were clean alone could form a number together.
std::string RedactAssembled(std::string_view text) { return ValidUtf8(RedactPii(text)); }

// The model's or the back end's JSON text, parsed and redacted; text that is not JSON stays text.
nlohmann::json RedactJsonText(std::string_view raw, PiiCounts* counts) {
  if (raw.find_first_not_of(" \t\r\n") == std::string_view::npos) return nullptr;
  if (raw.size() > kMaxToolJsonBytes) return "[omitted: " + std::to_string(raw.size()) + " bytes]";
  const nlohmann::json parsed = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Redact(raw, counts);
  return RedactPiiJson(parsed, counts);
}

void AddTranscript(const CallReportInput& input, CallReport* report,
                   std::vector<TranscriptTurn>* turns) {
  for (const TranscriptTurn& turn : input.transcript) {
    if (turns->size() == kMaxReportTurns) {
      ++report->turns_omitted;
      continue;
    }
    TranscriptTurn redacted{Redact(turn.role, &report->redactions),
                            Redact(turn.text, &report->redactions), turn.t_ms};
    report->transcript.push_back(
        {{"role", redacted.role}, {"text", redacted.text}, {"t_ms", redacted.t_ms}});
    turns->push_back(std::move(redacted));
  }
}

void AddTools(const CallReportInput& input, CallReport* report, std::vector<ReportedTool>* tools) {
  for (const ToolAuditRecord& record : input.tools) {
    if (tools->size() == kMaxReportTools) {
      ++report->tools_omitted;
      continue;
    }
    PiiCounts* counts = &report->redactions;
    ReportedTool tool{Redact(record.name, counts), Redact(record.decision, counts),
                      Redact(record.reason, counts), RedactJsonText(record.arguments_json, counts),
                      RedactJsonText(record.result_json, counts)};
    report->tool_calls.push_back({{"name", tool.name},
                                  {"decision", tool.decision},
                                  {"reason", tool.reason},
                                  {"arguments", tool.arguments},
                                  {"result", tool.result}});
    if (IsDone(tool)) {
      report->action_items.push_back(RedactAssembled(ActionItemText(tool)));
    } else if (!IsDuplicate(tool)) {
      report->not_done.push_back(RedactAssembled(NotDoneText(tool)));
    }
    tools->push_back(std::move(tool));
  }
}

}  // namespace

CallReport BuildCallReport(const CallReportInput& input, const PriceTable& prices) {
  CallReport report;
  std::vector<TranscriptTurn> turns;
  std::vector<ReportedTool> tools;
  AddTranscript(input, &report, &turns);
  AddTools(input, &report, &tools);
  report.outcome =
      CallEnding{Redact(input.outcome.ended_by, &report.redactions), input.outcome.duration_ms};
  report.summary = RedactAssembled(SummarizeCall(turns, tools, report.outcome));
  report.usage = input.usage;
  report.cost = ComputeCallCost(input.usage, prices);
  return report;
}

nlohmann::json ToJson(const CallReport& report) {
  return {{"summary", report.summary},
          {"action_items", report.action_items},
          {"not_done", report.not_done},
          {"transcript", report.transcript},
          {"tool_calls", report.tool_calls},
          {"usage", ToJson(report.usage)},
          {"cost", ToJson(report.cost)},
          {"outcome",
           {{"ended_by", report.outcome.ended_by}, {"duration_ms", report.outcome.duration_ms}}},
          {"redactions", ToJson(report.redactions)},
          {"turns_omitted", report.turns_omitted},
          {"tools_omitted", report.tools_omitted}};
}

}  // namespace callsim::agent
