// fakes: capacity on each provider (and the rule queue > 0 needs max_concurrent > 0).
#include "harness/scenario/fakes_parser.h"

#include <gtest/gtest.h>

#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::MustLoad;
using testing::OnlyErrorOf;

constexpr const char* kMinimal = "name: t\nturns:\n  - user: hello there\n";

TEST(FakesParserTest, CapacityOnEveryProvider) {
  const Scenario s = MustLoad(std::string(kMinimal) +
                              "fakes:\n"
                              "  stt: { capacity: { max_concurrent: 8, queue: 16, "
                              "queue_timeout_ms: 2000, rate_limit_per_s: 40 } }\n"
                              "  llm: { capacity: { max_concurrent: 30 } }\n"
                              "  tts: { capacity: { rate_limit_per_s: 2.5 } }\n");
  EXPECT_EQ(s.fakes.stt.capacity.max_concurrent, 8);
  EXPECT_EQ(s.fakes.stt.capacity.queue, 16);
  EXPECT_EQ(s.fakes.stt.capacity.queue_timeout_ms, 2000);
  EXPECT_EQ(s.fakes.stt.capacity.rate_limit_per_s, 40);
  EXPECT_EQ(s.fakes.llm.capacity.max_concurrent, 30);
  EXPECT_EQ(s.fakes.llm.capacity.queue, 0);
  EXPECT_EQ(s.fakes.llm.capacity.queue_timeout_ms, 5000);
  EXPECT_EQ(s.fakes.tts.capacity.max_concurrent, 0);
  EXPECT_EQ(s.fakes.tts.capacity.rate_limit_per_s, 2.5);
}

TEST(FakesParserErrorTest, CapacityErrors) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes:\n  llm:\n    capacity: { queue: 3 }\n"),
            "s.yaml:6:17: fakes.llm.capacity.queue: queue 3 needs max_concurrent > 0 (with "
            "unlimited concurrency nothing ever waits)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "fakes:\n  llm:\n    capacity: { queue: 3, max_concurrent: 0 }\n"),
            "s.yaml:6:17: fakes.llm.capacity.queue: queue 3 needs max_concurrent > 0 (with "
            "unlimited concurrency nothing ever waits)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "fakes:\n  stt:\n    capacity: { max_concurrent: 1.5 }\n"),
            "s.yaml:6:33: fakes.stt.capacity.max_concurrent: expected a whole number in [0, "
            "1000000], got 1.5");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "fakes:\n  tts:\n    capacity: { queue_timeout_ms: -1 }\n"),
            "s.yaml:6:35: fakes.tts.capacity.queue_timeout_ms: expected a number in [0, 86400000], "
            "got -1");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "fakes:\n  tts:\n    capacity: { max_concurent: 1 }\n"),
      "s.yaml:6:17: fakes.tts.capacity.max_concurent: unknown key max_concurent (did you "
      "mean max_concurrent?)");
}

TEST(FakesParserTest, ProvidersOverTheWire) {
  const Scenario s = MustLoad(std::string(kMinimal) +
                              "fakes:\n"
                              "  stt: { url: \"wss://api.deepgram.com\", api_key_env: DG_KEY }\n"
                              "  llm:\n"
                              "    url: http://127.0.0.1:8080/v1\n"
                              "    model: gpt-4o-mini\n"
                              "    secondary: { url: \"https://api.openai.com/v1\" }\n"
                              "  tts: { url: http://127.0.0.1:8080/v1, voice: nova }\n");
  ASSERT_TRUE(s.fakes.stt.wire);
  EXPECT_EQ(s.fakes.stt.wire->url, "wss://api.deepgram.com");
  EXPECT_EQ(s.fakes.stt.wire->api_key_env, "DG_KEY");
  EXPECT_EQ(s.fakes.stt.wire->model, "");
  ASSERT_TRUE(s.fakes.llm.wire);
  EXPECT_EQ(s.fakes.llm.wire->model, "gpt-4o-mini");
  ASSERT_TRUE(s.fakes.llm.secondary.wire);
  EXPECT_EQ(s.fakes.llm.secondary.wire->url, "https://api.openai.com/v1");
  ASSERT_TRUE(s.fakes.tts.wire);
  EXPECT_EQ(s.fakes.tts.wire->voice, "nova");
  EXPECT_FALSE(MustLoad(kMinimal).fakes.llm.wire);
}

TEST(FakesParserErrorTest, ProvidersOverTheWire) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes:\n  llm: { model: gpt-4o }\n"),
            "s.yaml:5:10: fakes.llm.model: model needs url (a provider over its wire API)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes:\n  stt: { url: ftp://x }\n"),
            "s.yaml:5:15: fakes.stt.url: expected an http://, https://, ws:// or wss:// URL, "
            "got ftp://x");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "fakes:\n  tts: { url: http://h/v1, api_key_env: \"A-B\" }\n"),
            "s.yaml:5:41: fakes.tts.api_key_env: expected an environment variable name (letters, "
            "digits, _)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes:\n  stt: { url: http://h, voice: x }\n"),
            "s.yaml:5:25: fakes.stt.voice: unknown key voice (expected one of: engine, profile, "
            "final_latency_ms, capacity, faults, secondary, url, model, api_key_env)");
}

}  // namespace
}  // namespace callsim::harness
