#include "agent/server/twilio_messages.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "agent/server/base64.h"

namespace callsim::agent::twilio {
namespace {

using Json = nlohmann::json;

// Reads fields of one JSON object; the first problem wins and names its field.
class Reader {
 public:
  Reader(const Json& object, std::string path, const Limits& limits, std::string* error)
      : object_(object), path_(std::move(path)), limits_(limits), error_(error) {}

  bool ok() const { return error_->empty(); }

  // A string field; `fallback` when absent and optional.
  std::string String(const char* key, bool required, const std::string& fallback = "") {
    const Json* v = Find(key, required);
    if (!v) return fallback;
    return Checked(*v, key);
  }

  // `value` (the field `key`) as a bounded string, or "" after a failure.
  std::string Checked(const Json& value, const std::string& key) {
    if (!value.is_string()) return Fail(key, "not a string"), "";
    const std::string& s = value.get_ref<const std::string&>();
    if (s.size() > limits_.max_string_chars) return Fail(key, "longer than the limit"), "";
    return s;
  }

  // A whole number sent as a string ("3") or as a number; `fallback` when absent and optional.
  int64_t Number(const char* key, bool required, int64_t fallback = 0) {
    const Json* v = Find(key, required);
    if (!v) return fallback;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (!v->is_string()) return Fail(key, "not a number"), 0;
    const std::string& s = v->get_ref<const std::string&>();
    int64_t out = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
      return Fail(key, "not a whole number"), 0;
    }
    return out;
  }

  const Json* Object(const char* key, bool required) {
    const Json* v = Find(key, required);
    if (v && !v->is_object()) return Fail(key, "not an object"), nullptr;
    return v;
  }

  std::string Path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  void Fail(const std::string& key, const std::string& what) {
    if (error_->empty()) *error_ = Path(key) + ": " + what;
  }

 private:
  const Json* Find(const char* key, bool required) {
    if (!ok()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }

  const Json& object_;
  std::string path_;
  const Limits& limits_;
  std::string* error_;
};

Start ReadStart(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Start s;
  s.sequence_number = top.Number("sequenceNumber", false);
  s.stream_sid = top.String("streamSid", false);
  const Json* body = top.Object("start", true);
  if (!body) return s;
  Reader r(*body, "start", limits, error);
  const std::string inner_sid = r.String("streamSid", s.stream_sid.empty());
  if (!inner_sid.empty()) s.stream_sid = inner_sid;
  s.account_sid = r.String("accountSid", false);
  s.call_sid = r.String("callSid", true);
  if (auto it = body->find("tracks"); it != body->end() && r.ok()) {
    if (!it->is_array() || it->size() > 2) {
      r.Fail("tracks", "not a list of at most 2 tracks");
    } else {
      s.tracks.clear();
      for (const Json& t : *it) {
        if (!t.is_string() || t.get_ref<const std::string&>().size() > limits.max_string_chars) {
          r.Fail("tracks", "not a list of names");
          break;
        }
        s.tracks.push_back(t.get<std::string>());
      }
    }
  }
  if (const Json* f = r.Object("mediaFormat", false)) {
    Reader fr(*f, "start.mediaFormat", limits, error);
    s.media_format.encoding = fr.String("encoding", true);
    const int64_t rate = fr.Number("sampleRate", true);
    const int64_t channels = fr.Number("channels", false, 1);
    if (fr.ok() && (rate < 1 || rate > 48000)) fr.Fail("sampleRate", "outside 1 to 48000");
    if (fr.ok() && (channels < 1 || channels > 2)) fr.Fail("channels", "outside 1 to 2");
    if (fr.ok()) {
      s.media_format.sample_rate = static_cast<int>(rate);  // in range: narrowing is exact
      s.media_format.channels = static_cast<int>(channels);
    }
  }
  if (const Json* p = r.Object("customParameters", false)) {
    if (p->size() > limits.max_custom_parameters) {
      r.Fail("customParameters", "more entries than the limit");
      return s;
    }
    Reader pr(*p, "start.customParameters", limits, error);
    for (const auto& [key, value] : p->items()) {
      if (key.size() > limits.max_string_chars) {
        pr.Fail("key", "longer than the limit");
        break;
      }
      std::string text = pr.Checked(value, key);  // the value itself: a key may hold a NUL
      if (!pr.ok()) break;
      s.custom_parameters[key] = std::move(text);
    }
  }
  return s;
}

Media ReadMedia(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Media m;
  m.sequence_number = top.Number("sequenceNumber", false);
  m.stream_sid = top.String("streamSid", false);
  const Json* body = top.Object("media", true);
  if (!body) return m;
  Reader r(*body, "media", limits, error);
  m.track = r.String("track", false, m.track);
  m.chunk = r.Number("chunk", false);
  m.timestamp_ms = r.Number("timestamp", false);
  auto it = body->find("payload");
  if (!r.ok()) return m;
  if (it == body->end() || !it->is_string()) {
    r.Fail("payload", it == body->end() ? "missing" : "not a string");
    return m;
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (text.size() / 4 * 3 > limits.max_payload_bytes + 2) {
    r.Fail("payload", "more audio than the limit in one message");
    return m;
  }
  std::optional<std::string> bytes = Base64Decode(text);
  if (!bytes) {
    r.Fail("payload", "not base64");
    return m;
  }
  if (bytes->size() > limits.max_payload_bytes) {
    r.Fail("payload", "more audio than the limit in one message");
    return m;
  }
  m.payload = std::move(*bytes);
  return m;
}

Dtmf ReadDtmf(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Dtmf d;
  d.sequence_number = top.Number("sequenceNumber", false);
  d.stream_sid = top.String("streamSid", false);
  const Json* body = top.Object("dtmf", true);
  if (!body) return d;
  Reader r(*body, "dtmf", limits, error);
  d.track = r.String("track", false, d.track);
  const std::string digit = r.String("digit", true);
  if (!r.ok()) return d;
  if (digit.size() != 1 || std::string_view("0123456789*#ABCD").find(digit[0]) ==
                               std::string_view::npos) {
    r.Fail("digit", "not one of 0-9, *, #, A-D");
    return d;
  }
  d.digit = digit[0];
  return d;
}

Mark ReadMark(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Mark m;
  m.sequence_number = top.Number("sequenceNumber", false);
  m.stream_sid = top.String("streamSid", false);
  if (const Json* body = top.Object("mark", true)) {
    Reader r(*body, "mark", limits, error);
    m.name = r.String("name", true);
  }
  return m;
}

Stop ReadStop(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Stop s;
  s.sequence_number = top.Number("sequenceNumber", false);
  s.stream_sid = top.String("streamSid", false);
  if (const Json* body = top.Object("stop", false)) {
    Reader r(*body, "stop", limits, error);
    s.account_sid = r.String("accountSid", false);
    s.call_sid = r.String("callSid", false);
  }
  return s;
}

Connected ReadConnected(const Json& j, const Limits& limits, std::string* error) {
  Reader top(j, "", limits, error);
  Connected c;
  c.protocol = top.String("protocol", false, c.protocol);
  c.version = top.String("version", false, c.version);
  return c;
}

Clear ReadClear(const Json& j, const Limits& limits, std::string* error) {
  return Clear{Reader(j, "", limits, error).String("streamSid", false)};
}

// One message of kind T read by `read`, or the first problem it found.
template <typename T>
ParseResult Read(T (*read)(const Json&, const Limits&, std::string*), const Json& j,
                 const Limits& limits) {
  std::string error;
  T value = read(j, limits, &error);
  ParseResult out;
  if (error.empty()) {
    out.message = std::move(value);
  } else {
    out.error = std::move(error);
  }
  return out;
}

std::string Text(int64_t n) { return std::to_string(n); }

}  // namespace

ParseResult Parse(std::string_view text, const Limits& limits) {
  ParseResult out;
  if (text.size() > limits.max_message_bytes) {
    out.error = "message longer than " + std::to_string(limits.max_message_bytes) + " bytes";
    return out;
  }
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.error = "not JSON";
    return out;
  }
  if (!j.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  std::string error;
  const std::string event = Reader(j, "", limits, &error).String("event", true);
  if (!error.empty()) {
    out.error = error;
    return out;
  }
  if (event == "connected") return Read(ReadConnected, j, limits);
  if (event == "start") return Read(ReadStart, j, limits);
  if (event == "media") return Read(ReadMedia, j, limits);
  if (event == "dtmf") return Read(ReadDtmf, j, limits);
  if (event == "mark") return Read(ReadMark, j, limits);
  if (event == "clear") return Read(ReadClear, j, limits);
  if (event == "stop") return Read(ReadStop, j, limits);
  out.error = "event: unknown kind";
  return out;
}

const char* EventName(const Message& message) {
  static constexpr const char* kNames[] = {"connected", "start", "media", "dtmf",
                                           "mark",      "clear", "stop"};
  static_assert(std::variant_size_v<Message> == std::size(kNames));
  return kNames[message.index()];
}

std::string Serialize(const Message& message, bool to_twilio) {
  Json j = Json::object();
  j["event"] = EventName(message);
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Connected>) {
          j["protocol"] = m.protocol;
          j["version"] = m.version;
        } else if constexpr (std::is_same_v<T, Start>) {
          j["sequenceNumber"] = Text(m.sequence_number);
          Json params = Json::object();
          for (const auto& [k, v] : m.custom_parameters) params[k] = v;
          j["start"] = {{"accountSid", m.account_sid},
                        {"streamSid", m.stream_sid},
                        {"callSid", m.call_sid},
                        {"tracks", m.tracks},
                        {"customParameters", params},
                        {"mediaFormat",
                         {{"encoding", m.media_format.encoding},
                          {"sampleRate", m.media_format.sample_rate},
                          {"channels", m.media_format.channels}}}};
          j["streamSid"] = m.stream_sid;
        } else if constexpr (std::is_same_v<T, Media>) {
          j["streamSid"] = m.stream_sid;
          if (to_twilio) {
            j["media"] = {{"payload", Base64Encode(m.payload)}};
          } else {
            j["sequenceNumber"] = Text(m.sequence_number);
            j["media"] = {{"track", m.track},
                          {"chunk", Text(m.chunk)},
                          {"timestamp", Text(m.timestamp_ms)},
                          {"payload", Base64Encode(m.payload)}};
          }
        } else if constexpr (std::is_same_v<T, Dtmf>) {
          j["streamSid"] = m.stream_sid;
          j["sequenceNumber"] = Text(m.sequence_number);
          j["dtmf"] = {{"track", m.track}, {"digit", std::string(1, m.digit)}};
        } else if constexpr (std::is_same_v<T, Mark>) {
          j["streamSid"] = m.stream_sid;
          if (!to_twilio) j["sequenceNumber"] = Text(m.sequence_number);
          j["mark"] = {{"name", m.name}};
        } else if constexpr (std::is_same_v<T, Clear>) {
          j["streamSid"] = m.stream_sid;
        } else if constexpr (std::is_same_v<T, Stop>) {
          j["streamSid"] = m.stream_sid;
          j["sequenceNumber"] = Text(m.sequence_number);
          j["stop"] = {{"accountSid", m.account_sid}, {"callSid", m.call_sid}};
        }
      },
      message);
  return j.dump();
}

}  // namespace callsim::agent::twilio
