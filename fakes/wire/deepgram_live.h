// The fake STT as Deepgram's live transcription API: a WebSocket at /v1/listen with the options in
// the query string. Binary messages carry raw audio (linear16 or mulaw at sample_rate, mono);
// text messages carry KeepAlive, Finalize and CloseStream. Out go, as text:
//   Results        words since the last final: interim (is_final false, with interim_results),
//                  final on an endpoint (is_final and speech_final: `endpointing` ms of silence
//                  after a word), on Finalize (is_final and from_finalize) and on CloseStream
//   SpeechStarted  a word's audio began (vad_events=true)
//   UtteranceEnd   utterance_end_ms of silence after the last word (needs interim_results)
//   Metadata       after CloseStream, before the close (code 1000): the audio's duration and
//                  SHA-256, and a warning when the audio was not the word modem's
// The modem STT understands the word modem's audio and nothing else: a burst that is not clean
// modem audio (its checksum fails) is not reported as a word.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/server/http_server.h"
#include "agent/server/stream_session.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/wire/fake_providers.h"

namespace callsim::fakes::wire {

enum class ListenEncoding { kLinear16, kMulaw };

struct ListenOptions {
  ListenEncoding encoding = ListenEncoding::kLinear16;
  int sample_rate = 16000;
  bool interim_results = false;
  int endpointing_ms = 10;  // Deepgram's default; -1: off (endpointing=false)
  int utterance_end_ms = 0;  // 0: no UtteranceEnd
  bool vad_events = false;
  // punctuate=true: a word that ended the caller's turn (the voice's turn-yielding cue) ends its
  // sentence with a period, in punctuated_word and the transcript. Nothing else is punctuated or
  // capitalised: the modem voice carries no other prosody.
  bool punctuate = false;
  std::string model = "nova-3";
};

// The options in `request`'s query string; false with Deepgram's error message in *error.
// Refused: an encoding other than linear16 and mulaw (callsim's fake takes raw audio only), a
// sample rate outside 8000..48000 or without a whole number of samples in 20 ms, channels other
// than 1, utterance_end_ms below 1000 or without interim_results.
bool ParseListenOptions(const agent::HttpRequest& request, ListenOptions* out, std::string* error);

// One Results message for `words` (16 kHz sample times) over [start_s, start_s + duration_s).
struct ResultsFlags {
  bool is_final = false;
  bool speech_final = false;
  bool from_finalize = false;
  bool punctuate = false;
};
nlohmann::json ResultsMessage(const std::vector<SttWord>& words, double start_s,
                              double duration_s, ResultsFlags flags, const std::string& request_id,
                              const std::string& model);

std::optional<agent::HttpAnswer> AdmitListen(const std::shared_ptr<FakeProviders::State>& state,
                                             const agent::HttpRequest& request);
std::unique_ptr<agent::StreamSession> MakeListenSession(
    const std::shared_ptr<FakeProviders::State>& state, agent::StreamIo io);

}  // namespace callsim::fakes::wire
