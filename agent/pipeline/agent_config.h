// Everything that tunes the reference voice agent's turn-taking and its bounds. Plain data with
// production-like defaults; every queue and wait of the agent is bounded by a field here.
#pragma once

#include <string>

#include "agent/pipeline/vad.h"
#include "agent/tools/tool_gate.h"

namespace callsim::agent {

struct AgentConfig {
  VadConfig vad;
  // Silence after the VAD stop before the turn ends (total silence = vad.stop_ms + this).
  double endpoint_delay_ms = 300;
  // When the words so far stop mid-sentence ("my number is"), the endpoint waits this long
  // instead (>= endpoint_delay_ms): a clause pause is not the end of the turn.
  double endpoint_max_delay_ms = 1500;
  // Preemptive generation: once the caller's words sound finished (a sentence end the STT
  // punctuated) and the caller is quiet, the STT is finalized and the LLM (and TTS) start on
  // those words before the endpoint; the reply plays only once the turn ends on the same words.
  // If the caller goes on, or the final differs, it is thrown away (counted as wasted).
  bool preemptive_generation = false;
  // Adaptive endpointing: when the words so far sound finished (a sentence end the STT
  // punctuated: it heard the voice fall) the turn ends this long after the VAD stop instead of
  // endpoint_delay_ms. Negative: off.
  double endpoint_finished_delay_ms = -1;
  // A caller who never stops talking still gets an endpoint this long after the turn began.
  double max_turn_ms = 30000;
  // Caller speech over the agent must be voiced this long before the agent stops (noise guard).
  double barge_in_min_ms = 200;
  // ... and, when > 0, the STT must also have heard this many words of it (interim results).
  int barge_in_min_words = 0;
  // After a barge-in, if no words follow within this long (a cough, a door), the agent resumes
  // the reply it was cut off in, from the sentence it was in. 0: never resume.
  double false_interruption_timeout_ms = 2000;
  // Echo guard: while the agent's voice plays, caller audio counts as voiced only if it is louder
  // than the agent's recent output level minus this many dB. Echo comes back attenuated by the
  // line's return loss (>= 20 dB on a decent line); a caller talking over the agent does not.
  // 0 turns the guard off.
  double echo_guard_db = 12;
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
  // A stream that has started (LLM tokens, TTS audio) and then sends nothing this long has
  // stalled, a dropped connection: the agent treats it as failed and apologises.
  double stream_stall_timeout_ms = 2000;
  // Bound on sentences per reply (each is one TTS stream); later ones are dropped with an event.
  int max_reply_sentences = 64;
  // Sentence chunker bound: longer text is cut at its last comma or space.
  int max_sentence_chars = 300;
  // First audio sooner: the model's first chunk goes to TTS at its first clause mark or once this
  // many words are complete, instead of at the end of its first sentence (later ones go sentence
  // by sentence). 0: whole sentences only.
  int first_clause_words = 0;
  // The STT session is reopened after an error at most this often per call; beyond, the call ends.
  int max_stt_reopens = 3;

  // A caller silent this long after the agent finished speaking is prompted (silence_prompt);
  // after max_silence_prompts prompts without an answer the agent says silence_goodbye and ends
  // the call. 0: no watchdog.
  double silence_timeout_ms = 10000;
  int max_silence_prompts = 2;
  std::string silence_prompt = "Are you still there?";
  std::string silence_goodbye = "I haven't heard from you, so I'll end the call now. Goodbye.";

  // Tools behind guardrails (agent/tools/tool_gate.h). Runs need back ends (VoiceAgent::
  // EnableTools); without them every run fails with "no_backend".
  ToolGateConfig tools;
  // Said once when a tool has run this long and nothing else is playing.
  double tool_filler_after_ms = 1500;
  std::string tool_filler = "One moment while I check that.";
  // A destructive tool is confirmed first: "<confirm_prefix> <description>. <confirm_suffix>".
  std::string confirm_prefix = "Just to confirm, you want me to";
  std::string confirm_suffix = "Is that right?";
  std::string declined_reply = "Okay, I won't do that.";
  // Said (once per reply) when the guardrails block a tool call the model proposed.
  std::string blocked_reply = "Sorry, I can't do that.";
  // Said when a tool fails or times out (and no other tool of the step succeeded).
  std::string tool_failed_reply = "Sorry, I can't reach that system right now.";

  // DTMF keys collect until '#' or this long without a key; then they are the caller's message.
  double dtmf_timeout_ms = 2000;
  // Bound on keys collected for one message; later keys are dropped (with a "dtmf_dropped" event).
  int max_dtmf_keys = 32;
};

}  // namespace callsim::agent
