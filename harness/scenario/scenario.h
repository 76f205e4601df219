// The typed scenario model: what one YAML scenario file says, as plain values with defaults.
// The loader (loader.h) is the only producer; it guarantees every field is within its documented
// range, so the runner, callers and fakes can use these values without checking them again.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/media/codec.h"
#include "agent/runtime/name_table.h"
#include "agent/runtime/rng.h"
#include "fakes/net/jitter_distribution.h"
#include "harness/measure/threshold.h"

namespace callsim::harness {

// Every closed set of strings a scenario has (noise type, STT profile, wait_for, ...) is an enum
// here with one NameTable: the loader reads exactly those names, everything after it switches on
// the enum, and what is printed or stored is the table's name.

// Where something came from: a file position (1-based line and column), or "--set PATH=VALUE"
// with line 0 when a command-line override supplied it.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// Packet loss on one direction of a link. kBernoulli drops each packet with probability `loss`.
// kGilbert is netem's Gilbert-Elliott model: p = P(good -> bad), r = P(bad -> good), and the loss
// probabilities in each state (bad_loss = 1 - h, good_loss = 1 - k). The loader applies netem's
// defaults ("loss gemodel p": r = 1 - p, bad_loss = 1, good_loss = 0), takes each probability as a
// fraction (0.01) or a percentage ("1%"), and refuses p = r = 0 (no stationary loss rate), so a
// loaded kGilbert always has p + r > 0. The member defaults below are for code that builds a spec.
struct LossSpec {
  enum Model { kNone, kBernoulli, kGilbert };
  Model model = kNone;
  double loss = 0;  // kBernoulli
  double p = 0;     // kGilbert
  double r = 1;
  double bad_loss = 1;
  double good_loss = 0;
};
inline constexpr agent::NameTable<LossSpec::Model, 3> kLossModelNames{
    {"none", "bernoulli", "gilbert"}};

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
  // How the jitter around delay_ms is drawn: normal (stddev jitter_ms), uniform (+/- jitter_ms),
  // exponential (mean jitter_ms, only ever later) or pareto (shape 2.5 with mean jitter_ms: rare
  // long spikes, as on congested Wi-Fi and mobile links). Names: fakes::kJitterDistributionNames.
  fakes::JitterDistribution jitter_distribution = fakes::JitterDistribution::kNormal;
  double reorder = 0;    // probability a packet is reordered
  double duplicate = 0;  // probability a packet is duplicated
  std::vector<OutageSpec> outages;
};

enum class NoiseType { kNone, kWhite, kPink, kBabble, kFile };
inline constexpr agent::NameTable<NoiseType, 5> kNoiseTypeNames{
    {"none", "white", "pink", "babble", "file"}};

// Background noise in the caller's microphone, mixed at `snr_db` measured on the actual signals
// (speech power over noise power while the caller speaks).
struct NoiseSpec {
  NoiseType type = NoiseType::kNone;
  double snr_db = 30;
  std::string file;  // type file: a WAV or FLAC path (resolved like the LLM script), looped
  int talkers = 4;   // type babble: how many other modem talkers
};

// The agent's own voice leaking back into the caller's microphone (a speakerphone, a hybrid).
struct EchoSpec {
  bool enabled = false;
  double return_loss_db = 20;  // echo level below the agent's voice as heard
  double delay_ms = 40;        // acoustic / hybrid delay after the caller hears it
};

// Seeded per-caller variation: each caller draws its own speaking rate and pause scale.
struct VariationSpec {
  double rate = 0;    // stddev of the speaking rate, as a share of words_per_minute
  double pauses = 0;  // stddev of the pause-length scale, as a share
};

// How the caller's words become audio: the word modem (exact, cheap, understood only by
// callsim's fake STT) or espeak-ng (real speech, for agents with a real recogniser; one helper
// process per distinct line, fakes/voice/espeak_voice.h).
enum class VoiceEngine { kModem, kEspeak };
inline constexpr agent::NameTable<VoiceEngine, 2> kVoiceEngineNames{{"modem", "espeak"}};

struct CallerVoiceSpec {
  VoiceEngine engine = VoiceEngine::kModem;
  std::string voice = "en-us+f2";  // espeak-ng's voice (language+variant)
  int pitch = 50;                  // espeak-ng's pitch, 0 to 99
};

// How speech is understood, by the caller's ear (what the agent says) and by the in-process fake
// STT (what the caller says): the word modem's decoder (exact, for the modem's audio) or
// pocketsphinx (real speech, fakes/voice/sphinx_recognizer.h) with a grammar of what the other
// side can say (harness/caller/ear_phrases.h).
enum class RecognizerEngine { kModem, kAsr };
inline constexpr agent::NameTable<RecognizerEngine, 2> kRecognizerEngineNames{{"modem", "asr"}};

struct CallerSpec {
  CallerVoiceSpec voice;
  RecognizerEngine ear = RecognizerEngine::kModem;
  NoiseSpec noise;
  EchoSpec echo;
  double words_per_minute = 150;
  VariationSpec variation;
  std::string repeat_phrase = "sorry, could you say that again";  // what a `repeat` turn says
  double reply_timeout_ms = 10000;      // how long the caller waits for the agent to answer
  double reply_end_silence_ms = 900;    // agent silence that tells the caller the reply is over
};

// The agent's jitter buffer: a fixed target, or (adaptive) a target that follows the measured
// arrival jitter within [min_ms, max_ms].
struct JitterBufferSpec {
  double target_ms = 40;
  bool adaptive = false;
  double min_ms = 20;
  double max_ms = 200;
};

// Tools behind guardrails: the declared tools (a YAML list, scenarios/tools/standard.yaml), which
// of them this agent may run (empty: all), and the guardrails' bounds.
struct ToolsSpec {
  std::string file;  // resolved path; empty: no tools
  std::vector<std::string> allow;
  int max_steps_per_turn = 3;
  double filler_after_ms = 1500;
  int breaker_failures = 5;
  double breaker_open_ms = 30000;
};

// Retry and failover of the agent's providers (agent/providers/resilient_providers.h).
struct FallbackSpec {
  bool enabled = true;
  int retries = 1;
  double backoff_ms = 250;
  double first_response_timeout_ms = 2500;
};

struct AgentSpec {
  std::string greeting = "Hello, thanks for calling. How can I help you today?";
  std::string system_prompt;
  double vad_threshold_dbfs = -45;
  double vad_start_ms = 60;
  double vad_stop_ms = 250;
  double endpoint_delay_ms = 300;
  double endpoint_max_delay_ms = 1500;
  double endpoint_finished_delay_ms = -1;  // adaptive endpointing; negative: off
  int first_clause_words = 0;              // 0: the first sentence goes to TTS whole
  bool preemptive_generation = false;
  double barge_in_min_ms = 200;
  int barge_in_min_words = 0;
  double false_interruption_timeout_ms = 2000;
  double echo_guard_db = 12;
  JitterBufferSpec jitter_buffer;
  double max_call_ms = 300000;
  double silence_timeout_ms = 10000;
  int max_silence_prompts = 2;
  ToolsSpec tools;
  FallbackSpec fallback;
};

// Faults injected into a fake provider (fakes/faults): errors, requests that never answer,
// streams that stop part way, and windows of run time in which everything fails.
struct FaultsSpec {
  double error_rate = 0;
  double timeout_rate = 0;
  double drop_rate = 0;
  std::vector<OutageSpec> outages;  // run time: [start_ms, start_ms + duration_ms)
  bool any() const { return error_rate > 0 || timeout_rate > 0 || drop_rate > 0 || !outages.empty(); }
};

// A provider the reference agent reaches over its wire API (agent/providers/wire) instead of the
// in-process fake: `callsim serve`'s fakes, or the real service. Real time only (serve, run
// --target).
struct WireProviderSpec {
  // The provider's base URL: for the LLM and TTS, OpenAI's (http(s)://host:port/v1, to which
  // /chat/completions and /audio/speech are added); for the STT, Deepgram's (http(s) or ws(s)
  // ://host:port, to which /v1/listen is added).
  std::string url;
  std::string model;        // empty: the kind's default (kDefaultWireModels)
  std::string api_key_env;  // the environment variable holding the key; empty: no key is sent
  std::string voice;        // TTS only; empty: "alloy"
};

// A secondary provider the agent fails over to: the same fake with its own faults, or a wire
// provider of its own.
struct SecondarySpec {
  bool present = false;
  FaultsSpec faults;
  std::optional<WireProviderSpec> wire;
};

// A fake tool back end (fakes/tools): latency and failure injection.
struct ToolBackendSpec {
  std::string name;  // one of fakes::kFakeToolBackendNames
  agent::LatencyModel latency{80, 250};
  double error_rate = 0;
  double timeout_rate = 0;
  std::vector<OutageSpec> outages;  // run time: [start_ms, start_ms + duration_ms)
};

// A provider's capacity, shared by every call of a run, so latency and failures grow with load:
// at most max_concurrent requests run at once, up to `queue` more wait (each at most
// queue_timeout_ms), beyond that a request fails at once; rate_limit_per_s (0: none) rejects
// requests over the rate with a rate-limit error, like an HTTP 429.
struct CapacitySpec {
  int max_concurrent = 0;  // 0: unlimited
  int queue = 0;
  double queue_timeout_ms = 5000;
  double rate_limit_per_s = 0;
};

// How robust the fake STT is to noise and loss: default (fakes::SttRobustnessProfile::Default)
// or perfect (every word right).
enum class SttProfile { kDefault, kPerfect };
inline constexpr agent::NameTable<SttProfile, 2> kSttProfileNames{{"default", "perfect"}};

struct SttSpec {
  std::optional<WireProviderSpec> wire;  // set: over the wire, not the in-process fake
  RecognizerEngine engine = RecognizerEngine::kModem;  // the in-process fake's
  SttProfile profile = SttProfile::kDefault;
  agent::LatencyModel final_latency{100, 250};
  CapacitySpec capacity;
  FaultsSpec faults;
  SecondarySpec secondary;
};

struct LlmSpec {
  std::optional<WireProviderSpec> wire;  // set: over the wire, not the in-process fake
  // Path of the LLM script; relative paths in the YAML are resolved against the scenario file's
  // folder, so this holds the resolved path (empty: none given). The loader checked it exists.
  std::string script;
  agent::LatencyModel ttft{300, 700};
  double tokens_per_s = 50;
  CapacitySpec capacity;
  FaultsSpec faults;
  SecondarySpec secondary;
};

struct TtsSpec {
  std::optional<WireProviderSpec> wire;  // set: over the wire, not the in-process fake
  // The in-process fake's speech: the word modem, or espeak-ng (fakes.tts.espeak).
  VoiceEngine engine = VoiceEngine::kModem;
  std::string espeak_voice = "en-us+f2";
  double espeak_words_per_minute = 160;
  int espeak_pitch = 50;
  agent::LatencyModel ttfb{120, 250};
  CapacitySpec capacity;
  FaultsSpec faults;
  SecondarySpec secondary;
};

struct FakesSpec {
  SttSpec stt;
  LlmSpec llm;
  TtsSpec tts;
  std::vector<ToolBackendSpec> tools;  // by name, in the file's order
};

// Opus settings (codec: opus).
// Defaults favour throughput (wideband, complexity 0): a load run encodes every frame of every
// call both ways; 48 kHz and higher complexity cost 1.5x to 4x the CPU (bench/RESULTS.md).
struct OpusSpec {
  int sample_rate_hz = 16000;  // 16000 | 48000
  bool fec = true;
  int expected_loss_pct = 10;
  int bitrate_bps = 32000;
  int complexity = 0;  // 0..10: encoder CPU against quality
};

// Who ended a call: the caller hung up, the agent hung up or transferred, or something else (a
// limit, a setup error, the run). A call_ends expectation names one of the first three.
enum class CallEndedBy { kCaller, kAgent, kTransfer, kOther };
inline constexpr agent::NameTable<CallEndedBy, 4> kCallEndedByNames{
    {"caller", "agent", "transfer", "other"}};
inline constexpr size_t kExpectableCallEnds = 3;  // kCaller, kAgent, kTransfer

struct Expectation {
  enum Kind { kAgentSays, kTurnLatency, kAgentStops, kToolCall, kNoReply, kCallEnds, kAgentRepeats };
  Kind kind = kAgentSays;
  std::string contains;  // kAgentSays: a phrase the agent's reply must contain (whole words)
  std::string matches;   // kAgentSays: or an RE2 regex searched in the normalized reply
  double max_ms = 0;     // kTurnLatency: the turn latency must not exceed this
  double within_ms = 0;  // kAgentStops: barge-in stop latency bound; kNoReply: the silent window
  std::string tool_name;       // kToolCall: the tool the agent must call in this turn
  std::string tool_args_json;  // kToolCall: a JSON object whose fields the call's arguments contain
  CallEndedBy ends_by = CallEndedBy::kCaller;  // kCallEnds: never kOther
  SourceLocation where;
};
// The keys a turn's `expect` entries use, which are also the stored expectations.kind.
inline constexpr agent::NameTable<Expectation::Kind, 7> kExpectationKindNames{
    {"agent_says", "turn_latency", "agent_stops", "tool_call", "no_reply", "call_ends",
     "agent_repeats"}};

struct BargeIn {
  double after_agent_speech_ms = 0;  // the caller starts talking this long into the agent's reply
  std::string when_agent_says;       // or: as soon as the caller hears this phrase (whole words)
};

// A piece of an utterance: words, then a pause inside the utterance (a clause pause that a hasty
// endpointer may mistake for the end of the turn). Written inline: "my number is [pause 900] four".
struct SpeechSegment {
  std::string text;
  double pause_after_ms = 0;
};

// When a turn's caller starts: after the previous reply ends (reply), or once the agent has a tool
// result for the previous request (tool_result, reference agent only).
enum class WaitFor { kReply, kToolResult };
inline constexpr agent::NameTable<WaitFor, 2> kWaitForNames{{"reply", "tool_result"}};

struct Turn {
  enum class Action {
    kWait,      // say nothing; wait for the agent (the greeting, or an unprompted reply)
    kSay,       // speak `user` through the word modem
    kPlayFile,  // play `audio_file` (WAV or FLAC, resampled) as the caller's voice
    kDtmf,      // press `dtmf` keys (RFC 4733 telephone events)
    kSilence,   // stay silent for silence_ms, then go on without waiting for a reply
    kRepeat,    // ask the agent to repeat itself (caller.repeat_phrase)
    kHangup,    // hang up (always the last turn)
  };
  Action action = Action::kWait;
  std::string user;  // kSay: the words, pause markers removed (the WER reference)
  std::vector<SpeechSegment> segments;  // kSay: `user` split at its pause markers
  std::string audio_file;               // kPlayFile: resolved path
  std::string audio_transcript;         // kPlayFile: what the file says, if known (WER reference)
  std::string dtmf;                     // kDtmf: digits 0-9, *, #, A-D
  double silence_ms = 0;                // kSilence
  WaitFor wait_for = WaitFor::kReply;
  std::optional<BargeIn> barge_in;  // only with kSay, kPlayFile or kRepeat
  bool hangup = false;              // == (action == kHangup); kept for readability
  double pause_before_ms = 0;
  std::vector<Expectation> expect;
  SourceLocation where;
};

// One phase of call arrivals. constant: evenly spaced at rate_per_s; ramp: the rate goes linearly
// from rate_per_s to to_rate_per_s; poisson: exponential gaps with mean 1/rate_per_s (seeded).
struct LoadPhase {
  enum Kind { kConstant, kRamp, kPoisson };
  Kind kind = kConstant;
  double rate_per_s = 0;
  double to_rate_per_s = 0;  // kRamp
  double duration_s = 0;
  SourceLocation where;
};
inline constexpr agent::NameTable<LoadPhase::Kind, 3> kLoadPhaseKindNames{
    {"constant", "ramp", "poisson"}};

struct Scenario;

// A weighted share of the calls that run another scenario file (its own line, caller, agent,
// fakes and turns; its load and thresholds are ignored).
struct MixEntry {
  std::string scenario_path;  // resolved
  double weight = 1;
  std::shared_ptr<const Scenario> scenario;  // loaded by the loader
};

struct LoadSpec {
  int callers = 1;        // total calls (arrivals stop after this many, or when the phases end)
  double rate_per_s = 0;  // shorthand for one constant phase; 0 and no phases: all start at t = 0
  std::vector<LoadPhase> phases;
  double duration_s = 0;  // a bound on the run's virtual time; 0: until every call has ended
  std::vector<MixEntry> mix;  // empty: every call runs this scenario
};

// thresholds: { turn_latency: ["p(95)<1200"] }: one entry per expression.
struct Threshold {
  std::string metric;
  ThresholdExpr expr;
  SourceLocation where;
};

// How the scenario runs over the wire (callsim run --target): ignored in virtual time.
struct RealtimeSpec {
  // The harness-lateness bound: a run whose media ticks ran later than this at p99 is saturated
  // (the load generator, not the agent, limited it).
  double lateness_bound_ms = 5;
  // Sent in the Twilio start message's customParameters (at most 32, names and values up to 256
  // characters).
  std::map<std::string, std::string> custom_parameters;
};

// How `callsim compare` judges a run of this scenario against a baseline: stored with the run
// (config_json "compare") and read from the new run; the command line's flags win.
struct CompareSpec {
  std::optional<double> tolerance_pct;  // relative noise tolerance, percent of the base value
  std::optional<double> tolerance_ms;   // absolute noise tolerance for latency
  std::optional<double> confidence;     // of the intervals and tests
  std::vector<std::string> gate;        // metrics that can fail the gate; empty: all
};

struct Scenario {
  std::string name;
  std::string source_path;  // the file it was loaded from (as given to the loader)
  agent::CodecKind codec = agent::CodecKind::kL16;
  OpusSpec opus;
  LinkSpec uplink;    // caller -> agent
  LinkSpec downlink;  // agent -> caller
  CallerSpec caller;
  AgentSpec agent;
  FakesSpec fakes;
  std::vector<Turn> turns;  // at least one
  LoadSpec load;
  std::vector<Threshold> thresholds;
  RealtimeSpec realtime;
  CompareSpec compare;
  std::optional<uint64_t> seed;  // the default seed; --seed wins over it
};

}  // namespace callsim::harness
