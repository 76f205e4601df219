// What the agent can say, as the ASR ear's grammar (caller.ear.engine asr): pocketsphinx with a
// grammar of known phrases hears synthesised speech almost exactly, where its general language
// model gets most words wrong. The phrases are clauses (split at . ? ! , ; :), so a reply that
// strings known clauses together in any order is covered.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/scenario.h"

namespace callsim::harness {

// `text` cut at . ? ! , ; : into trimmed, non-empty clauses.
std::vector<std::string> Clauses(std::string_view text);

// The agent's greeting and canned lines (agent/pipeline/agent_config.h), every `say` of the
// scenario's LLM script (when it loads) and the scenario's expected phrases (agent_says contains,
// barge_in when_agent_says), as clauses, each once, in that order.
std::vector<std::string> EarPhrases(const Scenario& scenario);

// What the caller can say, for the ASR STT's grammar (fakes.stt.engine asr): every turn's words
// (its `user` text and its segments), the repeat phrase and the play_file transcripts, as
// clauses, each once.
std::vector<std::string> CallerPhrases(const Scenario& scenario);

}  // namespace callsim::harness
