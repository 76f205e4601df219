// The capacity hooks of the fake providers: a request's latency counts from when it got its slot,
// the slot is given back when the request completes (LLM done or cancel, TTS last frame, STT
// final), and a refused request reaches the agent through on_error.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes/capacity/capacity_limiter.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tts/modem_tts.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::fakes {
namespace {

constexpr int64_t kMs = 1000;

struct LlmSeen {
  std::vector<int64_t> token_us;
  int64_t done_us = -1;
  std::string error;
  int64_t error_us = -1;
};

agent::LlmListener ListenLlm(LlmSeen* seen, agent::SimScheduler* s) {
  agent::LlmListener l;
  l.on_token = [seen, s](const std::string&) { seen->token_us.push_back(s->NowUs()); };
  l.on_done = [seen, s] { seen->done_us = s->NowUs(); };
  l.on_error = [seen, s](const std::string& e) {
    seen->error = e;
    seen->error_us = s->NowUs();
  };
  return l;
}

class LlmCapacityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(ParseLlmScript("rules:\n  - say: \"one two three\"\n", "test", &script_, &error))
        << error;
    request_.messages = {agent::ChatMessage{.role = "user", .content = "hello", .tool_name = "", .tool_call_id = ""}};
  }
  // Constant ttft 300 ms, 10 tokens per second: a stream holds its slot 500 ms.
  RuleLlm Make(std::shared_ptr<CapacityLimiter> capacity, uint64_t seed) {
    RuleLlmConfig config;
    config.ttft = {300, 300};
    config.tokens_per_s = 10;
    config.capacity = std::move(capacity);
    return RuleLlm(scheduler_, agent::Rng(seed), config, script_);
  }

  agent::SimScheduler scheduler_;
  LlmScript script_;
  agent::LlmRequest request_;
};

TEST_F(LlmCapacityTest, ASecondStreamWaitsForTheSlotThenTakesItsTtft) {
  auto limiter = MakeCapacityLimiter(scheduler_, 1, 4, 10000, 0);
  RuleLlm a = Make(limiter, 1), b = Make(limiter, 2);
  LlmSeen sa, sb;
  auto stream_a = a.Start(request_, ListenLlm(&sa, &scheduler_));
  auto stream_b = b.Start(request_, ListenLlm(&sb, &scheduler_));
  scheduler_.RunAll();
  EXPECT_EQ(sa.token_us, (std::vector<int64_t>{300 * kMs, 400 * kMs, 500 * kMs}));
  EXPECT_EQ(sa.done_us, 500 * kMs);
  // b got the slot when a was done, at 500 ms.
  EXPECT_EQ(sb.token_us, (std::vector<int64_t>{800 * kMs, 900 * kMs, 1000 * kMs}));
  EXPECT_EQ(limiter->in_service(), 0);
  EXPECT_EQ(limiter->stats().max_wait_us, 500 * kMs);
}

TEST_F(LlmCapacityTest, CancelGivesTheSlotBack) {
  auto limiter = MakeCapacityLimiter(scheduler_, 1, 4, 10000, 0);
  RuleLlm a = Make(limiter, 1), b = Make(limiter, 2);
  LlmSeen sa, sb;
  auto stream_a = a.Start(request_, ListenLlm(&sa, &scheduler_));
  auto stream_b = b.Start(request_, ListenLlm(&sb, &scheduler_));
  scheduler_.RunUntil(100 * kMs);
  stream_a->Cancel();
  scheduler_.RunAll();
  EXPECT_TRUE(sa.token_us.empty());
  ASSERT_EQ(sb.token_us.size(), 3u);
  EXPECT_EQ(sb.token_us.front(), 400 * kMs);
}

TEST_F(LlmCapacityTest, WithoutQueueTheSecondStreamFailsOverCapacity) {
  auto limiter = MakeCapacityLimiter(scheduler_, 1, 0, 10000, 0);
  RuleLlm a = Make(limiter, 1), b = Make(limiter, 2);
  LlmSeen sa, sb;
  auto stream_a = a.Start(request_, ListenLlm(&sa, &scheduler_));
  auto stream_b = b.Start(request_, ListenLlm(&sb, &scheduler_));
  EXPECT_TRUE(sb.error.empty()) << "never from inside Start";
  scheduler_.RunAll();
  EXPECT_EQ(sb.error, kOverCapacityError);
  EXPECT_EQ(sb.error_us, 0);
  EXPECT_TRUE(sb.token_us.empty());
  EXPECT_EQ(sb.done_us, -1);
  EXPECT_EQ(sa.token_us.size(), 3u);
}

TEST_F(LlmCapacityTest, AQueueTimeoutReachesOnError) {
  auto limiter = MakeCapacityLimiter(scheduler_, 1, 1, 200, 0);
  RuleLlm a = Make(limiter, 1), b = Make(limiter, 2);
  LlmSeen sa, sb;
  auto stream_a = a.Start(request_, ListenLlm(&sa, &scheduler_));
  auto stream_b = b.Start(request_, ListenLlm(&sb, &scheduler_));
  scheduler_.RunAll();
  EXPECT_EQ(sb.error, kQueueTimeoutError);
  EXPECT_EQ(sb.error_us, 200 * kMs);
  EXPECT_TRUE(sb.token_us.empty());
}

struct TtsSeen {
  std::vector<int64_t> frame_us;
  int64_t done_us = -1;
  std::string error;
};

agent::TtsListener ListenTts(TtsSeen* seen, agent::SimScheduler* s) {
  agent::TtsListener l;
  l.on_audio = [seen, s](const agent::TtsFrame&) { seen->frame_us.push_back(s->NowUs()); };
  l.on_done = [seen, s] { seen->done_us = s->NowUs(); };
  l.on_error = [seen](const std::string& e) { seen->error = e; };
  return l;
}

TEST(TtsCapacityTest, TheSlotIsHeldUntilTheLastFrame) {
  agent::SimScheduler scheduler;
  auto limiter = MakeCapacityLimiter(scheduler, 1, 4, 10000, 0);
  ModemTtsConfig config;
  config.ttfb = {120, 120};
  config.capacity = limiter;
  ModemTts tts(scheduler, agent::Rng(3), config);
  TtsSeen a, b;
  auto stream_a = tts.Synthesize("your order has shipped.", ListenTts(&a, &scheduler));
  auto stream_b = tts.Synthesize("goodbye.", ListenTts(&b, &scheduler));
  scheduler.RunAll();
  ASSERT_FALSE(a.frame_us.empty());
  ASSERT_FALSE(b.frame_us.empty());
  EXPECT_EQ(a.frame_us.front(), 120 * kMs);
  EXPECT_EQ(b.frame_us.front(), a.frame_us.back() + 120 * kMs);
  EXPECT_TRUE(a.error.empty());
  EXPECT_TRUE(b.error.empty());
  EXPECT_EQ(limiter->in_service(), 0);
}

TEST(TtsCapacityTest, ARateLimitedStreamFailsWith429) {
  agent::SimScheduler scheduler;
  ModemTtsConfig config;
  config.capacity = MakeCapacityLimiter(scheduler, 0, 0, 1000, 1);  // one per second
  ModemTts tts(scheduler, agent::Rng(3), config);
  TtsSeen a, b;
  auto stream_a = tts.Synthesize("hello.", ListenTts(&a, &scheduler));
  auto stream_b = tts.Synthesize("hello.", ListenTts(&b, &scheduler));
  scheduler.RunAll();
  EXPECT_FALSE(a.frame_us.empty());
  EXPECT_EQ(b.error, kRateLimitedError);
  EXPECT_TRUE(b.frame_us.empty());
  EXPECT_EQ(b.done_us, -1);
}

struct SttSeen {
  std::vector<int64_t> final_us;
  std::string error;
  int64_t error_us = -1;
};

agent::SttListener ListenStt(SttSeen* seen, agent::SimScheduler* s) {
  agent::SttListener l;
  l.on_final = [seen, s](const std::string&) { seen->final_us.push_back(s->NowUs()); };
  l.on_error = [seen, s](const std::string& e) {
    seen->error = e;
    seen->error_us = s->NowUs();
  };
  return l;
}

TEST(SttCapacityTest, EachFinalizeHoldsASlotUntilItsFinal) {
  agent::SimScheduler scheduler;
  auto limiter = MakeCapacityLimiter(scheduler, 1, 4, 10000, 0);
  ModemSttConfig config;
  config.final_latency = {100, 100};
  config.capacity = limiter;
  ModemStt stt(scheduler, agent::Rng(4), config);
  SttSeen a, b, c;
  auto session_a = stt.Open(ListenStt(&a, &scheduler));
  auto session_b = stt.Open(ListenStt(&b, &scheduler));
  auto session_c = stt.Open(ListenStt(&c, &scheduler));
  session_a->Finalize();
  session_b->Finalize();
  session_c->Finalize();
  session_b.reset();  // a session that goes away leaves the queue
  scheduler.RunAll();
  EXPECT_EQ(a.final_us, (std::vector<int64_t>{100 * kMs}));
  EXPECT_TRUE(b.final_us.empty());
  EXPECT_EQ(c.final_us, (std::vector<int64_t>{200 * kMs}));
  EXPECT_EQ(limiter->in_service(), 0);
  EXPECT_EQ(limiter->waiting(), 0);
}

TEST(SttCapacityTest, TwoFinalsOfOneSessionKeepTheirOrder) {
  agent::SimScheduler scheduler;
  auto limiter = MakeCapacityLimiter(scheduler, 1, 4, 10000, 0);
  ModemSttConfig config;
  config.final_latency = {100, 100};
  config.capacity = limiter;
  ModemStt stt(scheduler, agent::Rng(4), config);
  SttSeen a;
  auto session = stt.Open(ListenStt(&a, &scheduler));
  session->Finalize();
  session->Finalize();  // waits for the slot the first final holds
  scheduler.RunAll();
  EXPECT_EQ(a.final_us, (std::vector<int64_t>{100 * kMs, 200 * kMs}));
}

TEST(SttCapacityTest, AFullQueueDeliversAnErrorInsteadOfTheFinal) {
  agent::SimScheduler scheduler;
  ModemSttConfig config;
  config.final_latency = {100, 100};
  config.capacity = MakeCapacityLimiter(scheduler, 1, 0, 10000, 0);
  ModemStt stt(scheduler, agent::Rng(4), config);
  SttSeen a, b;
  auto session_a = stt.Open(ListenStt(&a, &scheduler));
  auto session_b = stt.Open(ListenStt(&b, &scheduler));
  session_a->Finalize();
  session_b->Finalize();
  scheduler.RunAll();
  EXPECT_EQ(a.final_us.size(), 1u);
  EXPECT_TRUE(b.final_us.empty());
  EXPECT_EQ(b.error, kOverCapacityError);
  EXPECT_EQ(b.error_us, 0);
}

}  // namespace
}  // namespace callsim::fakes
