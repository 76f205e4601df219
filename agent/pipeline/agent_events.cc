#include "agent/pipeline/agent_events.h"

#include "agent/runtime/json_fields.h"

namespace callsim::agent {
nlohmann::json ToJson(const TurnSpansEvent& spans) {
  return {{"endpointing_ms", JsonNumberOrNull(spans.endpointing_ms)},
          {"stt_final_ms", JsonNumberOrNull(spans.stt_final_ms)},
          {"llm_ttft_ms", JsonNumberOrNull(spans.llm_ttft_ms)},
          {"first_sentence_ms", JsonNumberOrNull(spans.first_sentence_ms)},
          {"tts_ttfb_ms", JsonNumberOrNull(spans.tts_ttfb_ms)},
          {"response_ms", JsonNumberOrNull(spans.response_ms)}};
}

void FromJson(const nlohmann::json& detail, TurnSpansEvent* spans) {
  spans->endpointing_ms = JsonNumber(detail, "endpointing_ms");
  spans->stt_final_ms = JsonNumber(detail, "stt_final_ms");
  spans->llm_ttft_ms = JsonNumber(detail, "llm_ttft_ms");
  spans->first_sentence_ms = JsonNumber(detail, "first_sentence_ms");
  spans->tts_ttfb_ms = JsonNumber(detail, "tts_ttfb_ms");
  spans->response_ms = JsonNumber(detail, "response_ms");
}

}  // namespace callsim::agent
