#include "agent/sip/sip_message.h"

#include <gtest/gtest.h>

#include <string>

namespace callsim::agent::sip {
namespace {

// SIPp 3.6's built-in uac scenario sends this INVITE (its SDP included), CRLF line ends.
std::string SippInvite() {
  const std::string sdp =
      "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  return "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-3045-1-0\r\n"
         "From: sipp <sip:sipp@127.0.0.1:5061>;tag=3045SIPpTag001\r\n"
         "To: service <sip:service@127.0.0.1:5060>\r\n"
         "Call-ID: 1-3045@127.0.0.1\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: sip:sipp@127.0.0.1:5061\r\n"
         "Max-Forwards: 70\r\n"
         "Subject: Performance Test\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length:   " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

TEST(SipMessage, ReadsSippsInviteToTypedParts) {
  const SipParseResult r = ParseSipMessage(SippInvite());
  ASSERT_TRUE(r.message) << r.error;
  const SipMessage& m = *r.message;
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.request_uri, "sip:service@127.0.0.1:5060");
  EXPECT_EQ(*m.Header("call-id"), "1-3045@127.0.0.1");
  EXPECT_EQ(*m.Header("content-length"), std::to_string(m.body.size()));
  EXPECT_EQ(m.body.rfind("v=0\r\n", 0), 0u);
  EXPECT_EQ(HeaderParam(*m.Header("Via"), "branch"), "z9hG4bK-3045-1-0");
  EXPECT_EQ(HeaderParam(*m.Header("From"), "tag"), "3045SIPpTag001");
  EXPECT_EQ(HeaderParam(*m.Header("To"), "tag"), std::nullopt);
  EXPECT_EQ(HeaderUri(*m.Header("To")), "sip:service@127.0.0.1:5060");
  EXPECT_EQ(HeaderUri(*m.Header("Contact")), "sip:sipp@127.0.0.1:5061");
  const std::optional<CSeq> cseq = ParseCSeq(*m.Header("CSeq"));
  ASSERT_TRUE(cseq);
  EXPECT_EQ(cseq->number, 1u);
  EXPECT_EQ(cseq->method, "INVITE");
}

TEST(SipMessage, CompactFormsFoldedLinesAndBareLineFeedsAreRead) {
  const std::string text =
      "SIP/2.0 180 Ringing\n"
      "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb\n"
      "f: <sip:a@x>;tag=1\nt: <sip:b@y>;tag=2\ni: abc\n"
      "CSeq: 7\n INVITE\nl: 0\n\n";
  const SipParseResult r = ParseSipMessage(text);
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_FALSE(r.message->is_request());
  EXPECT_EQ(r.message->status_code, 180);
  EXPECT_EQ(r.message->reason, "Ringing");
  EXPECT_EQ(*r.message->Header("Call-ID"), "abc");
  EXPECT_EQ(*r.message->Header("CSeq"), "7 INVITE");
  // Two Via values on one line are two values.
  const auto vias = r.message->HeaderValues("Via");
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(HeaderParam(vias[1], "branch"), "z9hG4bKb");
}

TEST(SipMessage, WhatItWritesItReadsBack) {
  SipMessage m = *ParseSipMessage(SippInvite()).message;
  m.SetHeader("Max-Forwards", "69");
  m.body += "a=sendrecv\r\n";
  const SipParseResult again = ParseSipMessage(SerializeSipMessage(m));
  ASSERT_TRUE(again.message) << again.error;
  EXPECT_EQ(again.message->headers.size(), m.headers.size());
  EXPECT_EQ(*again.message->Header("Max-Forwards"), "69");
  EXPECT_EQ(again.message->body, m.body);
  EXPECT_EQ(*again.message->Header("Content-Length"), std::to_string(m.body.size()));
}

TEST(SipMessage, MalformedMessagesAreRefusedWithAReason) {
  const std::string invite = SippInvite();
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {"", "no blank line after the headers"},
      {"HELLO\r\n\r\n", "bad request line: expected \"METHOD URI SIP/2.0\""},
      {"SIP/2.0 99 Low\r\n\r\n", "bad status line: expected \"SIP/2.0 CODE REASON\" with CODE in 100..699"},
      {"INVITE nocolon SIP/2.0\r\n\r\n", "bad request line: the method must be a token and the URI absolute"},
      {"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", "missing From header"},
      {"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
       "the CSeq method INVITE is not the request's OPTIONS"},
      {"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 2147483648 OPTIONS\r\n\r\n",
       "bad CSeq: expected \"NUMBER METHOD\""},
      {" Via: x\r\n\r\n", "bad request line: expected \"METHOD URI SIP/2.0\""},
      {"OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n", "bad header line (expected NAME: VALUE): \"no colon here\""},
      {invite.substr(0, invite.size() - 10), "Content-Length " + std::to_string(invite.size() - invite.find("\r\n\r\n") - 4) +
                                                 " does not match the " +
                                                 std::to_string(invite.size() - invite.find("\r\n\r\n") - 14) +
                                                 " bytes after the headers"},
      {"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\x01\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
       "header From holds a control character"},
  };
  for (const Case& c : cases) {
    const SipParseResult r = ParseSipMessage(c.text);
    EXPECT_FALSE(r.message) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

TEST(SipMessage, EveryPartIsBounded) {
  SipLimits small;
  small.max_message_bytes = 100;
  EXPECT_EQ(ParseSipMessage(SippInvite(), small).error, "the message is longer than 100 bytes");
  std::string many = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 129; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(ParseSipMessage(many + "\r\n").error, "more than 128 headers");
  const std::string long_line = "OPTIONS sip:a@b SIP/2.0\r\nX: " + std::string(9000, 'a') + "\r\n\r\n";
  EXPECT_EQ(ParseSipMessage(long_line).error, "a header line is longer than 8192 bytes");
}

TEST(SipMessage, KeepAliveLineBreaksBeforeTheStartLineAreSkipped) {
  const SipParseResult r = ParseSipMessage("\r\n\r\n" + SippInvite());
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(r.message->method, "INVITE");
}

TEST(SipMessage, HeaderParamsInsideTheUriAreTheUris) {
  EXPECT_EQ(HeaderParam("<sip:a@b;transport=udp>;tag=9", "transport"), std::nullopt);
  EXPECT_EQ(HeaderParam("<sip:a@b;transport=udp>;tag=9", "tag"), "9");
  EXPECT_EQ(HeaderParam("SIP/2.0/UDP h;rport;branch=z9", "rport"), "");
  EXPECT_EQ(FullHeaderName("I"), "Call-ID");
  EXPECT_EQ(FullHeaderName("Via"), "Via");
}

}  // namespace
}  // namespace callsim::agent::sip
