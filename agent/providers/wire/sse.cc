#include "agent/providers/wire/sse.h"

namespace callsim::agent::wire {

SseParser::SseParser(size_t max_event_bytes)
    : max_event_bytes_(max_event_bytes == 0 ? kDefaultMaxEventBytes : max_event_bytes) {}

bool SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* events) {
  if (!error_.empty()) return false;
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  size_t i = 0;
  // The byte order mark may itself arrive split across pieces.
  while (at_start_ && i < bytes.size()) {
    if (bytes[i] != kBom[bom_matched_]) {
      // Not a BOM after all: the bytes matched so far were data.
      line_.append(kBom.substr(0, bom_matched_));
      at_start_ = false;
      break;
    }
    ++bom_matched_;
    ++i;
    if (bom_matched_ == kBom.size()) at_start_ = false;
  }
  for (; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      if (!Line(line_, events)) return false;
      line_.clear();
      continue;
    }
    // Fast path: take the run of ordinary bytes up to the next line ending at once.
    size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = bytes.size();
    if (event_bytes_ + line_.size() + (end - i) > max_event_bytes_) {
      error_ = "event over " + std::to_string(max_event_bytes_) + " bytes";
      return false;
    }
    line_.append(bytes.substr(i, end - i));
    i = end - 1;
  }
  return true;
}

bool SseParser::Line(std::string_view line, std::vector<SseEvent>* events) {
  if (line.empty()) {
    if (has_data_ || !pending_.event.empty()) {
      ++events_parsed_;
      events->push_back(std::move(pending_));
    }
    pending_ = SseEvent{};
    has_data_ = false;
    has_field_ = false;
    event_bytes_ = 0;
    return true;
  }
  event_bytes_ += line.size() + 1;
  if (event_bytes_ > max_event_bytes_) {
    error_ = "event over " + std::to_string(max_event_bytes_) + " bytes";
    return false;
  }
  if (line[0] == ':') return true;  // a comment
  has_field_ = true;
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data += '\n';
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) pending_.id = std::string(value);
  }
  return true;
}

bool SseParser::has_partial_event() const { return !line_.empty() || has_field_; }

}  // namespace callsim::agent::wire
