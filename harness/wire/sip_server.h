// `callsim serve --sip HOST:PORT`: the reference agent answering SIP calls (RFC 3261 over UDP)
// with RTP or SRTP media. One thread runs the SIP socket, a UasCore (agent/sip/uas_core.h) and
// every call: an INVITE's SDP offer is answered (PCMU, L16 or Opus, telephone-event, RTP/AVP or
// RTP/SAVP with SDES keys, rtcp-mux), each call gets its own RTP socket (an RtpLeg) and an agent
// from the AgentService, as a Twilio stream would; the ACK starts the media. The caller's BYE
// ends the call; when the agent ends it (end_call, transfer_call) the server sends BYE once its
// last audio has had time to reach the caller (drain_ms), with a Reason header saying which
// ("agent hangup" or "transfer").
//
// Bounds: max_calls dialogs (beyond: 503), the UasCore's transaction bound, and every wait of
// the SIP timers. An offer that cannot be answered gets 488 with a Warning that says why.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/media/codec.h"
#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/server/udp_endpoint.h"
#include "agent/sip/digest.h"
#include "agent/sip/uas_core.h"
#include "harness/wire/agent_service.h"

namespace callsim::harness {

enum class SrtpPolicy { kOff, kOptional, kRequired };

struct SipServeConfig {
  std::string host = "127.0.0.1";  // a concrete address: it goes into the SDP as c=
  uint16_t port = 5060;             // 0: any free port
  SrtpPolicy srtp = SrtpPolicy::kOptional;
  // With credentials, every INVITE is challenged (digest, realm "callsim").
  std::optional<agent::sip::DigestCredentials> auth;
  std::vector<agent::CodecKind> codecs = {agent::CodecKind::kPcmu, agent::CodecKind::kL16,
                                          agent::CodecKind::kOpus};
  int64_t drain_ms = 600;           // the agent ended: its last audio reaches the caller first
  size_t max_calls = 2000;
  int64_t rtcp_interval_us = 5'000'000;
};

class SipServer {
 public:
  // `service` must outlive the server.
  SipServer(AgentService& service, SipServeConfig config);
  ~SipServer();
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  // Binds and starts the thread; throws std::runtime_error when it cannot.
  void Start();
  uint16_t port() const { return port_; }
  size_t active_calls() const { return active_.load(); }
  // New INVITEs get 503 from now on.
  void StopAccepting();
  // Hangs up every call (BYE), waits up to 2 s for them to end, and stops the thread; every
  // finished call has been handed to the service. Idempotent.
  void Stop();

 private:
  class Call;
  void OnInvite(agent::sip::SipDialogId id, const agent::sip::SipMessage& invite,
                const agent::sip::HostPort& from);
  void OnConfirmed(agent::sip::SipDialogId id);
  void OnEnded(agent::sip::SipDialogId id, const std::string& reason);
  void SendSip(const std::string& bytes, const agent::sip::HostPort& to);

  AgentService& service_;
  SipServeConfig config_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  // On the thread:
  std::unique_ptr<agent::RealtimeScheduler> scheduler_;
  std::unique_ptr<agent::UdpEndpoint> socket_;
  std::unique_ptr<agent::sip::UasCore> uas_;
  std::map<agent::sip::SipDialogId, std::unique_ptr<Call>> calls_;
  std::vector<std::unique_ptr<Call>> ended_;  // finished, destroyed on the next turn
  agent::Rng rng_;
  bool accepting_ = true;
  // Any thread:
  std::atomic<size_t> active_{0};
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace callsim::harness
