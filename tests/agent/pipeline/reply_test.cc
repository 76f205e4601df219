#include "agent/pipeline/reply.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

Frame Marked(int16_t marker) {
  Frame frame;
  frame.samples[0] = marker;
  return frame;
}

void AddSentence(Reply& reply, const std::string& text, int frames, int16_t marker, bool done) {
  reply.segments.emplace_back();
  ReplySegment& segment = reply.segments.back();
  segment.text = text;
  for (int i = 0; i < frames; ++i) segment.audio.Push(TtsFrame::Held(Marked(marker)));
  segment.done = done;
  reply.queued_frames += frames;
}

TEST(ReplyTest, KindNamesAreTheEventStrings) {
  EXPECT_STREQ(ReplyKindName(ReplyKind::kGreeting), "greeting");
  EXPECT_STREQ(ReplyKindName(ReplyKind::kAnswer), "answer");
  EXPECT_STREQ(ReplyKindName(ReplyKind::kApology), "apology");
  EXPECT_STREQ(ReplyKindName(ReplyKind::kPrompt), "prompt");
  EXPECT_STREQ(ReplyKindName(ReplyKind::kResume), "resume");
}

TEST(ReplyTest, FramesPlayInSentenceOrderAndAnUnfinishedSentenceHoldsBackTheRest) {
  SimScheduler s;
  Reply reply(s);
  AddSentence(reply, "One.", 1, 1, /*done=*/false);
  AddSentence(reply, "Two.", 2, 2, /*done=*/true);
  Frame out;
  ASSERT_TRUE(reply.PopFrame(&out));
  EXPECT_EQ(out.samples[0], 1);
  EXPECT_FALSE(reply.PopFrame(&out));  // "One." is still being synthesized
  EXPECT_EQ(reply.FirstUnsynthesized(), &reply.segments[0]);
  reply.segments[0].done = true;
  ASSERT_TRUE(reply.PopFrame(&out));
  EXPECT_EQ(out.samples[0], 2);
  EXPECT_EQ(reply.play_index, 1u);
  EXPECT_EQ(reply.segments[0].audio.held_runs(), 0u);  // played: its memory given back
  EXPECT_EQ(reply.FirstUnsynthesized(), nullptr);
  ASSERT_TRUE(reply.PopFrame(&out));
  EXPECT_FALSE(reply.PopFrame(&out));
  EXPECT_EQ(reply.played_frames, 3);
  EXPECT_EQ(reply.queued_frames, 0);
  EXPECT_EQ(reply.play_index, 2u);
}

// Counts its reads; frame i reads as samples of value i.
class CountingSource final : public SampleSource {
 public:
  CountingSource(int frames, int* reads)
      : SampleSource(int64_t{frames} * kFrameSamples - 7), reads_(reads) {}
  void Read(int64_t pos, int count, int16_t* out) const override {
    ++*reads_;
    for (int i = 0; i < count; ++i) {
      out[i] = pos + i < size() ? static_cast<int16_t>((pos + i) / kFrameSamples) : int16_t{0};
    }
  }

 private:
  int* reads_;
};

TEST(ReplyTest, ASentenceHoldsReferencesAndMakesEachFrameWhenPlayed) {
  int reads = 0;
  auto source = std::make_shared<CountingSource>(4, &reads);
  std::weak_ptr<CountingSource> alive = source;
  SegmentAudio audio;
  for (int64_t i = 0; i < 4; ++i) audio.Push(TtsFrame{source, i});
  audio.Push(TtsFrame{source, 1});  // not the next frame: a run of its own
  EXPECT_EQ(audio.received(), 5);
  EXPECT_EQ(audio.held_runs(), 2u);
  EXPECT_EQ(reads, 0);  // nothing made yet
  source.reset();
  Frame out;
  std::vector<int16_t> firsts;
  while (audio.Pop(&out)) {
    firsts.push_back(out.samples[0]);
    EXPECT_FALSE(out.concealed);
  }
  EXPECT_EQ(firsts, (std::vector<int16_t>{0, 1, 2, 3, 1}));
  EXPECT_EQ(out.samples[kFrameSamples - 1], 1);
  EXPECT_EQ(reads, 5);
  EXPECT_TRUE(alive.expired());  // every run played: the source is gone
  audio.Release();
  EXPECT_EQ(audio.held_runs(), 0u);
}

TEST(ReplyTest, TextIsWhatIsNotCommittedAndPlayedOnlyWhatWasHeard) {
  SimScheduler s;
  Reply reply(s);
  AddSentence(reply, "Committed.", 1, 1, true);
  AddSentence(reply, "Heard.", 1, 2, true);
  AddSentence(reply, "Not heard.", 1, 3, true);
  reply.committed_segments = 1;
  Frame out;
  reply.PopFrame(&out);
  reply.PopFrame(&out);  // "Heard." has started playing
  EXPECT_EQ(reply.Text(/*played_only=*/false), "Heard. Not heard.");
  EXPECT_EQ(reply.Text(/*played_only=*/true), "Heard.");
  // A barge-in leaves the sentence playing and those after it unsaid.
  EXPECT_EQ(reply.UnplayedText(), "Heard. Not heard.");
}

TEST(ReplyTest, CompleteOnlyWhenModelToolsAndPlayoutAreAllDone) {
  SimScheduler s;
  Reply reply(s);
  EXPECT_TRUE(reply.Complete());  // a fresh reply has nothing to come
  AddSentence(reply, "One.", 1, 1, true);
  EXPECT_FALSE(reply.Complete());
  Frame out;
  reply.PopFrame(&out);
  reply.PopFrame(&out);
  EXPECT_TRUE(reply.Complete());
  reply.tools_running = 1;
  EXPECT_FALSE(reply.Complete());
  reply.tools_running = 0;
  reply.follow_up = true;
  EXPECT_FALSE(reply.Complete());
  reply.follow_up = false;
  reply.llm_done = false;
  EXPECT_FALSE(reply.Complete());
}

TEST(ReplyTest, ReplacingTheReplyCancelsItsFillerTimer) {
  SimScheduler s;
  int fillers = 0;
  Reply reply(s);
  reply.filler_timer.After(1000, [&] { ++fillers; });
  reply = Reply(s);
  s.RunAll();
  EXPECT_EQ(fillers, 0);
  EXPECT_EQ(s.pending(), 0u);
}

}  // namespace
}  // namespace callsim::agent
