#include "agent/server/udp_endpoint.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

namespace callsim::agent {

namespace asio = boost::asio;
using asio::ip::udp;

UdpEndpoint::UdpEndpoint(asio::io_context& io, const std::string& host, uint16_t port,
                         OnDatagram on_datagram, size_t max_queue)
    : socket_(io, udp::endpoint(asio::ip::make_address(host), port)),
      on_datagram_(std::move(on_datagram)),
      max_queue_(max_queue) {
  local_ = socket_.local_endpoint();
  // Sends try the kernel at once (most datagrams leave without a handler or a copy); only one
  // that would block waits in the queue.
  socket_.non_blocking(true);
  Receive();
}

UdpEndpoint::~UdpEndpoint() {
  *alive_ = false;
  Close();
}

void UdpEndpoint::Close() {
  queue_.clear();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void UdpEndpoint::Receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_,
      [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
        if (!*alive || ec == asio::error::operation_aborted || !socket_.is_open()) return;
        if (ec) {
          ++stats_->receive_errors;  // e.g. an ICMP error for an earlier send: keep receiving
        } else {
          ++stats_->received;
          if (on_datagram_) on_datagram_(std::string_view(buffer_.data(), n), sender_);
        }
        if (*alive && socket_.is_open()) Receive();
      });
}

void UdpEndpoint::Send(std::string bytes, const Endpoint& to) {
  if (!socket_.is_open()) return;
  if (queue_.size() >= max_queue_ + (sending_ ? 1 : 0)) {
    ++stats_->send_dropped;
    return;
  }
  if (!sending_ && queue_.empty()) {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(bytes), to, 0, ec);
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      ec ? ++stats_->send_errors : ++stats_->sent;
      return;
    }
  }
  queue_.emplace_back(std::move(bytes), to);
  if (!sending_) SendNext();
}

void UdpEndpoint::SendNext() {
  if (queue_.empty() || !socket_.is_open()) {
    sending_ = false;
    return;
  }
  sending_ = true;
  const auto& [bytes, to] = queue_.front();
  socket_.async_send_to(asio::buffer(bytes), to,
                        [this, alive = alive_](const boost::system::error_code& ec, size_t) {
                          if (!*alive) return;
                          if (ec == asio::error::operation_aborted) return;
                          ec ? ++stats_->send_errors : ++stats_->sent;
                          if (!queue_.empty()) queue_.pop_front();
                          SendNext();
                        });
}

}  // namespace callsim::agent
