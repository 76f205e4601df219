#include "agent/server/server_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/runtime/check.h"

namespace callsim::agent {
namespace {

constexpr const char* kWsErrorNames[kWsErrorCount] = {
    "binary_frame",      "message_too_big", "slow_reader", "idle_timeout",
    "handshake_timeout", "bad_message",     "protocol",    "connection_limit"};
constexpr const char* kAuthFailureNames[kAuthFailureCount] = {
    "missing", "malformed", "bad_signature", "expired",
    "reused",  "unknown",   "unknown_key",   "rate_limited"};

// The name of an enum value: an index past the table would label a metric with garbage.
template <size_t N>
const char* NameAt(const char* const (&names)[N], size_t index) {
  CALLSIM_CHECK(index < N);
  return names[index];
}

prometheus::Counter* AddCounter(prometheus::Registry& registry, const char* name,
                                const char* help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

const char* WsErrorName(WsError error) { return NameAt(kWsErrorNames, static_cast<size_t>(error)); }

const char* AuthFailureName(AuthFailure failure) {
  return NameAt(kAuthFailureNames, static_cast<size_t>(failure));
}

AuthFailure AuthFailureForReason(std::string_view reason) {
  if (reason == "missing") return AuthFailure::kMissing;
  if (reason == "malformed") return AuthFailure::kMalformed;
  if (reason == "bad signature") return AuthFailure::kBadSignature;
  if (reason == "expired") return AuthFailure::kExpired;
  if (reason == "reused") return AuthFailure::kReused;
  return AuthFailure::kUnknown;
}

ServerMetrics::ServerMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  active_streams_ = &prometheus::BuildGauge()
                         .Name("callsim_server_active_streams")
                         .Help("WebSocket call streams open now.")
                         .Register(*registry_)
                         .Add({});
  streams_total_ =
      AddCounter(*registry_, "callsim_server_streams_total", "WebSocket call streams opened.");
  connections_total_ = AddCounter(*registry_, "callsim_server_connections_total",
                                  "TCP connections accepted, those refused at the connection "
                                  "limit included.");
  http_requests_total_ = AddCounter(*registry_, "callsim_server_http_requests_total",
                                    "HTTP requests that were not a WebSocket upgrade.");
  auto& ws_errors = prometheus::BuildCounter()
                        .Name("callsim_server_ws_errors_total")
                        .Help("Connections lost abnormally, by reason.")
                        .Register(*registry_);
  for (size_t i = 0; i < kWsErrorCount; ++i) {
    ws_errors_[i] = &ws_errors.Add({{"reason", kWsErrorNames[i]}});
  }
  auto& auth_failures = prometheus::BuildCounter()
                            .Name("callsim_server_auth_failures_total")
                            .Help("Refused token requests and stream upgrades, by reason.")
                            .Register(*registry_);
  for (size_t i = 0; i < kAuthFailureCount; ++i) {
    auth_failures_[i] = &auth_failures.Add({{"reason", kAuthFailureNames[i]}});
  }
  tokens_issued_ = AddCounter(*registry_, "callsim_server_tokens_issued_total",
                              "Call tokens issued by POST /v1/token.");
  frames_in_ =
      AddCounter(*registry_, "callsim_server_frames_in_total", "Media frames received from peers.");
  frames_out_ =
      AddCounter(*registry_, "callsim_server_frames_out_total", "Media frames sent to peers.");
  late_frames_ = AddCounter(*registry_, "callsim_server_late_frames_total",
                            "Outbound media frames sent later than their pacing allowed.");
  marks_out_ =
      AddCounter(*registry_, "callsim_server_marks_out_total", "Mark messages sent to peers.");
  clears_out_ =
      AddCounter(*registry_, "callsim_server_clears_out_total", "Clear messages sent to peers.");
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::StreamOpened() {
  active_streams_->Increment();
  streams_total_->Increment();
}

void ServerMetrics::StreamClosed() { active_streams_->Decrement(); }

void ServerMetrics::ConnectionAccepted() { connections_total_->Increment(); }

void ServerMetrics::HttpRequest() { http_requests_total_->Increment(); }

// Inside the class the member functions hide the enum names: spell the types out.
void ServerMetrics::WsError(agent::WsError error) {
  ws_errors_[static_cast<size_t>(error)]->Increment();
}

void ServerMetrics::AuthFailure(agent::AuthFailure failure) {
  auth_failures_[static_cast<size_t>(failure)]->Increment();
}

void ServerMetrics::TokenIssued() { tokens_issued_->Increment(); }

void ServerMetrics::FramesIn(size_t n) { frames_in_->Increment(static_cast<double>(n)); }

void ServerMetrics::FramesOut(size_t n) { frames_out_->Increment(static_cast<double>(n)); }

void ServerMetrics::LateFrames(size_t n) { late_frames_->Increment(static_cast<double>(n)); }

void ServerMetrics::MarksOut() { marks_out_->Increment(); }

void ServerMetrics::ClearsOut() { clears_out_->Increment(); }

}  // namespace callsim::agent
