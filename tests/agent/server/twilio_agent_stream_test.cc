// One Twilio stream served by a VoiceAgent, in virtual time: the StreamIo records what the stream
// sends and closes, the test plays Twilio (connected, start, media every 20 ms, mark echoes,
// stop). The agent greets "Hi." (25 frames of TTS audio from 100 ms).
#include "agent/server/twilio_agent_stream.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/media/codec.h"
#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/pipeline/pipeline_fakes.h"

namespace callsim::agent {
namespace {

using pipeline_test::EventRecorder;
using pipeline_test::FakeLlm;
using pipeline_test::FakeStt;
using pipeline_test::FakeTts;
using pipeline_test::kMs;
using pipeline_test::ToneFrame;

struct Sent {
  int64_t t_us;
  std::string event;
  nlohmann::json json;
};

class TwilioAgentStreamTest : public ::testing::Test {
 protected:
  // The call behind the stream: the agent with the fakes, reporting to the stream's sink.
  class Call final : public ServedCall {
   public:
    Call(TwilioAgentStreamTest& t, Scheduler& scheduler, EventSink& events) : t_(t) {
      AgentConfig config;
      config.greeting = "Hi.";
      agent_ = std::make_unique<VoiceAgent>(scheduler, config, t.stt_, t.llm_, t.tts_, events);
    }
    VoiceAgent& agent() override { return *agent_; }
    EventSink& events() override { return t_.events_; }
    void Finish(const std::string& reason) override { t_.finished_.push_back(reason); }

   private:
    TwilioAgentStreamTest& t_;
    std::unique_ptr<VoiceAgent> agent_;
  };

  TwilioAgentStreamTest() : stt_(scheduler_), llm_(scheduler_), tts_(scheduler_) {}

  void Open(TwilioStreamConfig config = {}) {
    StreamIo io;
    io.scheduler = &scheduler_;
    io.send_text = [this](std::string text) {
      const nlohmann::json j = nlohmann::json::parse(text);
      sent_.push_back({scheduler_.NowUs(), j.at("event").get<std::string>(), j});
      return true;
    };
    io.close = [this](std::string reason) { closed_.push_back(reason); };
    stream_ = std::make_unique<TwilioAgentStream>(
        std::move(io), config,
        [this](const twilio::Start&, Scheduler& scheduler, EventSink& events) {
          return std::make_unique<Call>(*this, scheduler, events);
        },
        nullptr, nullptr);
  }
  void Send(const twilio::Message& m) { stream_->OnText(twilio::Serialize(m, /*to_twilio=*/false)); }
  void StartCall() {
    Send(twilio::Connected{});
    twilio::Start start;
    start.stream_sid = "MZ1";
    start.call_sid = "CA1";
    Send(start);
  }
  // Twilio's media every 20 ms from now: a loud tone while `loud(t)`, else mu-law silence.
  void Stream(int64_t until_us, std::function<bool(int64_t)> loud = nullptr) {
    auto tick = std::make_shared<std::function<void(int64_t)>>();
    *tick = [this, until_us, loud, tick](int64_t n) {
      twilio::Media m;
      m.stream_sid = "MZ1";
      m.chunk = n;
      m.timestamp_ms = n * 20;
      std::vector<uint8_t> payload;
      encoder_->Encode(loud && loud(scheduler_.NowUs()) ? ToneFrame(-10) : Frame{}, &payload);
      m.payload.assign(payload.begin(), payload.end());
      Send(m);
      if (scheduler_.NowUs() + kFrameUs <= until_us) {
        scheduler_.After(kFrameUs, [tick, n] { (*tick)(n + 1); });
      }
    };
    (*tick)(0);
    scheduler_.RunUntil(until_us);
  }
  std::vector<Sent> Of(const std::string& event) const {
    std::vector<Sent> out;
    for (const Sent& s : sent_) {
      if (s.event == event) out.push_back(s);
    }
    return out;
  }

  SimScheduler scheduler_;
  EventRecorder events_;
  FakeStt stt_;
  FakeLlm llm_;
  FakeTts tts_;
  std::unique_ptr<Codec> encoder_ = MakeCodec(CodecKind::kPcmu);
  std::unique_ptr<TwilioAgentStream> stream_;
  std::vector<Sent> sent_;
  std::vector<std::string> closed_;
  std::vector<std::string> finished_;
};

TEST_F(TwilioAgentStreamTest, TheGreetingGoesOutWithItsLeadThenAtRealTimeThenAMark) {
  Open();
  StartCall();
  Stream(2000 * kMs);
  const std::vector<Sent> media = Of("media");
  ASSERT_EQ(media.size(), 25u);
  for (const Sent& m : media) {
    EXPECT_EQ(m.json["streamSid"], "MZ1");
    EXPECT_EQ(m.json["media"]["payload"].get<std::string>().size(), 216u);  // base64 of 160 bytes
  }
  // The first tick with audio sends the frame and the 5 frames of lead at once; then one a tick.
  const int64_t first = media[0].t_us;
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(media[i].t_us, first) << i;
  for (size_t i = 6; i < media.size(); ++i) {
    EXPECT_EQ(media[i].t_us, first + static_cast<int64_t>(i - 5) * kFrameUs) << i;
  }
  const std::vector<Sent> marks = Of("mark");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].json["mark"]["name"], "reply-1");
  EXPECT_GE(marks[0].t_us, media.back().t_us);
  EXPECT_TRUE(Of("clear").empty());
  EXPECT_EQ(stream_->stats().frames_in, 101u);  // a frame at 0, 20, ..., 2000 ms
}

TEST_F(TwilioAgentStreamTest, TwiceRealTimeSendsTheGreetingInHalfTheTicks) {
  TwilioStreamConfig config;
  config.send_rate = 2;
  Open(config);
  StartCall();
  Stream(2000 * kMs);
  const std::vector<Sent> media = Of("media");
  ASSERT_EQ(media.size(), 25u);
  // 6 at the first tick (1 + the lead), then 2 a tick: 19 more in 10 ticks.
  EXPECT_EQ(media.back().t_us - media[0].t_us, 10 * kFrameUs);
}

TEST_F(TwilioAgentStreamTest, LoudCallerAudioOverTheGreetingSendsClear) {
  Open();
  StartCall();
  tts_.frames_per_request = 100;  // a 2 s greeting, long enough to interrupt
  Stream(2500 * kMs, [](int64_t t) { return t >= 300 * kMs && t < 1500 * kMs; });
  const std::vector<Sent> clears = Of("clear");
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_EQ(clears[0].json["streamSid"], "MZ1");
  EXPECT_GT(clears[0].t_us, 300 * kMs);
  EXPECT_LT(clears[0].t_us, 1000 * kMs);
  // Nothing of the interrupted greeting after the clear, and no mark for it: the next audio is
  // the agent's answer to the interruption.
  const pipeline_test::RecordedEvent* answer = events_.Find("speech_start", 1);
  const int64_t answer_us = answer ? answer->t_us : INT64_MAX;
  for (const Sent& m : Of("media")) {
    EXPECT_TRUE(m.t_us <= clears[0].t_us || m.t_us >= answer_us) << m.t_us;
  }
  for (const Sent& m : Of("mark")) EXPECT_GE(m.t_us, answer_us);
}

TEST_F(TwilioAgentStreamTest, StopHangsUpAndCloses) {
  Open();
  StartCall();
  Stream(1000 * kMs);
  twilio::Stop stop;
  stop.stream_sid = "MZ1";
  Send(stop);
  EXPECT_EQ(finished_, std::vector<std::string>{"caller hung up (stop)"});
  EXPECT_EQ(closed_, std::vector<std::string>{"stop"});
  stream_->OnClosed("closed by session: stop");
  EXPECT_EQ(finished_.size(), 1u) << "finished once";
}

TEST_F(TwilioAgentStreamTest, RefusesWhatTwilioNeverSends) {
  struct Case {
    std::function<void()> act;
    std::string reason;
  };
  twilio::Media early;
  early.payload = std::string(160, '\xff');
  twilio::Start pcm;
  pcm.media_format.encoding = "audio/l16";
  const Case cases[] = {
      {[&] { stream_->OnText("{not json"); }, "bad message: "},
      {[&] { Send(early); }, "media before start"},
      {[&] { Send(pcm); }, "unsupported media format (audio/x-mulaw, 8000 Hz, mono only)"},
      {[&] { StartCall(); StartCall(); }, "a second start"},
  };
  for (const Case& c : cases) {
    sent_.clear();
    closed_.clear();
    finished_.clear();
    Open();
    c.act();
    ASSERT_EQ(closed_.size(), 1u) << c.reason;
    EXPECT_EQ(closed_[0].rfind(c.reason, 0), 0u) << closed_[0];
    stream_->OnText("{}");  // nothing more once closing
    EXPECT_EQ(closed_.size(), 1u);
  }
}

TEST_F(TwilioAgentStreamTest, NoStartInTimeClosesTheStream) {
  TwilioStreamConfig config;
  config.start_timeout_ms = 3000;
  Open(config);
  Send(twilio::Connected{});
  scheduler_.RunUntil(2999 * kMs);
  EXPECT_TRUE(closed_.empty());
  scheduler_.RunUntil(3000 * kMs);
  EXPECT_EQ(closed_, std::vector<std::string>{"no start message"});
}

TEST_F(TwilioAgentStreamTest, GapsInTheTimestampsAreFilledUpToTheBound) {
  Open();
  StartCall();
  twilio::Media m;
  m.stream_sid = "MZ1";
  m.payload = std::string(160, '\xff');
  m.timestamp_ms = 0;
  Send(m);
  m.timestamp_ms = 100;  // 80 ms missing: 4 frames
  Send(m);
  EXPECT_EQ(stream_->stats().gap_frames, 4u);
  EXPECT_EQ(stream_->stats().frames_in, 6u);
  m.timestamp_ms = 100 + 20 + 2000;  // 2 s missing: over the 1 s bound, not filled
  Send(m);
  EXPECT_EQ(stream_->stats().gap_frames, 4u);
  EXPECT_EQ(stream_->stats().frames_in, 7u);
}

}  // namespace
}  // namespace callsim::agent
