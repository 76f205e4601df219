// One UDP socket that only moves bytes, for SIP signalling and RTP: every datagram received (up
// to 65,535 bytes) goes to a callback with its sender, and Send hands a datagram to the kernel at
// once, or queues it (one send in flight at a time) when the socket's buffer is full. Bounds: a
// queue of waiting datagrams (beyond it a datagram is dropped and counted, never blocking the
// caller). Everything runs on the io_context's thread; the endpoint must be used and destroyed
// there.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

namespace callsim::agent {

struct UdpEndpointStats {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t send_dropped = 0;  // the queue was full
  uint64_t send_errors = 0;   // the kernel refused a datagram (e.g. ICMP port unreachable)
  uint64_t receive_errors = 0;
};

class UdpEndpoint {
 public:
  using Endpoint = boost::asio::ip::udp::endpoint;
  using OnDatagram = std::function<void(std::string_view bytes, const Endpoint& from)>;

  // Binds `host`:`port` (0: any free port). Throws boost::system::system_error when it cannot.
  UdpEndpoint(boost::asio::io_context& io, const std::string& host, uint16_t port,
              OnDatagram on_datagram, size_t max_queue = 1024);
  ~UdpEndpoint();
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  uint16_t port() const { return local_.port(); }
  // The bound address and port (still known after Close).
  const Endpoint& local_endpoint() const { return local_; }
  void Send(std::string bytes, const Endpoint& to);
  // Stops receiving and sending; queued datagrams are dropped. Idempotent.
  void Close();
  const UdpEndpointStats& stats() const { return *stats_; }

 private:
  void Receive();
  void SendNext();

  boost::asio::ip::udp::socket socket_;
  OnDatagram on_datagram_;
  size_t max_queue_;
  Endpoint local_;
  Endpoint sender_;
  std::array<char, 65536> buffer_{};
  std::deque<std::pair<std::string, Endpoint>> queue_;
  bool sending_ = false;
  // Shared with pending handlers so they can tell the endpoint is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::shared_ptr<UdpEndpointStats> stats_ = std::make_shared<UdpEndpointStats>();
};

}  // namespace callsim::agent
