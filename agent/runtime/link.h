// A one-way packet path. Send() hands bytes to the path; the receiver set with SetReceiver() is
// called when (and if) they arrive. SimLink (fakes/net) models delay, jitter, loss, reordering and
// duplication in virtual time or on the real clock; RtpSession (agent/media/rtp_session.h) is the
// Link from a MediaEndpoint onto a socket.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace callsim::agent {

using Packet = std::vector<uint8_t>;

class Link {
 public:
  using Receiver = std::function<void(Packet packet)>;
  virtual ~Link() = default;
  virtual void Send(Packet packet) = 0;
  virtual void SetReceiver(Receiver receiver) = 0;
};

}  // namespace callsim::agent
