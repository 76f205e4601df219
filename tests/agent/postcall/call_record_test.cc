#include "agent/postcall/call_record.h"

#include <gtest/gtest.h>

#include "agent/postcall/call_cost.h"

namespace callsim::agent {
namespace {

ToolAuditRecord Executed() {
  ToolAuditRecord r;
  r.tool_call_id = "call_7";
  r.name = "cancel_order";
  r.arguments_json = R"({"order_id":"A-1"})";
  r.decision = "executed";
  r.result_json = R"({"ok":true})";
  r.duration_ms = 250.5;
  r.confirmed = true;
  return r;
}

TEST(ToolAuditRecordTest, WritesTheToolAuditEventsFields) {
  EXPECT_EQ(ToJson(Executed()).dump(),
            R"({"arguments":"{\"order_id\":\"A-1\"}","confirmed":true,"decision":"executed",)"
            R"("duration_ms":250.5,"name":"cancel_order","reason":"",)"
            R"("result":"{\"ok\":true}","tool_call_id":"call_7"})");
}

TEST(ToolAuditRecordTest, RoundTrips) {
  ToolAuditRecord back;
  FromJson(ToJson(Executed()), &back);
  EXPECT_EQ(back, Executed());
  ToolAuditRecord blocked;
  blocked.name = "wire_money";
  blocked.decision = "blocked";
  blocked.reason = "not_allowed";
  FromJson(ToJson(blocked), &back);
  EXPECT_EQ(back, blocked);
}

TEST(ToolAuditRecordTest, WrongTypesAndMissingFieldsGetDefaults) {
  ToolAuditRecord r = Executed();
  FromJson(nlohmann::json{{"name", 5}, {"decision", "failed"}, {"confirmed", "yes"}}, &r);
  EXPECT_EQ(r.name, "");
  EXPECT_EQ(r.decision, "failed");
  EXPECT_EQ(r.tool_call_id, "");
  EXPECT_EQ(r.duration_ms, 0);
  EXPECT_FALSE(r.confirmed);
}

TEST(CallUsageTest, WritesTheUsageEventsFieldsAndRoundTrips) {
  const CallUsage usage{12.34, 20001, 999, 1500, 3, 1, 40, 25};
  EXPECT_EQ(ToJson(usage).dump(),
            R"({"llm_input_tokens":20001,"llm_output_tokens":999,"preemptive_requests":3,)"
            R"("stt_audio_s":12.34,"tts_chars":1500,"wasted_llm_requests":1,)"
            R"("wasted_llm_tokens":40,"wasted_tts_chars":25})");
  CallUsage back{1, 2, 3, 4};
  FromJson(ToJson(usage), &back);
  EXPECT_EQ(back, usage);
  FromJson(nlohmann::json{{"stt_audio_s", "12"}, {"tts_chars", 7.9}}, &back);
  EXPECT_EQ(back, (CallUsage{0, 0, 0, 7}));  // not a number: 0; a fraction is cut off
}

}  // namespace
}  // namespace callsim::agent
