#include "agent/pipeline/stream_reaper.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

// Appends its name to `log` when destroyed.
class LoggedLlm final : public LlmStream {
 public:
  explicit LoggedLlm(std::string* log) : log_(log) {}
  ~LoggedLlm() override { *log_ += "llm "; }
  void Cancel() override {}

 private:
  std::string* log_;
};

class LoggedTts final : public TtsStream {
 public:
  explicit LoggedTts(std::string* log) : log_(log) {}
  ~LoggedTts() override { *log_ += "tts "; }
  void Cancel() override {}

 private:
  std::string* log_;
};

class LoggedStt final : public SttSession {
 public:
  explicit LoggedStt(std::string* log) : log_(log) {}
  ~LoggedStt() override { *log_ += "stt "; }
  void PushAudio(const Frame&) override {}
  void Finalize() override {}

 private:
  std::string* log_;
};

TEST(StreamReaperTest, ParkedObjectsLiveUntilTheNextSchedulerTurn) {
  SimScheduler s;
  s.RunUntil(5000);
  std::string log;
  StreamReaper reaper(s);
  reaper.Park(std::make_unique<LoggedStt>(&log));
  reaper.Park(std::make_unique<LoggedTts>(&log));
  reaper.Park(std::make_unique<LoggedLlm>(&log));
  reaper.Park(std::make_unique<LoggedTts>(&log));
  EXPECT_EQ(log, "");
  EXPECT_EQ(reaper.parked(), 4u);
  EXPECT_EQ(s.pending(), 1u);  // one reap for all of them
  s.RunAll();
  EXPECT_EQ(log, "llm tts tts stt ");
  EXPECT_EQ(s.NowUs(), 5000);  // the same instant, a later task
  EXPECT_EQ(reaper.parked(), 0u);
}

TEST(StreamReaperTest, NothingParkedSchedulesNothing) {
  SimScheduler s;
  StreamReaper reaper(s);
  reaper.Park(std::unique_ptr<LlmStream>());
  reaper.Park(std::unique_ptr<SttSession>());
  EXPECT_EQ(s.pending(), 0u);
}

TEST(StreamReaperTest, DestroyingTheReaperDestroysWhatIsParkedAndItsTask) {
  SimScheduler s;
  std::string log;
  {
    StreamReaper reaper(s);
    reaper.Park(std::make_unique<LoggedLlm>(&log));
    reaper.Park(std::make_unique<LoggedTts>(&log));
    reaper.Park(std::make_unique<LoggedStt>(&log));
  }
  EXPECT_EQ(log, "stt tts llm ");
  EXPECT_EQ(s.pending(), 0u);
}

}  // namespace
}  // namespace callsim::agent
