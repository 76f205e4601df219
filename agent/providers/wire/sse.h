// A server-sent events parser (the WHATWG EventSource stream format) for streamed model output:
// bytes in, in pieces of any size; complete events out. Lines end with CRLF, LF or CR (a CRLF split
// across two pieces counts once). "data:" lines join with "\n"; one space after the colon is
// dropped; "event:" sets the event's type; "id:" its id; lines starting with ':' are comments; a
// line without a colon is a field with an empty value; unknown fields ("retry:" too) are ignored;
// a blank line ends the event. A UTF-8 byte order mark at the very start is skipped.
//
// Unlike a browser, an event with an "event:" line but no data is still delivered (an
// `event: error` must not vanish). Bounded: a line or an event over max_event_bytes is an error,
// and the parser then refuses everything after it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent::wire {

struct SseEvent {
  std::string event;  // the "event:" field; "" when none was given (the default type, "message")
  std::string data;   // the data lines joined with "\n"
  std::string id;
};

class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 1 << 20;
  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes);

  // Parses `bytes` and appends each event they complete to *events. False (and error() set) when
  // an event is over the bound, or after an earlier failure; events completed before it in the
  // same piece are still appended.
  bool Feed(std::string_view bytes, std::vector<SseEvent>* events);

  // True when bytes of an unfinished event (or line) are buffered: at the end of a stream, an
  // event without its blank line is discarded, as EventSource does.
  bool has_partial_event() const;
  const std::string& error() const { return error_; }
  size_t events_parsed() const { return events_parsed_; }

 private:
  // One complete line (without its ending).
  bool Line(std::string_view line, std::vector<SseEvent>* events);

  size_t max_event_bytes_;
  std::string line_;       // the line being read
  SseEvent pending_;       // the event being built
  bool has_data_ = false;  // pending_ has had a data line (even an empty one)
  bool has_field_ = false; // pending_ has had any field
  size_t event_bytes_ = 0; // bytes of the lines of pending_ so far
  bool after_cr_ = false;  // the last byte seen was a CR: a LF right after it ends nothing
  bool at_start_ = true;   // nothing seen yet (a byte order mark may follow)
  size_t bom_matched_ = 0;
  std::string error_;
  size_t events_parsed_ = 0;
};

}  // namespace callsim::agent::wire
