#include "agent/providers/wire/http_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/providers/wire/ws_client.h"
#include "tests/agent/providers/wire/wire_test_servers.h"

namespace callsim::agent::wire {
namespace {

using namespace test;  // NOLINT

struct Outcome {
  int status = 0;
  std::vector<std::string> pieces;
  std::string body;
  std::string error;
  bool ended = false;
};

HttpHandlers Record(Outcome* out) {
  HttpHandlers handlers;
  handlers.on_head = [out](const HttpHead& head) { out->status = head.status; };
  handlers.on_body = [out](std::string_view piece) {
    out->pieces.emplace_back(piece);
    out->body.append(piece);
  };
  handlers.on_end = [out] { out->ended = true; };
  handlers.on_error = [out](const std::string& e) {
    out->error = e;
    out->ended = true;
  };
  return handlers;
}

class WireHttpClient : public ::testing::Test {
 protected:
  HttpRequest Get(std::string_view path) {
    HttpRequest request;
    request.method = "GET";
    std::string error;
    EXPECT_TRUE(ParseUrl(server.Base(path), &request.url, &error)) << error;
    return request;
  }

  boost::asio::io_context io;
  ScriptedHttpServer server{io};
};

TEST_F(WireHttpClient, ChunkedBodyArrivesInPiecesAsSent) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{ChunkedHead("text/plain")}, {Chunk("first")}, {Chunk("second"), 30},
                  {LastChunk(), 30}};
  };
  HttpClient client(io);
  Outcome out;
  auto call = client.Start(Get("/p"), Record(&out));
  ASSERT_TRUE(RunUntil(io, [&] { return out.ended; }));
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.pieces, std::vector<std::string>({"first", "second"}));
  EXPECT_EQ(server.requests[0].Header("User-Agent"), "callsim-agent");
}

TEST_F(WireHttpClient, BodyOverTheBoundIsRefused) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{ChunkedHead("text/plain")}, {Chunk(std::string(600, 'a'))},
                  {Chunk(std::string(600, 'b')) + LastChunk()}};
  };
  HttpClient client(io);
  HttpRequest request = Get("/big");
  request.max_body_bytes = 1000;
  Outcome out;
  auto call = client.Start(std::move(request), Record(&out));
  ASSERT_TRUE(RunUntil(io, [&] { return out.ended; }));
  EXPECT_EQ(out.error, "response body over 1000 bytes");
  // A Content-Length over the bound fails at the head.
  server.handler = [](const ReceivedRequest&) {
    return Script{{Response(200, "OK", "", std::string(5000, 'c'))}};
  };
  request = Get("/big");
  request.max_body_bytes = 1000;
  Outcome second;
  auto call2 = client.Start(std::move(request), Record(&second));
  ASSERT_TRUE(RunUntil(io, [&] { return second.ended; }));
  EXPECT_EQ(second.error, "response body over 1000 bytes");
}

TEST_F(WireHttpClient, IdleConnectionsAreBoundedAndExpire) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{Response(200, "OK", "", "ok"), 20}};
  };
  HttpClient client(io, HttpPoolConfig{1, 150});
  Outcome a;
  Outcome b;
  auto call_a = client.Start(Get("/a"), Record(&a));
  auto call_b = client.Start(Get("/b"), Record(&b));  // concurrent: a second connection
  ASSERT_TRUE(RunUntil(io, [&] { return a.ended && b.ended; }));
  EXPECT_EQ(server.connections_accepted, 2);
  EXPECT_EQ(client.idle_connections(), 1u);  // the bound: one kept, the other closed
  ASSERT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 1; }));
  // After 150 ms unused the kept one is closed too.
  ASSERT_TRUE(RunUntil(io, [&] { return client.idle_connections() == 0; }, 1000));
  ASSERT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 2; }));
}

TEST_F(WireHttpClient, CancelFromInsideOnHeadStopsEverything) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{ChunkedHead("text/plain")}, {Chunk("x"), 20}, {LastChunk()}};
  };
  HttpClient client(io);
  Outcome out;
  std::unique_ptr<HttpCall> call;
  HttpHandlers handlers = Record(&out);
  handlers.on_head = [&](const HttpHead& head) {
    out.status = head.status;
    call->Cancel();
  };
  call = client.Start(Get("/c"), handlers);
  ASSERT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 1; }));
  RunFor(io, 60);
  EXPECT_EQ(out.status, 200);
  EXPECT_TRUE(out.pieces.empty());
  EXPECT_FALSE(out.ended);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(WireHttpClient, ReleasedCallDrainsAndPoolsItsConnection) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{ChunkedHead("text/plain")}, {Chunk("need this")}, {Chunk("not this"), 30},
                  {LastChunk(), 10}};
  };
  HttpClient client(io);
  Outcome out;
  auto call = client.Start(Get("/r"), Record(&out));
  ASSERT_TRUE(RunUntil(io, [&] { return !out.pieces.empty(); }));
  call->Release();
  call.reset();
  ASSERT_TRUE(RunUntil(io, [&] { return client.idle_connections() == 1; }));
  EXPECT_EQ(out.pieces, std::vector<std::string>({"need this"}));
  EXPECT_FALSE(out.ended);
  EXPECT_EQ(server.connections_closed_by_client, 0);
}

TEST_F(WireHttpClient, BadHeaderFailsOnALaterTurn) {
  HttpClient client(io);
  HttpRequest request = Get("/h");
  request.headers = {{"X-Bad", "a\nb"}};
  Outcome out;
  auto call = client.Start(std::move(request), Record(&out));
  EXPECT_FALSE(out.ended);
  ASSERT_TRUE(RunUntil(io, [&] { return out.ended; }));
  EXPECT_EQ(out.error, "header \"X-Bad\" has a control character in its value");
  EXPECT_EQ(server.connections_accepted, 0);
}

TEST(WireWsClient, OutboundQueueIsBounded) {
  boost::asio::io_context io;
  FakeDeepgram server(io);
  WsConfig config;
  std::string error;
  ASSERT_TRUE(ParseUrl("ws://127.0.0.1:" + std::to_string(server.port()) + "/", &config.url, &error));
  config.max_queued_messages = 3;
  auto ws = WsClient::Create(io, config, nullptr);
  bool open = false;
  WsHandlers handlers;
  handlers.on_open = [&] { open = true; };
  ws->Connect(handlers);
  EXPECT_TRUE(ws->SendText("1"));
  EXPECT_TRUE(ws->SendBinary("2"));
  EXPECT_TRUE(ws->SendText("3"));
  EXPECT_FALSE(ws->SendText("4"));  // queued while connecting: the bound holds
  ASSERT_TRUE(RunUntil(io, [&] { return open && server.texts.size() == 2; }));
  EXPECT_EQ(server.texts, std::vector<std::string>({"1", "3"}));
  EXPECT_EQ(server.audio, "2");
  ws->Abort();
}

}  // namespace
}  // namespace callsim::agent::wire
