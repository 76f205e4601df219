// Recognizes a caller asking the agent to say its last message again ("sorry, could you say that
// again?"), so the agent can replay it without a round trip to the LLM.
#pragma once

#include <string_view>

namespace callsim::agent {

// True when the normalized words of `user_text` contain one of the phrases "repeat",
// "say that again", "say it again", "come again" or "pardon" as whole words.
bool IsRepeatRequest(std::string_view user_text);

}  // namespace callsim::agent
