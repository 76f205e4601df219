// The typed scenario model: what one YAML scenario file says, as plain values with defaults.
// The loader (loader.h) is the only producer; it guarantees every field is within its documented
// range, so the runner, callers and fakes can use these values without checking them again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/media/codec.h"
#include "agent/runtime/rng.h"

namespace callsim::harness {

// Where something came from: a file position (1-based line and column), or "--set PATH=VALUE"
// with line 0 when a command-line override supplied it.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// Packet loss on one direction of a link. kBernoulli drops each packet with probability `loss`.
// kGilbert is netem's Gilbert-Elliott model: p = P(good -> bad), r = P(bad -> good), and the loss
// probabilities in each state (bad_loss = 1 - h, good_loss = 1 - k).
struct LossSpec {
  enum Model { kNone, kBernoulli, kGilbert };
  Model model = kNone;
  double loss = 0;  // kBernoulli
  double p = 0;     // kGilbert
  double r = 1;
  double bad_loss = 1;
  double good_loss = 0;
};

// A window during which the link delivers nothing.
struct OutageSpec {
  double start_ms = 0;
  double duration_ms = 0;
};

// One direction of the network between caller and agent.
struct LinkSpec {
  double delay_ms = 20;
  double jitter_ms = 0;
  LossSpec loss;
  double reorder = 0;    // probability a packet is reordered
  double duplicate = 0;  // probability a packet is duplicated
  std::vector<OutageSpec> outages;
};

struct NoiseSpec {
  std::string type = "none";  // none | white
  double snr_db = 30;
};

struct CallerSpec {
  NoiseSpec noise;
  double words_per_minute = 150;
  double reply_timeout_ms = 10000;      // how long the caller waits for the agent to answer
  double reply_end_silence_ms = 900;    // agent silence that tells the caller the reply is over
};

struct AgentSpec {
  std::string greeting = "Hello, thanks for calling. How can I help you today?";
  std::string system_prompt;
  double vad_threshold_dbfs = -45;
  double vad_start_ms = 60;
  double vad_stop_ms = 250;
  double endpoint_delay_ms = 300;
  double barge_in_min_ms = 200;
  double jitter_target_ms = 40;
  double max_call_ms = 300000;
};

struct SttSpec {
  std::string profile = "default";  // default | perfect
  agent::LatencyModel final_latency{100, 250};
};

struct LlmSpec {
  // Path of the LLM script; relative paths in the YAML are resolved against the scenario file's
  // folder, so this holds the resolved path (empty: none given). The loader checked it exists.
  std::string script;
  agent::LatencyModel ttft{300, 700};
  double tokens_per_s = 50;
};

struct TtsSpec {
  agent::LatencyModel ttfb{120, 250};
};

struct FakesSpec {
  SttSpec stt;
  LlmSpec llm;
  TtsSpec tts;
};

struct Expectation {
  enum Kind { kAgentSays, kTurnLatency, kAgentStops };
  Kind kind = kAgentSays;
  std::string contains;  // kAgentSays: a phrase the agent's reply must contain
  double max_ms = 0;     // kTurnLatency: the turn latency must not exceed this
  double within_ms = 0;  // kAgentStops: barge-in stop latency must not exceed this
  SourceLocation where;
};

struct BargeIn {
  double after_agent_speech_ms = 0;  // the caller starts talking this long into the agent's reply
};

struct Turn {
  std::string user;  // what the caller says; empty: no speech this turn (e.g. the greeting)
  std::optional<BargeIn> barge_in;  // only with `user`
  bool hangup = false;              // the caller hangs up after this turn (always the last turn)
  double pause_before_ms = 0;
  std::vector<Expectation> expect;
  SourceLocation where;
};

struct LoadSpec {
  int callers = 1;
  double rate_per_s = 0;  // call arrivals per second; 0: all callers start at t = 0
};

struct Scenario {
  std::string name;
  std::string source_path;  // the file it was loaded from (as given to the loader)
  agent::CodecKind codec = agent::CodecKind::kL16;
  LinkSpec uplink;    // caller -> agent
  LinkSpec downlink;  // agent -> caller
  CallerSpec caller;
  AgentSpec agent;
  FakesSpec fakes;
  std::vector<Turn> turns;  // at least one
  LoadSpec load;
  std::optional<uint64_t> seed;  // the default seed; --seed wins over it
};

}  // namespace callsim::harness
