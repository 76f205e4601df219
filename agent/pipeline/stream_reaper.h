// Provider objects are never destroyed inside their own callbacks (a stream may be the one
// reporting the error that ends it): the agent cancels them and parks them here, and a task on
// the next scheduler turn destroys what is parked (LLM streams, then TTS streams, then STT
// sessions). Destroying the reaper cancels that task and destroys what is still parked.
#pragma once

#include <memory>
#include <vector>

#include "agent/providers/llm.h"
#include "agent/providers/stt.h"
#include "agent/providers/tts.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

class StreamReaper {
 public:
  explicit StreamReaper(Scheduler& scheduler) : reap_(scheduler) {}

  // Parks the object (nullptr is ignored) and makes sure a reap is scheduled. The caller has
  // cancelled it already if it could still call back.
  void Park(std::unique_ptr<LlmStream> stream);
  void Park(std::unique_ptr<TtsStream> stream);
  void Park(std::unique_ptr<SttSession> session);

  // Objects parked and not yet destroyed.
  size_t parked() const { return llm_.size() + tts_.size() + stt_.size(); }

 private:
  void ScheduleReap();

  // Declared in this order so that destroying the reaper also destroys STT, TTS, then LLM.
  std::vector<std::unique_ptr<LlmStream>> llm_;
  std::vector<std::unique_ptr<TtsStream>> tts_;
  std::vector<std::unique_ptr<SttSession>> stt_;
  ScopedTask reap_;
};

}  // namespace callsim::agent
