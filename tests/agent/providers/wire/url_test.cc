#include "agent/providers/wire/url.h"

#include <gtest/gtest.h>

#include "agent/providers/wire/http_error.h"

namespace callsim::agent::wire {
namespace {

Url Parse(std::string_view text) {
  Url url;
  std::string error;
  EXPECT_TRUE(ParseUrl(text, &url, &error)) << text << ": " << error;
  return url;
}

std::string Refusal(std::string_view text) {
  Url url;
  std::string error;
  EXPECT_FALSE(ParseUrl(text, &url, &error)) << text;
  return error;
}

TEST(WireUrl, SchemesPortsAndTargets) {
  Url url = Parse("https://api.openai.com/v1");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "api.openai.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/v1");
  EXPECT_TRUE(url.tls());
  EXPECT_EQ(url.HostHeader(), "api.openai.com");
  EXPECT_EQ(url.Origin(), "https://api.openai.com:443");

  url = Parse("WSS://API.Deepgram.com");
  EXPECT_EQ(url.scheme, "wss");
  EXPECT_EQ(url.host, "api.deepgram.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/");
  EXPECT_TRUE(url.websocket());

  url = Parse("http://127.0.0.1:8080/v1?x=1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/v1?x=1");
  EXPECT_EQ(url.HostHeader(), "127.0.0.1:8080");
  EXPECT_EQ(Parse("ws://localhost").port, 80);
  EXPECT_EQ(Parse("http://h:443").HostHeader(), "h:443");  // not http's default

  url = Parse("ws://[::1]:9000/listen");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.Authority(), "[::1]:9000");
  EXPECT_EQ(url.ToString(), "ws://[::1]:9000/listen");
  EXPECT_EQ(Parse("http://h?q").target, "/?q");
}

TEST(WireUrl, RefusedWithAClearReason) {
  EXPECT_EQ(Refusal(""), "empty URL");
  EXPECT_EQ(Refusal("api.openai.com/v1"),
            "URL has no scheme (expected http://, https://, ws:// or wss://)");
  EXPECT_EQ(Refusal("ftp://h/x"),
            "unsupported scheme \"ftp\" (expected http://, https://, ws:// or wss://)");
  EXPECT_EQ(Refusal("http://user:pw@h/"),
            "URL has credentials (user@host); send them in a header instead");
  EXPECT_EQ(Refusal("http://h:0/"), "bad port \"0\" (expected 1-65535)");
  EXPECT_EQ(Refusal("http://h:x/"), "bad port \"x\" (expected 1-65535)");
  EXPECT_EQ(Refusal("http:///v1"), "URL has an empty host");
  EXPECT_EQ(Refusal("http://h/a b"), "URL contains a space");
  EXPECT_EQ(Refusal("http://h/#top"), "URL has a fragment (#...)");
  EXPECT_EQ(Refusal("http://[::1/"), "unclosed [ in the host");
  EXPECT_EQ(Refusal("http://h%41/"), "bad character in host \"h%41\"");
}

TEST(WireUrl, HelpersForTargetsAndHeaders) {
  EXPECT_EQ(JoinPath("/v1", "/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(JoinPath("/v1/", "chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(JoinPath("/", "/v1/listen"), "/v1/listen");
  EXPECT_EQ(UrlEncode("nova-2 general/é"), "nova-2%20general%2F%C3%A9");
  EXPECT_EQ(RedactUrl("wss://u:p@h/v1/listen?model=x&token=abc&API_KEY=k"),
            "wss://h/v1/listen?model=x&token=***&API_KEY=***");
  EXPECT_EQ(HeaderProblem({{"X-Callsim-Seed", "42"}}), "");
  EXPECT_EQ(HeaderProblem({{"X Bad", "1"}}),
            "bad header name \"X Bad\" (expected letters, digits and !#$%&'*+-.^_`|~)");
  EXPECT_EQ(HeaderProblem({{"X-Inject", "a\r\nEvil: 1"}}),
            "header \"X-Inject\" has a control character in its value");
  EXPECT_EQ(FindHeader({{"Retry-After", "2"}}, "retry-after"), "2");
}

TEST(WireHttpError, MessagesNameStatusProviderWordsAndRetry) {
  EXPECT_EQ(HttpErrorMessage(429, "Too Many Requests", {{"Retry-After", "1.5"}},
                             R"({"error":{"message":"rate limited","type":"requests"}})"),
            "HTTP 429: rate limited (retry after 1.5 s)");
  EXPECT_EQ(HttpErrorMessage(429, "", {{"retry-after-ms", "250"}, {"Retry-After", "1"}}, ""),
            "HTTP 429: no message (retry after 0.25 s)");
  EXPECT_EQ(HttpErrorMessage(503, "Service Unavailable",
                             {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, ""),
            "HTTP 503: Service Unavailable (retry after Wed, 21 Oct 2015 07:28:00 GMT)");
  EXPECT_EQ(HttpErrorMessage(401, "Unauthorized", {},
                             R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."})"),
            "HTTP 401: Invalid credentials.");
  EXPECT_EQ(HttpErrorMessage(500, "Internal Server Error", {}, "<html>\n  oops\n</html>"),
            "HTTP 500: <html> oops </html>");
  EXPECT_EQ(ErrorMessageFromBody(R"({"error":"plain string"})"), "plain string");
  EXPECT_EQ(ErrorMessageFromBody(std::string(300, 'x')).size(), 203u);
  EXPECT_EQ(FormatSeconds(2), "2");
  EXPECT_EQ(FormatSeconds(0.0005), "0.001");
}

}  // namespace
}  // namespace callsim::agent::wire
