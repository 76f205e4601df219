#include "agent/sip/sdp.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/server/base64.h"

namespace callsim::agent::sip {
namespace {

const std::string kKey(30, '\x07');

// An offer as a softphone writes one: Opus first, PCMA we do not speak, PCMU, DTMF at 8 kHz.
const char* kOffer =
    "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 8 0 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=ptime:20\r\na=sendrecv\r\n";

TEST(Sdp, ParsesAnOfferWithStaticAndDynamicFormats) {
  const SdpParseResult r = ParseSdp(kOffer);
  ASSERT_TRUE(r.description) << r.error;
  const SessionDescription& d = *r.description;
  EXPECT_EQ(d.address, "192.0.2.1");
  ASSERT_EQ(d.audio.size(), 1u);
  const SdpMedia& m = d.audio[0];
  EXPECT_EQ(m.port, 49170);
  EXPECT_EQ(m.protocol, "RTP/AVP");
  ASSERT_EQ(m.formats.size(), 3u);
  EXPECT_EQ(m.formats[0].encoding, "PCMA");
  EXPECT_EQ(m.formats[1].encoding, "PCMU");  // static payload type 0, no rtpmap needed
  EXPECT_EQ(m.formats[1].clock_rate_hz, 8000u);
  EXPECT_EQ(m.formats[2].encoding, "telephone-event");
  EXPECT_EQ(m.formats[2].fmtp, "0-15");
  EXPECT_EQ(m.ptime_ms, 20);
}

TEST(Sdp, AnswerPicksTheFirstCommonCodecAndItsTelephoneEvent) {
  const SessionDescription offer = *ParseSdp(kOffer).description;
  SdpCapabilities caps;
  caps.codecs = {CodecKind::kOpus, CodecKind::kPcmu};
  SessionDescription answer;
  NegotiatedStream n;
  std::string error;
  ASSERT_TRUE(AnswerOffer(offer, caps, "127.0.0.1", 40000, 7, &answer, &n, &error)) << error;
  EXPECT_EQ(n.codec, CodecKind::kPcmu);
  EXPECT_EQ(n.payload_type, 0);
  EXPECT_EQ(n.dtmf_payload_type, 101);
  EXPECT_EQ(n.remote_address, "192.0.2.1");
  EXPECT_EQ(n.remote_port, 49170);
  EXPECT_FALSE(n.srtp);
  const std::string text = SerializeSdp(answer);
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:0 PCMU/8000\r\n"), std::string::npos);
  // The answer reads back as the offerer sees it.
  NegotiatedStream seen;
  ASSERT_TRUE(ReadAnswer(offer, *ParseSdp(text).description, &seen, &error)) << error;
  EXPECT_EQ(seen.codec, CodecKind::kPcmu);
  EXPECT_EQ(seen.remote_port, 40000);
  EXPECT_EQ(seen.dtmf_payload_type, 101);
}

TEST(Sdp, NoCommonCodecSaysWhatWasOffered) {
  SessionDescription offer = *ParseSdp(kOffer).description;
  offer.audio[0].formats.erase(offer.audio[0].formats.begin() + 1);  // no PCMU
  SessionDescription answer;
  NegotiatedStream n;
  std::string error;
  EXPECT_FALSE(AnswerOffer(offer, SdpCapabilities{}, "127.0.0.1", 4000, 1, &answer, &n, &error));
  EXPECT_EQ(error, "no common codec: offered PCMA/8000, telephone-event/8000");
}

TEST(Sdp, SrtpOfferAndAnswerExchangeSdesKeys) {
  SdpCapabilities caller;
  caller.codecs = {CodecKind::kPcmu, CodecKind::kL16};
  caller.srtp_key_salt = kKey;
  const SessionDescription offer = MakeOffer(caller, "127.0.0.1", 30000, 42);
  const std::string text = SerializeSdp(offer);
  EXPECT_NE(text.find("m=audio 30000 RTP/SAVP 0 96 101 102\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Base64Encode(kKey) + "\r\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:102 telephone-event/16000\r\n"), std::string::npos) << text;
  SdpCapabilities agent;
  agent.srtp_key_salt = std::string(30, '\x09');
  SessionDescription answer;
  NegotiatedStream n;
  std::string error;
  ASSERT_TRUE(AnswerOffer(*ParseSdp(text).description, agent, "127.0.0.1", 31000, 9, &answer, &n,
                          &error)) << error;
  EXPECT_TRUE(n.srtp);
  EXPECT_EQ(n.remote_key_salt, kKey);
  EXPECT_EQ(n.local_key_salt, agent.srtp_key_salt);
  NegotiatedStream seen;
  ASSERT_TRUE(ReadAnswer(offer, *ParseSdp(SerializeSdp(answer)).description, &seen, &error)) << error;
  EXPECT_TRUE(seen.srtp);
  EXPECT_EQ(seen.remote_key_salt, agent.srtp_key_salt);
  EXPECT_EQ(seen.local_key_salt, kKey);
  // SRTP on one side only is refused, either way round.
  EXPECT_FALSE(AnswerOffer(*ParseSdp(text).description, SdpCapabilities{}, "h", 1, 1, &answer, &n,
                           &error));
  EXPECT_EQ(error, "the offer wants SRTP (RTP/SAVP) and this side has no key");
  EXPECT_FALSE(AnswerOffer(*ParseSdp(kOffer).description, agent, "h", 1, 1, &answer, &n, &error));
  EXPECT_EQ(error, "this side requires SRTP and the offer is RTP/AVP");
}

TEST(Sdp, RtcpMuxIsAlwaysOfferedAndAnsweredOnlyWhenOffered) {
  const SessionDescription offer = MakeOffer(SdpCapabilities{}, "127.0.0.1", 30000, 1);
  EXPECT_TRUE(offer.audio[0].rtcp_mux);
  const std::string text = SerializeSdp(offer);
  EXPECT_NE(text.find("a=sendrecv\r\na=rtcp-mux\r\n"), std::string::npos) << text;
  const SessionDescription parsed = *ParseSdp(text).description;
  EXPECT_TRUE(parsed.audio[0].rtcp_mux);
  // Offered: the answer carries it, and both sides read it as agreed.
  SessionDescription answer;
  NegotiatedStream n;
  std::string error;
  ASSERT_TRUE(AnswerOffer(parsed, SdpCapabilities{}, "127.0.0.1", 31000, 2, &answer, &n, &error))
      << error;
  EXPECT_TRUE(n.rtcp_mux);
  const std::string answer_text = SerializeSdp(answer);
  EXPECT_NE(answer_text.find("a=rtcp-mux\r\n"), std::string::npos) << answer_text;
  NegotiatedStream seen;
  ASSERT_TRUE(ReadAnswer(offer, *ParseSdp(answer_text).description, &seen, &error)) << error;
  EXPECT_TRUE(seen.rtcp_mux);
  // Not offered (kOffer has none): not answered, not agreed.
  ASSERT_TRUE(AnswerOffer(*ParseSdp(kOffer).description, SdpCapabilities{}, "127.0.0.1", 31000, 3,
                          &answer, &n, &error)) << error;
  EXPECT_FALSE(n.rtcp_mux);
  EXPECT_EQ(SerializeSdp(answer).find("rtcp-mux"), std::string::npos);
  // An answer without it (a peer that keeps RTCP on port + 1): not agreed.
  SessionDescription plain_answer = *ParseSdp(answer_text).description;
  plain_answer.audio[0].rtcp_mux = false;
  ASSERT_TRUE(ReadAnswer(offer, plain_answer, &seen, &error)) << error;
  EXPECT_FALSE(seen.rtcp_mux);
}

TEST(Sdp, MalformedSdpIsRefusedWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty SDP"},
      {"o=x\r\n", "the SDP does not start with v=0"},
      {"v=0\r\nthis is not sdp\r\n", "bad SDP line (expected x=value): \"this is not sdp\""},
      {"v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "bad m= line: the port is not a number in 0..65535"},
      {"v=0\r\nm=audio 1 RTP/AVP 200\r\n", "bad m= line: format \"200\" is not an RTP payload type"},
      {"v=0\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n",
       "bad a=rtpmap: expected \"PT ENCODING/RATE[/CHANNELS]\""},
      {"v=0\r\nm=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!\r\n",
       "bad a=crypto: the inline key is not base64"},
      {"v=0\r\nm=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n",
       "bad a=crypto: AES_CM_128_HMAC_SHA1_80 needs a 30-byte key and salt, got 3"},
      {"v=0\r\nm=audio 1 RTP/AVP 0\r\na=ptime:0\r\n", "bad a=ptime: expected milliseconds in 1..1000"},
      {"v=0\r\nc=IN X 1\r\n", "bad c= line: expected \"IN IP4 ADDRESS\""},
      {std::string(kMaxSdpBytes + 1, 'v'), "the SDP is longer than 16384 bytes"},
  };
  for (const auto& [text, error] : cases) {
    const SdpParseResult r = ParseSdp(text);
    EXPECT_FALSE(r.description) << text;
    EXPECT_EQ(r.error, error) << text.substr(0, 80);
  }
}

TEST(Sdp, OtherMediaAndUnknownAttributesAreLeftOut) {
  const SdpParseResult r = ParseSdp(
      "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n"
      "m=audio 5002 RTP/AVP 0\r\na=x-unknown:1\r\na=recvonly\r\nc=IN IP4 10.0.0.2\r\n");
  ASSERT_TRUE(r.description) << r.error;
  ASSERT_EQ(r.description->audio.size(), 1u);
  EXPECT_EQ(r.description->audio[0].port, 5002);
  EXPECT_EQ(r.description->audio[0].direction, "recvonly");
  EXPECT_EQ(r.description->audio[0].address, "10.0.0.2");
  EXPECT_EQ(r.description->address, "10.0.0.1");
}

}  // namespace
}  // namespace callsim::agent::sip
