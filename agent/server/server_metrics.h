// The server's own Prometheus series (prefix callsim_server_), beside the agent's: a fixed,
// bounded set created up front (label values come from closed lists, never from a peer), safe to
// record from any worker thread (prometheus-cpp atomics).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace callsim::agent {

// Why a WebSocket stream was lost abnormally (the reason label of ws_errors_total).
enum class WsError {
  kBinaryFrame,
  kMessageTooBig,
  kSlowReader,
  kIdleTimeout,
  kHandshakeTimeout,
  kBadMessage,      // a text message the session refused (bad JSON, a wrong field)
  kProtocol,        // any other WebSocket or socket error
  kConnectionLimit,
};
inline constexpr size_t kWsErrorCount = 8;
// "binary_frame", "message_too_big", "slow_reader", "idle_timeout", "handshake_timeout",
// "bad_message", "protocol", "connection_limit".
const char* WsErrorName(WsError error);

// Why a token or an upgrade was refused (the reason label of auth_failures_total): the reasons of
// TokenService::Redeem, plus "unknown_key" and "rate_limited" for POST /v1/token.
enum class AuthFailure {
  kMissing,
  kMalformed,
  kBadSignature,
  kExpired,
  kReused,
  kUnknown,
  kUnknownKey,
  kRateLimited,
};
inline constexpr size_t kAuthFailureCount = 8;
const char* AuthFailureName(AuthFailure failure);
// The AuthFailure for a RedeemResult::reason ("bad signature" -> kBadSignature, ...); kUnknown
// for any other text.
AuthFailure AuthFailureForReason(std::string_view reason);

class ServerMetrics {
 public:
  ServerMetrics();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  void StreamOpened();   // active_streams + 1, streams_total + 1
  void StreamClosed();   // active_streams - 1
  void ConnectionAccepted();
  void HttpRequest();    // requests that were not a WebSocket upgrade
  void WsError(WsError error);
  void AuthFailure(AuthFailure failure);
  void TokenIssued();
  // The session's media: frames received from and sent to the peer, and outbound frames sent
  // later than their pacing allowed (the session decides what late means).
  void FramesIn(size_t n = 1);
  void FramesOut(size_t n = 1);
  void LateFrames(size_t n = 1);
  void MarksOut();
  void ClearsOut();

  const prometheus::Registry& registry() const { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* active_streams_;
  prometheus::Counter* streams_total_;
  prometheus::Counter* connections_total_;
  prometheus::Counter* http_requests_total_;
  std::array<prometheus::Counter*, kWsErrorCount> ws_errors_;
  std::array<prometheus::Counter*, kAuthFailureCount> auth_failures_;
  prometheus::Counter* tokens_issued_;
  prometheus::Counter* frames_in_;
  prometheus::Counter* frames_out_;
  prometheus::Counter* late_frames_;
  prometheus::Counter* marks_out_;
  prometheus::Counter* clears_out_;
};

}  // namespace callsim::agent
