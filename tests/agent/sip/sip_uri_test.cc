#include "agent/sip/sip_uri.h"

#include <gtest/gtest.h>

#include <string>

namespace callsim::agent::sip {
namespace {

HostPort Parse(const std::string& uri) {
  std::string error;
  const std::optional<HostPort> hp = ParseSipUriHostPort(uri, &error);
  EXPECT_TRUE(hp) << uri << ": " << error;
  return hp.value_or(HostPort{"<none>", 0});
}

std::string Error(const std::string& uri) {
  std::string error;
  EXPECT_FALSE(ParseSipUriHostPort(uri, &error)) << uri;
  return error;
}

TEST(SipUri, HostAndPortWithParametersAndDefaults) {
  EXPECT_EQ(Parse("sip:agent@127.0.0.1:5080;transport=udp"), (HostPort{"127.0.0.1", 5080}));
  EXPECT_EQ(Parse("sip:agent@example.com"), (HostPort{"example.com", 5060}));
  EXPECT_EQ(Parse("<sip:x@h>"), (HostPort{"h", 5060}));
  EXPECT_EQ(Parse("\"Bob\" <sip:bob@10.0.0.2:5070;lr>;tag=9"), (HostPort{"10.0.0.2", 5070}));
  EXPECT_EQ(Parse("SIP:proxy.example.com:5062"), (HostPort{"proxy.example.com", 5062}));
  EXPECT_EQ(Parse("sip:alice:secret@10.1.1.1:6000?subject=x"), (HostPort{"10.1.1.1", 6000}));
  EXPECT_EQ(Parse("sip:agent@[::1]:5090"), (HostPort{"::1", 5090}));
  EXPECT_EQ(Parse("sip:[2001:db8::7]"), (HostPort{"2001:db8::7", 5060}));
}

TEST(SipUri, RefusesOtherSchemesBadPortsAndEmptyHostsWithAReason) {
  EXPECT_EQ(Error("sips:agent@127.0.0.1"),
            "sips: URIs need TLS, which callsim does not speak; use sip:");
  EXPECT_EQ(Error("tel:+15551234567"), "not a sip: URI: \"tel:+15551234567\"");
  EXPECT_EQ(Error("sip:agent@host:0"),
            "bad port \"0\" in \"sip:agent@host:0\" (expected 1..65535)");
  EXPECT_EQ(Error("sip:agent@host:65536"),
            "bad port \"65536\" in \"sip:agent@host:65536\" (expected 1..65535)");
  EXPECT_EQ(Error("sip:agent@host:"), "bad port \"\" in \"sip:agent@host:\" (expected 1..65535)");
  EXPECT_EQ(Error("sip:agent@host:50x"),
            "bad port \"50x\" in \"sip:agent@host:50x\" (expected 1..65535)");
  EXPECT_EQ(Error("sip:agent@"), "empty or malformed host in \"sip:agent@\"");
  EXPECT_EQ(Error("sip:agent@ho st"), "empty or malformed host in \"sip:agent@ho st\"");
  EXPECT_EQ(Error("<sip:agent@host"), "unclosed '<' in \"<sip:agent@host\"");
  EXPECT_EQ(Error("sip:[::1"), "unclosed '[' in the host of \"sip:[::1\"");
  EXPECT_EQ(Error("sip:[zz]"), "bad IPv6 reference in \"sip:[zz]\"");
}

TEST(SipUri, UserPart) {
  EXPECT_EQ(SipUriUser("sip:agent@127.0.0.1:5060"), "agent");
  EXPECT_EQ(SipUriUser("<sip:bob:pw@host>;tag=1"), "bob");
  EXPECT_EQ(SipUriUser("sip:127.0.0.1"), "");
  EXPECT_EQ(SipUriUser("tel:+1555"), "");
}

TEST(SipUri, FormatsHostPortWithIpv6InBrackets) {
  EXPECT_EQ(FormatHostPort({"127.0.0.1", 5070}), "127.0.0.1:5070");
  EXPECT_EQ(FormatHostPort({"::1", 5070}), "[::1]:5070");
}

}  // namespace
}  // namespace callsim::agent::sip
