#include "harness/caller/ear.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "fakes/voice/recognition_pool.h"
#include "fakes/voice/sphinx_recognizer.h"

namespace callsim::harness {
namespace {

int64_t SampleTimeUs(int64_t frame_start_us, int index) {
  return frame_start_us + static_cast<int64_t>(index) * agent::kMicrosPerSecond / agent::kSampleRateHz;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(std::move(w));
  return words;
}

}  // namespace

Ear::Ear(const std::vector<std::string>& phrases)
    : phrases_(std::make_shared<const std::vector<std::string>>(phrases)) {
  recognizer_ = fakes::SharedSphinxRecognizer(phrases, &error_);
  if (recognizer_ == nullptr) error_ = "caller ear (asr): " + error_;
}

Ear::~Ear() = default;

EarActivity Ear::Hear(const agent::Frame& frame, int64_t frame_start_us) {
  if (recognizer_ == nullptr) decoder_.Push(frame);
  EarActivity activity;
  // One branch-free pass (which the compiler vectorizes) settles a quiet frame, the usual case;
  // only a frame with sound is searched for its first and last loud sample.
  int peak = 0;
  for (int16_t s : frame.samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  int first = -1;
  int last = -1;
  if (peak > kActiveThreshold) {
    first = 0;
    while (std::abs(static_cast<int>(frame.samples[first])) <= kActiveThreshold) ++first;
    last = agent::kFrameSamples - 1;
    while (std::abs(static_cast<int>(frame.samples[last])) <= kActiveThreshold) --last;
  }
  if (first >= 0) {
    activity.any = true;
    activity.first_active_us = SampleTimeUs(frame_start_us, first);
    activity.last_active_us = SampleTimeUs(frame_start_us, last + 1);
    last_active_us_ = activity.last_active_us;
  }
  if (recognizer_ == nullptr) return activity;
  CollectDecoded(frame_start_us);

  if (!in_stretch_ && activity.any) {
    in_stretch_ = true;
    for (const agent::Frame& f : preroll_) stretch_.insert(stretch_.end(), f.samples.begin(), f.samples.end());
    preroll_.clear();
  }
  if (in_stretch_) {
    stretch_.insert(stretch_.end(), frame.samples.begin(), frame.samples.end());
    const int64_t silent_us = frame_start_us + agent::kFrameUs - last_active_us_;
    if (silent_us >= agent::MsToUs(kAsrGapMs) ||
        stretch_.size() >= static_cast<size_t>(kAsrMaxStretchSeconds) * agent::kSampleRateHz) {
      CloseStretch(frame_start_us + agent::kFrameUs);
    }
  } else {
    preroll_.push_back(frame);
    if (preroll_.size() > kAsrPrerollFrames) preroll_.pop_front();
  }
  return activity;
}

void Ear::CloseStretch(int64_t now_us) {
  std::shared_ptr<const fakes::RecognitionResult> pending;
  if (off_thread_) {
    pending = fakes::RecognitionPool::Shared().Submit(phrases_, stretch_, /*final=*/true);
  }
  if (pending) {
    decoding_.push_back({std::move(pending), now_us});
  } else if (decoding_.empty()) {
    AppendWords(recognizer_->Recognize(stretch_));  // inline, or the pool's queue is full
  } else {
    // Behind decodes still in flight: wait for them, so the words stay in order.
    decoding_.push_back({fakes::RecognitionResult::Done(recognizer_->Recognize(stretch_)), now_us});
  }
  stretch_.clear();
  in_stretch_ = false;
  partial_.clear();
  partial_at_ = 0;
  partial_decoding_.reset();
}

void Ear::CollectDecoded(int64_t now_us) {
  while (!decoding_.empty()) {
    const Decoding& d = decoding_.front();
    if (d.result->done()) {
      AppendWords(d.result->text());
    } else if (now_us - d.closed_us >= agent::MsToUs(kAsrMaxPendingMs)) {
      ++late_stretches_;
    } else {
      return;
    }
    decoding_.pop_front();
  }
}

void Ear::AppendWords(const std::string& text) {
  for (std::string& w : SplitWords(text)) words_.push_back(std::move(w));
}

std::string Ear::Partial() {
  if (recognizer_ == nullptr || !in_stretch_) return "";
  const size_t every = static_cast<size_t>(kAsrPartialEveryMs) * agent::kSampleRateHz / 1000;
  if (off_thread_) {
    if (partial_decoding_ && partial_decoding_->done()) {
      partial_ = partial_decoding_->text();
      partial_decoding_.reset();
    }
    if (!partial_decoding_ && stretch_.size() >= partial_at_ + every) {
      partial_decoding_ = fakes::RecognitionPool::Shared().Submit(phrases_, stretch_, false);
      partial_at_ = stretch_.size();
    }
    return partial_;
  }
  if (stretch_.size() >= partial_at_ + every) {
    partial_ = recognizer_->RecognizeSoFar(stretch_);
    partial_at_ = stretch_.size();
  }
  return partial_;
}

std::vector<std::string> Ear::TakeWords() {
  std::vector<std::string> words;
  if (recognizer_ != nullptr) {
    words.swap(words_);
    return words;
  }
  for (fakes::DecodedWord& w : decoder_.TakeWords()) words.push_back(std::move(w.word));
  return words;
}

}  // namespace callsim::harness
