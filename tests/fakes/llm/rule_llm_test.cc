// RuleLlm: which rule answers a request, how a reply splits into tokens, and when each token
// arrives in virtual time.
#include "fakes/llm/rule_llm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/fakes/llm/llm_script_fixtures.h"

namespace callsim::fakes {
namespace {

using llm_test::kSupportScript;
using llm_test::MustParse;

// A message without a tool: role and content.
agent::ChatMessage Say(const std::string& role, const std::string& content) {
  agent::ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

agent::LlmRequest UserSays(const std::string& text) {
  return agent::LlmRequest{{Say("system", "be brief"), Say("user", text)}};
}

TEST(LlmMatchTest, FirstMatchingRuleWins) {
  const LlmScript s = MustParse(kSupportScript);
  auto match = [&](const std::string& text) -> int {
    const LlmRule* r = MatchLlmRule(s, UserSays(text), "");
    return r == nullptr ? -1 : static_cast<int>(r - s.rules.data());
  };
  EXPECT_EQ(match("Status of ORDER number 4567, please!"), 1);  // any + all hold
  EXPECT_EQ(match("my order please"), 3);                       // no "number": rule 1 fails
  EXPECT_EQ(match("Refund me."), 2);                            // regex on normalized text
  EXPECT_EQ(match("refund me now"), 4);                         // anchored regex fails
  EXPECT_EQ(match("the border number"), 4);                     // whole words only
  EXPECT_EQ(match("hello"), 4);                                 // fallback
}

// (.*)*x backtracks catastrophically in std::regex: this test finishing is the proof.
TEST(LlmMatchTest, CatastrophicPatternAnswersPromptly) {
  const LlmScript s = MustParse("rules:\n  - when: { matches: \"(.*)*x\" }\n    say: x\n"
                                "  - say: fallback\n");
  const std::string utterance = "i would like to know where my order is please it has been a week";
  const LlmRule* rule = MatchLlmRule(s, UserSays(utterance), "");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->say, "fallback");
  rule = MatchLlmRule(s, UserSays(utterance + " Xylophone"), "");  // case-insensitive
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->say, "x");
}

TEST(LlmMatchTest, UsesLastUserMessageAndAfterTool) {
  const LlmScript s = MustParse(kSupportScript);
  agent::LlmRequest req{{Say("user", "refund"), Say("assistant", "ok"), Say("user", "which order")}};
  EXPECT_EQ(MatchLlmRule(s, req, ""), &s.rules[3]);
  req.messages.push_back(Say("tool", R"({"status":"shipped"})"));
  EXPECT_EQ(MatchLlmRule(s, req, "check_order_status"), &s.rules[0]);
  // After a tool result only after_tool rules apply: none for this tool, so no rule.
  EXPECT_EQ(MatchLlmRule(s, req, "other_tool"), nullptr);
  req.messages.push_back(Say("assistant", "done"));  // last message no longer the tool result
  EXPECT_EQ(MatchLlmRule(s, req, "check_order_status"), &s.rules[3]);
}

TEST(LlmMatchTest, NoFallbackMeansNoMatch) {
  const LlmScript s = MustParse("rules:\n  - when: { contains_any: [yes] }\n    say: ok\n");
  EXPECT_EQ(MatchLlmRule(s, UserSays("no"), ""), nullptr);
  EXPECT_EQ(MatchLlmRule(s, agent::LlmRequest{}, ""), nullptr);
}

TEST(LlmTokensTest, SplitsWordsWithTheirPunctuation) {
  EXPECT_EQ(SplitLlmTokens("  Let me check, please.\n Done!  "),
            (std::vector<std::string>{"Let", " me", " check,", " please.", " Done!"}));
  EXPECT_TRUE(SplitLlmTokens(" \t ").empty());
}

// Records every callback as "time_us kind:payload".
struct Recorder {
  explicit Recorder(agent::SimScheduler* s) : sched(s) {}
  agent::SimScheduler* sched;
  std::vector<std::string> events;
  agent::LlmListener Listener() {
    auto add = [this](const std::string& e) {
      events.push_back(std::to_string(sched->NowUs()) + " " + e);
    };
    return agent::LlmListener{[add](const std::string& t) { add("token:" + t); },
                              [add](const agent::ToolCallRequest& c) {
                                add("tool:" + c.id + " " + c.name + " " + c.arguments_json);
                              },
                              [add] { add("done"); },
                              [add](const std::string& e) { add("error:" + e); }};
  }
};

RuleLlmConfig FixedConfig() {
  RuleLlmConfig config;
  config.ttft = agent::LatencyModel{200, 200};  // p50 == p95: exactly 200 ms
  config.tokens_per_s = 40;                     // 25 ms apart
  return config;
}

TEST(RuleLlmTest, StreamsTokensAtTtftThenTokenRateThenToolCall) {
  agent::SimScheduler sched;
  sched.RunUntil(1000);
  RuleLlm llm(sched, agent::Rng(7), FixedConfig(), MustParse(kSupportScript));
  Recorder rec{&sched};
  auto stream = llm.Start(UserSays("order number 4567 status"), rec.Listener());
  EXPECT_TRUE(rec.events.empty());  // nothing synchronous
  sched.RunAll();
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{
                "201000 token:Let", "226000 token: me", "251000 token: check", "276000 token: that",
                "301000 token: for", "326000 token: you.",
                R"(351000 tool:call_1 check_order_status {"order_id":"4567","rush":false})",
                "351000 done"}));
}

TEST(RuleLlmTest, AfterToolRuleAnswersTheDeliveredToolAndIdsCount) {
  agent::SimScheduler sched;
  RuleLlm llm(sched, agent::Rng(7), FixedConfig(), MustParse(kSupportScript));
  Recorder rec{&sched};
  agent::LlmRequest req = UserSays("order number 1 status");
  auto s1 = llm.Start(req, rec.Listener());
  sched.RunAll();
  req.messages.push_back(Say("assistant", "Let me check that for you."));
  req.messages.push_back(Say("tool", R"({"status":"shipped"})"));
  rec.events.clear();
  const int64_t t0 = sched.NowUs();
  auto s2 = llm.Start(req, rec.Listener());
  sched.RunAll();
  const std::string base = std::to_string(t0 + 200000);
  EXPECT_EQ(rec.events, (std::vector<std::string>{base + " token:Your",
                                                  std::to_string(t0 + 225000) + " token: order",
                                                  std::to_string(t0 + 250000) + " token: has",
                                                  std::to_string(t0 + 275000) + " token: shipped.",
                                                  std::to_string(t0 + 275000) + " done"}));
  req.messages.pop_back();
  rec.events.clear();
  auto s3 = llm.Start(req, rec.Listener());
  sched.RunAll();
  ASSERT_FALSE(rec.events.empty());
  EXPECT_NE(rec.events[rec.events.size() - 2].find("tool:call_2 "), std::string::npos);
}

TEST(RuleLlmTest, NoRuleMatchedIsAnError) {
  agent::SimScheduler sched;
  RuleLlm llm(sched, agent::Rng(1), FixedConfig(),
              MustParse("rules:\n  - when: { contains_any: [yes] }\n    say: ok\n"));
  Recorder rec{&sched};
  auto stream = llm.Start(UserSays("no"), rec.Listener());
  sched.RunAll();
  EXPECT_EQ(rec.events, (std::vector<std::string>{"200000 error:no rule matched"}));
}

TEST(RuleLlmTest, CancelAndDestroyStopAllCallbacks) {
  agent::SimScheduler sched;
  RuleLlm llm(sched, agent::Rng(1), FixedConfig(), MustParse(kSupportScript));
  Recorder rec{&sched};
  auto stream = llm.Start(UserSays("order number 9"), rec.Listener());
  sched.RunUntil(230000);
  EXPECT_EQ(rec.events.size(), 2u);
  stream->Cancel();
  EXPECT_EQ(sched.pending(), 0u);
  sched.RunAll();
  EXPECT_EQ(rec.events.size(), 2u);

  rec.events.clear();
  auto other = llm.Start(UserSays("order number 9"), rec.Listener());
  other.reset();
  EXPECT_EQ(sched.pending(), 0u);
  sched.RunAll();
  EXPECT_TRUE(rec.events.empty());
}

TEST(RuleLlmTest, ListenerMayDestroyTheStreamFromACallback) {
  agent::SimScheduler sched;
  RuleLlm llm(sched, agent::Rng(1), FixedConfig(), MustParse(kSupportScript));
  std::unique_ptr<agent::LlmStream> stream;
  int tokens = 0;
  agent::LlmListener listener;
  listener.on_token = [&](const std::string&) {
    if (++tokens == 3) stream.reset();
  };
  listener.on_done = [&] { ADD_FAILURE() << "done after destruction"; };
  listener.on_tool_call = [&](const agent::ToolCallRequest&) { ADD_FAILURE() << "tool call"; };
  stream = llm.Start(UserSays("order number 9"), listener);
  sched.RunAll();
  EXPECT_EQ(tokens, 3);
}

std::vector<std::string> RunTwoStreams(uint64_t seed) {
  agent::SimScheduler sched;
  RuleLlmConfig config;  // lognormal ttft
  RuleLlm llm(sched, agent::Rng(seed), config, MustParse(kSupportScript));
  Recorder rec{&sched};
  auto a = llm.Start(UserSays("hello"), rec.Listener());
  auto b = llm.Start(UserSays("order please"), rec.Listener());
  sched.RunAll();
  return rec.events;
}

TEST(RuleLlmTest, SameSeedSameTimes) {
  const std::vector<std::string> first = RunTwoStreams(42);
  EXPECT_EQ(first.size(), 9u);  // 5 tokens + done, 2 tokens + done
  EXPECT_EQ(first, RunTwoStreams(42));
  EXPECT_NE(first, RunTwoStreams(43));
}

}  // namespace
}  // namespace callsim::fakes
