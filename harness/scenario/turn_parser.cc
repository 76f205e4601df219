#include "harness/scenario/turn_parser.h"

#include "agent/text/utf8.h"
#include "harness/scenario/audio_header.h"
#include "harness/scenario/expectation_parser.h"
#include "harness/scenario/limits.h"
#include "harness/scenario/utterance.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified
using Action = Turn::Action;

struct ActionKey {
  std::string_view key;
  Action action;
};

constexpr ActionKey kActions[] = {
    {"user", Action::kSay},        {"play", Action::kPlayFile}, {"dtmf", Action::kDtmf},
    {"silence", Action::kSilence}, {"repeat", Action::kRepeat}, {"hangup", Action::kHangup},
};

constexpr std::string_view kActionList = "user, play, dtmf, silence, repeat, hangup";

void ParseSay(ParseContext& ctx, const Field& f, Turn* t) {
  std::string text;
  if (!ReadWords(ctx, f, &text)) return;
  if (const size_t chars = agent::CountCharacters(text); chars > kMaxUtteranceChars) {
    ctx.Error(f.path, f.mark(),
              "expected at most " + std::to_string(kMaxUtteranceChars) + " characters, got " +
                  std::to_string(chars));
    return;
  }
  Utterance u;
  std::string error;
  if (!ParseUtterance(text, &u, &error)) {
    ctx.Error(f.path, f.mark(), error);
    return;
  }
  t->user = std::move(u.words);
  t->segments = std::move(u.segments);
}

void ParsePlay(ParseContext& ctx, const Field& f, const std::string& base_dir, Turn* t) {
  MapReader m(ctx, f, {"file", "transcript"});
  if (m.Require("file"))
    ReadAudioFile(ctx, *m.Get("file"), base_dir, kMaxSpeechFileSeconds, &t->audio_file);
  m.String("transcript", &t->audio_transcript);
}

void ParseDtmf(ParseContext& ctx, const Field& f, Turn* t) {
  std::string keys;
  if (!ReadString(ctx, f, &keys)) return;
  const bool valid = !keys.empty() && keys.size() <= kMaxDtmfKeys &&
                     keys.find_first_not_of("0123456789*#ABCD") == std::string::npos;
  if (!valid) {
    ctx.Error(f.path, f.mark(),
              "expected 1 to " + std::to_string(kMaxDtmfKeys) +
                  " telephone keys (0-9, *, #, A-D), got " + Describe(f.value));
    return;
  }
  t->dtmf = std::move(keys);
}

// `repeat: {}` and `hangup: {}`; `repeat:` (null) too.
void ParseEmptyMap(ParseContext& ctx, const Field& f) {
  if (!f.value.IsNull()) MapReader(ctx, f, {});  // reports a non-map and any key in it
}

void ParseAction(ParseContext& ctx, const Field& f, const std::string& base_dir, Turn* t) {
  switch (t->action) {
    case Action::kSay: ParseSay(ctx, f, t); break;
    case Action::kPlayFile: ParsePlay(ctx, f, base_dir, t); break;
    case Action::kDtmf: ParseDtmf(ctx, f, t); break;
    case Action::kSilence: {
      MapReader m(ctx, f, {"ms"});
      if (m.Require("ms")) m.Number("ms", kPositiveTimeMs, &t->silence_ms);
      break;
    }
    case Action::kRepeat:
    case Action::kHangup: ParseEmptyMap(ctx, f); break;
    case Action::kWait: break;
  }
}

// Picks the turn's action; more than one is reported at the second.
void ParseActions(const MapReader& m, const std::string& base_dir, Turn* t) {
  std::optional<Field> first;
  for (const ActionKey& a : kActions) {
    const std::optional<Field> f = m.Get(a.key);
    if (!f) continue;
    if (first) {
      m.ctx().Error(f->path, f->key.Mark(),
                    "a turn has at most one action (" + std::string(kActionList) +
                        "); this one already has " + first->key.Scalar());
      continue;
    }
    first = f;
    t->action = a.action;
  }
  if (first) ParseAction(m.ctx(), *first, base_dir, t);
  t->hangup = t->action == Action::kHangup;
}

void ParseBargeIn(ParseContext& ctx, const Field& f, Turn* t) {
  MapReader b(ctx, f, {"after_agent_speech_ms", "when_agent_says"});
  const std::optional<Field> after = b.Get("after_agent_speech_ms");
  const std::optional<Field> when = b.Get("when_agent_says");
  BargeIn barge;
  if (after && when) {
    ctx.Error(when->path, when->key.Mark(),
              "barge_in takes exactly one of after_agent_speech_ms and when_agent_says, not both");
  } else if (after) {
    ReadNumber(ctx, *after, kTimeMs, &barge.after_agent_speech_ms);
  } else if (when) {
    ReadWords(ctx, *when, &barge.when_agent_says);
  } else if (b.is_map() && b.rejected_keys() == 0) {
    ctx.Error(f.path, f.mark(),
              "barge_in takes exactly one of after_agent_speech_ms and when_agent_says");
  }
  t->barge_in = barge;
  if (t->action != Action::kSay && t->action != Action::kPlayFile && t->action != Action::kRepeat) {
    ctx.Error(f.path, f.key.Mark(),
              "barge_in needs user, play or repeat in the same turn (what the caller says over "
              "the agent)");
  }
}

Turn ParseTurn(ParseContext& ctx, const Field& f, const std::string& base_dir) {
  Turn t;
  t.where = ctx.Locate(f.path, f.mark());
  MapReader m(ctx, f,
              {"user", "play", "dtmf", "silence", "repeat", "hangup", "pause_before_ms", "wait_for",
               "barge_in", "expect"});
  if (!m.is_map()) return t;
  ParseActions(m, base_dir, &t);
  m.Number("pause_before_ms", kTimeMs, &t.pause_before_ms);
  m.Enum("wait_for", kWaitForNames, &t.wait_for);
  if (std::optional<Field> barge = m.Get("barge_in")) ParseBargeIn(ctx, *barge, &t);
  if (std::optional<Field> expect = m.Get("expect")) {
    t.expect = ParseExpectations(ctx, *expect, t.action, t.barge_in.has_value());
  }
  // A barge_in without an action was reported above, and explains this too.
  if (t.action == Action::kWait && !m.Has("expect") && !m.Has("barge_in") &&
      m.rejected_keys() == 0) {
    ctx.Error(f.path, f.mark(),
              "empty turn: give it an action (" + std::string(kActionList) + ") or expect");
  }
  return t;
}

}  // namespace

std::vector<Turn> ParseTurns(ParseContext& ctx, const Field& f, const std::string& base_dir) {
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
    turns.push_back(ParseTurn(ctx, fields.back(), base_dir));
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
