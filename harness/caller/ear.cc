#include "harness/caller/ear.h"

#include <cstdlib>
#include <sstream>

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

Ear::Ear(const std::vector<std::string>& phrases) {
  recognizer_ = fakes::SharedSphinxRecognizer(phrases, &error_);
  if (recognizer_ == nullptr) error_ = "caller ear (asr): " + error_;
}

Ear::~Ear() = default;

EarActivity Ear::Hear(const agent::Frame& frame, int64_t frame_start_us) {
  if (recognizer_ == nullptr) decoder_.Push(frame);
  EarActivity activity;
  int first = -1;
  int last = -1;
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    if (std::abs(static_cast<int>(frame.samples[i])) > kActiveThreshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first >= 0) {
    activity.any = true;
    activity.first_active_us = SampleTimeUs(frame_start_us, first);
    activity.last_active_us = SampleTimeUs(frame_start_us, last + 1);
    last_active_us_ = activity.last_active_us;
  }
  if (recognizer_ == nullptr) return activity;

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
      CloseStretch();
    }
  } else {
    preroll_.push_back(frame);
    if (preroll_.size() > kAsrPrerollFrames) preroll_.pop_front();
  }
  return activity;
}

void Ear::CloseStretch() {
  const std::string text = recognizer_->Recognize(stretch_);
  for (std::string& w : SplitWords(text)) words_.push_back(std::move(w));
  stretch_.clear();
  in_stretch_ = false;
  partial_.clear();
  partial_at_ = 0;
}

std::string Ear::Partial() {
  if (recognizer_ == nullptr || !in_stretch_) return "";
  const size_t every = static_cast<size_t>(kAsrPartialEveryMs) * agent::kSampleRateHz / 1000;
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
