#include "harness/scenario/fakes_parser.h"

#include <algorithm>
#include <cctype>

#include "fakes/tools/fake_tool_backend.h"
#include "fakes/voice/espeak_voice.h"
#include "harness/scenario/limits.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

// { p50, p95, max } in ms. A key left out keeps its default, so the check that p50 <= p95 <= max
// names defaults when they are what conflicts.
void ParseLatency(ParseContext& ctx, const Field& f, agent::LatencyModel* out) {
  MapReader m(ctx, f, {"p50", "p95", "max"});
  agent::LatencyModel model = *out;
  m.Number("p50", kLatencyMs, &model.p50_ms);
  m.Number("p95", kLatencyMs, &model.p95_ms);
  m.Number("max", kPositiveLatencyMs, &model.max_ms);
  auto check = [&](std::string_view low_key, double low, std::string_view high_key, double high) {
    if (high >= low) return true;
    const std::optional<Field> at = m.Has(high_key) ? m.Get(high_key) : m.Get(low_key);
    auto show = [&](std::string_view key, double v) {
      return std::string(key) + " (" + (m.Has(key) ? "" : "default ") + FormatNumber(v) + ")";
    };
    ctx.Error(at ? at->path : f.Child(high_key), at ? at->mark() : f.mark(),
              "expected " + show(high_key, high) + " >= " + show(low_key, low));
    return false;
  };
  if (check("p50", model.p50_ms, "p95", model.p95_ms) &&
      check("p95", model.p95_ms, "max", model.max_ms)) {
    *out = model;
  }
}

void ParseCapacity(ParseContext& ctx, const Field& f, CapacitySpec* out) {
  MapReader m(ctx, f, {"max_concurrent", "queue", "queue_timeout_ms", "rate_limit_per_s"});
  CapacitySpec c = *out;
  int64_t count = 0;
  if (auto v = m.Get("max_concurrent"); v && ReadInt(ctx, *v, 0, kMaxCapacity, &count)) {
    c.max_concurrent = static_cast<int>(count);
  }
  if (auto v = m.Get("queue"); v && ReadInt(ctx, *v, 0, kMaxCapacity, &count)) {
    c.queue = static_cast<int>(count);
  }
  m.Number("queue_timeout_ms", kTimeMs, &c.queue_timeout_ms);
  m.Number("rate_limit_per_s", kRatePerS, &c.rate_limit_per_s);
  if (c.queue > 0 && c.max_concurrent == 0) {
    const Field queue = *m.Get("queue");
    ctx.Error(queue.path, queue.key.Mark(),
              "queue " + std::to_string(c.queue) +
                  " needs max_concurrent > 0 (with unlimited concurrency nothing ever waits)");
    return;
  }
  *out = c;
}

void ParseFaults(ParseContext& ctx, const Field& f, FaultsSpec* out) {
  MapReader m(ctx, f, {"error_rate", "timeout_rate", "drop_rate", "outages"});
  m.Number("error_rate", kProbability, &out->error_rate);
  m.Number("timeout_rate", kProbability, &out->timeout_rate);
  m.Number("drop_rate", kProbability, &out->drop_rate);
  if (auto outages = m.Get("outages")) ParseOutages(ctx, *outages, &out->outages);
}

// url, model, api_key_env (and voice for a TTS): the provider over its wire API. Nothing when
// the map has no url; model, api_key_env and voice without one are an error.
void ParseWire(ParseContext& ctx, const Field& f, MapReader& m, bool tts,
               std::optional<WireProviderSpec>* out) {
  WireProviderSpec spec;
  m.String("url", &spec.url);
  m.String("model", &spec.model);
  m.String("api_key_env", &spec.api_key_env);
  if (tts) m.String("voice", &spec.voice);
  if (!m.Has("url")) {
    for (std::string_view key : {"model", "api_key_env", "voice"}) {
      if (std::optional<Field> v = m.Get(key)) {
        ctx.Error(v->path, v->key.Mark(), std::string(key) + " needs url (a provider over its wire API)");
      }
    }
    (void)f;
    return;
  }
  const Field url = *m.Get("url");
  const std::string_view u = spec.url;
  const bool scheme_ok = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0 ||
                         u.rfind("ws://", 0) == 0 || u.rfind("wss://", 0) == 0;
  if (!scheme_ok) {
    ctx.Error(url.path, url.mark(), "expected an http://, https://, ws:// or wss:// URL, got " + spec.url);
    return;
  }
  if (!spec.api_key_env.empty()) {
    const bool name_ok = std::all_of(spec.api_key_env.begin(), spec.api_key_env.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!name_ok) {
      const Field env = *m.Get("api_key_env");
      ctx.Error(env.path, env.mark(), "expected an environment variable name (letters, digits, _)");
      return;
    }
  }
  *out = std::move(spec);
}

void ParseSecondary(ParseContext& ctx, const Field& f, bool tts, SecondarySpec* out) {
  MapReader m(ctx, f, tts ? std::vector<std::string_view>{"faults", "url", "model", "api_key_env", "voice"}
                          : std::vector<std::string_view>{"faults", "url", "model", "api_key_env"});
  out->present = true;
  if (auto faults = m.Get("faults")) ParseFaults(ctx, *faults, &out->faults);
  ParseWire(ctx, f, m, tts, &out->wire);
}

// tools: { <back end>: { latency_ms, error_rate, timeout_rate, outages } }
void ParseToolBackends(ParseContext& ctx, const Field& f, std::vector<ToolBackendSpec>* out) {
  MapReader m(ctx, f,
              std::vector<std::string_view>(fakes::kFakeToolBackendNames.begin(),
                                            fakes::kFakeToolBackendNames.end()));
  for (const Field& entry : m.entries()) {
    ToolBackendSpec spec;
    spec.name = entry.key.Scalar();
    MapReader b(ctx, entry, {"latency_ms", "error_rate", "timeout_rate", "outages"});
    if (auto l = b.Get("latency_ms")) ParseLatency(ctx, *l, &spec.latency);
    b.Number("error_rate", kProbability, &spec.error_rate);
    b.Number("timeout_rate", kProbability, &spec.timeout_rate);
    if (auto outages = b.Get("outages")) ParseOutages(ctx, *outages, &spec.outages);
    out->push_back(std::move(spec));
  }
}

}  // namespace

void ParseOutages(ParseContext& ctx, const Field& f, std::vector<OutageSpec>* out) {
  if (f.value.IsNull()) return;
  if (!f.value.IsSequence()) {
    ctx.Error(f.path, f.mark(), "expected a list of outages, got " + Describe(f.value));
    return;
  }
  if (f.value.size() > kMaxOutages) {
    ctx.Error(f.path, f.mark(),
              "expected a list of at most " + std::to_string(kMaxOutages) + " outages, got " +
                  std::to_string(f.value.size()));
    return;
  }
  size_t index = 0;
  for (auto it = f.value.begin(); it != f.value.end(); ++it, ++index) {
    MapReader m(ctx, Field{f.Child(std::to_string(index)), YAML::Node(), *it},
                {"start_ms", "duration_ms"});
    OutageSpec outage;
    m.Number("start_ms", kTimeMs, &outage.start_ms);
    if (m.Require("duration_ms")) m.Number("duration_ms", kPositiveTimeMs, &outage.duration_ms);
    out->push_back(outage);
  }
}

// engine: modem | espeak, and espeak: {voice, words_per_minute, pitch} for the in-process fake.
void ParseTtsEngine(ParseContext& ctx, MapReader& t, TtsSpec* out) {
  t.Enum("engine", kVoiceEngineNames, &out->engine);
  const std::optional<Field> espeak = t.Get("espeak");
  if (espeak) {
    MapReader e(ctx, *espeak, {"voice", "words_per_minute", "pitch"});
    e.String("voice", &out->espeak_voice);
    e.Number("words_per_minute", NumberRange{80, 450}, &out->espeak_words_per_minute);
    if (const std::optional<Field> pitch = e.Get("pitch")) {
      int64_t value = 0;
      if (ReadInt(ctx, *pitch, 0, 99, &value)) out->espeak_pitch = static_cast<int>(value);
    }
    fakes::EspeakVoiceSpec spec;
    spec.voice = out->espeak_voice;
    spec.pitch = out->espeak_pitch;
    std::string error;
    if (!fakes::ValidateEspeakVoice(spec, &error)) ctx.Error(espeak->path, espeak->mark(), error);
  }
  if (out->engine != VoiceEngine::kEspeak && espeak) {
    ctx.Error(espeak->path, espeak->key.Mark(), "espeak applies only to engine espeak");
  }
  if (out->engine == VoiceEngine::kEspeak && t.Has("url")) {
    const Field engine = *t.Get("engine");
    ctx.Error(engine.path, engine.mark(),
              "engine espeak is the in-process fake's voice; a TTS with url speaks over the wire");
  }
}

void ParseFakes(ParseContext& ctx, const Field& f, const std::string& base_dir, FakesSpec* out) {
  MapReader m(ctx, f, {"stt", "llm", "tts", "tools"});
  if (std::optional<Field> stt = m.Get("stt")) {
    MapReader s(ctx, *stt, {"engine", "profile", "final_latency_ms", "capacity", "faults",
                            "secondary", "url", "model", "api_key_env"});
    s.Enum("engine", kRecognizerEngineNames, &out->stt.engine);
    if (out->stt.engine == RecognizerEngine::kAsr && s.Has("url")) {
      const Field engine = *s.Get("engine");
      ctx.Error(engine.path, engine.mark(),
                "engine asr is the in-process fake's recogniser; an STT with url listens over the wire");
    }
    if (auto v = s.Get("faults")) ParseFaults(ctx, *v, &out->stt.faults);
    if (auto v = s.Get("secondary")) ParseSecondary(ctx, *v, false, &out->stt.secondary);
    ParseWire(ctx, *stt, s, false, &out->stt.wire);
    s.Enum("profile", kSttProfileNames, &out->stt.profile);
    if (auto l = s.Get("final_latency_ms")) ParseLatency(ctx, *l, &out->stt.final_latency);
    if (auto c = s.Get("capacity")) ParseCapacity(ctx, *c, &out->stt.capacity);
  }
  if (std::optional<Field> llm = m.Get("llm")) {
    MapReader l(ctx, *llm,
                {"script", "ttft_ms", "tokens_per_s", "capacity", "faults", "secondary", "url",
                 "model", "api_key_env"});
    if (auto v = l.Get("faults")) ParseFaults(ctx, *v, &out->llm.faults);
    if (auto v = l.Get("secondary")) ParseSecondary(ctx, *v, false, &out->llm.secondary);
    ParseWire(ctx, *llm, l, false, &out->llm.wire);
    if (auto script = l.Get("script"))
      ReadExistingFile(ctx, *script, base_dir, {}, &out->llm.script);
    if (auto ttft = l.Get("ttft_ms")) ParseLatency(ctx, *ttft, &out->llm.ttft);
    l.Number("tokens_per_s", kTokensPerS, &out->llm.tokens_per_s);
    if (auto c = l.Get("capacity")) ParseCapacity(ctx, *c, &out->llm.capacity);
  }
  if (std::optional<Field> tts = m.Get("tts")) {
    MapReader t(ctx, *tts, {"engine", "espeak", "ttfb_ms", "capacity", "faults", "secondary",
                            "url", "model", "api_key_env", "voice"});
    ParseTtsEngine(ctx, t, &out->tts);
    if (auto v = t.Get("faults")) ParseFaults(ctx, *v, &out->tts.faults);
    if (auto v = t.Get("secondary")) ParseSecondary(ctx, *v, true, &out->tts.secondary);
    ParseWire(ctx, *tts, t, true, &out->tts.wire);
    if (auto ttfb = t.Get("ttfb_ms")) ParseLatency(ctx, *ttfb, &out->tts.ttfb);
    if (auto c = t.Get("capacity")) ParseCapacity(ctx, *c, &out->tts.capacity);
  }
  if (std::optional<Field> tools = m.Get("tools")) ParseToolBackends(ctx, *tools, &out->tools);
}

}  // namespace callsim::harness
