#include "harness/caller/caller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "agent/text/words.h"

namespace callsim::harness {
namespace {

constexpr int64_t kUs = 1;
constexpr int64_t kMs = 1000 * kUs;

int64_t SamplesToUs(size_t samples) {
  return static_cast<int64_t>(samples) * agent::kMicrosPerSecond / agent::kSampleRateHz;
}

int64_t MsToUs(double ms) { return static_cast<int64_t>(std::llround(ms * 1000.0)); }

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

// Whole-word phrase containment on normalized text.
bool ContainsPhrase(const std::string& heard, const std::string& phrase) {
  const std::string h = " " + agent::NormalizeText(heard) + " ";
  const std::string p = " " + agent::NormalizeText(phrase) + " ";
  return h.find(p) != std::string::npos;
}

std::string FormatMs(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  return buf;
}

}  // namespace

Caller::Caller(agent::Scheduler& scheduler, const Scenario& scenario, agent::Rng rng,
               agent::EventSink& events, HangupFn on_hangup)
    : scheduler_(scheduler),
      scenario_(scenario),
      voice_rng_(rng.Fork("voice")),
      noise_rng_(rng.Fork("noise")),
      events_(events),
      on_hangup_(std::move(on_hangup)) {
  const size_t n = scenario_.turns.size();
  outcomes_.resize(n);
  finalized_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    outcomes_[i].turn_index = static_cast<int>(i);
    outcomes_[i].reference_text = scenario_.turns[i].user;
    outcomes_[i].has_user = !scenario_.turns[i].user.empty();
    outcomes_[i].barge_in = scenario_.turns[i].barge_in.has_value();
  }
  if (scenario_.caller.noise.type == "white") {
    const double level_dbfs = fakes::VoiceProfile{}.level_dbfs;
    noise_rms_ = 32768.0 * std::pow(10.0, (level_dbfs - scenario_.caller.noise.snr_db) / 20.0);
  }
}

void Caller::Start() { StartTurn(0); }

void Caller::StartTurn(int index) {
  if (finished_) return;
  if (index >= static_cast<int>(scenario_.turns.size())) {
    Hangup("script finished");
    return;
  }
  turn_ = index;
  const Turn& turn = scenario_.turns[index];
  const int64_t pause_us = MsToUs(turn.pause_before_ms);
  if (turn.hangup) {
    phase_ = Phase::kPausing;
    timer_ = scheduler_.After(pause_us, [this] { Hangup("caller hung up"); });
  } else if (turn.user.empty()) {
    // Nothing to say: wait for the agent (the greeting, or an unprompted reply).
    reply_turn_ = index;
    phase_ = Phase::kWaitReplyOnset;
    timer_ = scheduler_.After(MsToUs(scenario_.caller.reply_timeout_ms), [this] { OnReplyTimeout(); });
  } else if (turn.barge_in) {
    // Called at the onset of the reply being interrupted: speak over it after the given time.
    int64_t at = scheduler_.NowUs();
    if (reply_turn_ >= 0 && outcomes_[reply_turn_].reply_onset_us) at = *outcomes_[reply_turn_].reply_onset_us;
    at += MsToUs(turn.barge_in->after_agent_speech_ms);
    phase_ = Phase::kPausing;
    timer_ = scheduler_.At(at, [this, index] { BeginSpeaking(index); });
  } else {
    phase_ = Phase::kPausing;
    timer_ = scheduler_.After(pause_us, [this, index] { BeginSpeaking(index); });
  }
}

void Caller::BeginSpeaking(int index) {
  timer_ = agent::kNoTask;
  if (finished_) return;
  const Turn& turn = scenario_.turns[index];
  if (turn.barge_in) {
    if (reply_turn_ >= 0) FinalizeTurn(reply_turn_);  // the interrupted reply is what was heard so far
    barge_turn_ = index;
    // The reply is in progress unless the caller has already heard it end (sentence pauses and
    // word gaps are part of speaking).
    barge_agent_was_speaking_ = ear_.last_active_us() >= 0 &&
        scheduler_.NowUs() - ear_.last_active_us() < MsToUs(scenario_.caller.reply_end_silence_ms);
    barge_stop_known_ = false;
  }
  fakes::VoiceProfile voice;
  voice.words_per_minute = scenario_.caller.words_per_minute;
  utterance_ = fakes::EncodeSpeech(turn.user, voice, &voice_rng_).samples;
  utterance_pos_ = 0;
  utterance_started_ = false;
  current_user_turn_ = index;
  phase_ = Phase::kSpeaking;
}

void Caller::NextOutputFrame(agent::Frame* out) {
  out->samples.fill(0);
  out->concealed = false;
  if (phase_ == Phase::kSpeaking && utterance_pos_ < utterance_.size()) {
    const int64_t now = scheduler_.NowUs();
    const size_t n = std::min<size_t>(agent::kFrameSamples, utterance_.size() - utterance_pos_);
    std::copy_n(utterance_.begin() + static_cast<std::ptrdiff_t>(utterance_pos_), n, out->samples.begin());
    if (!utterance_started_) {
      utterance_started_ = true;
      outcomes_[turn_].utterance_start_us = now;
      Emit("utterance_start", {{"turn", turn_}, {"barge_in", outcomes_[turn_].barge_in}});
    }
    utterance_pos_ += n;
    if (utterance_pos_ == utterance_.size()) OnUtteranceEnd(now + SamplesToUs(n));
  }
  if (noise_rms_ > 0) MixNoise(out);
}

void Caller::MixNoise(agent::Frame* out) {
  // Sum of four 16-bit uniforms: mean 2, variance 1/3; cheap and close to Gaussian.
  const double scale = noise_rms_ * std::sqrt(3.0);
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    const uint64_t bits = noise_rng_.NextU64();
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += static_cast<double>((bits >> (16 * k)) & 0xffff) / 65536.0;
    const double v = out->samples[i] + (sum - 2.0) * scale;
    out->samples[i] = static_cast<int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
}

void Caller::OnUtteranceEnd(int64_t end_us) {
  outcomes_[turn_].utterance_end_us = end_us;
  Emit("utterance_end", {{"turn", turn_}});
  reply_turn_ = turn_;
  phase_ = Phase::kWaitReplyOnset;
  timer_ = scheduler_.At(end_us + MsToUs(scenario_.caller.reply_timeout_ms), [this] { OnReplyTimeout(); });
}

void Caller::OnEarFrame(const agent::Frame& frame, int64_t frame_start_us) {
  if (finished_) return;
  const EarActivity activity = ear_.Hear(frame, frame_start_us);
  std::vector<std::string> words = ear_.TakeWords();
  if (!words.empty() && reply_turn_ >= 0 && !finalized_[reply_turn_]) {
    std::string& heard = outcomes_[reply_turn_].heard_text;
    for (const std::string& w : words) {
      if (!heard.empty()) heard.push_back(' ');
      heard += w;
    }
  }
  const bool tracking_barge_in = barge_turn_ == turn_ && !barge_stop_known_ &&
      (phase_ == Phase::kSpeaking || phase_ == Phase::kWaitReplyOnset);
  if (tracking_barge_in) {
    // Until the interrupted reply has fallen silent, what the ear hears is its tail, not a reply.
    TrackBargeIn(activity, frame_start_us);
  } else if (phase_ == Phase::kWaitReplyOnset && activity.any) {
    const TurnOutcome& o = outcomes_[turn_];
    OnReplyOnset(std::max(activity.first_active_us, o.utterance_end_us.value_or(0)));
  } else if (phase_ == Phase::kInReply && !activity.any) {
    const int64_t silent_us = frame_start_us + agent::kFrameUs - ear_.last_active_us();
    if (silent_us >= MsToUs(scenario_.caller.reply_end_silence_ms)) OnReplyEnd();
  }
}

// The agent has stopped when the caller hears the same silence that ends a reply; the stop is the
// last sample before it. An agent that talks on through its whole reply "stops" at its end.
void Caller::TrackBargeIn(const EarActivity& activity, int64_t frame_start_us) {
  TurnOutcome& o = outcomes_[turn_];
  if (!o.utterance_start_us) return;
  if (!barge_agent_was_speaking_) {
    barge_stop_known_ = true;
    Emit("barge_in_no_agent_speech", {{"turn", turn_}});
    return;
  }
  const int64_t silent_us = frame_start_us + agent::kFrameUs - ear_.last_active_us();
  if (!activity.any && silent_us >= MsToUs(scenario_.caller.reply_end_silence_ms)) {
    barge_stop_known_ = true;
    o.barge_in_stop_ms = std::max(0.0, UsToMs(ear_.last_active_us() - *o.utterance_start_us));
    Emit("agent_stopped", {{"turn", turn_}, {"stop_ms", *o.barge_in_stop_ms}});
  }
}

void Caller::OnReplyOnset(int64_t onset_us) {
  scheduler_.Cancel(timer_);
  timer_ = agent::kNoTask;
  TurnOutcome& o = outcomes_[turn_];
  o.reply_onset_us = onset_us;
  nlohmann::json detail = {{"turn", turn_}};
  if (o.has_user && o.utterance_end_us) {
    o.turn_latency_ms = UsToMs(onset_us - *o.utterance_end_us);
    detail["latency_ms"] = *o.turn_latency_ms;
  }
  Emit("reply_onset", detail);
  phase_ = Phase::kInReply;
  const size_t next = static_cast<size_t>(turn_) + 1;
  if (next < scenario_.turns.size() && scenario_.turns[next].barge_in) StartTurn(static_cast<int>(next));
}

void Caller::OnReplyEnd() {
  Emit("reply_end", {{"turn", reply_turn_}, {"heard", outcomes_[reply_turn_].heard_text}});
  FinalizeTurn(reply_turn_);
  StartTurn(turn_ + 1);
}

void Caller::OnReplyTimeout() {
  timer_ = agent::kNoTask;
  if (finished_) return;
  Emit("reply_timeout", {{"turn", turn_}});
  Record(turn_, "reply", false,
         "no reply within " + FormatMs(scenario_.caller.reply_timeout_ms));
  FinalizeTurn(turn_);
  StartTurn(turn_ + 1);
}

void Caller::FinalizeTurn(int index) {
  if (index < 0 || finalized_[index]) return;
  finalized_[index] = true;
  CheckExpectations(index);
}

void Caller::CheckExpectations(int index) {
  const TurnOutcome& o = outcomes_[index];
  for (const Expectation& e : scenario_.turns[index].expect) {
    switch (e.kind) {
      case Expectation::kAgentSays:
        Record(index, "agent_says", ContainsPhrase(o.heard_text, e.contains),
               "expected \"" + e.contains + "\", heard \"" + o.heard_text + "\"");
        break;
      case Expectation::kTurnLatency:
        if (o.turn_latency_ms) {
          Record(index, "turn_latency", *o.turn_latency_ms <= e.max_ms,
                 FormatMs(*o.turn_latency_ms) + " (bound " + FormatMs(e.max_ms) + ")");
        } else {
          Record(index, "turn_latency", false, "no reply heard");
        }
        break;
      case Expectation::kAgentStops:
        if (o.barge_in_stop_ms) {
          Record(index, "agent_stops", *o.barge_in_stop_ms <= e.within_ms,
                 "stopped " + FormatMs(*o.barge_in_stop_ms) + " after the barge-in (bound " +
                     FormatMs(e.within_ms) + ")");
        } else {
          Record(index, "agent_stops", false,
                 barge_agent_was_speaking_ ? "the agent had not stopped when the call ended"
                                           : "the agent was not speaking when the caller barged in");
        }
        break;
    }
  }
}

void Caller::Record(int index, const std::string& kind, bool passed, const std::string& detail) {
  expectations_.push_back(ExpectationResult{index, kind, passed, detail});
  Emit("expectation", {{"turn", index}, {"kind", kind}, {"passed", passed}, {"detail", detail}});
}

void Caller::Emit(std::string_view kind, const nlohmann::json& detail) {
  events_.Emit(scheduler_.NowUs(), "caller", kind, detail);
}

void Caller::Hangup(const std::string& reason) {
  if (finished_) return;
  Emit("hangup", {{"reason", reason}});
  Finish(reason);
  if (on_hangup_) on_hangup_(reason);
}

void Caller::Finish(const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  phase_ = Phase::kDone;
  scheduler_.Cancel(timer_);
  timer_ = agent::kNoTask;
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    if (finalized_[i]) continue;
    finalized_[i] = true;
    if (scenario_.turns[i].expect.empty()) continue;
    Record(static_cast<int>(i), "reply", false, "call ended (" + reason + ") before the turn completed");
  }
}

}  // namespace callsim::harness
