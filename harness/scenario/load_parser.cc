#include "harness/scenario/load_parser.h"

#include "agent/runtime/check.h"
#include "harness/measure/threshold.h"
#include "harness/scenario/limits.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

// The items of a list field of at most `max` items (`what` names them in the error); nullopt
// with an error when it is not such a list.
std::optional<std::vector<Field>> ListItems(ParseContext& ctx, const Field& f, size_t min,
                                            size_t max, const std::string& what) {
  if (!f.value.IsSequence() || f.value.size() < min || f.value.size() > max) {
    ctx.Error(f.path, f.mark(),
              "expected a list of " + std::to_string(min) + " to " + std::to_string(max) + " " +
                  what + ", got " +
                  (f.value.IsSequence() ? std::to_string(f.value.size()) : Describe(f.value)));
    return std::nullopt;
  }
  std::vector<Field> items;
  size_t index = 0;
  for (auto it = f.value.begin(); it != f.value.end(); ++it, ++index) {
    items.push_back(Field{f.Child(std::to_string(index)), YAML::Node(), *it});
  }
  return items;
}

std::optional<LoadPhase> ParsePhase(ParseContext& ctx, const Field& f) {
  const auto& names = kLoadPhaseKindNames.names();
  MapReader m(ctx, f, std::vector<std::string_view>(names.begin(), names.end()));
  if (m.entries().size() != 1) {
    if (m.is_map() && (!m.entries().empty() || m.rejected_keys() == 0)) {
      ctx.Error(f.path, f.mark(),
                "expected one of " + kLoadPhaseKindNames.Join(", ", ", ") +
                    " per list item, got " + std::to_string(m.entries().size()));
    }
    return std::nullopt;
  }
  const Field& body = m.entries()[0];
  const std::optional<LoadPhase::Kind> kind = kLoadPhaseKindNames.Parse(body.key.Scalar());
  CALLSIM_CHECK(kind.has_value());  // MapReader let only these keys through
  LoadPhase phase;
  phase.kind = *kind;
  phase.where = ctx.Locate(body.path, body.key.Mark());
  if (phase.kind == LoadPhase::kRamp) {
    MapReader r(ctx, body, {"from_rate_per_s", "to_rate_per_s", "duration_s"});
    if (r.Require("from_rate_per_s")) r.Number("from_rate_per_s", kRatePerS, &phase.rate_per_s);
    if (r.Require("to_rate_per_s")) r.Number("to_rate_per_s", kRatePerS, &phase.to_rate_per_s);
    if (r.Require("duration_s")) r.Number("duration_s", kPhaseDurationS, &phase.duration_s);
    return phase;
  }
  MapReader r(ctx, body, {"rate_per_s", "duration_s"});
  if (r.Require("rate_per_s")) r.Number("rate_per_s", kRatePerS, &phase.rate_per_s);
  if (r.Require("duration_s")) r.Number("duration_s", kPhaseDurationS, &phase.duration_s);
  return phase;
}

void ParseArrival(ParseContext& ctx, const Field& f, LoadSpec* out) {
  MapReader a(ctx, f, {"rate_per_s", "phases"});
  const std::optional<Field> rate = a.Get("rate_per_s");
  const std::optional<Field> phases = a.Get("phases");
  if (rate && phases) {
    ctx.Error(phases->path, phases->key.Mark(),
              "arrival takes exactly one of rate_per_s and phases, not both (rate_per_s is "
              "shorthand for one constant phase)");
    return;
  }
  if (!rate && !phases && a.is_map() && a.rejected_keys() == 0) {
    ctx.Error(f.path, f.mark(), "arrival takes exactly one of rate_per_s and phases");
  }
  if (rate) ReadNumber(ctx, *rate, kRatePerS, &out->rate_per_s);
  if (!phases) return;
  if (std::optional<std::vector<Field>> items = ListItems(ctx, *phases, 1, kMaxPhases, "phases")) {
    for (const Field& item : *items) {
      if (std::optional<LoadPhase> phase = ParsePhase(ctx, item)) out->phases.push_back(*phase);
    }
  }
}

void ParseMix(ParseContext& ctx, const Field& f, const std::string& base_dir,
              std::vector<MixEntry>* out) {
  std::optional<std::vector<Field>> items = ListItems(ctx, f, 1, kMaxMixEntries, "mix entries");
  if (!items) return;
  for (const Field& item : *items) {
    MapReader m(ctx, item, {"scenario", "weight"});
    MixEntry entry;
    if (m.Require("scenario")) {
      ReadExistingFile(ctx, *m.Get("scenario"), base_dir, {}, &entry.scenario_path);
    }
    m.Number("weight", kMixWeight, &entry.weight);
    out->push_back(std::move(entry));
  }
}

}  // namespace

void ParseLoad(ParseContext& ctx, const Field& f, const std::string& base_dir, LoadSpec* out) {
  MapReader m(ctx, f, {"callers", "arrival", "duration_s", "mix"});
  int64_t callers = 0;
  if (auto c = m.Get("callers"); c && ReadInt(ctx, *c, 1, kMaxCallers, &callers)) {
    out->callers = static_cast<int>(callers);
  }
  if (std::optional<Field> arrival = m.Get("arrival")) ParseArrival(ctx, *arrival, out);
  m.Number("duration_s", kRunDurationS, &out->duration_s);
  if (std::optional<Field> mix = m.Get("mix")) ParseMix(ctx, *mix, base_dir, &out->mix);
}

std::vector<Threshold> ParseThresholds(ParseContext& ctx, const Field& f) {
  std::vector<std::string_view> names;
  for (const MetricInfo& metric : KnownMetrics()) names.push_back(metric.name);
  MapReader m(ctx, f, names, "metric");
  std::vector<Threshold> out;
  for (const Field& entry : m.entries()) {
    const MetricInfo* metric = FindMetric(entry.key.Scalar());
    std::optional<std::vector<Field>> items =
        ListItems(ctx, entry, 1, kMaxThresholdExprs, "expressions");
    if (!metric || !items) continue;
    for (const Field& item : *items) {
      Threshold t;
      std::string text, error;
      if (!ReadString(ctx, item, &text)) continue;
      if (!ParseThresholdExpr(text, *metric, &t.expr, &error)) {
        ctx.Error(item.path, item.mark(), error);
        continue;
      }
      t.metric = std::string(metric->name);
      t.where = ctx.Locate(item.path, item.mark());
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace callsim::harness
