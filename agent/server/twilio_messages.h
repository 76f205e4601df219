// Twilio Media Streams messages, both directions, as typed values: the JSON text of one WebSocket
// message in, a message or a reason out, and each message back to its JSON text. Sans-I/O; the
// agent's server reads what Twilio (or callsim's caller, playing Twilio) sends and writes media,
// mark and clear; the caller does the reverse.
//
// From Twilio: connected, start (streamSid, callSid, accountSid, tracks, mediaFormat,
// customParameters), media (track, chunk, timestamp, base64 payload), dtmf, mark, stop. To
// Twilio: media (payload), mark (name), clear. Numeric fields travel as strings, as Twilio sends
// them ("sequenceNumber": "3", "chunk": "1", "timestamp": "20"); a number is accepted too.
// Everything is bounded (TwilioLimits); a message over a bound, with a wrong type or without a
// required field is refused with a reason that names the field. Unknown fields are ignored, as
// Twilio may add some.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace callsim::agent::twilio {

struct Limits {
  size_t max_message_bytes = 64 * 1024;   // the whole JSON text
  size_t max_payload_bytes = 16000;       // decoded audio per media message (1 s of mu-law)
  size_t max_string_chars = 256;          // any id, name, track or parameter
  size_t max_custom_parameters = 32;
};

struct Connected {
  std::string protocol = "Call";
  std::string version = "1.0.0";
};

struct MediaFormat {
  std::string encoding = "audio/x-mulaw";
  int sample_rate = 8000;
  int channels = 1;
};

struct Start {
  int64_t sequence_number = 0;
  std::string stream_sid;
  std::string account_sid;
  std::string call_sid;
  std::vector<std::string> tracks = {"inbound"};
  MediaFormat media_format;
  std::map<std::string, std::string> custom_parameters;
};

// Audio. From Twilio it has a track, chunk and timestamp (ms since the stream started); to Twilio
// only the payload (and the streamSid) is sent.
struct Media {
  int64_t sequence_number = 0;
  std::string stream_sid;
  std::string track = "inbound";
  int64_t chunk = 0;
  int64_t timestamp_ms = 0;
  std::string payload;  // decoded bytes (mu-law)
};

struct Dtmf {
  int64_t sequence_number = 0;
  std::string stream_sid;
  std::string track = "inbound_track";
  char digit = '0';  // 0-9, *, #, A-D
};

struct Mark {
  int64_t sequence_number = 0;
  std::string stream_sid;
  std::string name;
};

struct Clear {
  std::string stream_sid;
};

struct Stop {
  int64_t sequence_number = 0;
  std::string stream_sid;
  std::string account_sid;
  std::string call_sid;
};

using Message = std::variant<Connected, Start, Media, Dtmf, Mark, Clear, Stop>;

struct ParseResult {
  std::optional<Message> message;
  std::string error;  // set when message is empty: "media.payload: not base64"
};

ParseResult Parse(std::string_view text, const Limits& limits = {});

// The message as Twilio writes it (from Twilio: with sequenceNumber and the media fields; media,
// mark and clear to Twilio: only what Twilio reads). `to_twilio` picks the direction for media.
std::string Serialize(const Message& message, bool to_twilio);

// The name of the message's "event".
const char* EventName(const Message& message);

}  // namespace callsim::agent::twilio
