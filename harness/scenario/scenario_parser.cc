#include "harness/scenario/scenario_parser.h"

#include <optional>
#include <regex>
#include <string>

#include "harness/measure/compared_metrics.h"
#include "harness/scenario/caller_parser.h"
#include "harness/scenario/fakes_parser.h"
#include "harness/scenario/limits.h"
#include "harness/scenario/load_parser.h"
#include "harness/scenario/turn_parser.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

// "1%", "0.5%", "100%": netem's notation for a probability, as the schema's pattern for it has it.
std::optional<double> ParsePercent(const std::string& text) {
  static const std::regex kPercent(R"(^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%$)");
  if (!std::regex_match(text, kPercent)) return std::nullopt;
  return ParseYamlDouble(std::string_view(text).substr(0, text.size() - 1));
}

// A loss probability: a number is a fraction (0.01), a string with a percent sign is netem's
// percentage ("1%" is 0.01).
bool ReadLossProbability(ParseContext& ctx, const Field& f, double* out) {
  if (f.value.IsScalar() && !f.value.Scalar().empty() && f.value.Scalar().back() == '%') {
    if (const std::optional<double> percent = ParsePercent(f.value.Scalar())) {
      *out = *percent / 100;
      return true;
    }
    ctx.Error(f.path, f.mark(), "expected a percentage in [0%, 100%], got " + Describe(f.value));
    return false;
  }
  return ReadNumber(ctx, f, kProbability, out);
}

// Gilbert-Elliott with netem's defaults (tc's "loss gemodel p [r [1-h [1-k]]]"): r = 1 - p,
// bad_loss (1-h) = 1, good_loss (1-k) = 0. p = r = 0 is refused: the chain would have no
// stationary loss rate.
void ParseGilbert(ParseContext& ctx, const Field& f, const MapReader& m, LossSpec* loss) {
  loss->model = LossSpec::kGilbert;
  const std::optional<Field> p = m.Get("p");
  const std::optional<Field> r = m.Get("r");
  if (p) ReadLossProbability(ctx, *p, &loss->p);
  loss->r = 1 - loss->p;
  if (r) ReadLossProbability(ctx, *r, &loss->r);
  if (const std::optional<Field> h = m.Get("bad_loss")) ReadLossProbability(ctx, *h, &loss->bad_loss);
  if (const std::optional<Field> k = m.Get("good_loss")) {
    ReadLossProbability(ctx, *k, &loss->good_loss);
  }
  if (loss->p == 0 && loss->r == 0) {
    const Field& at = r ? *r : p ? *p : f;
    ctx.Error(at.path, at.mark(),
              "p and r are both 0: the model never changes state, so it has no loss rate; give "
              "p > 0 (r then defaults to 1 - p, as in netem)");
  }
}

// loss: a probability (Bernoulli: 0.05 or "5%"), or { model: none | bernoulli | gilbert, ...its
// parameters }.
void ParseLoss(ParseContext& ctx, const Field& f, LossSpec* out) {
  if (!f.value.IsMap()) {
    if (ReadLossProbability(ctx, f, &out->loss)) out->model = LossSpec::kBernoulli;
    return;
  }
  MapReader m(ctx, f, {"model", "rate", "p", "r", "bad_loss", "good_loss"});
  LossSpec loss;
  if (!m.Require("model") || !ReadEnum(ctx, *m.Get("model"), kLossModelNames, &loss.model)) return;
  for (std::string_view key : {"rate", "p", "r", "bad_loss", "good_loss"}) {
    const LossSpec::Model owner = key == "rate" ? LossSpec::kBernoulli : LossSpec::kGilbert;
    if (const std::optional<Field> param = m.Get(key); param && loss.model != owner) {
      ctx.Error(param->path, param->key.Mark(),
                std::string(key) + " applies only to model " +
                    std::string(kLossModelNames.Name(owner)));
    }
  }
  if (loss.model == LossSpec::kBernoulli) {
    if (const std::optional<Field> rate = m.Get("rate")) ReadLossProbability(ctx, *rate, &loss.loss);
  } else if (loss.model == LossSpec::kGilbert) {
    ParseGilbert(ctx, f, m, &loss);
  }
  *out = loss;
}

void ParseLink(ParseContext& ctx, const Field& f, LinkSpec* out) {
  MapReader m(ctx, f, {"delay_ms", "jitter_ms", "jitter_distribution", "loss", "reorder",
                       "duplicate", "outages"});
  m.Number("delay_ms", kLinkDelayMs, &out->delay_ms);
  m.Number("jitter_ms", kLinkDelayMs, &out->jitter_ms);
  m.Enum("jitter_distribution", fakes::kJitterDistributionNames, &out->jitter_distribution);
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

void ParseTools(ParseContext& ctx, const Field& f, const std::string& base_dir, ToolsSpec* out) {
  MapReader m(ctx, f, {"file", "allow", "max_steps_per_turn", "filler_after_ms", "circuit_breaker"});
  if (auto file = m.Get("file")) ReadExistingFile(ctx, *file, base_dir, {}, &out->file);
  if (auto allow = m.Get("allow")) {
    if (!allow->value.IsSequence()) {
      ctx.Error(allow->path, allow->mark(), "expected a list of tool names, got " +
                                                Describe(allow->value));
    } else {
      size_t index = 0;
      for (auto it = allow->value.begin(); it != allow->value.end(); ++it, ++index) {
        std::string name;
        if (ReadString(ctx, Field{allow->Child(std::to_string(index)), YAML::Node(), *it}, &name)) {
          out->allow.push_back(name);
        }
      }
    }
  }
  int64_t count = 0;
  if (auto v = m.Get("max_steps_per_turn"); v && ReadInt(ctx, *v, 1, kMaxToolSteps, &count)) {
    out->max_steps_per_turn = static_cast<int>(count);
  }
  m.Number("filler_after_ms", kPipelineMs, &out->filler_after_ms);
  if (auto breaker = m.Get("circuit_breaker")) {
    MapReader b(ctx, *breaker, {"failure_threshold", "open_ms"});
    if (auto v = b.Get("failure_threshold"); v && ReadInt(ctx, *v, 1, kMaxToolSteps, &count)) {
      out->breaker_failures = static_cast<int>(count);
    }
    b.Number("open_ms", kTimeMs, &out->breaker_open_ms);
  }
}

void ParseAgent(ParseContext& ctx, const Field& f, const std::string& base_dir, AgentSpec* out) {
  MapReader m(ctx, f, {"greeting", "system_prompt", "vad", "endpointing", "first_clause_words",
                       "preemptive_generation", "barge_in", "jitter_buffer", "max_call_ms",
                       "silence", "tools", "fallback"});
  m.Bool("preemptive_generation", &out->preemptive_generation);
  m.String("greeting", &out->greeting);
  m.String("system_prompt", &out->system_prompt);
  if (std::optional<Field> vad = m.Get("vad")) {
    MapReader v(ctx, *vad, {"threshold_dbfs", "start_ms", "stop_ms"});
    v.Number("threshold_dbfs", kDbfs, &out->vad_threshold_dbfs);
    v.Number("start_ms", kPipelineMs, &out->vad_start_ms);
    v.Number("stop_ms", kPipelineMs, &out->vad_stop_ms);
  }
  if (std::optional<Field> e = m.Get("endpointing")) {
    MapReader r(ctx, *e, {"delay_ms", "max_delay_ms", "finished_delay_ms"});
    r.Number("delay_ms", kPipelineMs, &out->endpoint_delay_ms);
    r.Number("max_delay_ms", kPipelineMs, &out->endpoint_max_delay_ms);  // below delay_ms: delay_ms
    // At or above delay_ms it changes nothing.
    r.Number("finished_delay_ms", kPipelineMs, &out->endpoint_finished_delay_ms);
  }
  if (auto v = m.Get("first_clause_words")) {
    int64_t words = 0;
    if (ReadInt(ctx, *v, 0, kMaxFirstClauseWords, &words)) {
      out->first_clause_words = static_cast<int>(words);
    }
  }
  if (std::optional<Field> b = m.Get("barge_in")) {
    MapReader r(ctx, *b, {"min_speech_ms", "min_words", "false_interruption_timeout_ms",
                          "echo_guard_db"});
    r.Number("min_speech_ms", kPipelineMs, &out->barge_in_min_ms);
    int64_t words = 0;
    if (auto v = r.Get("min_words"); v && ReadInt(ctx, *v, 0, kMaxBargeInWords, &words)) {
      out->barge_in_min_words = static_cast<int>(words);
    }
    r.Number("false_interruption_timeout_ms", kPipelineMs, &out->false_interruption_timeout_ms);
    r.Number("echo_guard_db", kReturnLossDb, &out->echo_guard_db);
  }
  if (std::optional<Field> j = m.Get("jitter_buffer")) {
    MapReader r(ctx, *j, {"target_ms", "adaptive", "min_ms", "max_ms"});
    r.Number("target_ms", kPipelineMs, &out->jitter_buffer.target_ms);
    r.Bool("adaptive", &out->jitter_buffer.adaptive);
    r.Number("min_ms", kPipelineMs, &out->jitter_buffer.min_ms);
    r.Number("max_ms", kPipelineMs, &out->jitter_buffer.max_ms);  // below min_ms: min_ms
  }
  m.Number("max_call_ms", kPositiveTimeMs, &out->max_call_ms);
  if (std::optional<Field> silence = m.Get("silence")) {
    MapReader r(ctx, *silence, {"timeout_ms", "max_prompts"});
    r.Number("timeout_ms", kTimeMs, &out->silence_timeout_ms);
    int64_t prompts = 0;
    if (auto v = r.Get("max_prompts"); v && ReadInt(ctx, *v, 0, kMaxSilencePrompts, &prompts)) {
      out->max_silence_prompts = static_cast<int>(prompts);
    }
  }
  if (std::optional<Field> tools = m.Get("tools")) ParseTools(ctx, *tools, base_dir, &out->tools);
  if (std::optional<Field> fallback = m.Get("fallback")) {
    MapReader r(ctx, *fallback, {"enabled", "retries", "backoff_ms", "first_response_timeout_ms"});
    r.Bool("enabled", &out->fallback.enabled);
    int64_t retries = 0;
    if (auto v = r.Get("retries"); v && ReadInt(ctx, *v, 0, kMaxRetries, &retries)) {
      out->fallback.retries = static_cast<int>(retries);
    }
    r.Number("backoff_ms", kPipelineMs, &out->fallback.backoff_ms);
    r.Number("first_response_timeout_ms", kPositiveLatencyMs,
             &out->fallback.first_response_timeout_ms);
  }
}

void ParseOpus(ParseContext& ctx, const Field& f, OpusSpec* out) {
  MapReader m(ctx, f, {"sample_rate_hz", "fec", "expected_loss_pct", "bitrate_bps", "complexity"});
  if (auto v = m.Get("sample_rate_hz")) {
    int64_t rate = 0;
    if (ReadInt(ctx, *v, 8000, 48000, &rate)) {
      if (rate != 16000 && rate != 48000) {
        ctx.Error(v->path, v->mark(), "expected 16000 or 48000, got " + std::to_string(rate));
      } else {
        out->sample_rate_hz = static_cast<int>(rate);
      }
    }
  }
  m.Bool("fec", &out->fec);
  int64_t n = 0;
  if (auto v = m.Get("expected_loss_pct"); v && ReadInt(ctx, *v, 0, 100, &n)) {
    out->expected_loss_pct = static_cast<int>(n);
  }
  if (auto v = m.Get("bitrate_bps"); v && ReadInt(ctx, *v, 6000, 510000, &n)) {
    out->bitrate_bps = static_cast<int>(n);
  }
  if (auto v = m.Get("complexity"); v && ReadInt(ctx, *v, 0, 10, &n)) {
    out->complexity = static_cast<int>(n);
  }
}

void ParseRealtime(ParseContext& ctx, const Field& field, RealtimeSpec* out) {
  MapReader m(ctx, field, {"lateness_bound_ms", "custom_parameters"});
  if (!m.is_map()) return;
  m.Number("lateness_bound_ms", NumberRange{0, 1000, true}, &out->lateness_bound_ms);
  const std::optional<Field> params = m.Get("custom_parameters");
  if (!params) return;
  if (!params->value.IsMap()) {
    ctx.Error(params->path, params->mark(), "expected a map of names to strings");
    return;
  }
  for (auto it = params->value.begin(); it != params->value.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    const Field value{params->path + "." + name, it->first, it->second};
    std::string text;
    if (!ReadString(ctx, value, &text)) continue;
    if (name.empty() || name.size() > 256 || text.size() > 256) {
      ctx.Error(value.path, value.mark(), "names and values must be 1 to 256 characters");
    } else if (out->custom_parameters.size() >= 32) {
      ctx.Error(value.path, value.mark(), "at most 32 custom parameters");
      return;
    } else {
      out->custom_parameters[name] = text;
    }
  }
}

void ParseCompare(ParseContext& ctx, const Field& field, CompareSpec* out) {
  MapReader m(ctx, field, {"tolerance_pct", "tolerance_ms", "confidence", "gate"});
  if (!m.is_map()) return;
  auto number = [&](std::string_view key, const NumberRange& range, std::optional<double>* v) {
    double x = 0;
    if (std::optional<Field> f = m.Get(key); f && ReadNumber(ctx, *f, range, &x)) *v = x;
  };
  number("tolerance_pct", NumberRange{0, 1000}, &out->tolerance_pct);
  number("tolerance_ms", NumberRange{0, 60000}, &out->tolerance_ms);
  number("confidence", NumberRange{0.5, 0.999}, &out->confidence);
  const std::optional<Field> gate = m.Get("gate");
  if (!gate) return;
  if (!gate->value.IsSequence()) {
    ctx.Error(gate->path, gate->mark(), "expected a list of metric names");
    return;
  }
  for (size_t i = 0; i < gate->value.size(); ++i) {
    const Field item{gate->Child(std::to_string(i)), YAML::Node(), gate->value[i]};
    std::string name;
    if (!ReadString(ctx, item, &name)) continue;
    if (!IsComparedMetricName(name)) {
      ctx.Error(item.path, item.mark(),
                "unknown metric \"" + name + "\"; known: " + ComparedMetricNamesHelp());
    } else {
      out->gate.push_back(name);
    }
  }
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
              {"name", "codec", "opus", "network", "caller", "agent", "fakes", "turns", "load",
               "thresholds", "realtime", "compare", "seed"});
  if (!m.is_map()) return s;
  if (m.Require("name")) {
    const Field name = *m.Get("name");
    if (ReadString(ctx, name, &s.name) && s.name.empty()) {
      ctx.Error(name.path, name.mark(), "expected a non-empty string, got \"\"");
    }
  }
  m.Enum("codec", agent::kCodecNames, &s.codec);
  if (std::optional<Field> network = m.Get("network")) ParseNetwork(ctx, *network, &s);
  if (std::optional<Field> caller = m.Get("caller")) ParseCaller(ctx, *caller, base_dir, &s.caller);
  if (std::optional<Field> agent = m.Get("agent")) ParseAgent(ctx, *agent, base_dir, &s.agent);
  if (std::optional<Field> opus = m.Get("opus")) ParseOpus(ctx, *opus, &s.opus);
  if (std::optional<Field> fakes = m.Get("fakes")) ParseFakes(ctx, *fakes, base_dir, &s.fakes);
  if (std::optional<Field> load = m.Get("load")) ParseLoad(ctx, *load, base_dir, &s.load);
  ParseRootTurns(ctx, m, base_dir, &s);
  if (std::optional<Field> t = m.Get("thresholds")) s.thresholds = ParseThresholds(ctx, *t);
  if (std::optional<Field> r = m.Get("realtime")) ParseRealtime(ctx, *r, &s.realtime);
  if (std::optional<Field> c = m.Get("compare")) ParseCompare(ctx, *c, &s.compare);
  uint64_t seed = 0;
  if (std::optional<Field> f = m.Get("seed"); f && ReadUint64(ctx, *f, &seed)) s.seed = seed;
  return s;
}

}  // namespace callsim::harness
