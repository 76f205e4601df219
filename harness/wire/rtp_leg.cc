#include "harness/wire/rtp_leg.h"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

namespace callsim::harness {
namespace {

constexpr size_t kRtpHeaderBytes = 12;

// Rewrites the payload type `from` to `to`, keeping the marker bit.
void MapPayloadType(agent::Packet& p, uint8_t from, uint8_t to) {
  if (from == to || p.size() < kRtpHeaderBytes || (p[1] & 0x7f) != from) return;
  p[1] = static_cast<uint8_t>((p[1] & 0x80) | to);
}

// The MediaEndpoint's codecs carry fixed payload types (PCMU 0, L16 96, Opus 111); the peer may
// have named the same codec with another dynamic number in its SDP. This link renames ours to
// the negotiated number on the way out.
class PayloadTypeLink final : public agent::Link {
 public:
  PayloadTypeLink(agent::Link& next, uint8_t ours, uint8_t theirs)
      : next_(next), ours_(ours), theirs_(theirs) {}
  void Send(agent::Packet packet) override {
    MapPayloadType(packet, ours_, theirs_);
    next_.Send(std::move(packet));
  }
  void SetReceiver(Receiver) override {}

 private:
  agent::Link& next_;
  uint8_t ours_;
  uint8_t theirs_;
};

// The payload type our codec objects stamp (codec.h).
uint8_t OurPayloadType(agent::CodecKind codec) {
  switch (codec) {
    case agent::CodecKind::kPcmu:
      return 0;
    case agent::CodecKind::kL16:
      return 96;
    case agent::CodecKind::kOpus:
      return 111;
  }
  return 0;
}

uint32_t ClockRate(agent::CodecKind codec) {
  switch (codec) {
    case agent::CodecKind::kPcmu:
      return 8000;
    case agent::CodecKind::kL16:
      return 16000;
    case agent::CodecKind::kOpus:
      return 48000;
  }
  return 8000;
}

}  // namespace

// An RTP port is even and its RTCP port the next one up (RFC 3550 section 11), for a peer that
// does not multiplex; the kernel's free ports are tried until such a pair binds.
RtpLeg::RtpLeg(boost::asio::io_context& io, agent::Scheduler& scheduler, const std::string& host)
    : scheduler_(scheduler) {
  constexpr int kTries = 64;
  for (int i = 0; i < kTries && !rtcp_socket_; ++i) {
    socket_ = std::make_unique<agent::UdpEndpoint>(
        io, host, 0, [this](std::string_view bytes, const agent::UdpEndpoint::Endpoint& from) {
          OnDatagram(bytes, from, /*rtcp_port=*/false);
        });
    const uint16_t port = socket_->port();
    if (port % 2 != 0 || port == 65534) continue;
    try {
      rtcp_socket_ = std::make_unique<agent::UdpEndpoint>(
          io, host, static_cast<uint16_t>(port + 1),
          [this](std::string_view bytes, const agent::UdpEndpoint::Endpoint& from) {
            OnDatagram(bytes, from, /*rtcp_port=*/true);
          });
    } catch (const boost::system::system_error&) {
      // taken: another pair
    }
  }
  // No pair after that many tries (a nearly full port range): RTCP then needs rtcp-mux.
}

RtpLeg::~RtpLeg() {
  media_.reset();  // it sends through the session's link
  session_.reset();
  rtcp_socket_.reset();
  socket_.reset();
}

bool RtpLeg::Connect(const Streams& s, agent::MediaEndpoint::Source source,
                     agent::MediaEndpoint::Sink sink,
                     std::function<void(const std::string&)> on_error, std::string* error) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(s.negotiated.remote_address, ec);
  if (ec || s.negotiated.remote_port == 0) {
    *error = "the peer's media address is not usable: \"" + s.negotiated.remote_address + ":" +
             std::to_string(s.negotiated.remote_port) + "\"";
    return false;
  }
  remote_ = agent::UdpEndpoint::Endpoint(address, s.negotiated.remote_port);
  // Without rtcp-mux agreed, RTCP goes to the peer's next port up (RFC 3550 section 11).
  rtcp_mux_ = s.negotiated.rtcp_mux;
  rtcp_remote_ = agent::UdpEndpoint::Endpoint(
      address, static_cast<uint16_t>(std::min<int>(s.negotiated.remote_port + 1, 65535)));
  agent::RtpSessionConfig rtp;
  rtp.ssrc = s.ssrc;
  rtp.clock_rate_hz = ClockRate(s.negotiated.codec);
  if (s.negotiated.srtp) {
    rtp.send_key_salt = s.negotiated.local_key_salt;
    rtp.receive_key_salt = s.negotiated.remote_key_salt;
  }
  rtp.rtcp_interval_us = s.rtcp_interval_us;
  rtp.rng_seed = s.rtcp_seed;
  rtp.uplink_impairment = s.uplink_impairment;
  rtp.downlink_impairment = s.downlink_impairment;
  agent::MediaEndpointConfig media = s.media;
  media.codec = s.negotiated.codec;
  media.ssrc = s.ssrc;
  if (s.negotiated.dtmf_payload_type) media.dtmf_payload_type = *s.negotiated.dtmf_payload_type;
  const uint8_t ours = OurPayloadType(media.codec);
  const uint8_t theirs = s.negotiated.payload_type;
  session_ = agent::RtpSession::Create(
      scheduler_, std::move(rtp),
      [this](std::vector<uint8_t> bytes) {
        const bool rtcp = bytes.size() >= 2 && bytes[1] >= 192 && bytes[1] <= 223;
        std::string datagram(bytes.begin(), bytes.end());
        if (rtcp && !rtcp_mux_) {
          (rtcp_socket_ ? *rtcp_socket_ : *socket_).Send(std::move(datagram), rtcp_remote_);
        } else {
          socket_->Send(std::move(datagram), remote_);
        }
      },
      [this, ours, theirs](agent::Packet packet) {
        MapPayloadType(packet, theirs, ours);
        if (media_) media_->OnPacket(std::move(packet));
      },
      std::move(on_error), error);
  if (!session_) return false;
  rename_link_ = std::make_unique<PayloadTypeLink>(session_->link(), ours, theirs);
  media_ = std::make_unique<agent::MediaEndpoint>(scheduler_, *rename_link_, media,
                                                  std::move(source), std::move(sink));
  return true;
}

void RtpLeg::Start() {
  if (!media_ || started_ || stopped_) return;
  started_ = true;
  session_->Start();
  media_->Start();
}

void RtpLeg::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (media_) media_->Stop();
  if (session_ && started_) session_->Stop();
  socket_->Close();
  if (rtcp_socket_) rtcp_socket_->Close();
}

void RtpLeg::OnDatagram(std::string_view bytes, const agent::UdpEndpoint::Endpoint& from,
                        bool rtcp_port) {
  if (!session_ || stopped_) {
    ++stats_.early_datagrams;
    return;
  }
  // The peer's RTCP may come from its RTCP port; anything else from the peer's media address.
  if (rtcp_port ? from.address() != remote_.address() : from != remote_) {
    ++stats_.foreign_datagrams;
    return;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  session_->OnDatagram(std::span<const uint8_t>(data, bytes.size()), scheduler_.NowUs());
}

agent::RtpSessionStats RtpLeg::rtp_stats() const {
  return session_ ? session_->stats() : agent::RtpSessionStats{};
}

agent::MediaEndpointStats RtpLeg::media_stats() const {
  return media_ ? media_->stats() : agent::MediaEndpointStats{};
}

std::vector<CallMediaRow> RtpLeg::MediaRows(bool sends_uplink,
                                            const fakes::SimLinkStats* uplink) const {
  std::vector<CallMediaRow> rows;
  if (!session_) return rows;
  const agent::RtpSessionStats r = session_->stats();
  const agent::JitterBufferStats j = media_stats().jitter;
  const std::string received = sends_uplink ? "downlink" : "uplink";
  const std::string sent = sends_uplink ? "uplink" : "downlink";
  CallMediaRow own;
  own.direction = received;
  own.measured_by = "receiver";
  own.packets_expected = static_cast<double>(r.expected);
  own.packets_lost = static_cast<double>(r.lost);
  own.fraction_lost = r.expected > 0 ? std::clamp(static_cast<double>(r.lost) /
                                                      static_cast<double>(r.expected), 0.0, 1.0)
                                     : 0.0;
  own.jitter_ms = r.jitter_ms;
  own.concealed_frames = static_cast<double>(j.concealed);
  own.late_dropped = static_cast<double>(j.late_dropped);
  own.srtp_auth_failures = static_cast<int64_t>(r.srtp_receive.auth_failures);
  own.srtp_replays = static_cast<int64_t>(r.srtp_receive.replays);
  rows.push_back(own);
  if (r.peer.reports > 0) {
    CallMediaRow peer;
    peer.direction = sent;
    peer.measured_by = "rtcp";
    // Our sequence numbers start at 0 (MediaEndpoint), so the highest one names the count.
    peer.packets_expected = static_cast<double>(r.peer.extended_highest_sequence) + 1;
    peer.packets_lost = static_cast<double>(r.peer.cumulative_lost);
    peer.fraction_lost = std::clamp(r.peer.fraction_lost, 0.0, 1.0);
    peer.jitter_ms = r.peer.jitter_ms;
    rows.push_back(peer);
  }
  if (uplink != nullptr && sends_uplink) {
    // What the link dropped (not what it still held when the call ended).
    const uint64_t dropped = uplink->lost + uplink->outage_dropped + uplink->overflow_dropped;
    CallMediaRow network;
    network.direction = sent;
    network.measured_by = "impairment";
    network.packets_expected = static_cast<double>(uplink->sent);
    network.packets_lost = static_cast<double>(dropped);
    network.fraction_lost =
        uplink->sent > 0 ? static_cast<double>(dropped) / static_cast<double>(uplink->sent) : 0.0;
    // As of the peer's last report, when there was one, so that the two rows compare like for
    // like; the end of the call's otherwise.
    network.jitter_ms = r.peer.reports > 0 ? r.peer.uplink_jitter_ms_then : r.uplink_jitter_ms;
    rows.push_back(network);
  }
  return rows;
}

}  // namespace callsim::harness
