#include "harness/run/recordings.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "harness/run/recording_wav.h"
#include "harness/store/store.h"

namespace callsim::harness {
namespace {

namespace fs = std::filesystem;

void PrintToStderr(const std::string& message) { std::fprintf(stderr, "%s\n", message.c_str()); }

}  // namespace

RecordOptions RecordingsBesideDatabase(const std::string& db_path, const RecordPolicy& policy) {
  const fs::path db(db_path);
  const std::string name = db.stem().string() + ".recordings";
  RecordOptions options;
  options.policy = policy;
  options.folder = (db.parent_path() / name).string();
  options.stored_folder = name;
  return options;
}

Recordings::Recordings(const RecordOptions& options, int64_t run_id)
    : options_(options),
      run_folder_((fs::path(options.folder) / ("run-" + std::to_string(run_id))).string()),
      stored_run_folder_(options.stored_folder + "/run-" + std::to_string(run_id)) {}

int64_t Recordings::max_samples() const {
  return std::llround(std::max(0.0, options_.max_seconds) * AudioTape::kRateHz);
}

std::string Recordings::Keep(const CallRecord& record) {
  if (!on() || !record.audio || record.audio->length_samples() == 0) return "";
  if (!KeepsTape(options_.policy, record.status, record.task_completed)) return "";
  return Write(*record.audio, record.call_id);
}

std::string Recordings::Write(const AudioTape& tape, int64_t call_id) {
  std::error_code ec;
  fs::create_directories(run_folder_, ec);
  if (ec) {
    Fail("cannot make the folder " + run_folder_ + ": " + ec.message());
    return "";
  }
  const std::string name = "call-" + std::to_string(call_id) + ".wav";
  const fs::path path = fs::path(run_folder_) / name;
  const fs::path partial = fs::path(run_folder_) / (name + ".tmp");
  std::string error;
  if (!WriteRecordingWav(tape, partial.string(), &error)) {
    fs::remove(partial, ec);
    Fail("cannot write " + path.string() + ": " + error);
    return "";
  }
  fs::rename(partial, path, ec);
  if (ec) {
    fs::remove(partial, ec);
    Fail("cannot rename " + partial.string() + " to " + path.string() + ": " + ec.message());
    return "";
  }
  ++written_;
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) bytes_ += static_cast<int64_t>(size);
  if (tape.truncated() && truncated_++ == 0) {
    char bound_s[32];
    std::snprintf(bound_s, sizeof bound_s, "%g",
                  static_cast<double>(tape.max_samples()) / AudioTape::kRateHz);
    (options_.warn ? options_.warn : PrintToStderr)(
        "callsim: --record: call " + std::to_string(call_id) + " lasted longer than a recording " +
        "keeps: its recording stops at " + bound_s +
        " s (the run's recordings_truncated metric counts such calls)");
  }
  return stored_run_folder_ + "/" + name;
}

void Recordings::Fail(const std::string& what) {
  if (failed_++ > 0) return;
  (options_.warn ? options_.warn : PrintToStderr)(
      "callsim: --record: " + what +
      "; the call is stored without its recording (later failures are only counted in the run's "
      "recordings_failed metric)");
}

std::map<std::string, int64_t> Recordings::Counters() const {
  if (!on()) return {};
  return {{"recordings_written", written_},
          {"recordings_failed", failed_},
          {"recordings_truncated", truncated_},
          {"recordings_bytes", bytes_}};
}

void Recordings::StoreMetrics(Store& store, int64_t run_id) const {
  std::map<std::string, double> metrics;
  for (const auto& [name, value] : Counters()) metrics[name] = static_cast<double>(value);
  if (!metrics.empty()) store.SetMetrics(run_id, metrics);
}

}  // namespace callsim::harness
