#include "agent/server/server_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "tests/agent/observability/metrics_scrape.h"

namespace callsim::agent {
namespace {

using testing::Scrape;

constexpr const char* kWsErrors = "callsim_server_ws_errors_total";
constexpr const char* kAuthFailures = "callsim_server_auth_failures_total";

TEST(ServerMetricsTest, EveryReasonHasItsSnakeCaseName) {
  EXPECT_STREQ(WsErrorName(WsError::kBinaryFrame), "binary_frame");
  EXPECT_STREQ(WsErrorName(WsError::kMessageTooBig), "message_too_big");
  EXPECT_STREQ(WsErrorName(WsError::kSlowReader), "slow_reader");
  EXPECT_STREQ(WsErrorName(WsError::kIdleTimeout), "idle_timeout");
  EXPECT_STREQ(WsErrorName(WsError::kHandshakeTimeout), "handshake_timeout");
  EXPECT_STREQ(WsErrorName(WsError::kBadMessage), "bad_message");
  EXPECT_STREQ(WsErrorName(WsError::kProtocol), "protocol");
  EXPECT_STREQ(WsErrorName(WsError::kConnectionLimit), "connection_limit");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kMissing), "missing");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kMalformed), "malformed");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kBadSignature), "bad_signature");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kExpired), "expired");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kReused), "reused");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kUnknown), "unknown");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kUnknownKey), "unknown_key");
  EXPECT_STREQ(AuthFailureName(AuthFailure::kRateLimited), "rate_limited");
}

TEST(ServerMetricsTest, RedeemReasonsMapToTheirFailureAndAnythingElseIsUnknown) {
  EXPECT_EQ(AuthFailureForReason("missing"), AuthFailure::kMissing);
  EXPECT_EQ(AuthFailureForReason("malformed"), AuthFailure::kMalformed);
  EXPECT_EQ(AuthFailureForReason("bad signature"), AuthFailure::kBadSignature);
  EXPECT_EQ(AuthFailureForReason("expired"), AuthFailure::kExpired);
  EXPECT_EQ(AuthFailureForReason("reused"), AuthFailure::kReused);
  EXPECT_EQ(AuthFailureForReason("unknown"), AuthFailure::kUnknown);
  EXPECT_EQ(AuthFailureForReason("bad_signature"), AuthFailure::kUnknown);
  EXPECT_EQ(AuthFailureForReason(""), AuthFailure::kUnknown);
}

// Every series exists, at zero, before anything happened: a scrape never misses one.
TEST(ServerMetricsTest, EverySeriesIsCreatedUpFrontAtZero) {
  ServerMetrics metrics;
  const Scrape scrape(metrics.registry());
  EXPECT_EQ(scrape.SeriesCount(kWsErrors), kWsErrorCount);
  EXPECT_EQ(scrape.SeriesCount(kAuthFailures), kAuthFailureCount);
  for (size_t i = 0; i < kWsErrorCount; ++i) {
    EXPECT_EQ(scrape.Counter(kWsErrors, {{"reason", WsErrorName(static_cast<WsError>(i))}}), 0);
  }
  for (size_t i = 0; i < kAuthFailureCount; ++i) {
    const char* reason = AuthFailureName(static_cast<AuthFailure>(i));
    EXPECT_EQ(scrape.Counter(kAuthFailures, {{"reason", reason}}), 0);
  }
  EXPECT_EQ(scrape.Gauge("callsim_server_active_streams"), 0);
  for (const char* name : {"callsim_server_streams_total", "callsim_server_connections_total",
                           "callsim_server_http_requests_total",
                           "callsim_server_tokens_issued_total", "callsim_server_frames_in_total",
                           "callsim_server_frames_out_total", "callsim_server_late_frames_total",
                           "callsim_server_marks_out_total", "callsim_server_clears_out_total"}) {
    EXPECT_EQ(scrape.Counter(name), 0) << name;
  }
}

TEST(ServerMetricsTest, EachRecordingMovesItsOwnSeries) {
  ServerMetrics metrics;
  metrics.StreamOpened();
  metrics.StreamOpened();
  metrics.StreamClosed();
  metrics.ConnectionAccepted();
  metrics.HttpRequest();
  metrics.HttpRequest();
  metrics.WsError(WsError::kSlowReader);
  metrics.WsError(WsError::kSlowReader);
  metrics.WsError(WsError::kConnectionLimit);
  metrics.AuthFailure(AuthFailure::kReused);
  metrics.TokenIssued();
  metrics.FramesIn(50);
  metrics.FramesOut();
  metrics.FramesOut(2);
  metrics.LateFrames(4);
  metrics.MarksOut();
  metrics.ClearsOut();
  const Scrape scrape(metrics.registry());
  EXPECT_EQ(scrape.Gauge("callsim_server_active_streams"), 1);
  EXPECT_EQ(scrape.Counter("callsim_server_streams_total"), 2);
  EXPECT_EQ(scrape.Counter("callsim_server_connections_total"), 1);
  EXPECT_EQ(scrape.Counter("callsim_server_http_requests_total"), 2);
  EXPECT_EQ(scrape.Counter(kWsErrors, {{"reason", "slow_reader"}}), 2);
  EXPECT_EQ(scrape.Counter(kWsErrors, {{"reason", "connection_limit"}}), 1);
  EXPECT_EQ(scrape.Counter(kWsErrors, {{"reason", "idle_timeout"}}), 0);
  EXPECT_EQ(scrape.Counter(kAuthFailures, {{"reason", "reused"}}), 1);
  EXPECT_EQ(scrape.Counter(kAuthFailures, {{"reason", "expired"}}), 0);
  EXPECT_EQ(scrape.Counter("callsim_server_tokens_issued_total"), 1);
  EXPECT_EQ(scrape.Counter("callsim_server_frames_in_total"), 50);
  EXPECT_EQ(scrape.Counter("callsim_server_frames_out_total"), 3);
  EXPECT_EQ(scrape.Counter("callsim_server_late_frames_total"), 4);
  EXPECT_EQ(scrape.Counter("callsim_server_marks_out_total"), 1);
  EXPECT_EQ(scrape.Counter("callsim_server_clears_out_total"), 1);
}

TEST(ServerMetricsTest, ExpositionNamesEveryFamilyWithHelpAndType) {
  ServerMetrics metrics;
  const std::string text = prometheus::TextSerializer().Serialize(metrics.registry().Collect());
  EXPECT_NE(text.find("# TYPE callsim_server_active_streams gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE callsim_server_ws_errors_total counter"), std::string::npos);
  EXPECT_NE(text.find("callsim_server_ws_errors_total{reason=\"binary_frame\"} 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP callsim_server_auth_failures_total "), std::string::npos);
}

}  // namespace
}  // namespace callsim::agent
