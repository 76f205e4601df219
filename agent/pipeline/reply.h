// One reply of the agent while it is in progress: its LLM stream, its sentences (each with its
// TTS stream and audio, played strictly in sentence order), its tool runs, the notices added to
// the model's words, and the timing of the caller turn it answers. Plain data plus the queries
// the VoiceAgent asks of it; the agent drives it. A fresh Reply (id 0) is no reply; resetting
// the agent's reply to a fresh one cancels its filler timer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/pipeline/reply_notices.h"
#include "agent/providers/llm.h"
#include "agent/providers/tts.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/tools/tool_gate.h"

namespace callsim::agent {

enum class ReplyKind { kGreeting, kAnswer, kApology, kPrompt, kResume };

// "greeting", "answer", "apology", "prompt", "resume" (as in the "speech_start" events).
const char* ReplyKindName(ReplyKind kind);

// Times of one caller turn and its reply (-1: not reached).
struct TurnTiming {
  int64_t speech_end_us = -1;  // audio time: end of the caller's last voiced frame
  int64_t endpoint_us = -1;
  int64_t final_us = -1;
  int64_t llm_request_us = -1;
  int64_t first_token_us = -1;
  int64_t first_sentence_us = -1;
  int64_t first_tts_request_us = -1;  // of the first sentence
  int64_t first_tts_audio_us = -1;    // of the first sentence
};

// The frames of a sentence as they arrive from its TTS stream, each made when it is popped: runs
// of one source's consecutive frames, so a sentence of the word modem is one reference however
// long it is.
class SegmentAudio {
 public:
  void Push(const TtsFrame& frame);
  // The next frame not yet popped into `out`; false when none is queued.
  bool Pop(Frame* out);
  // Frames pushed so far (popped ones included).
  int64_t received() const { return received_; }
  // References to sources held: one for each run of consecutive frames of one source.
  size_t held_runs() const { return runs_.size(); }
  // Gives the memory back once the sentence has played.
  void Release();

 private:
  struct Run {
    std::shared_ptr<const SampleSource> audio;
    int64_t first;  // frame index in audio
    int64_t count;
  };
  std::vector<Run> runs_;
  size_t run_ = 0;         // the run the next pop reads
  int64_t run_frame_ = 0;  // frames of that run already popped
  int64_t received_ = 0;
};

// One sentence of a reply: its TTS stream and its audio.
struct ReplySegment {
  std::string text;
  std::unique_ptr<TtsStream> tts;
  SegmentAudio audio;
  bool done = false;  // its TTS stream has finished
  bool played_any = false;
};

// What happens once a reply has played: nothing, or the agent ends the call (end_call,
// transfer_call) for `reason`.
struct AfterReply {
  enum class Action { kContinue, kHangup, kTransfer };
  Action action = Action::kContinue;
  std::string transfer_target;  // kTransfer
  std::string reason;
};

// A tool call approved in a reply, running or done.
struct ToolRun {
  uint64_t key = 0;  // unique in the call: results find their run by it
  ToolCallRequest call;
  std::unique_ptr<ToolInvocation> invocation;
  int64_t started_us = 0;
  bool confirmed = false;
  bool done = false;
};

struct Reply {
  explicit Reply(Scheduler& scheduler) : filler_timer(scheduler) {}

  // The sentences not yet committed to the history, joined; with `played_only`, just those the
  // caller heard (in part).
  std::string Text(bool played_only) const;
  // The sentence playing and those after it, joined (what a barge-in leaves unsaid).
  std::string UnplayedText() const;
  // The model is done, no tool runs or follow-up is due, and every sentence has played.
  bool Complete() const;
  // The first sentence from the one playing on whose TTS stream has not finished; nullptr when
  // all have.
  const ReplySegment* FirstUnsynthesized() const;
  // The next frame in sentence order into `out`; false when none is ready (a sentence still
  // being synthesized holds back the ones after it). Counts it played; a played sentence's
  // memory is given back.
  bool PopFrame(Frame* out);

  uint64_t id = 0;  // 0: no reply in progress; callbacks carry the id they were made for
  ReplyKind kind = ReplyKind::kAnswer;
  AfterReply after;
  std::unique_ptr<LlmStream> llm;
  bool llm_done = true;
  int llm_tokens = 0;  // tokens of the current LLM stream (a stream that started can stall)
  std::vector<ReplySegment> segments;
  size_t play_index = 0;
  // Segments whose text is already in the history (before a follow-up request).
  size_t committed_segments = 0;
  int queued_frames = 0;
  int64_t played_frames = 0;
  int dropped_frames = 0;
  int dropped_sentences = 0;
  bool playing = false;  // its first frame has been played
  // Preemptive generation: started before the endpoint on `preemptive_text`, and held (nothing
  // plays, no tool runs, no follow-up) until the turn ends on those words. Tool calls and the
  // model's end that come meanwhile wait here.
  bool held = false;
  std::string preemptive_text;
  std::vector<ToolCallRequest> held_tool_calls;
  bool held_done = false;
  TurnTiming timing;
  // Tools: runs of this reply, how many are still running, the messages their results add to
  // the history before the follow-up request, and whether one is due.
  std::vector<ToolRun> tools;
  int tools_running = 0;
  std::vector<ChatMessage> tool_messages;
  bool follow_up = false;
  ReplyNotices notices;
  ScopedTask filler_timer;  // a slow tool: the filler once little is left to play
  bool filler_said = false;
};

}  // namespace callsim::agent
