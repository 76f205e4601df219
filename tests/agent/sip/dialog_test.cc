#include "agent/sip/dialog.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/sip/server_transaction.h"

namespace callsim::agent::sip {
namespace {

SipMessage Invite() {
  SipMessage m;
  m.method = "INVITE";
  m.request_uri = "sip:agent@127.0.0.1:5060";
  m.headers = {{"Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1"},
               {"From", "\"caller\" <sip:caller@127.0.0.1:5070>;tag=c1"},
               {"To", "<sip:agent@127.0.0.1:5060>"},
               {"Call-ID", "call-7"},
               {"CSeq", "4 INVITE"},
               {"Contact", "<sip:caller@127.0.0.1:5070>"},
               {"Record-Route", "<sip:p1@10.0.0.1;lr>, <sip:p2@10.0.0.2;lr>"}};
  return m;
}

SipMessage Ok(const SipMessage& invite) {
  SipMessage r = MakeResponse(invite, 200, "OK", "a9");
  r.headers.push_back({"Contact", "<sip:agent@127.0.0.1:5060;transport=udp>"});
  r.headers.push_back({"Record-Route", "<sip:p1@10.0.0.1;lr>, <sip:p2@10.0.0.2;lr>"});
  return r;
}

TEST(Dialog, BothEndsBuildTheSameDialogFromTheInviteAndIts2xx) {
  std::string error;
  const SipMessage invite = Invite();
  auto uac = DialogFromResponse(invite, Ok(invite), &error);
  ASSERT_TRUE(uac) << error;
  auto uas = DialogFromRequest(invite, "a9", &error);
  ASSERT_TRUE(uas) << error;
  EXPECT_EQ(uac->call_id, "call-7");
  EXPECT_EQ(uac->local_tag, "c1");
  EXPECT_EQ(uac->remote_tag, "a9");
  EXPECT_EQ(uas->local_tag, "a9");
  EXPECT_EQ(uas->remote_tag, "c1");
  EXPECT_EQ(uac->remote_target, "sip:agent@127.0.0.1:5060;transport=udp");
  EXPECT_EQ(uas->remote_target, "sip:caller@127.0.0.1:5070");
  // The caller's route set is the Record-Route reversed; the callee's in order.
  EXPECT_EQ(uac->route_set, (std::vector<std::string>{"<sip:p2@10.0.0.2;lr>", "<sip:p1@10.0.0.1;lr>"}));
  EXPECT_EQ(uas->route_set, (std::vector<std::string>{"<sip:p1@10.0.0.1;lr>", "<sip:p2@10.0.0.2;lr>"}));
}

TEST(Dialog, TheAckReusesTheInvitesCSeqAndByeTakesTheNext) {
  std::string error;
  const SipMessage invite = Invite();
  Dialog uac = *DialogFromResponse(invite, Ok(invite), &error);
  const SipMessage ack = MakeInDialogRequest(uac, "ACK", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2");
  EXPECT_EQ(*ack.Header("CSeq"), "4 ACK");
  EXPECT_EQ(ack.request_uri, "sip:agent@127.0.0.1:5060;transport=udp");
  EXPECT_EQ(*ack.Header("To"), "<sip:agent@127.0.0.1:5060>;tag=a9");
  EXPECT_EQ(ack.HeaderValues("Route").size(), 2u);
  const SipMessage bye = MakeInDialogRequest(uac, "BYE", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK3");
  EXPECT_EQ(*bye.Header("CSeq"), "5 BYE");
  ASSERT_TRUE(ParseSipMessage(SerializeSipMessage(bye)).message);
  // The callee accepts the caller's BYE once; the same CSeq again is out of order.
  Dialog uas = *DialogFromRequest(invite, "a9", &error);
  EXPECT_TRUE(AcceptInDialog(uas, ack, &error)) << error;
  EXPECT_TRUE(AcceptInDialog(uas, bye, &error)) << error;
  EXPECT_FALSE(AcceptInDialog(uas, bye, &error));
  EXPECT_EQ(error, "CSeq 5 is not above the last, 5");
}

TEST(Dialog, ACalleesByeGoesToTheCallersContactWithItsOwnCSeq) {
  std::string error;
  Dialog uas = *DialogFromRequest(Invite(), "a9", &error);
  const SipMessage bye = MakeInDialogRequest(uas, "BYE", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9");
  EXPECT_EQ(bye.request_uri, "sip:caller@127.0.0.1:5070");
  EXPECT_EQ(*bye.Header("CSeq"), "1 BYE");
  EXPECT_EQ(*bye.Header("From"), "<sip:agent@127.0.0.1:5060>;tag=a9");
  EXPECT_EQ(*bye.Header("To"), "\"caller\" <sip:caller@127.0.0.1:5070>;tag=c1");
  const SipMessage invite = Invite();
  Dialog uac = *DialogFromResponse(invite, Ok(invite), &error);
  EXPECT_TRUE(AcceptInDialog(uac, bye, &error)) << error;
}

TEST(Dialog, RequestsOfAnotherDialogAndResponsesWithoutTagsAreRefused) {
  std::string error;
  const SipMessage invite = Invite();
  SipMessage untagged = Ok(invite);
  untagged.SetHeader("To", "<sip:agent@127.0.0.1:5060>");
  EXPECT_FALSE(DialogFromResponse(invite, untagged, &error));
  EXPECT_EQ(error, "the response's To has no tag");
  Dialog uas = *DialogFromRequest(invite, "a9", &error);
  SipMessage stranger = invite;
  stranger.method = "BYE";
  stranger.SetHeader("CSeq", "9 BYE");
  stranger.SetHeader("To", "<sip:agent@127.0.0.1:5060>;tag=zz");
  EXPECT_FALSE(AcceptInDialog(uas, stranger, &error));
  EXPECT_EQ(error, "no such dialog");
  SipMessage no_contact = invite;
  no_contact.headers.erase(no_contact.headers.begin() + 5);
  EXPECT_FALSE(DialogFromRequest(no_contact, "a9", &error));
  EXPECT_EQ(error, "the INVITE has no Contact");
}

}  // namespace
}  // namespace callsim::agent::sip
