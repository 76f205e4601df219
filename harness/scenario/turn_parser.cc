#include "harness/scenario/turn_parser.h"

#include <cctype>

#include "harness/scenario/limits.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

bool HasWord(const std::string& text) {
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

// A string with at least one word in it: `user` and `contains` are matched on words.
void ReadWords(ParseContext& ctx, const Field& f, std::string* out) {
  if (ReadString(ctx, f, out) && !HasWord(*out)) {
    ctx.Error(f.path, f.mark(), "expected some words, got " + Describe(f.value));
  }
}

// The one key of an expectation item, e.g. `agent_says: { contains: ... }`.
void ParseExpectationBody(ParseContext& ctx, const Field& f, bool has_barge_in, Expectation* e) {
  if (f.key.Scalar() == "agent_says") {
    e->kind = Expectation::kAgentSays;
    MapReader m(ctx, f, {"contains"});
    if (m.Require("contains")) ReadWords(ctx, *m.Get("contains"), &e->contains);
  } else if (f.key.Scalar() == "turn_latency") {
    e->kind = Expectation::kTurnLatency;
    MapReader m(ctx, f, {"max_ms"});
    if (m.Require("max_ms")) m.Number("max_ms", kPositiveTimeMs, &e->max_ms);
  } else {
    e->kind = Expectation::kAgentStops;
    MapReader m(ctx, f, {"within_ms"});
    if (m.Require("within_ms")) m.Number("within_ms", kPositiveTimeMs, &e->within_ms);
    if (!has_barge_in) {
      ctx.Error(f.path, f.key.Mark(),
                "agent_stops needs barge_in in the same turn (there is nothing to stop)");
    }
  }
}

std::optional<Expectation> ParseExpectation(ParseContext& ctx, const Field& f, bool has_barge_in) {
  MapReader m(ctx, f, {"agent_says", "turn_latency", "agent_stops"});
  std::vector<Field> bodies;
  for (std::string_view kind : {"agent_says", "turn_latency", "agent_stops"}) {
    if (std::optional<Field> body = m.Get(kind)) bodies.push_back(*body);
  }
  if (bodies.size() != 1) {
    if (m.is_map() && (!bodies.empty() || m.rejected_keys() == 0)) {
      ctx.Error(f.path, f.mark(),
                "expected one of agent_says, turn_latency, agent_stops per list item, got " +
                    std::to_string(bodies.size()));
    }
    return std::nullopt;
  }
  Expectation e;
  e.where = ctx.Locate(bodies[0].path, bodies[0].key.Mark());
  ParseExpectationBody(ctx, bodies[0], has_barge_in, &e);
  return e;
}

std::vector<Expectation> ParseExpectations(ParseContext& ctx, const Field& f, bool has_barge_in) {
  std::vector<Expectation> out;
  if (!f.value.IsSequence()) {
    ctx.Error(f.path, f.mark(), "expected a list of expectations, got " + Describe(f.value));
    return out;
  }
  if (f.value.size() > kMaxExpectationsPerTurn) {
    ctx.Error(f.path, f.mark(),
              "expected at most " + std::to_string(kMaxExpectationsPerTurn) +
                  " expectations, got " + std::to_string(f.value.size()));
    return out;
  }
  size_t index = 0;
  for (auto it = f.value.begin(); it != f.value.end(); ++it, ++index) {
    const Field item{f.Child(std::to_string(index)), YAML::Node(), *it};
    if (std::optional<Expectation> e = ParseExpectation(ctx, item, has_barge_in)) {
      out.push_back(std::move(*e));
    }
  }
  return out;
}

// `hangup: {}` as in the docs; also `hangup:` (null) and true / false.
void ParseHangup(ParseContext& ctx, const Field& f, bool* out) {
  if (f.value.IsNull() || f.value.IsMap()) {
    MapReader m(ctx, f, {});  // reports any key inside the braces
    *out = m.is_map() && m.rejected_keys() == 0;
    return;
  }
  ReadBool(ctx, f, out);
}

Turn ParseTurn(ParseContext& ctx, const Field& f) {
  Turn t;
  t.where = ctx.Locate(f.path, f.mark());
  MapReader m(ctx, f, {"user", "barge_in", "hangup", "pause_before_ms", "expect"});
  if (!m.is_map()) return t;
  if (std::optional<Field> user = m.Get("user")) ReadWords(ctx, *user, &t.user);
  if (std::optional<Field> barge = m.Get("barge_in")) {
    MapReader b(ctx, *barge, {"after_agent_speech_ms"});
    t.barge_in.emplace();
    b.Number("after_agent_speech_ms", kTimeMs, &t.barge_in->after_agent_speech_ms);
    if (!m.Has("user")) {
      ctx.Error(barge->path, barge->key.Mark(),
                "barge_in needs user in the same turn (the words said over the agent)");
    }
  }
  if (std::optional<Field> hangup = m.Get("hangup")) ParseHangup(ctx, *hangup, &t.hangup);
  m.Number("pause_before_ms", kTimeMs, &t.pause_before_ms);
  if (std::optional<Field> expect = m.Get("expect")) {
    t.expect = ParseExpectations(ctx, *expect, t.barge_in.has_value());
  }
  if (!m.Has("user") && !m.Has("expect") && !m.Has("hangup") && m.rejected_keys() == 0) {
    ctx.Error(f.path, f.mark(), "empty turn: give it user, expect or hangup");
  }
  return t;
}

}  // namespace

std::vector<Turn> ParseTurns(ParseContext& ctx, const Field& f) {
  std::vector<Turn> turns;
  if (!f.value.IsSequence() || f.value.size() == 0 || f.value.size() > kMaxTurns) {
    ctx.Error(f.path, f.mark(),
              "expected a list of 1 to " + std::to_string(kMaxTurns) + " turns, got " +
                  (f.value.IsSequence() ? std::to_string(f.value.size()) : Describe(f.value)));
    return turns;
  }
  std::vector<Field> fields;
  size_t index = 0;
  for (auto it = f.value.begin(); it != f.value.end(); ++it, ++index) {
    fields.push_back(Field{f.Child(std::to_string(index)), YAML::Node(), *it});
    turns.push_back(ParseTurn(ctx, fields.back()));
  }
  for (size_t i = 0; i + 1 < turns.size(); ++i) {
    if (!turns[i].hangup) continue;
    ctx.Error(fields[i + 1].path, fields[i + 1].mark(),
              "this turn comes after the hangup in turn " + std::to_string(i) +
                  ", so it would never run");
    break;
  }
  return turns;
}

}  // namespace callsim::harness
