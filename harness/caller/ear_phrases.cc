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

namespace {

// Collects clauses, each once, in the order first seen.
class PhraseList {
 public:
  void Add(std::string_view text) {
    for (std::string& clause : Clauses(text)) {
      if (seen_.insert(clause).second) phrases_.push_back(std::move(clause));
    }
  }
  std::vector<std::string> Take() { return std::move(phrases_); }

 private:
  std::vector<std::string> phrases_;
  std::set<std::string> seen_;
};

}  // namespace

std::vector<std::string> EarPhrases(const Scenario& scenario) {
  PhraseList list;
  auto add = [&](std::string_view text) { list.Add(text); };
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
  return list.Take();
}

std::vector<std::string> CallerPhrases(const Scenario& scenario) {
  PhraseList list;
  for (const Turn& turn : scenario.turns) {
    list.Add(turn.user);
    for (const SpeechSegment& segment : turn.segments) list.Add(segment.text);
    list.Add(turn.audio_transcript);
  }
  list.Add(scenario.caller.repeat_phrase);
  return list.Take();
}

}  // namespace callsim::harness
