#include "harness/scenario/caller_parser.h"

#include "fakes/voice/espeak_voice.h"
#include "harness/scenario/audio_header.h"
#include "harness/scenario/limits.h"

namespace callsim::harness {
namespace {

using namespace limits;  // the ranges read best unqualified

void ParseNoise(ParseContext& ctx, const Field& f, const std::string& base_dir, NoiseSpec* out) {
  MapReader n(ctx, f, {"type", "snr_db", "file", "talkers"});
  n.Enum("type", kNoiseTypeNames, &out->type);
  n.Number("snr_db", kSnrDb, &out->snr_db);
  // An unknown type is reported above; its file and talkers are then judged as for none.
  const NoiseType type = out->type;
  if (const std::optional<Field> file = n.Get("file")) {
    if (type == NoiseType::kFile) {
      ReadAudioFile(ctx, *file, base_dir, kMaxNoiseFileSeconds, &out->file);
    } else {
      ctx.Error(file->path, file->key.Mark(), "file applies only to type file");
    }
  } else if (type == NoiseType::kFile) {
    ctx.Error(f.Child("file"), f.mark(),
              "missing required key file (type file plays a WAV or FLAC recording)");
  }
  if (const std::optional<Field> talkers = n.Get("talkers")) {
    int64_t count = 0;
    if (type != NoiseType::kBabble) {
      ctx.Error(talkers->path, talkers->key.Mark(), "talkers applies only to type babble");
    } else if (ReadInt(ctx, *talkers, kMinTalkers, kMaxTalkers, &count)) {
      out->talkers = static_cast<int>(count);
    }
  }
}

void ParseEcho(ParseContext& ctx, const Field& f, EchoSpec* out) {
  if (f.value.IsNull()) {  // MapReader would take it as {}; the schema says a map
    ctx.Error(f.path, f.mark(), "expected a map (echo: {} for the defaults), got null");
    return;
  }
  MapReader e(ctx, f, {"return_loss_db", "delay_ms"});
  if (!e.is_map()) return;
  out->enabled = true;
  e.Number("return_loss_db", kReturnLossDb, &out->return_loss_db);
  e.Number("delay_ms", kEchoDelayMs, &out->delay_ms);
}

// voice: {engine, voice, words_per_minute, pitch}; words_per_minute here is the caller's rate.
void ParseVoice(ParseContext& ctx, const Field& f, CallerSpec* out) {
  MapReader v(ctx, f, {"engine", "voice", "words_per_minute", "pitch"});
  if (!v.is_map()) return;
  v.Enum("engine", kVoiceEngineNames, &out->voice.engine);
  v.String("voice", &out->voice.voice);
  v.Number("words_per_minute", kWordsPerMinute, &out->words_per_minute);
  if (const std::optional<Field> pitch = v.Get("pitch")) {
    int64_t value = 0;
    if (ReadInt(ctx, *pitch, 0, 99, &value)) out->voice.pitch = static_cast<int>(value);
  }
  if (out->voice.engine != VoiceEngine::kEspeak) {
    for (const char* key : {"voice", "pitch"}) {
      if (const std::optional<Field> k = v.Get(key)) {
        ctx.Error(k->path, k->key.Mark(), std::string(key) + " applies only to engine espeak");
      }
    }
    return;
  }
  fakes::EspeakVoiceSpec spec;
  spec.voice = out->voice.voice;
  spec.pitch = out->voice.pitch;
  std::string error;
  if (!fakes::ValidateEspeakVoice(spec, &error)) {
    const std::optional<Field> name = v.Get("voice");
    ctx.Error(name ? name->path : f.path, name ? name->mark() : f.mark(), error);
  }
}

}  // namespace

void ParseCaller(ParseContext& ctx, const Field& f, const std::string& base_dir, CallerSpec* out) {
  MapReader m(ctx, f,
              {"voice", "ear", "noise", "echo", "words_per_minute", "variation", "repeat_phrase",
               "reply_timeout_ms", "reply_end_silence_ms"});
  if (std::optional<Field> voice = m.Get("voice")) {
    const YAML::Node& given = voice->value;  // const: looking up a key must not add it
    if (m.Has("words_per_minute") && given.IsMap() && given["words_per_minute"]) {
      ctx.Error(voice->path, voice->mark(),
                "words_per_minute is given twice (caller.words_per_minute and "
                "caller.voice.words_per_minute): keep one");
    }
    ParseVoice(ctx, *voice, out);
  }
  if (std::optional<Field> ear = m.Get("ear")) {
    MapReader e(ctx, *ear, {"engine"});
    e.Enum("engine", kRecognizerEngineNames, &out->ear);
  }
  if (std::optional<Field> noise = m.Get("noise")) ParseNoise(ctx, *noise, base_dir, &out->noise);
  if (std::optional<Field> echo = m.Get("echo")) ParseEcho(ctx, *echo, &out->echo);
  m.Number("words_per_minute", kWordsPerMinute, &out->words_per_minute);
  if (std::optional<Field> variation = m.Get("variation")) {
    MapReader v(ctx, *variation, {"rate", "pauses"});
    v.Number("rate", kVariation, &out->variation.rate);
    v.Number("pauses", kVariation, &out->variation.pauses);
  }
  if (std::optional<Field> phrase = m.Get("repeat_phrase")) {
    ReadWords(ctx, *phrase, &out->repeat_phrase);
  }
  m.Number("reply_timeout_ms", kPositiveTimeMs, &out->reply_timeout_ms);
  m.Number("reply_end_silence_ms", kPipelineMs, &out->reply_end_silence_ms);
}

}  // namespace callsim::harness
