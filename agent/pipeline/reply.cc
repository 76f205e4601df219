#include "agent/pipeline/reply.h"

#include <iterator>

#include "agent/runtime/check.h"

namespace callsim::agent {

const char* ReplyKindName(ReplyKind kind) {
  static constexpr const char* kNames[] = {"greeting", "answer", "apology", "prompt", "resume"};
  const size_t index = static_cast<size_t>(kind);
  CALLSIM_CHECK(index < std::size(kNames));
  return kNames[index];
}

std::string Reply::Text(bool played_only) const {
  std::string text;
  for (size_t i = committed_segments; i < segments.size(); ++i) {
    const ReplySegment& segment = segments[i];
    if (played_only && !segment.played_any) continue;
    if (!text.empty()) text += ' ';
    text += segment.text;
  }
  return text;
}

std::string Reply::UnplayedText() const {
  std::string text;
  for (size_t i = play_index; i < segments.size(); ++i) {
    if (!text.empty()) text += ' ';
    text += segments[i].text;
  }
  return text;
}

bool Reply::Complete() const {
  return llm_done && tools_running == 0 && !follow_up && play_index == segments.size();
}

const ReplySegment* Reply::FirstUnsynthesized() const {
  for (size_t i = play_index; i < segments.size(); ++i) {
    if (!segments[i].done) return &segments[i];
  }
  return nullptr;
}

void SegmentAudio::Push(const TtsFrame& frame) {
  ++received_;
  if (!runs_.empty()) {
    Run& last = runs_.back();
    if (last.audio == frame.audio && last.first + last.count == frame.index) {
      ++last.count;
      return;
    }
  }
  runs_.push_back({frame.audio, frame.index, 1});
}

bool SegmentAudio::Pop(Frame* out) {
  while (run_ < runs_.size() && run_frame_ == runs_[run_].count) {
    runs_[run_].audio.reset();  // played: its source can go
    ++run_;
    run_frame_ = 0;
  }
  if (run_ == runs_.size()) return false;
  const Run& run = runs_[run_];
  ReadFrame(*run.audio, run.first + run_frame_++, out);
  return true;
}

void SegmentAudio::Release() {
  std::vector<Run>().swap(runs_);
  run_ = 0;
  run_frame_ = 0;
}

bool Reply::PopFrame(Frame* out) {
  while (play_index < segments.size()) {
    ReplySegment& segment = segments[play_index];
    if (segment.audio.Pop(out)) {
      segment.played_any = true;
      --queued_frames;
      ++played_frames;
      CALLSIM_CHECK(queued_frames >= 0);
      return true;
    }
    if (!segment.done) return false;
    segment.audio.Release();  // played: give the memory back now
    ++play_index;
  }
  return false;
}

}  // namespace callsim::agent
