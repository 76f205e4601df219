#include "agent/server/twilio_messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace callsim::agent::twilio {
namespace {

template <typename T>
T Get(const ParseResult& r) {
  EXPECT_TRUE(r.message) << r.error;
  if (!r.message || !std::holds_alternative<T>(*r.message)) {
    ADD_FAILURE() << "wrong kind";
    return T{};
  }
  return std::get<T>(*r.message);
}

// The shapes of Twilio's documentation examples: numbers as strings, ids in two places.
TEST(TwilioMessages, ReadsWhatTwilioSends) {
  EXPECT_EQ(Get<Connected>(Parse(R"({"event":"connected","protocol":"Call","version":"1.0.0"})"))
                .version,
            "1.0.0");
  const Start s = Get<Start>(Parse(R"({"event":"start","sequenceNumber":"1",
      "start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],
      "customParameters":{"scenario":"barge_in","caller":"7"},
      "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},
      "streamSid":"MZ1"})"));
  EXPECT_EQ(s.sequence_number, 1);
  EXPECT_EQ(s.stream_sid, "MZ1");
  EXPECT_EQ(s.call_sid, "CA1");
  EXPECT_EQ(s.account_sid, "AC1");
  EXPECT_EQ(s.media_format.sample_rate, 8000);
  EXPECT_EQ(s.custom_parameters.at("caller"), "7");
  EXPECT_EQ(s.tracks, std::vector<std::string>{"inbound"});

  const Media m = Get<Media>(Parse(R"({"event":"media","sequenceNumber":"3",
      "media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/////w=="},
      "streamSid":"MZ1"})"));
  EXPECT_EQ(m.sequence_number, 3);
  EXPECT_EQ(m.chunk, 1);
  EXPECT_EQ(m.timestamp_ms, 5);
  EXPECT_EQ(m.payload, std::string(4, '\xff'));

  EXPECT_EQ(Get<Dtmf>(Parse(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5",
      "dtmf":{"track":"inbound_track","digit":"#"}})")).digit, '#');
  EXPECT_EQ(Get<Mark>(Parse(R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1",
      "mark":{"name":"reply-3"}})")).name, "reply-3");
  EXPECT_EQ(Get<Stop>(Parse(R"({"event":"stop","sequenceNumber":"5","streamSid":"MZ1",
      "stop":{"accountSid":"AC1","callSid":"CA1"}})")).call_sid, "CA1");
  EXPECT_EQ(Get<Clear>(Parse(R"({"event":"clear","streamSid":"MZ1"})")).stream_sid, "MZ1");
}

TEST(TwilioMessages, WritesWhatTwilioReads) {
  Media out;
  out.stream_sid = "MZ1";
  out.payload = std::string(3, '\x7f');
  EXPECT_EQ(Serialize(out, /*to_twilio=*/true),
            R"({"event":"media","media":{"payload":"f39/"},"streamSid":"MZ1"})");
  EXPECT_EQ(Serialize(Mark{0, "MZ1", "seg-1"}, true),
            R"({"event":"mark","mark":{"name":"seg-1"},"streamSid":"MZ1"})");
  EXPECT_EQ(Serialize(Clear{"MZ1"}, true), R"({"event":"clear","streamSid":"MZ1"})");
  // From Twilio's side, numbers are strings.
  Media in;
  in.sequence_number = 7;
  in.chunk = 6;
  in.timestamp_ms = 120;
  const nlohmann::json j = nlohmann::json::parse(Serialize(in, false));
  EXPECT_EQ(j["sequenceNumber"], "7");
  EXPECT_EQ(j["media"]["chunk"], "6");
  EXPECT_EQ(j["media"]["timestamp"], "120");
}

TEST(TwilioMessages, EveryKindRoundTrips) {
  Start s;
  s.sequence_number = 1;
  s.stream_sid = "MZ9";
  s.call_sid = "CA9";
  s.custom_parameters = {{"a", "1"}, {"b", "two"}};
  const Start back = Get<Start>(Parse(Serialize(s, false)));
  EXPECT_EQ(back.custom_parameters, s.custom_parameters);
  EXPECT_EQ(back.call_sid, "CA9");
  Dtmf d;
  d.digit = '*';
  d.stream_sid = "MZ9";
  EXPECT_EQ(Get<Dtmf>(Parse(Serialize(d, false))).digit, '*');
  Stop stop{9, "MZ9", "AC9", "CA9"};
  EXPECT_EQ(Get<Stop>(Parse(Serialize(stop, false))).sequence_number, 9);
  for (const Message& m : {Message{Connected{}}, Message{Clear{"x"}}, Message{Mark{1, "x", "n"}}}) {
    const ParseResult r = Parse(Serialize(m, false));
    ASSERT_TRUE(r.message) << r.error;
    EXPECT_EQ(r.message->index(), m.index());
  }
}

TEST(TwilioMessages, RefusesWithTheFieldThatIsWrong) {
  auto error = [](std::string_view text) { return Parse(text).error; };
  EXPECT_EQ(error("not json"), "not JSON");
  EXPECT_EQ(error("[1]"), "not a JSON object");
  EXPECT_EQ(error(R"({"sequenceNumber":"1"})"), "event: missing");
  EXPECT_EQ(error(R"({"event":"dance"})"), "event: unknown kind");
  EXPECT_EQ(error(R"({"event":"media","streamSid":"MZ1"})"), "media: missing");
  EXPECT_EQ(error(R"({"event":"media","media":{"payload":"abc"}})"), "media.payload: not base64");
  EXPECT_EQ(error(R"({"event":"media","media":{"payload":7}})"), "media.payload: not a string");
  EXPECT_EQ(error(R"({"event":"media","media":{"chunk":"1x","payload":""}})"),
            "media.chunk: not a whole number");
  EXPECT_EQ(error(R"({"event":"dtmf","dtmf":{"digit":"12"}})"),
            "dtmf.digit: not one of 0-9, *, #, A-D");
  EXPECT_EQ(error(R"({"event":"start","start":{"streamSid":"MZ1"}})"), "start.callSid: missing");
  EXPECT_EQ(error(R"({"event":"start","start":{"streamSid":"M","callSid":"C",
      "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"0"}}})"),
            "start.mediaFormat.sampleRate: outside 1 to 48000");
  EXPECT_EQ(error(R"({"event":"mark","mark":{}})"), "mark.name: missing");
  // Ranges are checked before narrowing: 2^32 + 8000 is not 8000.
  EXPECT_EQ(error(R"({"event":"start","start":{"streamSid":"M","callSid":"C",
      "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"4294975296"}}})"),
            "start.mediaFormat.sampleRate: outside 1 to 48000");
  EXPECT_EQ(error(R"({"event":"start","start":{"streamSid":"M","callSid":"C",
      "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":4294967297}}})"),
            "start.mediaFormat.channels: outside 1 to 2");
  EXPECT_EQ(error(R"({"event":"start","start":{"streamSid":"M","callSid":"C",
      "customParameters":{"a":5}}})"),
            "start.customParameters.a: not a string");
  EXPECT_EQ(error(R"({"event":"clear","streamSid":5})"), "streamSid: not a string");
}

TEST(TwilioMessages, CustomParameterKeysAreTakenWhole) {
  const Start s = Get<Start>(Parse(
      R"({"event":"start","start":{"streamSid":"M","callSid":"C",
          "customParameters":{"a":"1","a\u0000b":"2"}}})"));
  ASSERT_EQ(s.custom_parameters.size(), 2u);
  EXPECT_EQ(s.custom_parameters.at("a"), "1");
  EXPECT_EQ(s.custom_parameters.at(std::string("a\0b", 3)), "2");
}

TEST(TwilioMessages, AbsentOptionalFieldsKeepTheirDefaults) {
  EXPECT_EQ(Get<Media>(Parse(R"({"event":"media","media":{"payload":""}})")).track, "inbound");
  EXPECT_EQ(Get<Dtmf>(Parse(R"({"event":"dtmf","dtmf":{"digit":"1"}})")).track, "inbound_track");
  EXPECT_EQ(Get<Connected>(Parse(R"({"event":"connected"})")).protocol, "Call");
}

TEST(TwilioMessages, BoundsHold) {
  Limits small;
  small.max_message_bytes = 100;
  EXPECT_EQ(Parse(std::string(101, ' '), small).error, "message longer than 100 bytes");
  Limits tiny_audio;
  tiny_audio.max_payload_bytes = 3;
  EXPECT_TRUE(Parse(R"({"event":"media","media":{"payload":"/////w=="}})", Limits{}).message);
  EXPECT_EQ(Parse(R"({"event":"media","media":{"payload":"/////w=="}})", tiny_audio).error,
            "media.payload: more audio than the limit in one message");
  std::string params;
  for (int i = 0; i < 33; ++i) {
    params += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  }
  const std::string start =
      R"({"event":"start","start":{"streamSid":"M","callSid":"C","customParameters":{)";
  EXPECT_EQ(Parse(start + params + "}}}").error,
            "start.customParameters: more entries than the limit");
  EXPECT_EQ(Parse(R"({"event":"mark","mark":{"name":")" + std::string(257, 'n') + "\"}}").error,
            "mark.name: longer than the limit");
}

}  // namespace
}  // namespace callsim::agent::twilio
