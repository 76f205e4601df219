#include "harness/scenario/expectation_parser.h"

#include "agent/runtime/check.h"
#include "agent/text/regex.h"
#include "harness/scenario/limits.h"
#include "harness/scenario/yaml_json.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

const std::vector<std::string_view> kKindKeys(kExpectationKindNames.names().begin(),
                                              kExpectationKindNames.names().end());

void ParseRegex(ParseContext& ctx, const Field& f, std::string* out) {
  std::string pattern;
  if (!ReadString(ctx, f, &pattern)) return;
  if (pattern.empty() || pattern.size() > kMaxRegexChars) {
    ctx.Error(f.path, f.mark(),
              "expected a regex of 1 to " + std::to_string(kMaxRegexChars) + " characters, got " +
                  std::to_string(pattern.size()));
    return;
  }
  const agent::Regex compiled(pattern, agent::RegexOptions{.case_insensitive = true});
  if (!compiled.ok()) {
    ctx.Error(f.path, f.mark(), "the regex does not compile (RE2 syntax): " + compiled.error());
    return;
  }
  *out = std::move(pattern);
}

void ParseAgentSays(ParseContext& ctx, const Field& f, Expectation* e) {
  MapReader m(ctx, f, {"contains", "matches"});
  const std::optional<Field> contains = m.Get("contains");
  const std::optional<Field> matches = m.Get("matches");
  if (contains && matches) {
    ctx.Error(matches->path, matches->key.Mark(),
              "agent_says takes exactly one of contains and matches, not both");
    return;
  }
  if (!contains && !matches) {
    if (m.is_map() && m.rejected_keys() == 0) {
      ctx.Error(f.path, f.mark(), "agent_says takes exactly one of contains and matches");
    }
    return;
  }
  if (contains) ReadWords(ctx, *contains, &e->contains);
  if (matches) ParseRegex(ctx, *matches, &e->matches);
}

void ParseToolCall(ParseContext& ctx, const Field& f, Expectation* e) {
  MapReader m(ctx, f, {"name", "args"});
  if (m.Require("name") && ReadString(ctx, *m.Get("name"), &e->tool_name) && e->tool_name.empty()) {
    ctx.Error(f.Child("name"), m.Get("name")->mark(), "expected a tool name, got an empty string");
  }
  const std::optional<Field> args = m.Get("args");
  if (!args) return;
  if (!args->value.IsMap()) {
    ctx.Error(args->path, args->mark(),
              "expected a map of arguments, got " + Describe(args->value));
    return;
  }
  nlohmann::json json;
  std::string error, error_path;
  if (!YamlToJson(args->value, args->path, {}, &json, nullptr, &error, &error_path)) {
    ctx.Error(error_path, args->mark(), error);
    return;
  }
  e->tool_args_json = json.dump();  // keys sorted: the same args always give the same text
}

// The body of one expectation item, e.g. `agent_says: { contains: ... }`; e->kind is its key's.
void ParseBody(ParseContext& ctx, const Field& f, Turn::Action action, bool has_barge_in,
               Expectation* e) {
  switch (e->kind) {
    case Expectation::kAgentSays: ParseAgentSays(ctx, f, e); break;
    case Expectation::kTurnLatency: {
      MapReader m(ctx, f, {"max_ms"});
      if (m.Require("max_ms")) m.Number("max_ms", kPositiveTimeMs, &e->max_ms);
      break;
    }
    case Expectation::kAgentStops:
    case Expectation::kNoReply: {
      MapReader m(ctx, f, {"within_ms"});
      if (m.Require("within_ms")) m.Number("within_ms", kPositiveTimeMs, &e->within_ms);
      break;
    }
    case Expectation::kToolCall: ParseToolCall(ctx, f, e); break;
    case Expectation::kCallEnds: {
      MapReader m(ctx, f, {"by"});
      if (m.Require("by")) m.Enum("by", kCallEndedByNames, &e->ends_by, kExpectableCallEnds);
      break;
    }
    case Expectation::kAgentRepeats: {
      if (!f.value.IsNull()) MapReader(ctx, f, {});  // reports a non-map and any key in it
      break;
    }
  }
  if (e->kind == Expectation::kAgentStops && !has_barge_in) {
    ctx.Error(f.path, f.key.Mark(),
              "agent_stops needs barge_in in the same turn (there is nothing to stop)");
  }
  if (e->kind == Expectation::kAgentRepeats && action != Turn::Action::kRepeat) {
    ctx.Error(f.path, f.key.Mark(),
              "agent_repeats needs repeat in the same turn (the agent repeats itself only when "
              "asked)");
  }
}

std::optional<Expectation> ParseExpectation(ParseContext& ctx, const Field& f, Turn::Action action,
                                            bool has_barge_in) {
  MapReader m(ctx, f, kKindKeys);
  if (m.entries().size() != 1) {
    if (m.is_map() && (!m.entries().empty() || m.rejected_keys() == 0)) {
      ctx.Error(f.path, f.mark(),
                "expected one of " + kExpectationKindNames.Join(", ", ", ") +
                    " per list item, got " + std::to_string(m.entries().size()));
    }
    return std::nullopt;
  }
  const Field& body = m.entries()[0];
  Expectation e;
  const std::optional<Expectation::Kind> kind = kExpectationKindNames.Parse(body.key.Scalar());
  CALLSIM_CHECK(kind.has_value());  // MapReader let only these keys through
  e.kind = *kind;
  e.where = ctx.Locate(body.path, body.key.Mark());
  ParseBody(ctx, body, action, has_barge_in, &e);
  return e;
}

}  // namespace

std::vector<Expectation> ParseExpectations(ParseContext& ctx, const Field& f, Turn::Action action,
                                           bool has_barge_in) {
  std::vector<Expectation> out;
  if (!f.value.IsSequence()) {
    ctx.Error(f.path, f.mark(), "expected a list of expectations, got " + Describe(f.value));
    return out;
  }
  if (f.value.size() > kMaxExpectationsPerTurn) {
    ctx.Error(f.path, f.mark(),
              "expected a list of at most " + std::to_string(kMaxExpectationsPerTurn) +
                  " expectations, got " + std::to_string(f.value.size()));
    return out;
  }
  size_t index = 0;
  for (auto it = f.value.begin(); it != f.value.end(); ++it, ++index) {
    const Field item{f.Child(std::to_string(index)), YAML::Node(), *it};
    if (std::optional<Expectation> e = ParseExpectation(ctx, item, action, has_barge_in)) {
      out.push_back(std::move(*e));
    }
  }
  return out;
}

}  // namespace callsim::harness
