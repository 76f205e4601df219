// One side's media of a SIP call on the wire: a UDP socket, an RtpSession (SRTP, RTCP multiplexed
// on the RTP port, callsim's simulated network on its own side of the socket) and a
// MediaEndpoint (codec, RTP packetiser, jitter buffer, RFC 4733 DTMF). The caller's SipCall and
// the served agent's SIP calls both use it.
//
// Two steps, because SDP needs the port before the stream is agreed: the constructor opens an
// even RTP port and the RTCP port above it (a datagram that arrives before Connect() is counted
// and dropped), Connect() builds the session and the endpoint for the negotiated stream. RTCP
// shares the RTP port when both sides agreed to rtcp-mux (RFC 5761), and otherwise goes between
// the ports above (RFC 3550 section 11). Datagrams from any address other than the peer's
// SDP address are dropped and counted (a stray sender must not play into the call). Everything
// runs on the io_context's thread.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/media/media_endpoint.h"
#include "agent/media/rtp_session.h"
#include "agent/runtime/scheduler.h"
#include "agent/server/udp_endpoint.h"
#include "agent/sip/sdp.h"
#include "fakes/net/sim_link.h"
#include "harness/store/rows.h"

namespace callsim::harness {

struct RtpLegStats {
  uint64_t early_datagrams = 0;   // before Connect()
  uint64_t foreign_datagrams = 0;  // from an address other than the peer's
};

class RtpLeg {
 public:
  // Opens the sockets on `host` (free ports). Throws boost::system::system_error when it cannot.
  RtpLeg(boost::asio::io_context& io, agent::Scheduler& scheduler, const std::string& host);
  ~RtpLeg();
  RtpLeg(const RtpLeg&) = delete;
  RtpLeg& operator=(const RtpLeg&) = delete;

  uint16_t port() const { return socket_->port(); }

  struct Streams {
    agent::sip::NegotiatedStream negotiated;
    agent::MediaEndpointConfig media;  // its codec and DTMF payload type are set from `negotiated`
    uint32_t ssrc = 1;
    uint64_t rtcp_seed = 1;
    int64_t rtcp_interval_us = 5'000'000;
    agent::Link* uplink_impairment = nullptr;    // what we send (null: none)
    agent::Link* downlink_impairment = nullptr;  // what we receive
  };
  // Builds the session and the endpoint; `on_error` reports media trouble once per kind (an SRTP
  // authentication failure, a replay, a malformed datagram). False with *error when the peer's
  // address or the SRTP keys are refused.
  bool Connect(const Streams& streams, agent::MediaEndpoint::Source source,
               agent::MediaEndpoint::Sink sink, std::function<void(const std::string&)> on_error,
               std::string* error);
  bool connected() const { return media_ != nullptr; }
  // Starts the 20 ms media clock and the RTCP timer, from now.
  void Start();
  // Stops both (a final RTCP report with BYE goes out) and closes the socket. Idempotent.
  void Stop();

  agent::MediaEndpoint& media() { return *media_; }
  agent::RtpSessionStats rtp_stats() const;
  agent::MediaEndpointStats media_stats() const;
  const RtpLegStats& stats() const { return stats_; }

  // The call_media rows (CallMediaRow) this side can give. The caller (`sends_uplink`) received
  // the downlink, knows what its simulated network (`uplink`'s counts; null: none) did to the
  // uplink and what the agent reported of it; the agent received the uplink and knows the
  // caller's reports of the downlink.
  std::vector<CallMediaRow> MediaRows(bool sends_uplink, const fakes::SimLinkStats* uplink) const;

 private:
  void OnDatagram(std::string_view bytes, const agent::UdpEndpoint::Endpoint& from,
                  bool rtcp_port);

  agent::Scheduler& scheduler_;
  std::unique_ptr<agent::UdpEndpoint> socket_;       // RTP, and RTCP with rtcp-mux
  std::unique_ptr<agent::UdpEndpoint> rtcp_socket_;  // the next port up, for a peer without it
  agent::UdpEndpoint::Endpoint remote_;
  agent::UdpEndpoint::Endpoint rtcp_remote_;
  bool rtcp_mux_ = true;
  std::unique_ptr<agent::RtpSession> session_;
  std::unique_ptr<agent::Link> rename_link_;  // our payload type to the negotiated one
  std::unique_ptr<agent::MediaEndpoint> media_;
  RtpLegStats stats_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace callsim::harness
