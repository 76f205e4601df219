#include "fakes/tts/modem_tts.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes/modem/word_modem.h"
#include "fakes/stt/modem_stt.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::fakes {
namespace {

struct Received {
  std::vector<int64_t> frame_times_us;
  std::vector<int16_t> samples;
  int done = 0;
  int64_t done_us = -1;
};

agent::TtsListener Listen(Received* r, agent::SimScheduler* scheduler) {
  return {[r, scheduler](const agent::TtsFrame& frame) {
            agent::Frame f;
            frame.Render(&f);
            r->frame_times_us.push_back(scheduler->NowUs());
            r->samples.insert(r->samples.end(), f.samples.begin(), f.samples.end());
          },
          [r, scheduler] {
            ++r->done;
            r->done_us = scheduler->NowUs();
          },
          [](const std::string& e) { ADD_FAILURE() << e; }};
}

const std::string kText = "Your order shipped on Monday, and it should arrive by Friday.";

TEST(ModemTtsTest, DeliversTheModemAudioAfterTheDrawnTtfb) {
  agent::SimScheduler scheduler;
  ModemTtsConfig config;
  ModemTts tts(scheduler, agent::Rng(1), config);
  Received r;
  auto stream = tts.Synthesize(kText, Listen(&r, &scheduler));
  scheduler.RunAll();

  // Stream 0 draws from Fork("stream/0"): its ttfb first, then the voice's timing variation.
  agent::Rng rng = agent::Rng(1).Fork("stream/0");
  const int64_t ttfb_us = config.ttfb.DrawUs(rng);
  const ModemAudio audio = EncodeSpeech(kText, config.voice, &rng);
  // The text ends with a full stop: the audio is followed by a sentence pause of silence.
  const size_t pause_samples = static_cast<size_t>(config.voice.sentence_pause_ms * 16);
  EXPECT_EQ(TrailingPauseSamples(kText, config.voice), static_cast<int64_t>(pause_samples));
  const size_t total = audio.samples.size() + pause_samples;
  const size_t frames = (total + agent::kFrameSamples - 1) / agent::kFrameSamples;
  ASSERT_EQ(r.frame_times_us.size(), frames);
  ASSERT_EQ(r.samples.size(), frames * agent::kFrameSamples);
  EXPECT_TRUE(std::equal(audio.samples.begin(), audio.samples.end(), r.samples.begin()));
  for (size_t i = audio.samples.size(); i < r.samples.size(); ++i) EXPECT_EQ(r.samples[i], 0);
  EXPECT_EQ(r.frame_times_us.front(), ttfb_us);
  EXPECT_EQ(r.done, 1);
  EXPECT_EQ(r.done_us, r.frame_times_us.back());
}

TEST(ModemTtsTest, FramesAreMadeWhenPlayedAndOutliveTheStream) {
  agent::SimScheduler scheduler;
  ModemTts tts(scheduler, agent::Rng(1), ModemTtsConfig{});
  Received now;
  auto heard = tts.Synthesize(kText, Listen(&now, &scheduler));
  std::vector<agent::TtsFrame> kept;
  auto stream = tts.Synthesize(kText, {[&](const agent::TtsFrame& f) { kept.push_back(f); },
                                       nullptr, nullptr});
  scheduler.RunAll();
  stream.reset();
  heard.reset();
  // Both streams are one modem utterance each, referenced by every frame, not copied into it.
  ASSERT_FALSE(kept.empty());
  for (const agent::TtsFrame& f : kept) EXPECT_EQ(f.audio.get(), kept.front().audio.get());
  // The second stream draws its own variation: its audio is the same words, timed differently;
  // played now, after the stream is gone, it is still whole and the same on every read.
  std::vector<int16_t> later, again;
  for (const agent::TtsFrame& f : kept) {
    agent::Frame frame;
    f.Render(&frame);
    later.insert(later.end(), frame.samples.begin(), frame.samples.end());
    f.Render(&frame);
    again.insert(again.end(), frame.samples.begin(), frame.samples.end());
  }
  EXPECT_EQ(later, again);
  agent::Rng rng = agent::Rng(1).Fork("stream/1");
  ModemTtsConfig config;
  config.ttfb.DrawUs(rng);
  const ModemAudio audio = EncodeSpeech(kText, config.voice, &rng);
  ASSERT_GE(later.size(), audio.samples.size());
  EXPECT_TRUE(std::equal(audio.samples.begin(), audio.samples.end(), later.begin()));
}

TEST(ModemTtsTest, TrailingPauseFollowsTheLastPunctuation) {
  const VoiceProfile voice;
  EXPECT_EQ(TrailingPauseSamples("Is that all?", voice), 500 * 16);
  EXPECT_EQ(TrailingPauseSamples("First, \"quoted.\" ", voice), 500 * 16);
  EXPECT_EQ(TrailingPauseSamples("well,", voice), 300 * 16);
  EXPECT_EQ(TrailingPauseSamples("cut mid sentence", voice), 150 * 16);
}

TEST(ModemTtsTest, DeliversFasterThanRealTimeInChunks) {
  agent::SimScheduler scheduler;
  ModemTtsConfig config;
  config.realtime_factor = 4;
  ModemTts tts(scheduler, agent::Rng(2), config);
  Received r;
  auto stream = tts.Synthesize(kText, Listen(&r, &scheduler));
  scheduler.RunAll();
  ASSERT_GT(r.frame_times_us.size(), 10u);
  for (size_t i = 1; i < r.frame_times_us.size(); ++i) {
    // Five frames (100 ms of audio) at once, every 25 ms.
    EXPECT_EQ(r.frame_times_us[i] - r.frame_times_us[i - 1], i % 5 == 0 ? 25'000 : 0) << i;
  }
}

TEST(ModemTtsTest, CancelStopsDelivery) {
  agent::SimScheduler scheduler;
  ModemTts tts(scheduler, agent::Rng(3), ModemTtsConfig{});
  Received r;
  auto stream = tts.Synthesize(kText, Listen(&r, &scheduler));
  while (r.frame_times_us.empty() && scheduler.RunOne()) {
  }
  ASSERT_EQ(r.frame_times_us.size(), 5u);
  stream->Cancel();
  scheduler.RunAll();
  EXPECT_EQ(r.frame_times_us.size(), 5u);
  EXPECT_EQ(r.done, 0);
  stream->Cancel();  // twice is harmless
}

TEST(ModemTtsTest, CancelOrDestroyFromInsideACallbackStopsAtOnce) {
  agent::SimScheduler scheduler;
  ModemTts tts(scheduler, agent::Rng(4), ModemTtsConfig{});
  std::unique_ptr<agent::TtsStream> cancelled, destroyed;
  int cancelled_frames = 0, destroyed_frames = 0, done = 0;
  cancelled = tts.Synthesize(kText, {[&](const agent::TtsFrame&) {
                                       if (++cancelled_frames == 2) cancelled->Cancel();
                                     },
                                     [&] { ++done; }, nullptr});
  destroyed = tts.Synthesize(kText, {[&](const agent::TtsFrame&) {
                                       if (++destroyed_frames == 7) destroyed.reset();
                                     },
                                     [&] { ++done; }, nullptr});
  scheduler.RunAll();
  EXPECT_EQ(cancelled_frames, 2);
  EXPECT_EQ(destroyed_frames, 7);
  EXPECT_EQ(done, 0);
}

TEST(ModemTtsTest, NoWordsMeansDoneAfterTtfb) {
  agent::SimScheduler scheduler;
  ModemTtsConfig config;
  ModemTts tts(scheduler, agent::Rng(5), config);
  Received r;
  auto stream = tts.Synthesize("...", Listen(&r, &scheduler));
  scheduler.RunAll();
  agent::Rng rng = agent::Rng(5).Fork("stream/0");
  EXPECT_TRUE(r.frame_times_us.empty());
  EXPECT_EQ(r.done, 1);
  EXPECT_EQ(r.done_us, config.ttfb.DrawUs(rng));
}

TEST(ModemTtsTest, EachStreamDrawsItsOwnTtfb) {
  agent::SimScheduler scheduler;
  ModemTts tts(scheduler, agent::Rng(6), ModemTtsConfig{});
  std::vector<Received> r(4);
  std::vector<std::unique_ptr<agent::TtsStream>> streams;
  for (Received& x : r) streams.push_back(tts.Synthesize("hello", Listen(&x, &scheduler)));
  scheduler.RunAll();
  bool differ = false;
  for (size_t i = 1; i < r.size(); ++i)
    differ = differ || r[i].frame_times_us[0] != r[0].frame_times_us[0];
  EXPECT_TRUE(differ);
}

TEST(ModemTtsTest, TheFakeSttUnderstandsTheFakeTts) {
  agent::SimScheduler scheduler;
  ModemTts tts(scheduler, agent::Rng(7), ModemTtsConfig{});
  ModemSttConfig stt_config;
  stt_config.profile = SttRobustnessProfile::Perfect();
  ModemStt stt(scheduler, agent::Rng(8), stt_config);
  std::string final_text;
  auto session = stt.Open({nullptr, [&](const std::string& t) { final_text = t; }, nullptr});
  auto stream = tts.Synthesize(kText, {[&](const agent::TtsFrame& frame) {
                                         agent::Frame f;
                                         frame.Render(&f);
                                         session->PushAudio(f);
                                       },
                                       [&] { session->Finalize(); }, nullptr});
  scheduler.RunAll();
  EXPECT_EQ(final_text, "your order shipped on monday and it should arrive by friday.");
}

}  // namespace
}  // namespace callsim::fakes
