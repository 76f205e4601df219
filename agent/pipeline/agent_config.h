// Everything that tunes the reference voice agent's turn-taking and its bounds. Plain data with
// production-like defaults; every queue and wait of the agent is bounded by a field here.
#pragma once

#include <string>

#include "agent/pipeline/vad.h"

namespace callsim::agent {

struct AgentConfig {
  VadConfig vad;
  // Silence after the VAD stop before the turn ends (total silence = vad.stop_ms + this).
  double endpoint_delay_ms = 300;
  // A caller who never stops talking still gets an endpoint this long after the turn began.
  double max_turn_ms = 30000;
  // Caller speech over the agent must be voiced this long before the agent stops (noise guard).
  double barge_in_min_ms = 200;
  std::string greeting = "Hello, thanks for calling. How can I help you today?";
  std::string system_prompt = "You are a helpful support agent.";
  // Bound on received but unplayed TTS audio (3000 frames = 60 s); beyond it frames are dropped.
  int max_queued_frames = 3000;
  // Oldest messages are dropped beyond this (the system prompt is not counted: it is sent apart).
  int max_history_messages = 64;
  // After this the agent says nothing more and the call ends.
  double max_call_ms = 300000;

  // Said through TTS when STT or the LLM fails or times out.
  std::string apology = "Sorry, I'm having trouble right now.";
  // Bound on how long the agent waits for any provider (STT final, next LLM token, next TTS
  // frame) before treating it as failed: the agent never stays silent forever.
  double provider_timeout_ms = 10000;
  // Bound on sentences per reply (each is one TTS stream); later ones are dropped with an event.
  int max_reply_sentences = 64;
  // Sentence chunker bound: longer text is cut at its last comma or space.
  int max_sentence_chars = 300;
  // The STT session is reopened after an error at most this often per call; beyond, the call ends.
  int max_stt_reopens = 3;

  // DTMF keys collect until '#' or this long without a key; then they are the caller's message.
  double dtmf_timeout_ms = 2000;
  // Bound on keys collected for one message; later keys are dropped (with a "dtmf_dropped" event).
  int max_dtmf_keys = 32;
};

}  // namespace callsim::agent
