#include "agent/providers/wire/deepgram_stt.h"

#include <deque>
#include <vector>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "agent/providers/wire/http_error.h"
#include "agent/providers/wire/tls.h"
#include "agent/providers/wire/ws_client.h"

namespace callsim::agent::wire {
namespace {

constexpr size_t kMaxMessageBytes = 1 << 20;
// The words kept between two finals (some 10 minutes of speech).
constexpr size_t kMaxFinalsBytes = 64 * 1024;
// Audio waiting to be written (before the upgrade, or while the server is slow to read): 20 s.
constexpr size_t kMaxQueuedMessages = 1000 + kMaxPendingFinalizes + 4;

bool BoolAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// channel.alternatives[0].transcript, or "".
std::string Transcript(const nlohmann::json& results) {
  auto channel = results.find("channel");
  if (channel == results.end() || !channel->is_object()) return "";
  auto alternatives = channel->find("alternatives");
  if (alternatives == channel->end() || !alternatives->is_array() || alternatives->empty()) {
    return "";
  }
  return JsonStringAt((*alternatives)[0], "transcript");
}

void AppendWords(std::string* text, const std::string& words) {
  if (words.empty()) return;
  if (!text->empty()) *text += ' ';
  *text += words;
}

class SessionState : public std::enable_shared_from_this<SessionState> {
 public:
  SessionState(Scheduler& scheduler, SttListener listener, const DeepgramSttConfig& config,
               std::shared_ptr<DeepgramSttStats> stats)
      : scheduler_(scheduler),
        listener_(std::move(listener)),
        finalize_timeout_ms_(config.finalize_timeout_ms),
        keepalive_us_(MsToUs(config.keepalive_ms)),
        stats_(std::move(stats)) {}

  void Begin(boost::asio::io_context& io, WsConfig config,
             std::shared_ptr<boost::asio::ssl::context> tls) {
    ws_ = WsClient::Create(io, std::move(config), std::move(tls));
    std::weak_ptr<SessionState> weak = weak_from_this();
    WsHandlers handlers;
    handlers.on_open = [weak] {
      if (auto self = weak.lock()) self->OnOpen();
    };
    handlers.on_message = [weak](std::string_view data, bool binary) {
      if (auto self = weak.lock()) self->OnMessage(data, binary);
    };
    handlers.on_closed = [weak](const std::string& reason) {
      if (auto self = weak.lock()) self->OnClosed(reason);
    };
    ws_->Connect(std::move(handlers));
  }

  void Push(const Frame& frame) {
    if (dead_) return;
    std::string bytes(kFrameSamples * 2, '\0');
    for (int i = 0; i < kFrameSamples; ++i) {
      const auto sample = static_cast<uint16_t>(frame.samples[i]);
      bytes[2 * i] = static_cast<char>(sample & 0xff);
      bytes[2 * i + 1] = static_cast<char>(sample >> 8);
    }
    if (!ws_->SendBinary(std::move(bytes))) {
      PostFail("send queue full: the server is not taking audio");
      return;
    }
    ++stats_->frames_sent;
    last_sent_us_ = scheduler_.NowUs();
  }

  void Finalize() {
    if (dead_) return;
    if (pending_.size() >= static_cast<size_t>(kMaxPendingFinalizes)) {
      PostFail("too many pending finalizes (" + std::to_string(pending_.size()) + ")");
      return;
    }
    if (!ws_->SendText(R"({"type":"Finalize"})")) {
      PostFail("send queue full: the server is not taking audio");
      return;
    }
    pending_.push_back(scheduler_.NowUs() + MsToUs(finalize_timeout_ms_));
    if (pending_.size() == 1) ArmFinalizeTimer();
  }

  // The session's handle is gone: CloseStream, a normal close, no callbacks.
  void Shutdown() {
    const bool was_dead = dead_;
    dead_ = true;
    StopTimers();
    if (!ws_ || was_dead) return;
    if (ws_->open()) {
      ws_->SendText(R"({"type":"CloseStream"})");
      ws_->Detach();
      ws_->Close();
    } else {
      ws_->Abort();
    }
  }

  void Fail(const std::string& error) {
    if (dead_) return;
    dead_ = true;
    StopTimers();
    if (ws_) ws_->Abort();
    ++stats_->errors;
    if (listener_.on_error) listener_.on_error(error);
  }

  // Fail(error) on a later turn (the callers are PushAudio and Finalize). Nothing is sent or
  // delivered in between.
  void PostFail(std::string error) {
    if (dead_) return;
    dead_ = true;  // refuse everything from now on
    StopTimers();
    if (ws_) ws_->Abort();
    scheduler_.After(0, [weak = weak_from_this(), error = std::move(error)] {
      auto self = weak.lock();
      if (!self || self->shut_down_by_owner_) return;
      ++self->stats_->errors;
      if (self->listener_.on_error) self->listener_.on_error(error);
    });
  }

  void MarkOwnerGone() { shut_down_by_owner_ = true; }

 private:
  void OnOpen() {
    if (dead_) return;
    last_sent_us_ = scheduler_.NowUs();
    ArmKeepAlive();
  }

  void OnClosed(const std::string& reason) {
    if (reason.rfind("upgrade refused", 0) == 0 || reason.rfind("connect", 0) == 0 ||
        reason.rfind("resolve", 0) == 0 || reason.rfind("TLS", 0) == 0) {
      Fail(reason);
    } else {
      Fail("connection lost: " + reason);
    }
  }

  void OnMessage(std::string_view data, bool binary) {
    if (dead_ || binary) return;
    const nlohmann::json message = nlohmann::json::parse(data, nullptr, false);
    if (message.is_discarded() || !message.is_object()) {
      Fail("bad JSON from the server: " + QuoteBounded(data));
      return;
    }
    const std::string type = JsonStringAt(message, "type");
    if (type == "Error" || message.contains("err_code")) {
      Fail("server error: " + ErrorMessageFromBody(data));
      return;
    }
    if (type != "Results") return;  // Metadata, SpeechStarted, UtteranceEnd
    const std::string transcript = Transcript(message);
    const bool from_finalize = BoolAt(message, "from_finalize");
    if (BoolAt(message, "is_final") || from_finalize) {
      AddFinal(transcript);
      if (from_finalize && !pending_.empty()) {
        DeliverFinal();
        return;
      }
      Interim("");
      return;
    }
    Interim(transcript);
  }

  // Bounded: a caller who talks for minutes without an endpoint keeps the newest words.
  void AddFinal(const std::string& transcript) {
    if (transcript.empty()) return;
    finals_bytes_ += transcript.size() + 1;
    finals_.push_back(transcript);
    while (finals_bytes_ > kMaxFinalsBytes && finals_.size() > 1) {
      finals_bytes_ -= finals_.front().size() + 1;
      finals_.erase(finals_.begin());
    }
  }

  std::string FinalsSoFar() const {
    std::string text;
    for (const std::string& words : finals_) AppendWords(&text, words);
    return text;
  }

  void Interim(const std::string& current) {
    std::string text = FinalsSoFar();
    AppendWords(&text, current);
    if (text == last_interim_) return;
    last_interim_ = text;
    if (listener_.on_interim) listener_.on_interim(text);
  }

  void DeliverFinal() {
    const std::string text = FinalsSoFar();
    finals_.clear();
    finals_bytes_ = 0;
    last_interim_.clear();
    pending_.pop_front();
    scheduler_.Cancel(finalize_task_);
    finalize_task_ = kNoTask;
    if (!pending_.empty()) ArmFinalizeTimer();
    ++stats_->finals;
    if (listener_.on_final) listener_.on_final(text);
  }

  void ArmFinalizeTimer() {
    finalize_task_ = scheduler_.At(pending_.front(), [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      self->finalize_task_ = kNoTask;
      self->Fail("finalize timed out after " + std::to_string(self->finalize_timeout_ms_) +
                 " ms");
    });
  }

  void ArmKeepAlive() {
    keepalive_task_ = scheduler_.At(last_sent_us_ + keepalive_us_, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->dead_) return;
      self->keepalive_task_ = kNoTask;
      const int64_t now = self->scheduler_.NowUs();
      if (now - self->last_sent_us_ >= self->keepalive_us_) {
        if (!self->ws_->SendText(R"({"type":"KeepAlive"})")) {
          self->Fail("send queue full: the server is not taking audio");
          return;
        }
        ++self->stats_->keepalives;
        self->last_sent_us_ = now;
      }
      self->ArmKeepAlive();
    });
  }

  void StopTimers() {
    scheduler_.Cancel(finalize_task_);
    scheduler_.Cancel(keepalive_task_);
    finalize_task_ = kNoTask;
    keepalive_task_ = kNoTask;
  }

  Scheduler& scheduler_;
  SttListener listener_;
  int finalize_timeout_ms_;
  int64_t keepalive_us_;
  std::shared_ptr<DeepgramSttStats> stats_;
  std::shared_ptr<WsClient> ws_;
  std::vector<std::string> finals_;  // final transcripts since the last on_final
  size_t finals_bytes_ = 0;
  std::string last_interim_;
  std::deque<int64_t> pending_;  // the deadline of each unanswered Finalize, oldest first
  TaskId finalize_task_ = kNoTask;
  TaskId keepalive_task_ = kNoTask;
  int64_t last_sent_us_ = 0;
  bool dead_ = false;  // failed or shut down: nothing more is sent or delivered
  bool shut_down_by_owner_ = false;
};

class DeepgramSession final : public SttSession {
 public:
  explicit DeepgramSession(std::shared_ptr<SessionState> state) : state_(std::move(state)) {}
  ~DeepgramSession() override {
    state_->MarkOwnerGone();
    state_->Shutdown();
  }
  void PushAudio(const Frame& frame) override { state_->Push(frame); }
  void Finalize() override { state_->Finalize(); }

 private:
  std::shared_ptr<SessionState> state_;
};

}  // namespace

std::string ValidateConfig(const DeepgramSttConfig& config) {
  std::string error = ValidateEndpoint("Deepgram STT", config.endpoint,
                                       {"http", "https", "ws", "wss"}, nullptr, false);
  for (const auto& [name, ms] : {std::pair{"finalize_timeout_ms", config.finalize_timeout_ms},
                                 std::pair{"keepalive_ms", config.keepalive_ms}}) {
    if (error.empty() && (ms < 1 || ms > kMaxTimeoutMs)) {
      error = std::string("Deepgram STT: ") + name + " " + std::to_string(ms) +
              " is out of range (1 to " + std::to_string(kMaxTimeoutMs) + " ms)";
    }
  }
  return error;
}

std::string DeepgramListenUrl(const DeepgramSttConfig& config) {
  Url url;
  std::string error;
  if (!ParseUrl(config.endpoint.url, &url, &error)) return "";
  if (url.scheme == "http") url.scheme = "ws";
  if (url.scheme == "https") url.scheme = "wss";
  std::string target = JoinPath(url.target, "/v1/listen") +
                       "?encoding=linear16&sample_rate=16000&channels=1&interim_results=true"
                       "&endpointing=false&punctuate=true";
  if (!config.endpoint.model.empty()) target += "&model=" + UrlEncode(config.endpoint.model);
  url.target = target;
  return url.ToString();
}

DeepgramStt::DeepgramStt(boost::asio::io_context& io, Scheduler& scheduler,
                         DeepgramSttConfig config)
    : io_(io),
      scheduler_(scheduler),
      config_(std::move(config)),
      config_error_(ValidateConfig(config_)) {
  if (config_error_.empty()) listen_url_ = DeepgramListenUrl(config_);
}

DeepgramStt::~DeepgramStt() = default;

std::unique_ptr<SttSession> DeepgramStt::Open(SttListener listener) {
  ++stats_->sessions;
  auto state = std::make_shared<SessionState>(scheduler_, std::move(listener), config_, stats_);
  std::string error = config_error_;
  WsConfig ws;
  if (error.empty()) {
    std::string parse_error;
    ParseUrl(listen_url_, &ws.url, &parse_error);
    if (ws.url.tls() && !tls_) tls_ = NewTlsClientContext(&error);
  }
  if (!error.empty()) {
    state->PostFail(error);
    return std::make_unique<DeepgramSession>(std::move(state));
  }
  const WireEndpoint& endpoint = config_.endpoint;
  if (!endpoint.api_key.empty()) ws.headers.emplace_back("Authorization", "Token " + endpoint.api_key);
  for (const auto& header : endpoint.headers) ws.headers.push_back(header);
  // This provider's n-th request: a server of callsim's fakes draws each request's answer by
  // it, so a retry of the same request is not answered the same way (fakes/wire/fake_providers.h).
  ws.headers.emplace_back("X-Callsim-Request", std::to_string(stats_->sessions));
  ws.connect_timeout_ms = endpoint.connect_timeout_ms;
  ws.idle_timeout_ms = endpoint.idle_timeout_ms;
  ws.max_message_bytes = kMaxMessageBytes;
  ws.max_queued_messages = kMaxQueuedMessages;
  ws.max_queued_bytes = kMaxQueuedMessages * kFrameSamples * 2;
  state->Begin(io_, std::move(ws), tls_);
  return std::make_unique<DeepgramSession>(std::move(state));
}

}  // namespace callsim::agent::wire
