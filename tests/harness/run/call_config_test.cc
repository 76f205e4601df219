// The scenario -> component configuration mapping: every field lands where the component reads it,
// and the few derived values (outage windows, the agent's provider timeout, the jitter buffer's
// upper bound, the default tool back ends) come out as documented.
#include "harness/run/call_config.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::harness {
namespace {

TEST(CallConfigTest, LinkCarriesDelayJitterLossAndOutages) {
  LinkSpec spec;
  spec.delay_ms = 35;
  spec.jitter_ms = 12;
  spec.jitter_distribution = fakes::JitterDistribution::kPareto;
  spec.reorder = 0.02;
  spec.duplicate = 0.01;
  spec.loss = LossSpec{LossSpec::kGilbert, 0, 0.05, 0.6, 0.9, 0.01};
  spec.outages = {OutageSpec{1000, 250}};
  const fakes::SimLinkConfig c = MakeLinkConfig(spec);
  EXPECT_EQ(c.delay_ms, 35);
  EXPECT_EQ(c.jitter_ms, 12);
  EXPECT_EQ(c.jitter_distribution, fakes::JitterDistribution::kPareto);
  EXPECT_EQ(c.reorder, 0.02);
  EXPECT_EQ(c.duplicate, 0.01);
  EXPECT_EQ(c.loss.model, fakes::LossConfig::Model::kGilbertElliott);
  EXPECT_EQ(c.loss.p, 0.05);
  EXPECT_EQ(c.loss.r, 0.6);
  EXPECT_EQ(c.loss.bad_loss, 0.9);
  EXPECT_EQ(c.loss.good_loss, 0.01);
  ASSERT_EQ(c.outages.size(), 1u);
  EXPECT_EQ(c.outages[0].start_ms, 1000);
  EXPECT_EQ(c.outages[0].duration_ms, 250);  // the link keeps { start, duration }
  EXPECT_EQ(ValidateSimLinkConfig(c), "");
}

TEST(CallConfigTest, BernoulliLossKeepsItsRate) {
  LinkSpec spec;
  spec.loss.model = LossSpec::kBernoulli;
  spec.loss.loss = 0.03;
  const fakes::SimLinkConfig c = MakeLinkConfig(spec);
  EXPECT_EQ(c.loss.model, fakes::LossConfig::Model::kBernoulli);
  EXPECT_EQ(c.loss.loss, 0.03);
  EXPECT_EQ(MakeLinkConfig(LinkSpec{}).loss.model, fakes::LossConfig::Model::kNone);
}

TEST(CallConfigTest, FaultOutagesBecomeStartEndWindows) {
  FaultsSpec spec;
  spec.error_rate = 0.1;
  spec.timeout_rate = 0.2;
  spec.drop_rate = 0.05;
  spec.outages = {OutageSpec{500, 100}, OutageSpec{2000, 30}};
  const fakes::FaultSpec f = MakeFaultSpec(spec);
  EXPECT_EQ(f.error_rate, 0.1);
  EXPECT_EQ(f.timeout_rate, 0.2);
  EXPECT_EQ(f.drop_rate, 0.05);
  ASSERT_EQ(f.outages.size(), 2u);
  EXPECT_EQ(f.outages[0].start_ms, 500);
  EXPECT_EQ(f.outages[0].end_ms, 600);
  EXPECT_EQ(f.outages[1].start_ms, 2000);
  EXPECT_EQ(f.outages[1].end_ms, 2030);
}

TEST(CallConfigTest, FakesTakeLatencyProfileAndTheSharedLimiter) {
  agent::SimScheduler scheduler;
  auto limiter = std::make_shared<fakes::CapacityLimiter>(scheduler, fakes::CapacityConfig{});
  SttSpec stt;
  stt.profile = SttProfile::kPerfect;
  stt.final_latency = agent::LatencyModel{80, 160};
  const fakes::ModemSttConfig s = MakeSttConfig(stt, limiter);
  EXPECT_EQ(s.capacity, limiter);
  EXPECT_EQ(s.final_latency.p95_ms, 160);
  EXPECT_EQ(s.profile.floor_error, 0);  // perfect: no error on a clean line
  EXPECT_EQ(s.profile.noise_weight, 0);
  EXPECT_EQ(MakeSttConfig(SttSpec{}, nullptr).profile.floor_error, 0.03);

  LlmSpec llm;
  llm.ttft = agent::LatencyModel{250, 900};
  llm.tokens_per_s = 80;
  const fakes::RuleLlmConfig l = MakeLlmConfig(llm, nullptr);
  EXPECT_EQ(l.capacity, nullptr);
  EXPECT_EQ(l.ttft.p50_ms, 250);
  EXPECT_EQ(l.tokens_per_s, 80);

  TtsSpec tts;
  tts.ttfb = agent::LatencyModel{90, 300};
  EXPECT_EQ(MakeTtsConfig(tts, limiter).ttfb.p95_ms, 300);
}

TEST(CallConfigTest, EveryToolBackEndExistsAndTheScenarioOverridesByName) {
  ToolBackendSpec payments;
  payments.name = "payments";
  payments.latency = agent::LatencyModel{40, 90};
  payments.error_rate = 0.25;
  payments.outages = {OutageSpec{100, 50}};
  const auto specs = MakeToolBackendSpecs({payments});
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs.count("orders") + specs.count("appointments") + specs.count("transfer"), 3u);
  EXPECT_EQ(specs.at("orders").latency.p50_ms, fakes::FakeToolBackendSpec{}.latency.p50_ms);
  const fakes::FakeToolBackendSpec& p = specs.at("payments");
  EXPECT_EQ(p.latency.p95_ms, 90);
  EXPECT_EQ(p.error_rate, 0.25);
  ASSERT_EQ(p.outages.size(), 1u);
  EXPECT_EQ(p.outages[0].end_ms, 150);
}

TEST(CallConfigTest, MediaUsesTheCodecAndRaisesAJitterMaxBelowItsMin) {
  Scenario s;
  s.codec = agent::CodecKind::kOpus;
  s.opus.sample_rate_hz = 48000;
  s.opus.complexity = 5;
  s.agent.jitter_buffer = JitterBufferSpec{60, true, 80, 50};
  const agent::MediaEndpointConfig c = MakeMediaConfig(s, 7);
  EXPECT_EQ(c.codec, agent::CodecKind::kOpus);
  EXPECT_EQ(c.ssrc, 7u);
  EXPECT_EQ(c.jitter.target_delay_ms, 60);
  EXPECT_TRUE(c.jitter.adaptive);
  EXPECT_EQ(c.jitter.min_delay_ms, 80);
  EXPECT_EQ(c.jitter.max_delay_ms, 80);
  EXPECT_EQ(c.codec_options.opus.sample_rate_hz, 48000);
  EXPECT_EQ(c.codec_options.opus.complexity, 5);
}

TEST(CallConfigTest, AgentTimeoutOutlastsTheRetryLadder) {
  AgentSpec spec;
  // Defaults: 3 attempts (first, retry, secondary) of 2.5 s + one 250 ms backoff = 7.75 s, under
  // the agent's own 10 s.
  EXPECT_EQ(MakeAgentConfig(spec).provider_timeout_ms, 10000);
  spec.fallback.first_response_timeout_ms = 5000;  // 3 x 5 s + 0.25 s, then a second to spare
  EXPECT_EQ(MakeAgentConfig(spec).provider_timeout_ms, 16250);
  spec.fallback.enabled = false;
  EXPECT_EQ(MakeAgentConfig(spec).provider_timeout_ms, 10000);
}

TEST(CallConfigTest, AgentKeepsItsDefaultPromptAndTakesToolsAndAllowlist) {
  AgentSpec spec;
  spec.endpoint_delay_ms = 420;
  spec.tools.allow = {"check_order_status"};
  spec.tools.max_steps_per_turn = 2;
  agent::ToolSpec tool;
  tool.name = "check_order_status";
  const agent::AgentConfig c = MakeAgentConfig(spec, {tool});
  EXPECT_EQ(c.system_prompt, agent::AgentConfig{}.system_prompt);
  EXPECT_EQ(c.endpoint_delay_ms, 420);
  ASSERT_EQ(c.tools.tools.size(), 1u);
  EXPECT_EQ(c.tools.tools[0].name, "check_order_status");
  EXPECT_EQ(c.tools.allowlist, (std::vector<std::string>{"check_order_status"}));
  EXPECT_EQ(c.tools.max_steps_per_turn, 2);
  spec.system_prompt = "Be terse.";
  EXPECT_EQ(MakeAgentConfig(spec).system_prompt, "Be terse.");
}

}  // namespace
}  // namespace callsim::harness
