#include "agent/server/http_server.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <chrono>
#include <deque>
#include <exception>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include "agent/runtime/check.h"
#include "agent/runtime/realtime_scheduler.h"

namespace callsim::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::string_view kTokenPath = "/v1/token";
constexpr std::string_view kMetricsPath = "/metrics";
constexpr std::string_view kHealthPath = "/healthz";

constexpr int kMaxWorkers = 256;
constexpr size_t kMaxConnections = 1'000'000;
constexpr size_t kMaxHeaderBytes = 1 << 20;
constexpr size_t kMaxBodyBytes = 16 << 20;
constexpr size_t kMaxWsMessageBytes = 64 << 20;
constexpr size_t kMaxOutboundMessages = 1'000'000;
constexpr int kMaxHandshakeTimeoutMs = 10 * 60 * 1000;
constexpr int kMaxIdleTimeoutMs = 60 * 60 * 1000;

constexpr size_t kReadChunkBytes = 16 * 1024;  // WebSocket payload read per turn, at most
constexpr size_t kDrainChunkBytes = 4 * 1024;  // what a closing HTTP connection discards per read
constexpr size_t kMaxCloseReasonBytes = 123;   // RFC 6455: a close frame's reason
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);  // after a failed accept
constexpr auto kStopAcceptingWait = std::chrono::seconds(5);

// ---- small helpers ---------------------------------------------------------------------------

std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

// The path of a request target, without its query string.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// The value of `name` in the target's query string, as sent (no percent-decoding: tokens are
// base64url and dots); "" when absent.
std::string_view QueryParam(std::string_view target, std::string_view name) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The credentials of "Authorization: Bearer <credentials>", or "".
std::string_view BearerCredentials(const Request& req) {
  const auto field = req.find(http::field::authorization);
  if (field == req.end()) return {};
  std::string_view value = View(field->value());
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !EqualsIgnoringCase(value.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  value.remove_prefix(kScheme.size());
  const size_t first = value.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  value.remove_prefix(first);
  return value.substr(0, value.find_last_not_of(' ') + 1);
}

int64_t UnixNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// At most `max` bytes of `text`, cut before a UTF-8 sequence rather than inside one.
std::string TruncateUtf8(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

std::string HostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string PeerOf(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  return ec ? "unknown peer" : HostPort(peer.address().to_string(), peer.port());
}

Response Text(http::status status, std::string body) {
  Response res(status, 11);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

Response MethodNotAllowed(const char* allow) {
  Response res = Text(http::status::method_not_allowed, "method not allowed\n");
  res.set(http::field::allow, allow);
  return res;
}

Response Unauthorized() {
  Response res = Text(http::status::unauthorized, "unauthorized\n");
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == error_code(http::error::bad_version).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

std::chrono::milliseconds Ms(int ms) { return std::chrono::milliseconds(ms); }

// ---- state shared by every connection ----------------------------------------------------------

// What every connection reads or records, whatever its worker. Outlives every connection.
struct Shared {
  Shared(ServerConfig c, ServerHooks h) : config(std::move(c)), hooks(std::move(h)) {}

  // One line to hooks.log, never interleaved with another.
  void Log(const std::string& line) {
    if (!hooks.log) return;
    std::lock_guard<std::mutex> lock(log_mutex);
    hooks.log(line);
  }

  const ServerConfig config;
  const ServerHooks hooks;
  ServerMetrics metrics;
  std::mutex log_mutex;
  std::mutex token_mutex;              // TokenService is not thread-safe
  std::atomic<size_t> connections{0};  // open now, at most config.max_connections
  std::atomic<size_t> active_streams{0};
  std::atomic<bool> draining{false};  // StopAccepting() or Shutdown() was called
  std::atomic<bool> stopping{false};  // Shutdown() began: a connection not started yet is not
};

// One of config.max_connections, held while the connection lives; it moves from the HTTP phase
// to the WebSocket phase.
struct ReleaseSlot {
  void operator()(std::atomic<size_t>* open) const { open->fetch_sub(1); }
};
using ConnectionSlot = std::unique_ptr<std::atomic<size_t>, ReleaseSlot>;

// Null when config.max_connections are open already.
ConnectionSlot TakeSlot(Shared& s) {
  if (s.connections.fetch_add(1) >= s.config.max_connections) {
    s.connections.fetch_sub(1);
    return nullptr;
  }
  return ConnectionSlot(&s.connections);
}

class Connection;

// One io_context thread with its scheduler and its connections.
struct Worker {
  // The connections on this worker, for Shutdown; used only on `thread` (or once it has ended).
  // Declared before `io`: a connection still owned by a handler is destroyed with `io` and
  // unregisters itself here.
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> live;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::unique_ptr<RealtimeScheduler> scheduler;  // made and destroyed on `thread`
  std::thread thread;
};

// A connection on one worker, known to it while it lives so Shutdown can close it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() { worker_.live.erase(this); }
  // Server shutdown, on the worker: the connection closes now.
  virtual void Stop() = 0;

 protected:
  Connection(Shared& shared, Worker& worker, ConnectionSlot slot, std::string peer)
      : s_(shared), worker_(worker), slot_(std::move(slot)), peer_(std::move(peer)) {}
  void Register() { worker_.live.emplace(this, weak_from_this()); }

  Shared& s_;
  Worker& worker_;
  ConnectionSlot slot_;
  const std::string peer_;
};

// ---- the WebSocket phase ----------------------------------------------------------------------

// A call stream: the upgrade, the session, the read loop, the bounded outbound queue (one write
// at a time) and the two timers (peer silence; a write or close handshake that takes too long).
// Everything runs on the worker's thread. The stream ends once, with the first reason decided:
// gracefully (queued messages, then a close frame, both bounded by the write timer) or at once
// (the socket closes); OnClosed is posted, never called from inside send_text or close.
class WsConnection final : public Connection {
 public:
  WsConnection(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
               std::string peer)
      : Connection(shared, worker, std::move(slot), std::move(peer)),
        ws_(std::move(stream)),
        idle_timer_(worker.io),
        write_timer_(worker.io) {}

  // Answers the upgrade `req` (its token already checked); the handshake deadline that started
  // at accept still runs.
  void Start(const Request& req);
  void Stop() override { End("server shutdown"); }

 private:
  enum class State { kUpgrading, kOpen, kClosing, kDone };

  std::shared_ptr<WsConnection> self() {
    return std::static_pointer_cast<WsConnection>(shared_from_this());
  }
  std::chrono::milliseconds IdleTimeout() const { return Ms(s_.config.idle_timeout_ms); }
  std::chrono::milliseconds HandshakeTimeout() const { return Ms(s_.config.handshake_timeout_ms); }

  void OnUpgraded(error_code ec);
  void OpenSession();
  StreamIo MakeIo();

  void Read();
  void OnRead(error_code ec, size_t bytes);
  void Deliver();
  void OnReadFailed(error_code ec);
  void ArmIdleTimer(Clock::time_point deadline);
  void OnIdleTimer(error_code ec);

  bool SendText(std::string text);
  void CloseBySession(std::string reason);
  void Pump();
  void OnWritten(error_code ec);
  void ArmWriteTimer(std::chrono::milliseconds limit);
  void OnWriteTimer(error_code ec);

  void Fail(WsError error, const std::string& reason);
  void BeginClose(const std::string& reason, websocket::close_reason frame);
  void End(const std::string& reason);
  void PostCloseSession();
  void CloseSession();

  websocket::stream<beast::tcp_stream> ws_;
  std::string target_;              // path and query: for the session, never for the log
  std::string path_;                // for the log
  beast::flat_buffer inbox_;        // the message being read, at most the bound + 1 byte
  Clock::time_point last_message_;  // the peer's last complete message
  std::deque<std::string> outbox_;  // front: being written when writing_
  asio::steady_timer idle_timer_;
  asio::steady_timer write_timer_;
  std::unique_ptr<StreamSession> session_;
  State state_ = State::kUpgrading;
  bool writing_ = false;  // a message or the close frame is being written
  bool close_sent_ = false;
  std::string close_reason_;  // for OnClosed and the log; the first one decided stands
  websocket::close_reason close_frame_;
};

void WsConnection::Start(const Request& req) {
  Register();
  target_ = std::string(View(req.target()));
  path_ = std::string(PathOf(target_));
  ws_.text(true);
  // No limit inside Beast: Read() takes at most the bound + 1 byte and names the reason there.
  // Beast's own check would end the read only after its close handshake, so a peer that never
  // finished that handshake would be closed with another reason.
  ws_.read_message_max(0);
  ws_.async_accept(req, [self = self()](error_code ec) { self->OnUpgraded(ec); });
}

void WsConnection::OnUpgraded(error_code ec) {
  if (state_ != State::kUpgrading) return;  // stopped meanwhile
  if (ec == beast::error::timeout) return Fail(WsError::kHandshakeTimeout, "handshake timeout");
  if (ec) return Fail(WsError::kProtocol, ec.message());
  // From here the timers below bound the stream; Beast's bounds only its own close handshakes
  // (a peer's close, a protocol error).
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(
      websocket::stream_base::timeout{HandshakeTimeout(), websocket::stream_base::none(), false});
  OpenSession();
}

void WsConnection::OpenSession() {
  state_ = State::kOpen;
  try {
    session_ = s_.hooks.make_session(MakeIo());
  } catch (const std::exception& e) {
    s_.Log("session factory failed for " + peer_ + ": " + e.what());
  }
  if (!session_) {
    return BeginClose("refused",
                      websocket::close_reason(websocket::close_code::try_again_later, "refused"));
  }
  s_.active_streams.fetch_add(1);
  s_.metrics.StreamOpened();
  s_.Log("stream opened: " + peer_ + " " + path_);
  // The session's StreamIo works inside the factory: it may have ended the stream already.
  if (state_ == State::kDone) return PostCloseSession();
  last_message_ = Clock::now();
  ArmIdleTimer(last_message_ + IdleTimeout());
  Read();
}

StreamIo WsConnection::MakeIo() {
  // Weak: the session is owned by this connection and must not keep it alive.
  const std::weak_ptr<WsConnection> weak = self();
  StreamIo io;
  io.scheduler = worker_.scheduler.get();
  io.send_text = [weak](std::string text) {
    const std::shared_ptr<WsConnection> connection = weak.lock();
    return connection != nullptr && connection->SendText(std::move(text));
  };
  io.close = [weak](std::string reason) {
    if (const std::shared_ptr<WsConnection> connection = weak.lock()) {
      connection->CloseBySession(std::move(reason));
    }
  };
  io.target = target_;
  io.peer = peer_;
  return io;
}

// ---- reading

void WsConnection::Read() {
  const size_t room = s_.config.max_ws_message_bytes + 1 - inbox_.size();
  ws_.async_read_some(inbox_.prepare(std::min(kReadChunkBytes, room)),
                      [self = self()](error_code ec, size_t bytes) { self->OnRead(ec, bytes); });
}

void WsConnection::OnRead(error_code ec, size_t bytes) {
  if (state_ == State::kDone) return;
  if (ec) return OnReadFailed(ec);
  inbox_.commit(bytes);
  if (ws_.got_binary()) return Fail(WsError::kBinaryFrame, "binary frame");
  if (inbox_.size() > s_.config.max_ws_message_bytes) {
    return Fail(WsError::kMessageTooBig, "message too big");
  }
  if (ws_.is_message_done()) Deliver();
  if (state_ != State::kDone) Read();
}

// One complete text message to the session. An exception from OnText is a message the session
// refused: the stream ends as a bad message.
void WsConnection::Deliver() {
  last_message_ = Clock::now();
  const std::string_view text(static_cast<const char*>(inbox_.data().data()), inbox_.size());
  try {
    session_->OnText(text);
  } catch (const std::exception&) {
    Fail(WsError::kBadMessage, "bad message");
  }
  inbox_.clear();
}

void WsConnection::OnReadFailed(error_code ec) {
  if (state_ != State::kOpen) return End("");  // our close handshake ended the read
  if (ec == websocket::error::closed) return End("peer closed");
  Fail(WsError::kProtocol, ec.message());
}

void WsConnection::ArmIdleTimer(Clock::time_point deadline) {
  idle_timer_.expires_at(deadline);
  idle_timer_.async_wait([self = self()](error_code ec) { self->OnIdleTimer(ec); });
}

// The timer is not moved per message: when it fires it waits again for what is left.
void WsConnection::OnIdleTimer(error_code ec) {
  if (ec || state_ != State::kOpen) return;
  const Clock::time_point deadline = last_message_ + IdleTimeout();
  if (Clock::now() < deadline) return ArmIdleTimer(deadline);
  Fail(WsError::kIdleTimeout, "idle timeout");
}

// ---- writing

bool WsConnection::SendText(std::string text) {
  if (state_ != State::kOpen) return false;
  if (outbox_.size() >= s_.config.max_outbound_messages) {
    Fail(WsError::kSlowReader, "slow reader");
    return false;
  }
  outbox_.push_back(std::move(text));
  Pump();
  return true;
}

void WsConnection::CloseBySession(std::string reason) {
  const std::string frame_reason = TruncateUtf8(std::move(reason), kMaxCloseReasonBytes);
  BeginClose("closed by session: " + frame_reason,
             websocket::close_reason(websocket::close_code::normal, frame_reason));
}

// Starts the next write: the queue's front, or once it is empty while closing, the close frame.
void WsConnection::Pump() {
  if (writing_ || state_ == State::kDone) return;
  if (!outbox_.empty()) {
    writing_ = true;
    ArmWriteTimer(IdleTimeout());
    ws_.async_write(asio::buffer(outbox_.front()),
                    [self = self()](error_code ec, size_t) { self->OnWritten(ec); });
  } else if (state_ == State::kClosing && !close_sent_) {
    writing_ = close_sent_ = true;
    ArmWriteTimer(HandshakeTimeout());
    ws_.async_close(close_frame_, [self = self()](error_code) { self->End(""); });
  }
}

void WsConnection::OnWritten(error_code ec) {
  writing_ = false;
  write_timer_.cancel();
  if (state_ == State::kDone) return;
  if (ec) return Fail(WsError::kProtocol, ec.message());
  outbox_.pop_front();
  Pump();
}

void WsConnection::ArmWriteTimer(std::chrono::milliseconds limit) {
  write_timer_.expires_after(limit);
  write_timer_.async_wait([self = self()](error_code ec) { self->OnWriteTimer(ec); });
}

// A write (or the close handshake) that does not finish in time: the peer does not read.
void WsConnection::OnWriteTimer(error_code ec) {
  if (ec || !writing_ || state_ == State::kDone) return;
  if (write_timer_.expiry() > Clock::now()) return;  // armed again, for a later write
  Fail(WsError::kSlowReader, "slow reader");
}

// ---- ending

// Ends the stream for `error`, counted once. A peer that sent a binary frame, too big a message
// or nothing for too long may still read: it gets a close frame saying why (bounded by the write
// timer). Any other error closes the socket at once. While the stream already ends, the first
// reason stands and this only hurries it.
void WsConnection::Fail(WsError error, const std::string& reason) {
  if (!close_reason_.empty()) return End("");
  s_.metrics.WsError(error);
  std::optional<websocket::close_code> code;
  if (error == WsError::kBinaryFrame) code = websocket::close_code::unknown_data;
  if (error == WsError::kMessageTooBig) code = websocket::close_code::too_big;
  if (error == WsError::kIdleTimeout) code = websocket::close_code::policy_error;
  if (!code || state_ != State::kOpen) return End(reason);
  outbox_.resize(writing_ ? std::min<size_t>(outbox_.size(), 1) : 0);  // keep the one in flight
  BeginClose(reason, websocket::close_reason(*code, reason));
}

void WsConnection::BeginClose(const std::string& reason, websocket::close_reason frame) {
  if (state_ != State::kOpen) return;
  state_ = State::kClosing;
  close_reason_ = reason;
  close_frame_ = std::move(frame);
  Pump();
}

// Closes the socket now (pending operations end with operation_aborted and find kDone) and posts
// the session's OnClosed.
void WsConnection::End(const std::string& reason) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  if (close_reason_.empty()) close_reason_ = reason;
  idle_timer_.cancel();
  write_timer_.cancel();
  beast::get_lowest_layer(ws_).close();
  s_.Log("stream closed: " + peer_ + " " + path_ + ": " + close_reason_);
  if (session_) PostCloseSession();
}

void WsConnection::PostCloseSession() {
  asio::post(worker_.io, [self = self()] { self->CloseSession(); });
}

// Counted as closed first, so a throwing OnClosed (logged by the worker) leaves no stream open.
void WsConnection::CloseSession() {
  const std::unique_ptr<StreamSession> session = std::move(session_);
  s_.metrics.StreamClosed();
  s_.active_streams.fetch_sub(1);
  session->OnClosed(close_reason_);
}

// ---- the HTTP phase ---------------------------------------------------------------------------

// Requests on one connection, one at a time (keep-alive), until it closes or becomes a stream.
// Each request must be complete within the handshake timeout of the connection being ready for
// it (accepted, or its previous answer written); so must each answer's write.
class HttpConnection final : public Connection {
 public:
  HttpConnection(Shared& shared, Worker& worker, ConnectionSlot slot, tcp::socket socket,
                 std::string peer)
      : Connection(shared, worker, std::move(slot), std::move(peer)), stream_(std::move(socket)) {}

  void Start() {
    Register();
    ReadRequest();
  }
  // Not after UpgradeToStream moved the stream out: that handler's end destroys this connection,
  // and Stop runs on the same thread.
  void Stop() override { stream_.close(); }

 private:
  std::shared_ptr<HttpConnection> self() {
    return std::static_pointer_cast<HttpConnection>(shared_from_this());
  }
  std::chrono::milliseconds HandshakeTimeout() const { return Ms(s_.config.handshake_timeout_ms); }

  void ReadRequest();
  void OnRequest(error_code ec);
  void OnReadFailed(error_code ec);
  Response Route(const Request& req);
  Response IssueToken(const Request& req);
  Response Metrics() const;
  Response Health() const;
  void UpgradeToStream(Request req);
  RedeemResult RedeemToken(const Request& req);
  void Respond(Response res, unsigned version, bool keep_alive);
  void Drain();

  beast::tcp_stream stream_;
  // Bounded without a limit of its own: the parser consumes what it parsed and fails past the
  // header limit, and one read adds at most 64 KiB.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;          // being written
  bool answered_one_ = false;  // a keep-alive connection may wait quietly for its next request
};

void HttpConnection::ReadRequest() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(s_.config.max_header_bytes));
  parser_->body_limit(s_.config.max_body_bytes);
  stream_.expires_after(HandshakeTimeout());
  http::async_read(stream_, buffer_, *parser_,
                   [self = self()](error_code ec, size_t) { self->OnRequest(ec); });
}

void HttpConnection::OnRequest(error_code ec) {
  if (ec) return OnReadFailed(ec);
  Request req = parser_->release();
  if (websocket::is_upgrade(req) && PathOf(View(req.target())) == s_.config.stream_path) {
    return UpgradeToStream(std::move(req));
  }
  s_.metrics.HttpRequest();
  const bool keep_alive = req.keep_alive();
  Respond(Route(req), req.version(), keep_alive);
}

void HttpConnection::OnReadFailed(error_code ec) {
  if (ec == beast::error::timeout) {  // the stream closed its socket
    if (!answered_one_ || parser_->got_some()) {
      s_.metrics.WsError(WsError::kHandshakeTimeout);
      s_.Log("handshake timeout: " + peer_);
    }
    return;
  }
  if (!IsHttpParseError(ec)) return;  // the peer left, or Stop()
  s_.metrics.HttpRequest();
  s_.Log("bad request from " + peer_ + ": " + ec.message());
  http::status status = http::status::bad_request;
  if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) status = http::status::payload_too_large;
  Respond(Text(status, "bad request\n"), 11, false);
}

Response HttpConnection::Route(const Request& req) {
  const std::string_view path = PathOf(View(req.target()));
  const bool get = req.method() == http::verb::get;
  if (path == kTokenPath && s_.hooks.tokens != nullptr) {
    return req.method() == http::verb::post ? IssueToken(req) : MethodNotAllowed("POST");
  }
  if (path == kMetricsPath) return get ? Metrics() : MethodNotAllowed("GET");
  if (path == kHealthPath) return get ? Health() : MethodNotAllowed("GET");
  if (path == s_.config.stream_path) {
    if (!get) return MethodNotAllowed("GET");
    Response res = Text(http::status::upgrade_required, "websocket upgrade required\n");
    res.set(http::field::upgrade, "websocket");
    return res;
  }
  return Text(http::status::not_found, "not found\n");
}

Response HttpConnection::IssueToken(const Request& req) {
  IssuedToken issued;
  {
    std::lock_guard<std::mutex> lock(s_.token_mutex);
    issued = s_.hooks.tokens->Issue(BearerCredentials(req), UnixNowUs());
  }
  switch (issued.status) {
    case TokenStatus::kOk: {
      s_.metrics.TokenIssued();
      Response res(http::status::ok, 11);
      res.set(http::field::content_type, "application/json");
      res.set(http::field::cache_control, "no-store");
      res.body() =
          nlohmann::json{{"token", issued.token}, {"expires_in", issued.expires_in_s}}.dump();
      return res;
    }
    case TokenStatus::kRateLimited: {
      s_.metrics.AuthFailure(AuthFailure::kRateLimited);
      s_.Log("token refused for " + peer_ + ": rate limited");
      Response res = Text(http::status::too_many_requests, "too many requests\n");
      res.set(http::field::retry_after, std::to_string(issued.retry_after_s));
      return res;
    }
    case TokenStatus::kBusy:
      s_.Log("token refused for " + peer_ + ": too many live tokens");
      return Text(http::status::service_unavailable, "busy\n");
    case TokenStatus::kUnauthorized:
      break;
  }
  s_.metrics.AuthFailure(AuthFailure::kUnknownKey);
  s_.Log("token refused for " + peer_ + ": unknown key");
  return Unauthorized();
}

// The server's series, then each extra registry's, in one text exposition.
Response HttpConnection::Metrics() const {
  std::vector<prometheus::MetricFamily> families = s_.metrics.registry().Collect();
  for (const prometheus::Registry* registry : s_.hooks.registries) {
    std::vector<prometheus::MetricFamily> more = registry->Collect();
    std::move(more.begin(), more.end(), std::back_inserter(families));
  }
  Response res(http::status::ok, 11);
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.body() = prometheus::TextSerializer().Serialize(families);
  return res;
}

Response HttpConnection::Health() const {
  return s_.draining ? Text(http::status::service_unavailable, "draining\n")
                     : Text(http::status::ok, "ok\n");
}

void HttpConnection::UpgradeToStream(Request req) {
  if (s_.hooks.tokens != nullptr) {
    const RedeemResult redeemed = RedeemToken(req);
    if (!redeemed.ok) {
      s_.metrics.AuthFailure(AuthFailureForReason(redeemed.reason));
      s_.Log("stream refused for " + peer_ + ": " + redeemed.reason);
      return Respond(Unauthorized(), req.version(), false);
    }
  }
  const auto stream =
      std::make_shared<WsConnection>(s_, worker_, std::move(slot_), std::move(stream_), peer_);
  stream->Start(req);
}

// The token from ?token=..., else from Authorization: Bearer ...
RedeemResult HttpConnection::RedeemToken(const Request& req) {
  std::string_view token = QueryParam(View(req.target()), "token");
  if (token.empty()) token = BearerCredentials(req);
  std::lock_guard<std::mutex> lock(s_.token_mutex);
  return s_.hooks.tokens->Redeem(token, UnixNowUs());
}

void HttpConnection::Respond(Response res, unsigned version, bool keep_alive) {
  res.version(version);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  response_ = std::move(res);
  stream_.expires_after(HandshakeTimeout());
  http::async_write(stream_, response_, [self = self(), keep_alive](error_code ec, size_t) {
    if (ec) return;
    if (!keep_alive) {
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return self->Drain();
    }
    self->answered_one_ = true;
    self->ReadRequest();
  });
}

// After the last answer: what the peer still sends is read and dropped until it closes or the
// answer's deadline passes, so that closing on unread bytes does not reset the connection and
// lose the answer. The socket closes with the last reference.
void HttpConnection::Drain() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(kDrainChunkBytes),
                          [self = self()](error_code ec, size_t) {
                            if (!ec) self->Drain();
                          });
}

// ---- workers ----------------------------------------------------------------------------------

// The worker thread: its scheduler, then its loop until Shutdown stops it. An exception out of a
// handler (a session's timer task, say) is logged and the loop goes on.
void RunWorker(Shared& s, Worker& w, Clock::time_point epoch) {
  w.scheduler = std::make_unique<RealtimeScheduler>(w.io, epoch);
  for (;;) {
    try {
      w.io.run();
      return;
    } catch (const std::exception& e) {
      s.Log(std::string("worker error: ") + e.what());
    }
  }
}

// On the worker: closes its connections (their OnClosed are posted), then, on a later turn and
// so after those, destroys the scheduler and stops the loop.
void StopWorker(Worker& w) {
  std::vector<std::shared_ptr<Connection>> live;
  for (const auto& entry : w.live) {
    if (std::shared_ptr<Connection> connection = entry.second.lock()) live.push_back(connection);
  }
  for (const std::shared_ptr<Connection>& connection : live) connection->Stop();
  asio::post(w.io, [&w] {
    w.scheduler.reset();
    w.io.stop();
  });
}

// On the worker a new connection was accepted for.
void StartConnection(Shared& s, Worker& w, ConnectionSlot slot, tcp::socket socket,
                     std::string peer) {
  if (s.stopping) return;  // the socket and the slot go with this call
  std::make_shared<HttpConnection>(s, w, std::move(slot), std::move(socket), std::move(peer))
      ->Start();
}

}  // namespace

// ---- configuration ----------------------------------------------------------------------------

std::string ValidateServerConfig(const ServerConfig& c) {
  error_code ec;
  asio::ip::make_address(c.host, ec);
  if (ec) return "host must be an IP address";
  if (c.workers < 0 || c.workers > kMaxWorkers) return "workers must be 0 to 256";
  const std::string_view path = c.stream_path;
  if (path.empty() || path[0] != '/') return "stream path must start with '/'";
  if (path.find_first_of("?# ") != std::string_view::npos) {
    return "stream path must be a plain path (no '?', '#' or space)";
  }
  if (path == kTokenPath || path == kMetricsPath || path == kHealthPath) {
    return "stream path must not be /v1/token, /metrics or /healthz";
  }
  if (c.max_connections < 1 || c.max_connections > kMaxConnections) {
    return "max connections must be 1 to 1000000";
  }
  if (c.max_header_bytes < 1 || c.max_header_bytes > kMaxHeaderBytes) {
    return "max header bytes must be 1 to 1 MiB";
  }
  if (c.max_body_bytes < 1 || c.max_body_bytes > kMaxBodyBytes) {
    return "max body bytes must be 1 to 16 MiB";
  }
  if (c.max_ws_message_bytes < 1 || c.max_ws_message_bytes > kMaxWsMessageBytes) {
    return "max WebSocket message bytes must be 1 to 64 MiB";
  }
  if (c.max_outbound_messages < 1 || c.max_outbound_messages > kMaxOutboundMessages) {
    return "max outbound messages must be 1 to 1000000";
  }
  if (c.handshake_timeout_ms < 1 || c.handshake_timeout_ms > kMaxHandshakeTimeoutMs) {
    return "handshake timeout must be 1 ms to 10 min";
  }
  if (c.idle_timeout_ms < 1 || c.idle_timeout_ms > kMaxIdleTimeoutMs) {
    return "idle timeout must be 1 ms to 1 h";
  }
  return "";
}

// ---- the server -------------------------------------------------------------------------------

struct HttpServer::Impl {
  Impl(ServerConfig config, ServerHooks hooks) : shared(std::move(config), std::move(hooks)) {}

  void Start();
  void Listen();
  void Accept();
  void OnAccepted(Worker& worker, error_code ec, tcp::socket socket);
  void CloseAcceptor();
  void StopAccepting();
  void Shutdown();

  Shared shared;
  const Clock::time_point epoch = Clock::now();  // every worker's scheduler counts from here
  // Declared before the acceptor, which lives on workers[0]'s io_context and so goes first.
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;  // used on workers[0]'s thread once started
  std::optional<tcp::socket> accepting;   // the next connection, on its worker's io_context
  std::optional<asio::steady_timer> accept_retry;
  size_t next_worker = 0;  // on workers[0]'s thread
  uint16_t port = 0;
  std::mutex lifecycle_mutex;  // Start and Shutdown
  std::atomic<bool> started{false};
  std::atomic<bool> shut_down{false};
};

void HttpServer::Impl::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex);
  if (started || shut_down) throw std::logic_error("HttpServer::Start called twice");
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int count =
      shared.config.workers > 0 ? shared.config.workers : std::clamp(cores, 1, kMaxWorkers);
  for (int i = 0; i < count; ++i) workers.push_back(std::make_unique<Worker>());
  Listen();
  for (const std::unique_ptr<Worker>& worker : workers) {
    worker->thread = std::thread([this, &w = *worker] { RunWorker(shared, w, epoch); });
  }
  started = true;
  const ServerConfig& c = shared.config;
  shared.Log("listening on " + HostPort(c.host, port) + " with " + std::to_string(count) +
             " workers; streams on " + c.stream_path);
  if (shared.hooks.tokens == nullptr) shared.Log("no token service: streams need no token");
  asio::post(workers[0]->io, [this] { Accept(); });
}

void HttpServer::Impl::Listen() {
  const std::string address = HostPort(shared.config.host, shared.config.port);
  error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(shared.config.host, ec), shared.config.port);
  acceptor.emplace(workers[0]->io);
  accept_retry.emplace(workers[0]->io);
  if (!ec) acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) port = acceptor->local_endpoint(ec).port();
  if (ec) throw std::runtime_error("cannot listen on " + address + ": " + ec.message());
}

// On workers[0]'s thread: the next connection goes to the next worker in turn.
void HttpServer::Impl::Accept() {
  if (!acceptor->is_open()) return;
  Worker& worker = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  accepting.emplace(worker.io);
  acceptor->async_accept(*accepting, [this, &worker](error_code ec) {
    OnAccepted(worker, ec, std::move(*accepting));
  });
}

void HttpServer::Impl::OnAccepted(Worker& worker, error_code ec, tcp::socket socket) {
  if (!acceptor->is_open()) return;  // StopAccepting or Shutdown
  if (ec) {                          // out of descriptors, say: try again shortly rather than spin
    shared.Log("accept failed: " + ec.message());
    accept_retry->expires_after(kAcceptRetryDelay);
    accept_retry->async_wait([this](error_code timer_ec) {
      if (!timer_ec) Accept();
    });
    return;
  }
  shared.metrics.ConnectionAccepted();
  std::string peer = PeerOf(socket);
  ConnectionSlot slot = TakeSlot(shared);
  if (slot == nullptr) {
    shared.metrics.WsError(WsError::kConnectionLimit);
    shared.Log("connection refused: " + peer + ": connection limit (" +
               std::to_string(shared.config.max_connections) + ")");
    socket.close(ec);
  } else {
    asio::post(worker.io, [&s = shared, &worker, slot = std::move(slot), socket = std::move(socket),
                           peer = std::move(peer)]() mutable {
      StartConnection(s, worker, std::move(slot), std::move(socket), std::move(peer));
    });
  }
  Accept();
}

// On workers[0]'s thread.
void HttpServer::Impl::CloseAcceptor() {
  error_code ignored;
  acceptor->close(ignored);
  accept_retry->cancel();
}

void HttpServer::Impl::StopAccepting() {
  if (shared.draining.exchange(true) || !started) return;  // called before, or Shutdown was
  asio::io_context& io = workers[0]->io;
  if (io.get_executor().running_in_this_thread()) return CloseAcceptor();
  // Closed on its own thread; waited for (bounded) so a connect after this call is refused.
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> done = closed->get_future();
  asio::post(io, [this, closed] {
    CloseAcceptor();
    closed->set_value();
  });
  done.wait_for(kStopAcceptingWait);
  shared.Log("stopped accepting");
}

void HttpServer::Impl::Shutdown() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex);
  if (!started || shut_down) return;
  for (const std::unique_ptr<Worker>& worker : workers) {
    CALLSIM_CHECK(!worker->io.get_executor().running_in_this_thread());  // it would join itself
  }
  shut_down = true;
  shared.draining = true;
  shared.stopping = true;
  asio::post(workers[0]->io, [this] { CloseAcceptor(); });
  for (const std::unique_ptr<Worker>& worker : workers) {
    asio::post(worker->io, [&w = *worker] { StopWorker(w); });
  }
  for (const std::unique_ptr<Worker>& worker : workers) worker->thread.join();
  shared.Log("stopped");
}

HttpServer::HttpServer(ServerConfig config, ServerHooks hooks) {
  if (std::string error = ValidateServerConfig(config); !error.empty()) {
    throw std::invalid_argument(error);
  }
  if (!hooks.make_session) throw std::invalid_argument("ServerHooks::make_session is required");
  impl_ = std::make_unique<Impl>(std::move(config), std::move(hooks));
}

HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Start() { impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::StopAccepting() { impl_->StopAccepting(); }

size_t HttpServer::active_streams() const { return impl_->shared.active_streams; }

void HttpServer::Shutdown() { impl_->Shutdown(); }

ServerMetrics& HttpServer::metrics() { return impl_->shared.metrics; }

}  // namespace callsim::agent
