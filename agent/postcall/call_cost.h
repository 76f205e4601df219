// What one call cost in provider fees: speech-to-text by audio minute, the LLM by 1k input and
// output tokens, text-to-speech by 1k characters. Pure arithmetic on the call's usage and a price
// table; amounts are rounded to a billionth of a dollar so reports print stable figures.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace callsim::agent {

// List prices in US dollars. The defaults are typical 2025 list prices, chosen so a 3-minute call
// lands near the usual "about $0.05 per call" of a production voice agent:
//   STT $0.0043/min: Deepgram Nova's published rate.
//   LLM $0.15 per 1M input and $0.60 per 1M output tokens: OpenAI's gpt-4o-mini list price (2025),
//       about $0.004-0.005 per call for a call of about 25k input and 1.5k output tokens (the
//       history is resent every turn).
//   TTS $0.04 per 1k characters: the low end of the $0.04-0.18 per 1k characters that hosted
//       text-to-speech services list.
struct PriceTable {
  double stt_usd_per_min = 0.0043;
  double llm_usd_per_1k_input_tokens = 0.00015;
  double llm_usd_per_1k_output_tokens = 0.0006;
  double tts_usd_per_1k_chars = 0.04;
};

// What the call used, as the agent counted it.
struct CallUsage {
  double stt_audio_s = 0;  // caller audio sent to STT
  int64_t llm_input_tokens = 0;
  int64_t llm_output_tokens = 0;
  int64_t tts_chars = 0;  // characters synthesized
  // Preemptive generation: LLM requests started before the endpoint, and what was thrown away
  // (requests, output tokens, characters synthesized) because the caller went on or said other
  // words. The wasted tokens and characters are in the totals above too: they were paid for.
  int64_t preemptive_requests = 0;
  int64_t wasted_llm_requests = 0;
  int64_t wasted_llm_tokens = 0;
  int64_t wasted_tts_chars = 0;

  bool operator==(const CallUsage&) const = default;
};

struct CallCost {
  double stt_usd = 0;
  double llm_usd = 0;
  double tts_usd = 0;
  double total_usd = 0;  // the sum of the unrounded parts, rounded
};

// Negative or non-finite usage or prices count as zero.
CallCost ComputeCallCost(const CallUsage& usage, const PriceTable& prices);

nlohmann::json ToJson(const CallCost& cost);    // {"stt_usd", "llm_usd", "tts_usd", "total_usd"}
// The field names above; also the agent's "usage" event (UsageEvent).
nlohmann::json ToJson(const CallUsage& usage);
// Untrusted JSON: a field that is missing or not a number is 0.
void FromJson(const nlohmann::json& detail, CallUsage* usage);

}  // namespace callsim::agent
