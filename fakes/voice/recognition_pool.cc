#include "fakes/voice/recognition_pool.h"

#include <algorithm>
#include <utility>

#include "fakes/voice/sphinx_recognizer.h"

namespace callsim::fakes {

std::shared_ptr<const RecognitionResult> RecognitionResult::Done(std::string text) {
  auto result = std::make_shared<RecognitionResult>();
  result->text_ = std::move(text);
  result->done_.store(true, std::memory_order_release);
  return result;
}

RecognitionPool& RecognitionPool::Shared() {
  static RecognitionPool pool(std::max(1u, std::thread::hardware_concurrency()));
  return pool;
}

RecognitionPool::RecognitionPool(size_t workers) {
  threads_.reserve(std::max<size_t>(1, workers));
  for (size_t i = 0; i < std::max<size_t>(1, workers); ++i) threads_.emplace_back([this] { Work(); });
}

RecognitionPool::~RecognitionPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::shared_ptr<const RecognitionResult> RecognitionPool::Submit(
    std::shared_ptr<const std::vector<std::string>> phrases, std::vector<int16_t> samples,
    bool final) {
  auto result = std::make_shared<RecognitionResult>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= kMaxQueued) return nullptr;
    queue_.push_back(Job{std::move(phrases), std::move(samples), final, result});
  }
  wake_.notify_one();
  return result;
}

void RecognitionPool::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    RecognitionResult& r = *job.result;
    SphinxRecognizer* recognizer = SharedSphinxRecognizer(*job.phrases, &r.error_);
    if (recognizer != nullptr) {
      r.text_ = job.final ? recognizer->Recognize(job.samples)
                          : recognizer->RecognizeSoFar(job.samples);
    }
    r.done_.store(true, std::memory_order_release);
  }
}

}  // namespace callsim::fakes
