#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include "agent/server/udp_endpoint.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace callsim::agent {
namespace {

using boost::asio::io_context;

TEST(UdpEndpoint, DatagramsGoBothWaysOverLoopbackWithTheirSender) {
  io_context io;
  std::vector<std::string> at_b, at_a;
  UdpEndpoint* b_ptr = nullptr;
  UdpEndpoint a(io, "127.0.0.1", 0, [&](std::string_view bytes, const UdpEndpoint::Endpoint&) {
    at_a.emplace_back(bytes);
  });
  UdpEndpoint b(io, "127.0.0.1", 0, [&](std::string_view bytes, const UdpEndpoint::Endpoint& from) {
    at_b.emplace_back(bytes);
    b_ptr->Send("echo " + std::string(bytes), from);  // answer whoever sent it
  });
  b_ptr = &b;
  EXPECT_NE(a.port(), 0);
  EXPECT_NE(a.port(), b.port());
  a.Send("hello", b.local_endpoint());
  a.Send(std::string(60000, 'x'), b.local_endpoint());  // a big datagram arrives whole
  for (int i = 0; i < 100 && at_a.size() < 2; ++i) io.run_for(std::chrono::milliseconds(10));
  ASSERT_EQ(at_b.size(), 2u);
  EXPECT_EQ(at_b[0], "hello");
  EXPECT_EQ(at_b[1].size(), 60000u);
  ASSERT_EQ(at_a.size(), 2u);
  EXPECT_EQ(at_a[0], "echo hello");
  EXPECT_EQ(a.stats().sent, 2u);
  EXPECT_EQ(b.stats().received, 2u);
}

// A datagram goes to the kernel inside Send (the queue, bounded by max_queue, only holds what a
// full socket buffer refuses, which loopback never does): nothing waits for the io_context.
TEST(UdpEndpoint, DatagramsLeaveInsideSendWithoutWaitingForTheLoop) {
  io_context io;
  std::vector<std::string> received;
  UdpEndpoint sink(io, "127.0.0.1", 0, [&](std::string_view bytes, const UdpEndpoint::Endpoint&) {
    received.emplace_back(bytes);
  });
  UdpEndpoint source(io, "127.0.0.1", 0, nullptr, /*max_queue=*/2);
  for (int i = 0; i < 5; ++i) source.Send("p" + std::to_string(i), sink.local_endpoint());
  EXPECT_EQ(source.stats().sent, 5u) << "before the loop ran";
  EXPECT_EQ(source.stats().send_dropped, 0u);
  for (int i = 0; i < 100 && received.size() < 5; ++i) io.run_for(std::chrono::milliseconds(10));
  EXPECT_EQ(received, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"}));
}

TEST(UdpEndpoint, ClosingStopsEverythingAndAnotherBindOfTheSamePortFails) {
  io_context io;
  UdpEndpoint a(io, "127.0.0.1", 0, nullptr);
  EXPECT_THROW(UdpEndpoint(io, "127.0.0.1", a.port(), nullptr), boost::system::system_error);
  a.Close();
  a.Close();
  a.Send("x", a.local_endpoint());
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(a.stats().sent, 0u);
}

}  // namespace
}  // namespace callsim::agent
