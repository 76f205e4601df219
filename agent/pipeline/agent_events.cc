#include "agent/pipeline/agent_events.h"

#include "agent/runtime/json_fields.h"

namespace callsim::agent {
nlohmann::json ToJson(const TurnSpansEvent& spans) {
  return {{"endpointing_ms", JsonNumberOrNull(spans.endpointing_ms)},
          {"stt_final_ms", JsonNumberOrNull(spans.stt_final_ms)},
          {"llm_ttft_ms", JsonNumberOrNull(spans.llm_ttft_ms)},
          {"first_sentence_ms", JsonNumberOrNull(spans.first_sentence_ms)},
          {"tts_ttfb_ms", JsonNumberOrNull(spans.tts_ttfb_ms)},
          {"response_ms", JsonNumberOrNull(spans.response_ms)},
          {"waterfall", spans.waterfall ? nlohmann::json{{"endpointing_ms", spans.waterfall->endpointing_ms},
                                                         {"stt_ms", spans.waterfall->stt_ms},
                                                         {"llm_ms", spans.waterfall->llm_ms},
                                                         {"first_sentence_ms", spans.waterfall->first_sentence_ms},
                                                         {"tts_ms", spans.waterfall->tts_ms},
                                                         {"other_ms", spans.waterfall->other_ms}}
                                        : nlohmann::json(nullptr)}};
}

void FromJson(const nlohmann::json& detail, TurnSpansEvent* spans) {
  spans->endpointing_ms = JsonNumber(detail, "endpointing_ms");
  spans->stt_final_ms = JsonNumber(detail, "stt_final_ms");
  spans->llm_ttft_ms = JsonNumber(detail, "llm_ttft_ms");
  spans->first_sentence_ms = JsonNumber(detail, "first_sentence_ms");
  spans->tts_ttfb_ms = JsonNumber(detail, "tts_ttfb_ms");
  spans->response_ms = JsonNumber(detail, "response_ms");
  spans->waterfall.reset();
  if (auto it = detail.find("waterfall"); it != detail.end() && it->is_object()) {
    TurnSpansEvent::Waterfall w;
    w.endpointing_ms = JsonNumber(*it, "endpointing_ms").value_or(0.0);
    w.stt_ms = JsonNumber(*it, "stt_ms").value_or(0.0);
    w.llm_ms = JsonNumber(*it, "llm_ms").value_or(0.0);
    w.first_sentence_ms = JsonNumber(*it, "first_sentence_ms").value_or(0.0);
    w.tts_ms = JsonNumber(*it, "tts_ms").value_or(0.0);
    w.other_ms = JsonNumber(*it, "other_ms").value_or(0.0);
    spans->waterfall = w;
  }
}

std::optional<TurnSpansEvent::Waterfall> ComputeWaterfall(int64_t speech_end_us,
                                                          int64_t endpoint_us, int64_t final_us,
                                                          int64_t first_token_us,
                                                          int64_t first_sentence_us,
                                                          int64_t first_tts_audio_us,
                                                          int64_t playing_us) {
  if (speech_end_us < 0 || playing_us < 0) return std::nullopt;
  int64_t reached_us = speech_end_us;
  // The time from everything before to this stage's end; a stage not reached adds nothing.
  auto added_ms = [&reached_us](int64_t end_us) {
    if (end_us < 0 || end_us <= reached_us) return 0.0;
    const int64_t added_us = end_us - reached_us;
    reached_us = end_us;
    return static_cast<double>(added_us) / 1000.0;
  };
  TurnSpansEvent::Waterfall w;
  w.endpointing_ms = added_ms(endpoint_us);
  w.stt_ms = added_ms(final_us);
  w.llm_ms = added_ms(first_token_us);
  w.first_sentence_ms = added_ms(first_sentence_us);
  w.tts_ms = added_ms(first_tts_audio_us);
  w.other_ms = added_ms(playing_us);
  return w;
}

}  // namespace callsim::agent
