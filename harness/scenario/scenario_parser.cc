#include "harness/scenario/scenario_parser.h"

#include "harness/scenario/caller_parser.h"
#include "harness/scenario/fakes_parser.h"
#include "harness/scenario/limits.h"
#include "harness/scenario/load_parser.h"
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
    ctx.Error(f.path, f.mark(), "expected l16 | pcmu | opus, got " + Describe(f.value));
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

void ParseLink(ParseContext& ctx, const Field& f, LinkSpec* out) {
  MapReader m(ctx, f, {"delay_ms", "jitter_ms", "jitter_distribution", "loss", "reorder",
                       "duplicate", "outages"});
  m.Number("delay_ms", kLinkDelayMs, &out->delay_ms);
  m.Number("jitter_ms", kLinkDelayMs, &out->jitter_ms);
  m.Choice("jitter_distribution", {"normal", "uniform", "exponential", "pareto"},
           &out->jitter_distribution);
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

// True when load.mix is written, valid or not.
bool HasMix(const MapReader& m) {
  const std::optional<Field> load = m.Get("load");
  if (!load || !load->value.IsMap()) return false;
  for (auto it = load->value.begin(); it != load->value.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "mix") return true;
  }
  return false;
}

// turns is required, except with load.mix: then every call runs one of the mixed scenarios, so
// turns here would never run.
void ParseRootTurns(ParseContext& ctx, const MapReader& m, const std::string& base_dir,
                    Scenario* s) {
  const std::optional<Field> turns = m.Get("turns");
  if (HasMix(m)) {
    if (turns) {
      ctx.Error(turns->path, turns->key.Mark(),
                "turns is not allowed with load.mix: every call runs one of the mixed scenarios, "
                "so these turns would never run (move them into a scenario of the mix)");
    }
    return;
  }
  if (m.Require("turns")) s->turns = ParseTurns(ctx, *turns, base_dir);
}

}  // namespace

Scenario ParseScenario(ParseContext& ctx, const YAML::Node& root, const std::string& base_dir) {
  Scenario s;
  MapReader m(ctx, Field{"", YAML::Node(), root},
              {"name", "codec", "network", "caller", "agent", "fakes", "turns", "load",
               "thresholds", "seed"});
  if (!m.is_map()) return s;
  if (m.Require("name")) {
    const Field name = *m.Get("name");
    if (ReadString(ctx, name, &s.name) && s.name.empty()) {
      ctx.Error(name.path, name.mark(), "expected a non-empty string, got \"\"");
    }
  }
  if (std::optional<Field> codec = m.Get("codec")) ParseCodec(ctx, *codec, &s.codec);
  if (std::optional<Field> network = m.Get("network")) ParseNetwork(ctx, *network, &s);
  if (std::optional<Field> caller = m.Get("caller")) ParseCaller(ctx, *caller, base_dir, &s.caller);
  if (std::optional<Field> agent = m.Get("agent")) ParseAgent(ctx, *agent, &s.agent);
  if (std::optional<Field> fakes = m.Get("fakes")) ParseFakes(ctx, *fakes, base_dir, &s.fakes);
  if (std::optional<Field> load = m.Get("load")) ParseLoad(ctx, *load, base_dir, &s.load);
  ParseRootTurns(ctx, m, base_dir, &s);
  if (std::optional<Field> t = m.Get("thresholds")) s.thresholds = ParseThresholds(ctx, *t);
  uint64_t seed = 0;
  if (std::optional<Field> f = m.Get("seed"); f && ReadUint64(ctx, *f, &seed)) s.seed = seed;
  return s;
}

}  // namespace callsim::harness
