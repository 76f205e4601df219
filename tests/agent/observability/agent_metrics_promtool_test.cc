// The exposition, checked by Prometheus's own linter. promtool (Debian package `prometheus`) is a
// required test dependency: without it these tests fail, they do not skip.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "agent/observability/agent_metrics.h"
#include "agent/observability/metrics_event_sink.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool PromtoolInstalled() {
  return std::system("command -v promtool > /dev/null 2>&1") == 0;
}

// `promtool check metrics` reads the exposition on stdin.
PromtoolResult CheckMetrics(const std::string& exposition_path) {
  const std::string output_path = exposition_path + ".promtool";
  const std::string command =
      "promtool check metrics < '" + exposition_path + "' > '" + output_path + "' 2>&1";
  const int status = std::system(command.c_str());
  PromtoolResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = ReadFile(output_path);
  std::remove(output_path.c_str());
  return result;
}

std::string TempPath(const char* name) {
  return ::testing::TempDir() + name + "_" + std::to_string(getpid()) + ".prom";
}

// Touches every family, with a declared and an undeclared tool, through the event adapter.
void FeedACall(AgentMetrics& metrics) {
  NullEventSink null;
  MetricsEventSink sink(null, metrics);
  sink.Emit(0, "agent", "call_start", json::object());
  sink.Emit(1, "agent", "turn_spans",
            {{"endpointing_ms", 300}, {"stt_final_ms", 95.5}, {"llm_ttft_ms", 410},
             {"tts_ttfb_ms", 60}, {"response_ms", 880}});
  sink.Emit(2, "agent", "barge_in", json::object());
  sink.Emit(3, "agent", "false_interruption", json::object());
  sink.Emit(4, "agent", "provider_error", {{"stage", "tts"}, {"error", "timeout"}});
  sink.Emit(5, "agent", "tool_audit", {{"name", "check_order_status"}, {"decision", "executed"}});
  sink.Emit(6, "agent", "tool_audit", {{"name", "rm -rf \"/\"\n"}, {"decision", "blocked"}});
  sink.Emit(7, "agent", "post_call_report", {{"result", "written"}});
  sink.Emit(8, "agent", "state", {{"from", "speaking"}, {"to", "ended"}, {"reason", "hangup"}});
}

TEST(AgentMetricsPromtoolTest, PromtoolIsInstalled) {
  ASSERT_TRUE(PromtoolInstalled())
      << "promtool not found on PATH: install it (Debian: apt-get install prometheus) to run "
         "the metrics exposition checks";
}

TEST(AgentMetricsPromtoolTest, ExpositionPassesCheckMetricsWithNoLint) {
  ASSERT_TRUE(PromtoolInstalled())
      << "promtool not found on PATH: install it (Debian: apt-get install prometheus)";
  // A tool name that needs escaping in a label value, to prove the label stays well-formed.
  AgentMetrics metrics({"check_order_status", "say \"hi\"\\now"});
  FeedACall(metrics);
  const std::string path = TempPath("agent_metrics_promtool");
  std::string error;
  ASSERT_TRUE(metrics.WriteExposition(path, &error)) << error;
  const PromtoolResult result = CheckMetrics(path);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n--- exposition:\n" << ReadFile(path);
  EXPECT_EQ(result.output, "") << "\n--- exposition:\n" << ReadFile(path);
  std::remove(path.c_str());
}

// The check above would pass vacuously if promtool ignored its input: show it does lint.
TEST(AgentMetricsPromtoolTest, PromtoolFlagsABadExposition) {
  ASSERT_TRUE(PromtoolInstalled())
      << "promtool not found on PATH: install it (Debian: apt-get install prometheus)";
  const std::string path = TempPath("agent_metrics_promtool_bad");
  {
    std::ofstream out(path);
    out << "# TYPE callsim_agent_turn_latency_milliseconds gauge\n"
           "callsim_agent_turn_latency_milliseconds 850\n"
           "# HELP callsim_agent_barge_ins barge-ins\n"
           "# TYPE callsim_agent_barge_ins counter\n"
           "callsim_agent_barge_ins 3\n";
  }
  const PromtoolResult result = CheckMetrics(path);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("no help text"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("_total"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("base unit"), std::string::npos) << result.output;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace callsim::agent
