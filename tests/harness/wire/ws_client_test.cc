#include "harness/wire/ws_client.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// URLs

WireUrl Parsed(std::string_view text) {
  WireUrl url;
  std::string error;
  EXPECT_TRUE(ParseWireUrl(text, &url, &error)) << text << ": " << error;
  return url;
}

std::string ParseError(std::string_view text) {
  WireUrl url;
  std::string error;
  EXPECT_FALSE(ParseWireUrl(text, &url, &error)) << text;
  return error;
}

TEST(WireUrl, ParsesSchemeHostPortAndTarget) {
  WireUrl url = Parsed("ws://127.0.0.1:8080/twilio?token=abc");
  EXPECT_EQ(url.scheme, "ws");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/twilio?token=abc");

  url = Parsed("http://agent.local");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "agent.local");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.target, "/");

  url = Parsed("WS://[::1]:65535?x=1");
  EXPECT_EQ(url.scheme, "ws");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 65535);
  EXPECT_EQ(url.target, "/?x=1");

  EXPECT_EQ(Parsed("ws://my_agent-1:1/").host, "my_agent-1");
  EXPECT_EQ(Parsed("ws://[::1]/a").port, 80);
}

TEST(WireUrl, RefusesWithTheReason) {
  const std::string tls = "TLS is not supported; use ws:// (or http://) to a local proxy";
  const std::pair<std::string_view, std::string> cases[] = {
      {"", "empty URL"},
      {"wss://agent/twilio", tls},
      {"https://agent/v1/token", tls},
      {"ftp://agent/", "unsupported scheme \"ftp\" (expected ws:// or http://)"},
      {"agent:8080/twilio", "URL has no scheme (expected ws:// or http://)"},
      {"ws://user:pw@agent/", "URL has credentials (user@host); send them in a header instead"},
      {"ws://agent/a b", "URL contains a space"},
      {"ws://agent/\r\nX: y", "URL contains a control character"},
      {std::string_view("ws://agent/\0", 12), "URL contains a control character"},
      {"ws:///twilio", "URL has an empty host"},
      {"ws://:80/", "URL has an empty host"},
      {"ws://[]:80/", "URL has an empty host"},
      {"ws://agent:0/", "bad port \"0\" (expected 1-65535)"},
      {"ws://agent:65536/", "bad port \"65536\" (expected 1-65535)"},
      {"ws://agent:/", "bad port \"\" (expected 1-65535)"},
      {"ws://agent:80a/", "bad port \"80a\" (expected 1-65535)"},
      {"ws://agent:-1/", "bad port \"-1\" (expected 1-65535)"},
      {"ws://[::1/", "unclosed [ in the host"},
      {"ws://[::1]x/", "unexpected text after the IPv6 address"},
      {"ws://[::g]/", "bad IPv6 address \"::g\""},
      {"ws://ag$nt/", "bad character in host \"ag$nt\""},
      {"ws://agent/twilio#part", "URL has a fragment (#...)"},
  };
  for (const auto& [url, error] : cases) EXPECT_EQ(ParseError(url), error) << url;
}

TEST(WireUrl, RedactsCredentials) {
  EXPECT_EQ(RedactUrl("ws://h/t?token=abc&x=1&API_KEY=k&Password=p&apikey=z"),
            "ws://h/t?token=***&x=1&API_KEY=***&Password=***&apikey=***");
  EXPECT_EQ(RedactUrl("ws://h/t?key=1&secret=2&auth=3&access_token=4"),
            "ws://h/t?key=***&secret=***&auth=***&access_token=***");
  EXPECT_EQ(RedactUrl("ws://user:pw@h:1/t?token=a#frag"), "ws://h:1/t?token=***#frag");
  // Keys that only resemble a secret, and a key without a value, stay.
  EXPECT_EQ(RedactUrl("ws://h/t?tokens=1&monkey=2&token"), "ws://h/t?tokens=1&monkey=2&token");
  EXPECT_EQ(RedactUrl("http://h"), "http://h");
}

// ---------------------------------------------------------------------------------------------
// In-test servers

// Serves one connection on 127.0.0.1 (an ephemeral port) with blocking Beast calls on its own
// thread. A session ends when its socket fails (the client went away) or, for one that waits on
// `released`, when the server is destroyed. The destructor releases, connects once itself in case
// no client ever came (so accept() returns), and joins. Declare the server before the client's
// io_context, so the client is gone first.
class OneShotServer {
 public:
  using Session = std::function<void(tcp::socket socket, std::shared_future<void> released)>;

  explicit OneShotServer(Session session)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        port_(acceptor_.local_endpoint().port()),
        released_(release_.get_future().share()),
        thread_([this, session = std::move(session)] { Serve(session); }) {}

  ~OneShotServer() {
    release_.set_value();
    {
      tcp::socket poke(io_);  // closed again before the join: a session reading it ends
      boost::system::error_code ignored;
      poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
    }
    thread_.join();
  }

  uint16_t port() const { return port_; }

 private:
  void Serve(const Session& session) {
    try {
      tcp::socket socket(io_);
      acceptor_.accept(socket);
      session(std::move(socket), released_);
    } catch (const std::exception&) {  // the client went away: the session is over
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_;
  std::promise<void> release_;
  std::shared_future<void> released_;
  std::thread thread_;
};

using ServerWs = websocket::stream<tcp::socket>;

// Reads the upgrade request, accepts it and returns it.
http::request<http::string_body> AcceptUpgrade(ServerWs& ws) {
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::read(ws.next_layer(), buffer, request);
  ws.accept(request);
  return request;
}

// Reads until the client closes or goes away (a server that never answers).
void ReadUntilGone(tcp::socket& socket) {
  char byte;
  boost::system::error_code ec;
  while (!ec) socket.read_some(asio::buffer(&byte, 1), ec);
}

// Echoes every message with its type; when the client closes, hands over what it received.
void EchoSession(tcp::socket socket, std::promise<std::string>* authorization,
                 std::promise<std::vector<std::string>>* received) {
  ServerWs ws(std::move(socket));
  authorization->set_value(std::string(AcceptUpgrade(ws)[http::field::authorization]));
  std::vector<std::string> messages;
  boost::system::error_code ec;
  while (!ec) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec) break;
    messages.push_back(beast::buffers_to_string(buffer.data()));
    ws.text(ws.got_text());
    ws.write(buffer.data(), ec);
  }
  received->set_value(std::move(messages));
}

// ---------------------------------------------------------------------------------------------
// The client, run on the test thread

// What the client reported, callback by callback.
struct Events {
  std::optional<std::string> opened;  // on_open's error ("" on success)
  std::vector<std::string> texts;
  std::optional<std::string> closed;
  int closed_calls = 0;
};

WsClientConfig ConfigFor(uint16_t port) {
  WsClientConfig config;
  config.url = WireUrl{"ws", "127.0.0.1", port, "/twilio"};
  config.connect_timeout_ms = 2000;
  return config;
}

std::shared_ptr<WsClient> StartClient(asio::io_context& io, WsClientConfig config, Events* events) {
  auto client = WsClient::Create(io, std::move(config));
  client->Connect([events](const std::string& error) { events->opened = error; },
                  [events](std::string_view text) { events->texts.emplace_back(text); },
                  [events](const std::string& reason) {
                    events->closed = reason;
                    ++events->closed_calls;
                  });
  return client;
}

// Runs `io` until `done` or 3 s; returns done().
bool RunUntil(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  return done();
}

TEST(WsClient, EchoesInOrderSendsHeadersAndClosesAfterTheQueue) {
  std::promise<std::string> authorization;
  std::promise<std::vector<std::string>> received;
  OneShotServer server([&](tcp::socket socket, std::shared_future<void>) {
    EchoSession(std::move(socket), &authorization, &received);
  });
  asio::io_context io;
  WsClientConfig config = ConfigFor(server.port());
  config.headers = {{"Authorization", "Bearer t0ken"}};
  Events events;
  auto client = StartClient(io, config, &events);
  EXPECT_FALSE(client->Send("too early"));  // not open yet
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  ASSERT_EQ(*events.opened, "");
  auto auth = authorization.get_future();
  ASSERT_EQ(auth.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(auth.get(), "Bearer t0ken");

  const std::vector<std::string> sent = {"m0", "m1", "m2", "m3", "m4"};
  for (const std::string& text : sent) EXPECT_TRUE(client->Send(text));
  ASSERT_TRUE(RunUntil(io, [&] { return events.texts.size() == sent.size(); }));
  EXPECT_EQ(events.texts, sent);

  // Close() sends what is queued first, and on_closed never runs inside it.
  EXPECT_TRUE(client->Send("last"));
  client->Close();
  EXPECT_FALSE(events.closed.has_value());
  EXPECT_FALSE(client->Send("after close"));
  ASSERT_TRUE(RunUntil(io, [&] { return events.closed.has_value(); }));
  EXPECT_EQ(*events.closed, "closed");
  auto got = received.get_future();
  ASSERT_EQ(got.wait_for(2s), std::future_status::ready);
  std::vector<std::string> expected = sent;
  expected.push_back("last");
  EXPECT_EQ(got.get(), expected);
  io.run_for(20ms);
  EXPECT_EQ(events.closed_calls, 1);
}

TEST(WsClient, ConnectToAClosedPortFailsThroughOnOpen) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  asio::io_context io;
  Events events;
  StartClient(io, ConfigFor(port), &events);  // the pending operations keep it alive
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  EXPECT_EQ(*events.opened, "connect: Connection refused");
  io.run_for(20ms);
  EXPECT_FALSE(events.closed.has_value());  // a failed open calls only on_open
}

TEST(WsClient, TimesOutWhenTheUpgradeIsNeverAnswered) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) { ReadUntilGone(socket); });
  asio::io_context io;
  WsClientConfig config = ConfigFor(server.port());
  config.connect_timeout_ms = 300;
  Events events;
  const auto start = std::chrono::steady_clock::now();
  auto client = StartClient(io, config, &events);
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(*events.opened, "connect timed out after 300 ms");
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_FALSE(events.closed.has_value());
}

TEST(WsClient, ADeclinedUpgradeSaysTheStatus) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request);
    http::response<http::string_body> response{http::status::unauthorized, 11};
    response.prepare_payload();
    http::write(socket, response);
    ReadUntilGone(socket);
  });
  asio::io_context io;
  Events events;
  auto client = StartClient(io, ConfigFor(server.port()), &events);
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  EXPECT_EQ(*events.opened, "upgrade declined: HTTP 401");
}

TEST(WsClient, CloseWhileConnectingEndsTheOpen) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) { ReadUntilGone(socket); });
  asio::io_context io;
  Events events;
  auto client = StartClient(io, ConfigFor(server.port()), &events);
  client->Close();
  EXPECT_FALSE(events.opened.has_value());  // not from inside Close()
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  EXPECT_EQ(*events.opened, "closed before the connection opened");
}

TEST(WsClient, AMessageOverTheLimitClosesTheConnection) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) {
    ServerWs ws(std::move(socket));
    AcceptUpgrade(ws);
    ws.write(asio::buffer(std::string(1024, 'a')));
    ws.write(asio::buffer(std::string(1025, 'b')));
    beast::flat_buffer buffer;
    ws.read(buffer);  // the client's close frame
  });
  asio::io_context io;
  WsClientConfig config = ConfigFor(server.port());
  config.max_message_bytes = 1024;
  Events events;
  auto client = StartClient(io, config, &events);
  ASSERT_TRUE(RunUntil(io, [&] { return events.closed.has_value(); }));
  EXPECT_EQ(*events.opened, "");
  EXPECT_EQ(events.texts, std::vector<std::string>{std::string(1024, 'a')});
  EXPECT_EQ(*events.closed, "message too big");
}

TEST(WsClient, BinaryMessagesAreIgnoredAndCounted) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) {
    ServerWs ws(std::move(socket));
    AcceptUpgrade(ws);
    ws.binary(true);
    ws.write(asio::buffer(std::string("\x01\x02")));
    ws.write(asio::buffer(std::string("\x03")));
    ws.text(true);
    ws.write(asio::buffer(std::string("text")));
    beast::flat_buffer buffer;
    ws.read(buffer);  // the client's close frame
  });
  asio::io_context io;
  Events events;
  auto client = StartClient(io, ConfigFor(server.port()), &events);
  ASSERT_TRUE(RunUntil(io, [&] { return !events.texts.empty(); }));
  EXPECT_EQ(events.texts, std::vector<std::string>{"text"});
  EXPECT_EQ(client->binary_ignored(), 2u);
  client->Close();
  ASSERT_TRUE(RunUntil(io, [&] { return events.closed.has_value(); }));
  EXPECT_EQ(*events.closed, "closed");
}

TEST(WsClient, TheQueueIsBoundedAndCloseIsBoundedWhenThePeerStopsReading) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void> released) {
    ServerWs ws(std::move(socket));
    AcceptUpgrade(ws);
    released.wait_for(5s);  // never reads
  });
  asio::io_context io;
  WsClientConfig config = ConfigFor(server.port());
  config.max_outbound_messages = 4;
  config.connect_timeout_ms = 300;
  Events events;
  auto client = StartClient(io, config, &events);
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  ASSERT_EQ(*events.opened, "");
  // 1 MiB messages fill the socket buffers, then the queue.
  int accepted = 0;
  while (accepted < 64 && client->Send(std::string(1 << 20, 'x'))) {
    ++accepted;
    io.run_for(2ms);
  }
  EXPECT_LT(accepted, 64);
  EXPECT_EQ(client->queued(), 4u);
  EXPECT_FALSE(client->Send("one more"));
  client->Close();
  ASSERT_TRUE(RunUntil(io, [&] { return events.closed.has_value(); }));
  EXPECT_EQ(*events.closed, "close timed out after 300 ms");
  EXPECT_EQ(events.closed_calls, 1);
}

TEST(WsClient, ThePeersCloseReasonReachesOnClosedWithoutAnOwner) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) {
    ServerWs ws(std::move(socket));
    AcceptUpgrade(ws);
    ws.write(asio::buffer(std::string("goodbye")));
    ws.close(websocket::close_reason(websocket::close_code::going_away, "shutting down"));
  });
  asio::io_context io;
  Events events;
  // No shared_ptr is kept: the pending operations keep the client alive to the end.
  StartClient(io, ConfigFor(server.port()), &events);
  ASSERT_TRUE(RunUntil(io, [&] { return events.closed.has_value(); }));
  EXPECT_EQ(*events.opened, "");
  EXPECT_EQ(events.texts, std::vector<std::string>{"goodbye"});
  EXPECT_EQ(*events.closed, "closed by peer: shutting down");
  io.run_for(20ms);
  EXPECT_EQ(events.closed_calls, 1);
}

TEST(WsClient, ABadHeaderFailsTheOpen) {
  asio::io_context io;
  WsClientConfig config = ConfigFor(1);
  config.headers = {{"X-Token", "a\r\nInjected: 1"}};
  Events events;
  StartClient(io, config, &events);
  EXPECT_FALSE(events.opened.has_value());  // not from inside Connect()
  ASSERT_TRUE(RunUntil(io, [&] { return events.opened.has_value(); }));
  EXPECT_EQ(*events.opened, "header \"X-Token\" has a control character in its value");
}

// ---------------------------------------------------------------------------------------------
// HttpPost

WireUrl TokenUrl(uint16_t port) { return WireUrl{"http", "127.0.0.1", port, "/v1/token"}; }

TEST(HttpPost, ReturnsStatusHeadersAndBody) {
  std::promise<http::request<http::string_body>> seen;
  OneShotServer server([&](tcp::socket socket, std::shared_future<void>) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request);
    seen.set_value(request);
    http::response<http::string_body> response{http::status::too_many_requests, 11};
    response.set(http::field::retry_after, "7");
    response.body() = "slow down";
    response.prepare_payload();
    http::write(socket, response);
    ReadUntilGone(socket);
  });
  HttpResponse response;
  std::string error;
  ASSERT_TRUE(HttpPost(TokenUrl(server.port()), {{"Authorization", "Bearer key1"}},
                       R"({"agent":"a"})", 2000, &response, &error))
      << error;
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.body, "slow down");
  const auto retry = std::find_if(response.headers.begin(), response.headers.end(),
                                  [](const Header& h) { return h.first == "Retry-After"; });
  ASSERT_NE(retry, response.headers.end());
  EXPECT_EQ(retry->second, "7");

  const http::request<http::string_body> request = seen.get_future().get();
  EXPECT_EQ(request.method(), http::verb::post);
  EXPECT_EQ(request.target(), "/v1/token");
  EXPECT_EQ(request[http::field::content_type], "application/json");
  EXPECT_EQ(request[http::field::authorization], "Bearer key1");
  EXPECT_EQ(request.body(), R"({"agent":"a"})");
}

TEST(HttpPost, TimesOutWhenTheServerNeverAnswers) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) { ReadUntilGone(socket); });
  HttpResponse response;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(HttpPost(TokenUrl(server.port()), {}, "{}", 300, &response, &error));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error, "timed out after 300 ms");
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpPost, RefusesABodyOver64KiB) {
  OneShotServer server([](tcp::socket socket, std::shared_future<void>) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request);
    http::response<http::string_body> response{http::status::ok, 11};
    response.body() = std::string(64 * 1024 + 1, 'x');
    response.prepare_payload();
    boost::system::error_code ignored;  // the client may stop reading early
    http::write(socket, response, ignored);
  });
  HttpResponse response;
  std::string error;
  EXPECT_FALSE(HttpPost(TokenUrl(server.port()), {}, "{}", 2000, &response, &error));
  EXPECT_EQ(error, "read: body limit exceeded");
}

TEST(HttpPost, RefusesAHeaderWithALineBreak) {
  HttpResponse response;
  std::string error;
  EXPECT_FALSE(HttpPost(TokenUrl(1), {{"Authorization", "Bearer x\r\nHost: evil"}}, "{}", 300,
                        &response, &error));
  EXPECT_EQ(error, "header \"Authorization\" has a control character in its value");
}

}  // namespace
}  // namespace callsim::harness
