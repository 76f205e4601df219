#include "harness/scenario/scenario_parser.h"

#include <filesystem>

#include "harness/scenario/limits.h"
#include "harness/scenario/turn_parser.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

void ParseCodec(ParseContext& ctx, const Field& f, agent::CodecKind* out) {
  // Parsed here rather than with agent::ParseCodecKind because opus gets its own message.
  std::string name;
  if (!ReadString(ctx, f, &name)) return;
  if (name == "l16") {
    *out = agent::CodecKind::kL16;
  } else if (name == "pcmu") {
    *out = agent::CodecKind::kPcmu;
  } else if (name == "opus") {
    ctx.Error(f.path, f.mark(), "codec opus is not supported yet (use l16 or pcmu)");
  } else {
    ctx.Error(f.path, f.mark(), "expected l16 | pcmu, got " + Describe(f.value));
  }
}

// loss: a number (Bernoulli), or { model: none | bernoulli | gilbert, ...its parameters }.
void ParseLoss(ParseContext& ctx, const Field& f, LossSpec* out) {
  if (!f.value.IsMap()) {
    if (ReadNumber(ctx, f, kProbability, &out->loss)) out->model = LossSpec::kBernoulli;
    return;
  }
  MapReader m(ctx, f, {"model", "rate", "p", "r", "bad_loss", "good_loss"});
  std::string model;
  if (!m.Require("model") || !ReadChoice(ctx, *m.Get("model"), {"none", "bernoulli", "gilbert"},
                                         &model)) {
    return;
  }
  for (std::string_view key : {"rate", "p", "r", "bad_loss", "good_loss"}) {
    const std::string_view owner = key == "rate" ? "bernoulli" : "gilbert";
    if (const std::optional<Field> param = m.Get(key); param && model != owner) {
      ctx.Error(param->path, param->key.Mark(),
                std::string(key) + " applies only to model " + std::string(owner));
    }
  }
  LossSpec loss;
  if (model == "bernoulli") {
    loss.model = LossSpec::kBernoulli;
    m.Number("rate", kProbability, &loss.loss);
  } else if (model == "gilbert") {
    loss.model = LossSpec::kGilbert;
    m.Number("p", kProbability, &loss.p);
    m.Number("r", kProbability, &loss.r);
    m.Number("bad_loss", kProbability, &loss.bad_loss);
    m.Number("good_loss", kProbability, &loss.good_loss);
  }
  *out = loss;
}

void ParseOutages(ParseContext& ctx, const Field& f, std::vector<OutageSpec>* out) {
  if (f.value.IsNull()) return;
  if (!f.value.IsSequence()) {
    ctx.Error(f.path, f.mark(), "expected a list of outages, got " + Describe(f.value));
    return;
  }
  if (f.value.size() > kMaxOutages) {
    ctx.Error(f.path, f.mark(),
              "expected at most " + std::to_string(kMaxOutages) + " outages, got " +
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

void ParseLink(ParseContext& ctx, const Field& f, LinkSpec* out) {
  MapReader m(ctx, f, {"delay_ms", "jitter_ms", "loss", "reorder", "duplicate", "outages"});
  m.Number("delay_ms", kLinkDelayMs, &out->delay_ms);
  m.Number("jitter_ms", kLinkDelayMs, &out->jitter_ms);
  if (std::optional<Field> loss = m.Get("loss")) ParseLoss(ctx, *loss, &out->loss);
  m.Number("reorder", kProbability, &out->reorder);
  m.Number("duplicate", kProbability, &out->duplicate);
  if (std::optional<Field> outages = m.Get("outages")) ParseOutages(ctx, *outages, &out->outages);
}

void ParseNetwork(ParseContext& ctx, const Field& f, Scenario* s) {
  MapReader m(ctx, f, {"uplink", "downlink"});
  if (std::optional<Field> up = m.Get("uplink")) ParseLink(ctx, *up, &s->uplink);
  if (std::optional<Field> down = m.Get("downlink")) ParseLink(ctx, *down, &s->downlink);
}

void ParseCaller(ParseContext& ctx, const Field& f, CallerSpec* out) {
  MapReader m(ctx, f, {"noise", "words_per_minute", "reply_timeout_ms", "reply_end_silence_ms"});
  if (std::optional<Field> noise = m.Get("noise")) {
    MapReader n(ctx, *noise, {"type", "snr_db"});
    n.Choice("type", {"none", "white"}, &out->noise.type);
    n.Number("snr_db", kSnrDb, &out->noise.snr_db);
  }
  m.Number("words_per_minute", kWordsPerMinute, &out->words_per_minute);
  m.Number("reply_timeout_ms", kPositiveTimeMs, &out->reply_timeout_ms);
  m.Number("reply_end_silence_ms", kPipelineMs, &out->reply_end_silence_ms);
}

// agent.<section>.<key>: a number in a one-level subsection such as vad or endpointing.
void SectionNumber(const MapReader& m, std::string_view section,
                   std::initializer_list<std::string_view> keys, std::string_view key,
                   const NumberRange& range, double* out) {
  if (std::optional<Field> f = m.Get(section)) MapReader(m.ctx(), *f, keys).Number(key, range, out);
}

void ParseAgent(ParseContext& ctx, const Field& f, AgentSpec* out) {
  MapReader m(ctx, f, {"greeting", "system_prompt", "vad", "endpointing", "barge_in",
                       "jitter_buffer", "max_call_ms"});
  m.String("greeting", &out->greeting);
  m.String("system_prompt", &out->system_prompt);
  if (std::optional<Field> vad = m.Get("vad")) {
    MapReader v(ctx, *vad, {"threshold_dbfs", "start_ms", "stop_ms"});
    v.Number("threshold_dbfs", kDbfs, &out->vad_threshold_dbfs);
    v.Number("start_ms", kPipelineMs, &out->vad_start_ms);
    v.Number("stop_ms", kPipelineMs, &out->vad_stop_ms);
  }
  SectionNumber(m, "endpointing", {"delay_ms"}, "delay_ms", kPipelineMs, &out->endpoint_delay_ms);
  SectionNumber(m, "barge_in", {"min_speech_ms"}, "min_speech_ms", kPipelineMs,
                &out->barge_in_min_ms);
  SectionNumber(m, "jitter_buffer", {"target_ms"}, "target_ms", kPipelineMs,
                &out->jitter_target_ms);
  m.Number("max_call_ms", kPositiveTimeMs, &out->max_call_ms);
}

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
      return std::string(key) + " (" + (m.Has(key) ? "" : "default ") + FormatNumber(v) +
             ")";
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

void ParseScript(ParseContext& ctx, const Field& f, const std::string& base_dir, std::string* out) {
  std::string script;
  if (!ReadString(ctx, f, &script)) return;
  std::filesystem::path path(script);
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (script.empty() || !std::filesystem::is_regular_file(path, ec)) {
    ctx.Error(f.path, f.key.Mark(),
              "no such file: " + path.string() +
                  " (relative paths start at the scenario's folder)");
    return;
  }
  *out = path.string();
}

void ParseFakes(ParseContext& ctx, const Field& f, const std::string& base_dir, FakesSpec* out) {
  MapReader m(ctx, f, {"stt", "llm", "tts"});
  if (std::optional<Field> stt = m.Get("stt")) {
    MapReader s(ctx, *stt, {"profile", "final_latency_ms"});
    s.Choice("profile", {"default", "perfect"}, &out->stt.profile);
    if (auto l = s.Get("final_latency_ms")) ParseLatency(ctx, *l, &out->stt.final_latency);
  }
  if (std::optional<Field> llm = m.Get("llm")) {
    MapReader l(ctx, *llm, {"script", "ttft_ms", "tokens_per_s"});
    if (auto script = l.Get("script")) ParseScript(ctx, *script, base_dir, &out->llm.script);
    if (auto ttft = l.Get("ttft_ms")) ParseLatency(ctx, *ttft, &out->llm.ttft);
    l.Number("tokens_per_s", kTokensPerS, &out->llm.tokens_per_s);
  }
  if (std::optional<Field> tts = m.Get("tts")) {
    MapReader t(ctx, *tts, {"ttfb_ms"});
    if (auto ttfb = t.Get("ttfb_ms")) ParseLatency(ctx, *ttfb, &out->tts.ttfb);
  }
}

void ParseLoad(ParseContext& ctx, const Field& f, LoadSpec* out) {
  MapReader m(ctx, f, {"callers", "arrival"});
  int64_t callers = 0;
  if (auto c = m.Get("callers"); c && ReadInt(ctx, *c, 1, kMaxCallers, &callers)) {
    out->callers = static_cast<int>(callers);
  }
  SectionNumber(m, "arrival", {"rate_per_s"}, "rate_per_s", kRatePerS, &out->rate_per_s);
}

}  // namespace

Scenario ParseScenario(ParseContext& ctx, const YAML::Node& root, const std::string& base_dir) {
  Scenario s;
  MapReader m(ctx, Field{"", YAML::Node(), root},
              {"name", "codec", "network", "caller", "agent", "fakes", "turns", "load", "seed"});
  if (!m.is_map()) return s;
  if (m.Require("name")) {
    const Field name = *m.Get("name");
    if (ReadString(ctx, name, &s.name) && s.name.empty()) {
      ctx.Error(name.path, name.mark(), "expected a name, got an empty string");
    }
  }
  if (std::optional<Field> codec = m.Get("codec")) ParseCodec(ctx, *codec, &s.codec);
  if (std::optional<Field> network = m.Get("network")) ParseNetwork(ctx, *network, &s);
  if (std::optional<Field> caller = m.Get("caller")) ParseCaller(ctx, *caller, &s.caller);
  if (std::optional<Field> agent = m.Get("agent")) ParseAgent(ctx, *agent, &s.agent);
  if (std::optional<Field> fakes = m.Get("fakes")) ParseFakes(ctx, *fakes, base_dir, &s.fakes);
  if (m.Require("turns")) s.turns = ParseTurns(ctx, *m.Get("turns"));
  if (std::optional<Field> load = m.Get("load")) ParseLoad(ctx, *load, &s.load);
  uint64_t seed = 0;
  if (std::optional<Field> f = m.Get("seed"); f && ReadUint64(ctx, *f, &seed)) s.seed = seed;
  return s;
}

}  // namespace callsim::harness
