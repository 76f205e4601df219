#include "harness/caller/ear_phrases.h"

#include <set>

#include "agent/pipeline/agent_config.h"
#include "fakes/llm/llm_script.h"

namespace callsim::harness {

std::vector<std::string> Clauses(std::string_view text) {
  std::vector<std::string> out;
  std::string clause;
  auto flush = [&] {
    const size_t first = clause.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) {
      const size_t last = clause.find_last_not_of(" \t\r\n");
      out.push_back(clause.substr(first, last - first + 1));
    }
    clause.clear();
  };
  for (const char c : text) {
    if (c == '.' || c == '?' || c == '!' || c == ',' || c == ';' || c == ':') {
      flush();
    } else {
      clause.push_back(c);
    }
  }
  flush();
  return out;
}

std::vector<std::string> EarPhrases(const Scenario& scenario) {
  std::vector<std::string> phrases;
  std::set<std::string> seen;
  auto add = [&](std::string_view text) {
    for (std::string& clause : Clauses(text)) {
      if (seen.insert(clause).second) phrases.push_back(std::move(clause));
    }
  };
  const agent::AgentConfig canned;
  add(scenario.agent.greeting);
  for (const std::string* line :
       {&canned.apology, &canned.silence_prompt, &canned.silence_goodbye, &canned.tool_filler,
        &canned.confirm_suffix, &canned.declined_reply, &canned.blocked_reply,
        &canned.tool_failed_reply}) {
    add(*line);
  }
  if (!scenario.fakes.llm.script.empty()) {
    fakes::LlmScript script;
    std::string error;  // a script that does not load is reported where the agent loads it
    if (fakes::LoadLlmScript(scenario.fakes.llm.script, &script, &error)) {
      for (const fakes::LlmRule& rule : script.rules) add(rule.say);
    }
  }
  for (const Turn& turn : scenario.turns) {
    for (const Expectation& e : turn.expect) {
      if (e.kind == Expectation::kAgentSays) add(e.contains);
    }
    if (turn.barge_in) add(turn.barge_in->when_agent_says);
  }
  return phrases;
}

std::vector<std::string> CallerPhrases(const Scenario& scenario) {
  std::vector<std::string> phrases;
  std::set<std::string> seen;
  auto add = [&](std::string_view text) {
    for (std::string& clause : Clauses(text)) {
      if (seen.insert(clause).second) phrases.push_back(std::move(clause));
    }
  };
  for (const Turn& turn : scenario.turns) {
    add(turn.user);
    for (const SpeechSegment& segment : turn.segments) add(segment.text);
    add(turn.audio_transcript);
  }
  add(scenario.caller.repeat_phrase);
  return phrases;
}

}  // namespace callsim::harness
