#include "agent/postcall/call_summary.h"

#include <algorithm>
#include <string_view>

namespace callsim::agent {
namespace {

constexpr size_t kMaxArgsChars = 120;
constexpr size_t kMaxResultChars = 80;
constexpr size_t kMaxQuoteChars = 160;
constexpr size_t kMaxEndReasonChars = 40;
constexpr size_t kMaxListedTools = 5;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Whitespace runs (newlines included) become one space; the ends are trimmed.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!IsSpace(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// At most `max_chars` bytes, ending in "..." when cut; cut at a space when one is near, never
// inside a UTF-8 character.
std::string Truncate(std::string text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const size_t space = text.rfind(' ', cut);
  if (space != std::string::npos && space > cut / 2) cut = space;
  text.resize(cut);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text + "...";
}

std::string ValueText(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return OneLine(value.get_ref<const std::string&>());
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FieldsText(const nlohmann::json& object) {
  std::string out;
  for (const auto& [key, value] : object.items()) {
    if (!out.empty()) out.push_back(' ');
    out += OneLine(key) + "=" + ValueText(value);
  }
  return out;
}

std::string ArgsText(const nlohmann::json& args) {
  return Truncate(args.is_object() ? FieldsText(args) : ValueText(args), kMaxArgsChars);
}

std::string ResultText(const nlohmann::json& result) {
  if (!result.is_object()) return Truncate(ValueText(result), kMaxResultChars);
  for (const char* key : {"status", "result", "message"}) {
    if (!result.contains(key)) continue;
    std::string text = ValueText(result.at(key));
    if (!text.empty()) return Truncate(std::move(text), kMaxResultChars);
  }
  return Truncate(FieldsText(result), kMaxResultChars);
}

std::string NameAndArgs(const ReportedTool& tool) {
  std::string out = OneLine(tool.name);
  const std::string args = ArgsText(tool.arguments);
  if (!args.empty()) out += " " + args;
  return out;
}

// "a", "a and b", "a, b and c"; past kMaxListedTools "a, b, c, d, e and 2 more".
std::string JoinList(const std::vector<std::string>& items) {
  const size_t shown = std::min(items.size(), kMaxListedTools);
  std::string out;
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && shown == items.size()) ? " and " : ", ";
    out += items[i];
  }
  if (shown < items.size()) out += " and " + std::to_string(items.size() - shown) + " more";
  return out;
}

std::string Quote(std::string_view text) {
  return "\"" + Truncate(OneLine(text), kMaxQuoteChars) + "\"";
}

constexpr size_t kNoTurn = static_cast<size_t>(-1);

// The index of the first user turn with words in it; kNoTurn when there is none.
size_t FirstUserTurn(const std::vector<TranscriptTurn>& turns) {
  for (size_t i = 0; i < turns.size(); ++i) {
    if (turns[i].role == "user" && !OneLine(turns[i].text).empty()) return i;
  }
  return kNoTurn;
}

std::string WhatTheAgentDid(const std::vector<TranscriptTurn>& turns,
                            const std::vector<ReportedTool>& tools) {
  std::vector<std::string> done;
  std::vector<std::string> not_done;
  for (const ReportedTool& tool : tools) {
    if (IsDone(tool)) {
      const std::string result = ResultText(tool.result);
      done.push_back(OneLine(tool.name) + (result.empty() ? "" : " (" + result + ")"));
    } else if (!IsDuplicate(tool)) {
      not_done.push_back(OneLine(tool.name) + " (" + OneLine(tool.decision) + ")");
    }
  }
  std::string out;
  if (!done.empty()) out = "The agent ran " + JoinList(done) + ".";
  if (!not_done.empty())
    out += std::string(out.empty() ? "" : " ") + "Not done: " + JoinList(not_done) + ".";
  if (!out.empty()) return out;
  // No tools: the agent's first answer to the caller says what it did.
  const size_t ask = FirstUserTurn(turns);
  for (size_t i = ask == kNoTurn ? 0 : ask + 1; i < turns.size(); ++i) {
    if (turns[i].role == "assistant" && !OneLine(turns[i].text).empty()) {
      return "The agent replied: " + Quote(turns[i].text) + ".";
    }
  }
  return "The agent used no tools.";
}

std::string EndPhrase(std::string_view ended_by) {
  if (ended_by == "hangup" || ended_by == "caller_hangup") return "when the caller hung up";
  if (ended_by == "agent_hangup") return "when the agent hung up";
  if (ended_by == "transfer") return "with a transfer";
  if (ended_by == "max_call") return "at the maximum call length";
  if (ended_by == "silence_timeout") return "after a long silence";
  if (ended_by.empty()) return "for an unknown reason";
  const std::string reason = Truncate(OneLine(ended_by), kMaxEndReasonChars);
  const bool error =
      ended_by == "error" || ended_by.ends_with("_error") || ended_by.ends_with("_failed");
  return error ? "on an error (" + reason + ")" : "(" + reason + ")";
}

// "45 s", "1 min 33 s", rounded to the second.
std::string Duration(int64_t duration_ms) {
  const int64_t s = duration_ms > 0 ? (duration_ms + 500) / 1000 : 0;
  if (s < 60) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

std::string HowItEnded(const std::vector<TranscriptTurn>& turns, const CallEnding& outcome) {
  size_t caller_turns = 0;
  for (const TranscriptTurn& turn : turns) caller_turns += turn.role == "user" ? 1 : 0;
  return "The call lasted " + Duration(outcome.duration_ms) + " with " +
         std::to_string(caller_turns) + (caller_turns == 1 ? " caller turn" : " caller turns") +
         " and ended " + EndPhrase(outcome.ended_by) + ".";
}

}  // namespace

bool IsDone(const ReportedTool& tool) { return tool.decision == "executed"; }
bool IsDuplicate(const ReportedTool& tool) { return tool.decision == "reused"; }

std::string ActionItemText(const ReportedTool& tool) {
  std::string out = NameAndArgs(tool);
  const std::string result = ResultText(tool.result);
  if (!result.empty()) out += " -> " + result;
  return out;
}

std::string NotDoneText(const ReportedTool& tool) {
  std::string out = "not done: " + NameAndArgs(tool) + " (" + OneLine(tool.decision);
  const std::string reason = Truncate(OneLine(tool.reason), kMaxResultChars);
  if (!reason.empty()) out += ": " + reason;
  return out + ")";
}

std::string SummarizeCall(const std::vector<TranscriptTurn>& turns,
                          const std::vector<ReportedTool>& tools, const CallEnding& outcome) {
  const size_t ask = FirstUserTurn(turns);
  std::string out = ask == kNoTurn ? "The caller said nothing."
                                   : "The caller first said: " + Quote(turns[ask].text) + ".";
  out += " " + WhatTheAgentDid(turns, tools);
  out += " " + HowItEnded(turns, outcome);
  return out;
}

}  // namespace callsim::agent
