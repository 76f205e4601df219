// The command-line contract: exit codes 0 / 99 / 2, error locations, and the wer command's output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/run/available_memory.h"

#include "tests/cli/cli_runner.h"

namespace {

using Output = callsim::testing::CliOutput;
using callsim::testing::RunCli;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_cli_" + std::to_string(getpid());
    std::system(("mkdir -p " + dir_ + "/llm").c_str());
    std::system(("cp " + std::string(CALLSIM_SOURCE_DIR) + "/scenarios/llm/support.yaml " + dir_ + "/llm/").c_str());
    db_ = dir_ + "/runs.db";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
  std::string db_;
};

const char* kScenario = R"(name: cli
codec: l16
fakes:
  stt: { profile: perfect }
  llm: { script: llm/support.yaml }
turns:
  - expect: [ { agent_says: { contains: "how can i help" } } ]
  - user: "i want to check on my order"
    expect: [ { turn_latency: { max_ms: LATENCY } } ]
  - hangup: {}
)";

std::string WithLatency(const std::string& bound) {
  std::string s = kScenario;
  s.replace(s.find("LATENCY"), 7, bound);
  return s;
}

TEST_F(Cli, MetExpectationsExitZeroAndPrintTheReplayLine) {
  const std::string path = Write("ok.yaml", WithLatency("3000"));
  const Output out = RunCli("run " + path + " --seed 5 --db " + db_);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_NE(out.text.find("--seed 5"), std::string::npos) << out.text;
}

TEST_F(Cli, ViolatedExpectationExits99) {
  const std::string path = Write("slow.yaml", WithLatency("50"));
  const Output out = RunCli("run " + path + " --seed 5 --db " + db_);
  EXPECT_EQ(out.exit_code, 99) << out.text;
  EXPECT_NE(out.text.find("turn_latency"), std::string::npos) << out.text;
}

TEST_F(Cli, InvalidScenarioExits2WithItsLocationAndRunsNothing) {
  // Line 3, column 3: an unknown key under fakes.
  const std::string path = Write("bad.yaml", "name: bad\nfakes:\n  sttt: { profile: perfect }\nturns:\n  - user: hi\n");
  const Output out = RunCli("validate " + path);
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find(path + ":3:3:"), std::string::npos) << out.text;
  const Output run = RunCli("run " + path + " --db " + db_);
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_NE(access(db_.c_str(), F_OK), 0) << "nothing may be written for invalid input";
}

// A tool schema the agent could not use is invalid input found by validate, not a blocked call at
// run time; the error points into the tool file.
TEST_F(Cli, UnusableToolSchemaExits2WithItsLocationInTheToolFile) {
  std::string text = WithLatency("3000");
  text.replace(text.find("fakes:"), 6, "agent: { tools: { file: tools.yaml } }\nfakes:");
  const std::string path = Write("tools_bad.yaml", text);
  struct Case {
    std::string parameters;
    std::string where;
  };
  const Case cases[] = {
      {"{ properties: { id: { type: string, pattern: \"^(a)\\\\1$\" } } }",
       ":4:60: 0.parameters.properties.id.pattern: unusable JSON Schema: invalid pattern "
       "\"^(a)\\\\1$\": invalid escape sequence: \\1"},
      {"{ properties: { id: { $ref: \"#/definitions/id\" } } }",
       ":4:43: 0.parameters.properties.id.$ref: unusable JSON Schema: $ref is not supported"},
      {"{ properties: { id: { type: bogus } } }",
       ":4:43: 0.parameters.properties.id.type: unusable JSON Schema: not a draft-07 schema: "
       "/properties/id/type: failed to match against any enum values"},
  };
  for (const Case& c : cases) {
    const std::string tools = Write("tools.yaml", "- name: t\n  description: d\n  backend: b\n"
                                                  "  parameters: " + c.parameters + "\n");
    const Output out = RunCli("validate " + path);
    EXPECT_EQ(out.exit_code, 2) << out.text;
    EXPECT_NE(out.text.find(tools + c.where), std::string::npos) << out.text;
  }
}

TEST_F(Cli, BadSetOverrideExits2) {
  const std::string path = Write("ok.yaml", WithLatency("3000"));
  const Output out = RunCli("run " + path + " --set network.uplink.loss=1.5 --db " + db_);
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find("network.uplink.loss"), std::string::npos) << out.text;
}

// Thresholds gate the run (k6 semantics): a violated one exits 99 even when every call passed.
TEST_F(Cli, ThresholdsGateTheExitCode) {
  const std::string base = WithLatency("3000");
  const std::string met = Write("met.yaml", base + "thresholds: { turn_latency: [\"p(95)<3000\"], task_completion: [\"rate>0.9\"] }\n");
  const std::string missed = Write("missed.yaml", base + "thresholds: { turn_latency: [\"p(95)<100\"] }\n");
  const Output ok = RunCli("run " + met + " --seed 3 --db " + db_);
  EXPECT_EQ(ok.exit_code, 0) << ok.text;
  EXPECT_NE(ok.text.find("thresholds: 2 of 2 passed"), std::string::npos) << ok.text;
  const Output bad = RunCli("run " + missed + " --seed 3 --db " + db_);
  EXPECT_EQ(bad.exit_code, 99) << bad.text;
  EXPECT_NE(bad.text.find("turn_latency p(95)<100"), std::string::npos) << bad.text;
  const Output unknown = RunCli("validate " + Write("unknown.yaml", base + "thresholds: { latencyy: [\"p(95)<1\"] }\n"));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.text;
}

// The sweep's knee is the capacity planner's answer: more LLM capacity must move it up.
TEST_F(Cli, SweepKneeMovesWithLlmCapacity) {
  std::system(("cp " + std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml " + dir_ + "/").c_str());
  auto plan = [&](int capacity) {
    return Write("plan" + std::to_string(capacity) + ".yaml",
                 "name: cap\nscenario: order_status.yaml\nlevels: [10, 25, 50, 100]\nset:\n"
                 "  - \"fakes.llm.capacity.max_concurrent=" + std::to_string(capacity) + "\"\n"
                 "  - \"fakes.llm.capacity.queue=1000\"\n  - \"fakes.llm.capacity.queue_timeout_ms=10000\"\n"
                 "  - \"load.arrival.rate_per_s=0\"\n"
                 "slo: { turn_latency: [\"p(95)<2000\"], task_completion: [\"rate>0.9\"] }\n");
  };
  const Output low = RunCli("sweep " + plan(30) + " --seed 1 --db " + db_);
  const Output high = RunCli("sweep " + plan(100) + " --seed 1 --db " + db_);
  EXPECT_EQ(low.exit_code, 0) << low.text;
  EXPECT_EQ(high.exit_code, 0) << high.text;
  EXPECT_NE(low.text.find("knee: 25 "), std::string::npos) << low.text;
  EXPECT_NE(high.text.find("knee: 100 "), std::string::npos) << high.text;
}

// Levels side by side store what levels one after another store: the same sweep rows (run ids
// in plan order) and the same runs, event-log hash for hash.
TEST_F(Cli, SweepLevelsAtOnceStoreTheRowsOfLevelsOneAtATime) {
  std::system(("cp " + std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml " + dir_ + "/").c_str());
  const std::string plan = Write(
      "plan.yaml",
      "name: cap\nscenario: order_status.yaml\nlevels: [10, 25, 50]\nset:\n"
      "  - \"fakes.llm.capacity.max_concurrent=30\"\n  - \"load.arrival.rate_per_s=0\"\n"
      "slo: { turn_latency: [\"p(95)<2000\"] }\n");
  const std::string one_db = dir_ + "/one.db", three_db = dir_ + "/three.db";
  const Output one = RunCli("sweep " + plan + " --seed 2 --levels-at-once 1 --db " + one_db);
  const Output three = RunCli("sweep " + plan + " --seed 2 --levels-at-once 3 --db " + three_db);
  EXPECT_EQ(one.exit_code, three.exit_code) << one.text << three.text;
  EXPECT_NE(three.text.find("3 levels, 3 at once"), std::string::npos) << three.text;
  const std::string query =
      "select l.seq, l.level, l.run_id, l.slo_met, l.slo_json, r.status, r.event_log_hash "
      "from sweep_levels l join runs r using (run_id) order by l.seq";
  auto rows = [&](const std::string& db) {
    return callsim::testing::RunPipe("sqlite3 '" + db + "' \"" + query + "\"").text;
  };
  const std::string a = rows(one_db), b = rows(three_db);
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 3) << a;
  EXPECT_EQ(a, b);
}

// A million Opus callers (100,000 at once, the bound) would need about 77 GB: refused before
// anything runs or is written, with the estimate and the memory available.
TEST_F(Cli, ALoadThatCannotFitInMemoryIsRefusedWithTheEstimate) {
  const std::optional<callsim::harness::AvailableMemory> available =
      callsim::harness::ReadAvailableMemory();
  if (!available || available->bytes > (int64_t{200} << 30)) GTEST_SKIP() << "too much memory";
  std::string opus = WithLatency("3000");
  opus.replace(opus.find("codec: l16"), 10, "codec: opus");
  const std::string path = Write("huge.yaml", opus);
  const Output out = RunCli("run " + path + " --callers 1000000 --db " + db_);
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find("100000 calls active at once"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("available (" + available->source + ")"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("--skip-memory-check"), std::string::npos) << out.text;
  EXPECT_NE(access(db_.c_str(), F_OK), 0) << "nothing may be written for a refused run";
}

TEST_F(Cli, WerCommandPrintsCountsLikeTheStore) {
  const std::string ref = Write("ref.txt", "the cat sat on the mat\nhello world\n");
  const std::string hyp = Write("hyp.txt", "the bat sat on mat\nhello, World!\n");
  const Output out = RunCli("wer " + ref + " " + hyp);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  // Line 1: cat->bat (S), "the" deleted (D); line 2 normalizes to a match. N = 8.
  EXPECT_NE(out.text.find("S=1 D=1 I=0 N=8 WER=0.2500"), std::string::npos) << out.text;
}

TEST_F(Cli, WerCommandWarnsWhenLineCountsDiffer) {
  const std::string ref = Write("ref.txt", "one two\nthree\n");
  const std::string hyp = Write("hyp.txt", "one two\n");
  const Output out = RunCli("wer " + ref + " " + hyp);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_NE(out.text.find("warning: " + ref + " has 2 lines, " + hyp + " has 1"), std::string::npos)
      << out.text;
  EXPECT_NE(out.text.find("S=0 D=1 I=0 N=3"), std::string::npos) << out.text;
  const Output same = RunCli("wer " + ref + " " + ref);
  EXPECT_EQ(same.text.find("warning"), std::string::npos) << same.text;
}

TEST_F(Cli, WerCommandRefusesAFifoAndInvalidUtf8WithExit2) {
  const std::string ref = Write("ref.txt", "добрий день\n");
  const std::string fifo = dir_ + "/hyp.fifo";
  ASSERT_EQ(std::system(("mkfifo " + fifo).c_str()), 0);
  const Output blocked = RunCli("wer " + ref + " " + fifo);  // must not wait for a writer
  EXPECT_EQ(blocked.exit_code, 2) << blocked.text;
  EXPECT_NE(blocked.text.find(fifo + ": is not a regular file (a FIFO)"), std::string::npos) << blocked.text;

  const std::string bad = Write("bad.txt", "добрий день\nдо\xD0 побачення\n");
  const Output invalid = RunCli("wer " + ref + " " + bad);
  EXPECT_EQ(invalid.exit_code, 2) << invalid.text;
  EXPECT_NE(invalid.text.find(bad + ":2:3: invalid UTF-8 (byte 0xd0)"), std::string::npos) << invalid.text;

  const std::string hyp = Write("hyp.txt", "Добрий вечір\n");
  const Output ok = RunCli("wer " + ref + " " + hyp);
  EXPECT_EQ(ok.exit_code, 0) << ok.text;
  EXPECT_NE(ok.text.find("S=1 D=0 I=0 N=2 WER=0.5000"), std::string::npos) << ok.text;
}

}  // namespace
