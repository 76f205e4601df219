// Shared by the fake providers' tests: the handlers driven in virtual time, with a recording
// HttpResponder and StreamIo on a SimScheduler.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "fakes/modem/word_modem.h"
#include "fakes/wire/deepgram_live.h"
#include "fakes/wire/fake_providers.h"
#include "fakes/wire/openai_chat.h"
#include "fakes/wire/openai_speech.h"
#include "fakes/wire/provider_state.h"

namespace callsim::fakes::wire::testing {

using nlohmann::json;

// What a handler did with its answer, with the virtual time of each call.
class RecordingResponder final : public agent::HttpResponder {
 public:
  explicit RecordingResponder(agent::Scheduler& s) : scheduler_(s) {}
  agent::Scheduler& scheduler() override { return scheduler_; }
  void Respond(int status, agent::HttpHeaders headers, std::string body) override {
    status_ = status;
    headers_ = std::move(headers);
    body_ = std::move(body);
    complete_ = true;
    at_.push_back(scheduler_.NowUs());
  }
  void Begin(int status, agent::HttpHeaders headers) override {
    status_ = status;
    headers_ = std::move(headers);
    begun_at_ = scheduler_.NowUs();
  }
  bool Write(std::string piece) override {
    pieces_.push_back(std::move(piece));
    at_.push_back(scheduler_.NowUs());
    return true;
  }
  void End() override { complete_ = true; }
  void Abort() override { aborted_ = true; }
  void OnGone(std::function<void()> on_gone) override { on_gone_ = std::move(on_gone); }
  bool gone() const override { return false; }

  std::string Header(std::string_view name) const {
    return std::string(agent::HeaderValue(headers_, name));
  }
  // The data of each server-sent event, in order.
  std::vector<std::string> Events() const {
    std::string all;
    for (const std::string& p : pieces_) all += p;
    std::vector<std::string> events;
    size_t at = 0;
    while ((at = all.find("data: ", at)) != std::string::npos) {
      const size_t end = all.find("\n\n", at);
      events.push_back(all.substr(at + 6, end - at - 6));
      at = end;
    }
    return events;
  }

  agent::Scheduler& scheduler_;
  int status_ = 0;
  agent::HttpHeaders headers_;
  std::string body_;
  std::vector<std::string> pieces_;
  std::vector<int64_t> at_;
  int64_t begun_at_ = -1;
  bool complete_ = false;
  bool aborted_ = false;
  std::function<void()> on_gone_;
};

inline LlmScript Script() {
  LlmScript script;
  std::string error;
  EXPECT_TRUE(ParseLlmScript(R"(rules:
  - when: { after_tool: check_order_status }
    say: "It has shipped."
  - when: { contains_any: ["order"] }
    say: "Let me look that up."
    tool_call: { name: check_order_status, args: { order_id: "4567" } }
  - when: { contains_any: ["person"] }
    say: "Let me find someone for you."
)",
                             "test", &script, &error))
      << error;
  return script;
}

inline FakeProvidersConfig Config() {
  FakeProvidersConfig c;
  c.seed = 7;
  c.script = Script();
  c.llm.ttft = {200, 200, 200};
  c.llm.tokens_per_s = 50;  // one token every 20 ms
  c.tts.ttfb = {100, 100, 100};
  c.stt.final_latency = {100, 100, 100};
  c.stt.interim_latency = {50, 50, 50};
  c.stt.profile = SttRobustnessProfile::Perfect();
  return c;
}

inline agent::HttpRequest Post(std::string path, json body, agent::HttpHeaders headers = {}) {
  agent::HttpRequest r;
  r.method = "POST";
  r.target = r.path = std::move(path);
  r.headers = std::move(headers);
  r.body = body.dump();
  return r;
}

inline json UserChat(const std::string& text, bool stream = true) {
  return {{"model", "m"},
          {"stream", stream},
          {"stream_options", {{"include_usage", true}}},
          {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
}

struct Fixture {
  agent::SimScheduler scheduler;
  std::shared_ptr<FakeProviders::State> state;
  explicit Fixture(FakeProvidersConfig c = Config())
      : state(std::make_shared<FakeProviders::State>(std::move(c))) {}
  std::shared_ptr<RecordingResponder> Chat(agent::HttpRequest request) {
    auto responder = std::make_shared<RecordingResponder>(scheduler);
    HandleChat(state, std::move(request), responder);
    scheduler.RunAll(100000);
    return responder;
  }
};

// ---- Deepgram live ----

struct ListenFixture {
  agent::SimScheduler scheduler;
  std::shared_ptr<FakeProviders::State> state =
      std::make_shared<FakeProviders::State>(Config());
  std::vector<json> sent;
  std::vector<int64_t> sent_at;
  std::string closed;
  bool close_called = false;
  std::unique_ptr<agent::StreamSession> session;

  // The session opens at `open_at_us` of the server's time.
  explicit ListenFixture(const std::string& query, int64_t open_at_us = 0) {
    scheduler.RunUntil(open_at_us);
    agent::StreamIo io;
    io.scheduler = &scheduler;
    io.send_text = [this](std::string text) {
      sent.push_back(json::parse(text));
      sent_at.push_back(scheduler.NowUs());
      return true;
    };
    io.close = [this](std::string reason) {
      closed = std::move(reason);
      close_called = true;
    };
    io.target = "/v1/listen?" + query;
    session = MakeListenSession(state, std::move(io));
  }
  // `samples` (16 kHz) as linear16 in 20 ms messages, in virtual real time.
  void Send(const std::vector<int16_t>& samples) {
    for (size_t at = 0; at < samples.size(); at += 320) {
      std::string bytes;
      for (size_t i = at; i < std::min(samples.size(), at + 320); ++i) {
        bytes.push_back(static_cast<char>(samples[i] & 0xFF));
        bytes.push_back(static_cast<char>((static_cast<uint16_t>(samples[i]) >> 8) & 0xFF));
      }
      session->OnBinary(bytes);
      scheduler.RunUntil(scheduler.NowUs() + 20000);
    }
  }
  std::vector<json> OfType(const std::string& type) const {
    std::vector<json> out;
    for (const json& m : sent) {
      if (m["type"] == type) out.push_back(m);
    }
    return out;
  }
};

inline std::vector<int16_t> Speech(const std::string& text, double silence_after_s) {
  ModemAudio audio = EncodeSpeech(text, VoiceProfile{}, nullptr);
  audio.samples.resize(audio.samples.size() + static_cast<size_t>(silence_after_s * 16000));
  std::vector<int16_t> lead(3200);  // 200 ms of silence first
  lead.insert(lead.end(), audio.samples.begin(), audio.samples.end());
  return lead;
}


}  // namespace callsim::fakes::wire::testing
