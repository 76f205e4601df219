// Twilio's side of the agent's audio: a playout buffer. An agent sends its speech as fast as it
// likes (Pipecat sends about twice real time); Twilio queues it and plays it to the caller at
// real-time pace, so the caller hears each sample at its playout time, not at its arrival time.
// A `mark` the agent sends after some audio comes back once that audio has played; `clear` drops
// everything still queued and sends every queued mark back at once. callsim's caller plays
// Twilio with this, one Tick() per frame period.
//
// Sans-I/O and clock-free: the owner calls Tick() every frame_bytes' worth of time (20 ms of
// 8 kHz mu-law is 160 bytes). Bounded: audio past max_buffered_bytes, and marks past
// max_queued_marks or max_mark_chars, are dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace callsim::harness {

struct PlayoutConfig {
  size_t frame_bytes = 160;                // one tick: 20 ms of 8 kHz mu-law
  size_t max_buffered_bytes = 8000 * 120;  // 2 minutes of audio
  char silence = '\xff';                   // mu-law silence, played when nothing is queued
  size_t max_queued_marks = 1024;          // marks past it are dropped and counted
  size_t max_mark_chars = 256;             // a longer name is dropped and counted
};

struct PlayoutTick {
  std::string frame;               // exactly frame_bytes: queued audio, then silence
  size_t audio_bytes = 0;          // how much of the frame was the agent's audio
  std::vector<std::string> marks;  // marks whose audio finished playing in this tick
};

class TwilioPlayout {
 public:
  explicit TwilioPlayout(PlayoutConfig config = {});

  // Queues the agent's audio (mu-law bytes), as received.
  void PushAudio(const std::string& bytes);
  // Queues a mark after the audio queued so far. A mark with nothing before it comes back on the
  // next Tick(). Returns false (and counts it) when the mark is over a bound and dropped.
  bool PushMark(std::string name);
  // Drops the queued audio; returns the queued marks, in order, to be sent back now.
  std::vector<std::string> Clear();

  // Plays one frame.
  PlayoutTick Tick();

  size_t buffered_bytes() const { return buffered_bytes_; }
  size_t queued_marks() const { return queued_marks_; }
  uint64_t dropped_bytes() const { return dropped_bytes_; }  // over max_buffered_bytes
  uint64_t cleared_bytes() const { return cleared_bytes_; }  // dropped by Clear()
  uint64_t dropped_marks() const { return dropped_marks_; }

 private:
  struct Item {
    bool is_mark = false;
    std::string data;  // audio bytes, or the mark's name
  };

  PlayoutConfig config_;
  std::deque<Item> queue_;
  size_t front_offset_ = 0;  // bytes of the front audio item already played
  size_t buffered_bytes_ = 0;
  size_t queued_marks_ = 0;
  uint64_t dropped_bytes_ = 0;
  uint64_t cleared_bytes_ = 0;
  uint64_t dropped_marks_ = 0;
};

}  // namespace callsim::harness
