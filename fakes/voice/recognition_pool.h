// Speech recognition on worker threads, for callers on the real clock: a reply's stretch of speech
// takes about 2% of its length to decode (100 ms for 5 s), which a caller's 20 ms media tick cannot
// wait for. Each worker decodes with its own thread's recognisers (SharedSphinxRecognizer), so a
// transcript is the same as an inline decode of the same audio would give.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace callsim::fakes {

// One decode's outcome. `text` and `error` are written before `done` is set (release) and never
// after: read them only once done() is true.
class RecognitionResult {
 public:
  // A result that is already done, with `text`.
  static std::shared_ptr<const RecognitionResult> Done(std::string text);

  bool done() const { return done_.load(std::memory_order_acquire); }
  const std::string& text() const { return text_; }
  const std::string& error() const { return error_; }

 private:
  friend class RecognitionPool;
  std::atomic<bool> done_{false};
  std::string text_;
  std::string error_;
};

class RecognitionPool {
 public:
  // Decodes waiting for a worker at most; past it Submit refuses (the caller decodes inline).
  static constexpr size_t kMaxQueued = 256;

  // The process's pool: one worker per core (at least one), started on first use.
  static RecognitionPool& Shared();

  explicit RecognitionPool(size_t workers);
  ~RecognitionPool();  // finishes the decode in hand on each worker, drops the queue, joins
  RecognitionPool(const RecognitionPool&) = delete;
  RecognitionPool& operator=(const RecognitionPool&) = delete;

  // Queues a decode of 16 kHz `samples` with a grammar of `phrases`: the final transcript
  // (SphinxRecognizer::Recognize) or, with `final` false, the best path so far (RecognizeSoFar).
  // Null when kMaxQueued decodes are already waiting.
  std::shared_ptr<const RecognitionResult> Submit(
      std::shared_ptr<const std::vector<std::string>> phrases, std::vector<int16_t> samples,
      bool final);

  size_t workers() const { return threads_.size(); }

 private:
  struct Job {
    std::shared_ptr<const std::vector<std::string>> phrases;
    std::vector<int16_t> samples;
    bool final = true;
    std::shared_ptr<RecognitionResult> result;
  };
  void Work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace callsim::fakes
