// The fake TTS as OpenAI's speech API (POST /v1/audio/speech): the modem TTS's words as raw
// 24 kHz 16-bit little-endian mono PCM (response_format "pcm") or the same samples in a streamed
// WAV (sizes unknown up front: 0xFFFFFFFF, as OpenAI writes them), sent as they are "synthesised",
// at the modelled time to first byte and real-time factor.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/server/http_server.h"
#include "fakes/wire/fake_providers.h"

namespace callsim::fakes::wire {

inline constexpr int kSpeechRateHz = 24000;

struct SpeechRequest {
  std::string model;
  std::string input;
  std::string voice;
  std::string format;  // "pcm" or "wav"
  double speed = 1;    // 0.25 to 4: scales the voice's words per minute
  std::string user;
};

// False with OpenAI's error message in *error and the field in *param (a 400). Formats other than
// pcm and wav are refused with a message saying which the fake writes.
bool ParseSpeechRequest(const nlohmann::json& body, size_t max_input_chars, SpeechRequest* out,
                        std::string* error, std::string* param);

// A WAV header for 24 kHz 16-bit mono whose RIFF and data sizes are unknown (0xFFFFFFFF).
std::string StreamingWavHeader();

void HandleSpeech(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                  std::shared_ptr<agent::HttpResponder> responder);

}  // namespace callsim::fakes::wire
