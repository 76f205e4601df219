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

bool Reply::PopFrame(Frame* out) {
  while (play_index < segments.size()) {
    ReplySegment& segment = segments[play_index];
    if (segment.next_frame < segment.frames.size()) {
      *out = segment.frames[segment.next_frame++];
      segment.played_any = true;
      --queued_frames;
      ++played_frames;
      CALLSIM_CHECK(queued_frames >= 0);
      return true;
    }
    if (!segment.done) return false;
    std::vector<Frame>().swap(segment.frames);  // played: give the memory back now
    segment.next_frame = 0;
    ++play_index;
  }
  return false;
}

}  // namespace callsim::agent
