#include "agent/pipeline/tool_confirmation.h"

#include "agent/runtime/check.h"
#include "agent/text/words.h"

namespace callsim::agent {

ConfirmationAnswer ReadConfirmation(std::string_view text) {
  static constexpr std::string_view kYes[] = {"yes",  "yeah", "yep", "correct",
                                              "right", "sure", "ok",  "okay"};
  static constexpr std::string_view kNo[] = {"no",   "nope", "don't", "dont",
                                             "not",  "stop", "wait",  "never"};
  bool yes = false;
  bool no = false;
  for (const std::string& word : NormalizeWords(text)) {
    for (std::string_view w : kYes) yes = yes || word == w;
    for (std::string_view w : kNo) no = no || word == w;
  }
  if (yes == no) return ConfirmationAnswer::kUnclear;
  return yes ? ConfirmationAnswer::kYes : ConfirmationAnswer::kNo;
}

const char* ConfirmationAnswerName(ConfirmationAnswer answer) {
  switch (answer) {
    case ConfirmationAnswer::kYes: return "yes";
    case ConfirmationAnswer::kNo: return "no";
    case ConfirmationAnswer::kUnclear: return "unclear";
  }
  CALLSIM_CHECK(!"ConfirmationAnswer out of range");
  return "";
}

}  // namespace callsim::agent
