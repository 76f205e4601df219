#include "agent/postcall/call_cost.h"

#include <cmath>

#include "agent/runtime/json_fields.h"

namespace callsim::agent {
namespace {

double NonNegative(double x) { return std::isfinite(x) && x > 0 ? x : 0.0; }

// To a billionth of a dollar: far below any price step, and it prints as the decimal it is.
double RoundUsd(double usd) { return std::round(usd * 1e9) / 1e9; }

}  // namespace

CallCost ComputeCallCost(const CallUsage& usage, const PriceTable& prices) {
  const double stt = NonNegative(usage.stt_audio_s) / 60.0 * NonNegative(prices.stt_usd_per_min);
  const double llm = NonNegative(static_cast<double>(usage.llm_input_tokens)) / 1000.0 *
                         NonNegative(prices.llm_usd_per_1k_input_tokens) +
                     NonNegative(static_cast<double>(usage.llm_output_tokens)) / 1000.0 *
                         NonNegative(prices.llm_usd_per_1k_output_tokens);
  const double tts = NonNegative(static_cast<double>(usage.tts_chars)) / 1000.0 *
                     NonNegative(prices.tts_usd_per_1k_chars);
  return CallCost{RoundUsd(stt), RoundUsd(llm), RoundUsd(tts), RoundUsd(stt + llm + tts)};
}

nlohmann::json ToJson(const CallCost& cost) {
  return {{"stt_usd", cost.stt_usd},
          {"llm_usd", cost.llm_usd},
          {"tts_usd", cost.tts_usd},
          {"total_usd", cost.total_usd}};
}

nlohmann::json ToJson(const CallUsage& usage) {
  return {{"stt_audio_s", usage.stt_audio_s},
          {"llm_input_tokens", usage.llm_input_tokens},
          {"llm_output_tokens", usage.llm_output_tokens},
          {"tts_chars", usage.tts_chars},
          {"preemptive_requests", usage.preemptive_requests},
          {"wasted_llm_requests", usage.wasted_llm_requests},
          {"wasted_llm_tokens", usage.wasted_llm_tokens},
          {"wasted_tts_chars", usage.wasted_tts_chars}};
}

void FromJson(const nlohmann::json& detail, CallUsage* usage) {
  usage->stt_audio_s = JsonNumber(detail, "stt_audio_s").value_or(0.0);
  usage->llm_input_tokens = JsonInteger(detail, "llm_input_tokens");
  usage->llm_output_tokens = JsonInteger(detail, "llm_output_tokens");
  usage->tts_chars = JsonInteger(detail, "tts_chars");
  usage->preemptive_requests = JsonInteger(detail, "preemptive_requests");
  usage->wasted_llm_requests = JsonInteger(detail, "wasted_llm_requests");
  usage->wasted_llm_tokens = JsonInteger(detail, "wasted_llm_tokens");
  usage->wasted_tts_chars = JsonInteger(detail, "wasted_tts_chars");
}

}  // namespace callsim::agent
