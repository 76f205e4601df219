#include "agent/pipeline/repeat_request.h"

#include <string>

#include "agent/text/words.h"

namespace callsim::agent {

bool IsRepeatRequest(std::string_view user_text) {
  static constexpr std::string_view kPhrases[] = {" repeat ", " say that again ", " say it again ",
                                                  " come again ", " pardon "};
  std::string padded(1, ' ');  // whole words are found as padded substrings
  padded += NormalizeText(user_text);
  padded += ' ';
  for (std::string_view phrase : kPhrases) {
    if (padded.find(phrase) != std::string::npos) return true;
  }
  return false;
}

}  // namespace callsim::agent
