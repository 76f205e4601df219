// The recordings of one run (`--record`): which calls are taped, and, once a call's verdict is
// known, its tape written as a WAV file (recording_wav.h) or discarded. Only calls in progress
// hold tapes, each bounded by max_seconds.
//
// Layout, for a database at DIR/NAME.EXT (or DIR/NAME):
//   DIR/NAME.recordings/run-<run_id>/call-<call_id>.wav
// and calls.recording holds the path relative to DIR ("NAME.recordings/run-3/call-7.wav"), so
// the database and its recordings folder move together. A file is written beside its final name
// (".tmp") and renamed into place, so a name is never a half-written file.
//
// A write that fails (a full disk, a folder that cannot be made) loses that recording only: the
// call is stored with calls.recording NULL, the failure is counted (recordings_failed) and the
// first one is reported through `warn`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "harness/run/call_record.h"
#include "harness/run/record_policy.h"

namespace callsim::harness {

class Store;

struct RecordOptions {
  RecordPolicy policy;  // off: nothing is taped, written or stored
  // The NAME.recordings folder, as the process can open it, and as calls.recording names it
  // (relative to the database's folder).
  std::string folder;
  std::string stored_folder;
  double max_seconds = kMaxRecordingSeconds;  // per call; a longer call's tape is truncated
  // The first write failure of the run, in one line; null: printed on stderr.
  std::function<void(const std::string& message)> warn;
};

// The options for recording beside the database at `db_path` (see the layout above).
RecordOptions RecordingsBesideDatabase(const std::string& db_path, const RecordPolicy& policy);

class Recordings {
 public:
  // `options` must outlive this.
  Recordings(const RecordOptions& options, int64_t run_id);

  bool on() const { return options_.policy.on(); }
  // Whether call `call_id` is taped, and the bound of its tape in samples per channel.
  bool Tapes(int64_t call_id) const { return TapesCall(options_.policy, call_id); }
  int64_t max_samples() const;

  // The call's verdict is in: writes its tape if the policy keeps it. Returns the path to store
  // in calls.recording, or "" (not kept, no tape, nothing heard, or the write failed).
  std::string Keep(const CallRecord& record);

  // recordings_written, recordings_failed, recordings_truncated and recordings_bytes (the WAV
  // files' total size) as run metrics; nothing when recording is off.
  void StoreMetrics(Store& store, int64_t run_id) const;
  // The same four values by name (empty when recording is off): shards and workers add them up.
  std::map<std::string, int64_t> Counters() const;

  int64_t written() const { return written_; }
  int64_t failed() const { return failed_; }
  // The run's folder, as the process opens it.
  const std::string& run_folder() const { return run_folder_; }

 private:
  std::string Write(const AudioTape& tape, int64_t call_id);
  void Fail(const std::string& what);

  const RecordOptions& options_;
  std::string run_folder_;
  std::string stored_run_folder_;
  int64_t written_ = 0;
  int64_t failed_ = 0;
  int64_t truncated_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace callsim::harness
