// A run's recordings: the layout beside the database, the WAV written from a tape, the policy's
// write-or-discard, and a failed write that costs only the recording.
#include "harness/run/recordings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "tests/harness/run/read_wav.h"
#include "tests/harness/scenario/temp_dir.h"

namespace callsim::harness {
namespace {

namespace fs = std::filesystem;
using testing::ReadWav;

// A closed 1 s tape: a microphone frame at 100 ms, an ear frame at 500 ms.
std::shared_ptr<const AudioTape> OneSecondTape(int64_t max_samples = 16000 * 600) {
  auto tape = std::make_shared<AudioTape>(0, max_samples);
  agent::Frame mic, ear;
  mic.samples.fill(1234);
  ear.samples.fill(-4321);
  tape->Mic(mic, 100'000);
  tape->Ear(ear, 500'000);
  tape->Close(1'000'000);
  return tape;
}

CallRecord Record(int call_id, CallStatus status, bool passed) {
  CallRecord r;
  r.call_id = call_id;
  r.status = status;
  r.task_completed = passed;
  r.audio = OneSecondTape();
  return r;
}

class RecordingsTest : public ::testing::Test {
 protected:
  RecordOptions Options(const std::string& policy) {
    RecordPolicy p;
    std::string error;
    EXPECT_TRUE(ParseRecordPolicy(policy, 100, &p, &error)) << error;
    RecordOptions o = RecordingsBesideDatabase((dir_.path() / "demo.db").string(), p);
    o.warn = [this](const std::string& m) { warnings_.push_back(m); };
    return o;
  }
  fs::path RunFolder(int64_t run_id) const {
    return dir_.path() / "demo.recordings" / ("run-" + std::to_string(run_id));
  }

  testing::TempDir dir_;
  std::vector<std::string> warnings_;
};

TEST(RecordingsLayoutTest, TheFolderIsBesideTheDatabaseNamedAfterIt) {
  const RecordOptions a = RecordingsBesideDatabase("path/to/demo.db", RecordPolicy{});
  EXPECT_EQ(a.folder, "path/to/demo.recordings");
  EXPECT_EQ(a.stored_folder, "demo.recordings");
  const RecordOptions b = RecordingsBesideDatabase("callsim.db", RecordPolicy{});
  EXPECT_EQ(b.folder, "callsim.recordings");
  EXPECT_EQ(b.stored_folder, "callsim.recordings");
  const RecordOptions c = RecordingsBesideDatabase("/var/lib/runs", RecordPolicy{});
  EXPECT_EQ(c.folder, "/var/lib/runs.recordings");
  EXPECT_EQ(c.stored_folder, "runs.recordings");
}

TEST_F(RecordingsTest, AllWritesAStereoWavOfTheTapeAndNamesItRelativeToTheDatabase) {
  const RecordOptions options = Options("all");
  Recordings recordings(options, 7);
  const std::string stored = recordings.Keep(Record(3, CallStatus::kCompleted, true));
  EXPECT_EQ(stored, "demo.recordings/run-7/call-3.wav");
  EXPECT_EQ(recordings.run_folder(), RunFolder(7).string());
  const testing::WavContents wav = ReadWav((dir_.path() / stored).string());
  ASSERT_TRUE(wav.opened);
  EXPECT_EQ(wav.channels, 2);
  EXPECT_EQ(wav.rate_hz, 16000);
  EXPECT_EQ(wav.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_EQ(wav.frames, 16000);
  EXPECT_EQ(wav.At(1599, 0), 0);
  EXPECT_EQ(wav.At(1600, 0), 1234);  // 100 ms
  EXPECT_EQ(wav.At(1919, 0), 1234);
  EXPECT_EQ(wav.At(1920, 0), 0);
  EXPECT_EQ(wav.At(1600, 1), 0);
  EXPECT_EQ(wav.At(8000, 1), -4321);  // 500 ms
  EXPECT_EQ(wav.At(8319, 1), -4321);
  EXPECT_EQ(wav.At(8320, 1), 0);
  EXPECT_TRUE(wav.comment.empty());
  EXPECT_EQ(recordings.written(), 1);
  EXPECT_FALSE(fs::exists(RunFolder(7) / "call-3.wav.tmp"));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(RecordingsTest, TheSameTapeGivesTheSameBytes) {
  const RecordOptions options = Options("all");
  Recordings first(options, 1), second(options, 2);
  const std::string a = first.Keep(Record(0, CallStatus::kCompleted, true));
  const std::string b = second.Keep(Record(0, CallStatus::kCompleted, true));
  ASSERT_NE(a, b);
  const std::string bytes = testing::FileBytes((dir_.path() / a).string());
  EXPECT_EQ(bytes.size(), 44u + 16000 * 4) << "a plain 44-byte header and the samples";
  EXPECT_EQ(bytes, testing::FileBytes((dir_.path() / b).string()));
}

TEST_F(RecordingsTest, FailedWritesOnlyCallsThatDidNotPassAndMakesNoFolderOtherwise) {
  const RecordOptions options = Options("failed");
  Recordings recordings(options, 1);
  EXPECT_EQ(recordings.Keep(Record(0, CallStatus::kCompleted, true)), "");
  EXPECT_EQ(recordings.Keep(Record(1, CallStatus::kAborted, false)), "");
  EXPECT_FALSE(fs::exists(dir_.path() / "demo.recordings")) << "nothing kept, nothing made";
  EXPECT_EQ(recordings.Keep(Record(2, CallStatus::kCompleted, false)),
            "demo.recordings/run-1/call-2.wav");
  EXPECT_EQ(recordings.Keep(Record(3, CallStatus::kDropped, false)),
            "demo.recordings/run-1/call-3.wav");
  EXPECT_EQ(recordings.written(), 2);
}

TEST_F(RecordingsTest, ACallWithoutATapeOrWithNothingInItWritesNothing) {
  const RecordOptions options = Options("all");
  Recordings recordings(options, 1);
  CallRecord untaped = Record(0, CallStatus::kCompleted, true);
  untaped.audio.reset();
  EXPECT_EQ(recordings.Keep(untaped), "");
  CallRecord empty = Record(1, CallStatus::kFailed, false);
  auto tape = std::make_shared<AudioTape>(0, 16000);
  tape->Close(0);  // the call ended as it started
  empty.audio = tape;
  EXPECT_EQ(recordings.Keep(empty), "");
  EXPECT_EQ(recordings.written(), 0);
}

TEST_F(RecordingsTest, AFailedWriteIsReportedOnceAndCountedAndLosesOnlyTheFile) {
  const RecordOptions options = Options("all");
  fs::create_directories(dir_.path() / "demo.recordings");
  std::ofstream(RunFolder(4)) << "a file where the run's folder should go";
  Recordings recordings(options, 4);
  EXPECT_EQ(recordings.Keep(Record(0, CallStatus::kCompleted, true)), "");
  EXPECT_EQ(recordings.Keep(Record(1, CallStatus::kFailed, false)), "");
  EXPECT_EQ(recordings.failed(), 2);
  EXPECT_EQ(recordings.written(), 0);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("cannot make the folder " + RunFolder(4).string()), std::string::npos)
      << warnings_[0];
  EXPECT_NE(warnings_[0].find("stored without its recording"), std::string::npos) << warnings_[0];

  std::string error;
  std::unique_ptr<Store> store = Store::Open((dir_.path() / "demo.db").string(), &error);
  ASSERT_TRUE(store) << error;
  const int64_t run_id = store->BeginRun(RunInfo{});
  recordings.StoreMetrics(*store, run_id);
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  EXPECT_EQ(m.at("recordings_failed"), 2);
  EXPECT_EQ(m.at("recordings_written"), 0);
}

TEST_F(RecordingsTest, ATruncatedTapeSaysSoInItsFileAndOnceInTheWarnings) {
  const RecordOptions options = Options("all");
  Recordings recordings(options, 1);
  CallRecord r = Record(0, CallStatus::kCompleted, true);
  r.audio = OneSecondTape(/*max_samples=*/4000);
  const std::string stored = recordings.Keep(r);
  r.call_id = 1;
  recordings.Keep(r);
  const testing::WavContents wav = ReadWav((dir_.path() / stored).string());
  EXPECT_EQ(wav.frames, 4000);
  EXPECT_NE(wav.comment.find("recording stopped at 0.25 s"), std::string::npos) << wav.comment;
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("call 0"), std::string::npos) << warnings_[0];
}

TEST_F(RecordingsTest, OffStoresNoMetricsAndWritesNothing) {
  const RecordOptions options;
  Recordings recordings(options, 1);
  EXPECT_FALSE(recordings.on());
  EXPECT_EQ(recordings.Keep(Record(0, CallStatus::kFailed, false)), "");
  std::string error;
  std::unique_ptr<Store> store = Store::Open((dir_.path() / "demo.db").string(), &error);
  ASSERT_TRUE(store) << error;
  const int64_t run_id = store->BeginRun(RunInfo{});
  recordings.StoreMetrics(*store, run_id);
  EXPECT_TRUE(store->LoadMetrics(run_id).empty());
}

}  // namespace
}  // namespace callsim::harness
