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
#include <set>
#include <sstream>
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
// What a peer may send (its next requests, pipelined) while a route's answer is in progress; past
// it the socket is left unread until the answer is complete (TCP then holds the peer back).
constexpr size_t kMaxPipelinedBytes = 64 * 1024;

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

Response MethodNotAllowed(std::string_view allow) {
  Response res = Text(http::status::method_not_allowed, "method not allowed\n");
  res.set(http::field::allow, beast::string_view(allow.data(), allow.size()));
  return res;
}

Response UpgradeRequired() {
  Response res = Text(http::status::upgrade_required, "websocket upgrade required\n");
  res.set(http::field::upgrade, "websocket");
  return res;
}

// RFC 9110 tchar: what a method or a header name may be made of.
bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte; a '%' not followed by
// two hex digits stays as it is.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The request's header fields, names as sent.
HttpHeaders HeadersOf(const Request& req) {
  HttpHeaders headers;
  for (const auto& field : req) {
    headers.emplace_back(std::string(View(field.name_string())), std::string(View(field.value())));
  }
  return headers;
}

HttpRequest ToHttpRequest(Request req, const std::string& peer) {
  HttpRequest out;
  out.method = std::string(View(req.method_string()));
  out.target = std::string(View(req.target()));
  out.path = std::string(PathOf(out.target));
  out.headers = HeadersOf(req);
  out.body = std::move(req.body());
  out.peer = peer;
  return out;
}

// 204 and 304 carry no body (RFC 9110); every other status an answer may use (200 to 599) may.
bool MayHaveBody(int status) { return status != 204 && status != 304; }

// What is wrong with a status and headers a route's handler (or an admission check) answers
// with, or "". Only names are quoted: values may carry keys.
std::string HeadProblem(int status, const HttpHeaders& headers) {
  if (status < 200 || status > 599) return "status " + std::to_string(status) + " (not 200 to 599)";
  for (const auto& [name, value] : headers) {
    if (!IsToken(name)) return "a header name that is not a token";
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return "header " + name + " has a line break or NUL in its value";
    }
  }
  return "";
}

// `headers` on `head`, less those the server owns: the framing (Content-Length,
// Transfer-Encoding) and the connection's persistence (Connection), which it decides itself.
void SetHeaders(http::response_header<>& head, const HttpHeaders& headers) {
  for (const auto& [name, value] : headers) {
    const http::field field = http::string_to_field(name);
    if (field == http::field::content_length || field == http::field::transfer_encoding ||
        field == http::field::connection) {
      continue;
    }
    head.insert(name, value);
  }
}

// What is wrong with an answer given whole (a status without a body must come without one).
std::string WholeAnswerProblem(int status, const HttpHeaders& headers, const std::string& body) {
  std::string problem = HeadProblem(status, headers);
  if (problem.empty() && !MayHaveBody(status) && !body.empty()) {
    problem = "status " + std::to_string(status) + " with a body";
  }
  return problem;
}

// An admission check's refusal (WholeAnswerProblem found nothing wrong with it) as a response.
Response ResponseOf(const HttpAnswer& answer) {
  Response res;
  res.result(static_cast<unsigned>(answer.status));
  SetHeaders(res.base(), answer.headers);
  res.body() = answer.body;
  return res;
}

// One chunk of a chunked body (RFC 9112 7.1): the size in hex, the bytes.
std::string ChunkOf(std::string_view piece) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
  std::string chunk;
  chunk.reserve(static_cast<size_t>(n) + piece.size() + 2);
  chunk.append(size, static_cast<size_t>(n)).append(piece).append("\r\n");
  return chunk;
}

std::string HeadText(const http::response_header<>& head) {
  std::ostringstream out;
  out << head;
  return out.str();
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
  Shared(ServerConfig c, ServerHooks h) : config(std::move(c)), hooks(std::move(h)) {
    largest_body_limit = config.max_body_bytes;
    for (const HttpRoute& route : hooks.routes) {
      routes.emplace(route.path, &route);
      largest_body_limit = std::max(largest_body_limit, route.max_body_bytes);
    }
    for (const StreamRoute& stream : hooks.streams) streams.emplace(stream.path, &stream);
  }

  // One line to hooks.log, never interleaved with another.
  void Log(const std::string& line) {
    if (!hooks.log) return;
    std::lock_guard<std::mutex> lock(log_mutex);
    hooks.log(line);
  }

  // The extra route for `path`, or null.
  const HttpRoute* FindRoute(std::string_view path) const {
    const auto found = routes.find(path);
    return found == routes.end() ? nullptr : found->second;
  }
  const StreamRoute* FindStream(std::string_view path) const {
    const auto found = streams.find(path);
    return found == streams.end() ? nullptr : found->second;
  }

  const ServerConfig config;
  const ServerHooks hooks;
  // The extra routes by path (keys view the paths in `hooks`, which never changes).
  std::unordered_map<std::string_view, const HttpRoute*> routes;
  std::unordered_map<std::string_view, const StreamRoute*> streams;
  // The parser's body limit until the request's route is known: a body over every limit is
  // refused as soon as its Content-Length is read.
  size_t largest_body_limit = 0;
  ServerMetrics metrics;
  std::mutex log_mutex;
  std::mutex token_mutex;              // TokenService is not thread-safe
  std::atomic<size_t> connections{0};  // open now, at most config.max_connections
  std::atomic<size_t> active_streams{0};
  std::atomic<bool> draining{false};  // StopAccepting() or Shutdown() was called
  std::atomic<bool> stopping{false};  // Shutdown() began: a connection not started yet is not
};

// One of config.max_connections, held while the connection lives; it moves with the connection
// from phase to phase (HTTP, a route's answer, WebSocket).
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

// After the last answer on an HTTP connection: what the peer still sends is read and dropped
// until it closes or the stream's deadline passes, so that closing on unread bytes does not reset
// the connection and lose the answer. The socket closes with `owner`'s last reference.
void Drain(std::shared_ptr<Connection> owner, beast::tcp_stream& stream,
           beast::flat_buffer& buffer) {
  buffer.clear();
  stream.async_read_some(buffer.prepare(kDrainChunkBytes),
                         [owner = std::move(owner), &stream, &buffer](error_code ec, size_t) {
                           if (!ec) Drain(owner, stream, buffer);
                         });
}

// ---- the WebSocket phase ----------------------------------------------------------------------

// A call stream: the upgrade, the session, the read loop, the bounded outbound queue (one write
// at a time) and the two timers (peer silence; a write or close handshake that takes too long).
// Everything runs on the worker's thread. The stream ends once, with the first reason decided:
// gracefully (queued messages, then a close frame, both bounded by the write timer) or at once
// (the socket closes); OnClosed is posted, never called from inside send_text or close.
class WsConnection final : public Connection {
 public:
  // `make_session` is the route's (it lives in the server's hooks); `binary`: binary messages go
  // to the session rather than closing the stream.
  WsConnection(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
               std::string peer, const StreamSessionFactory& make_session, bool binary)
      : Connection(shared, worker, std::move(slot), std::move(peer)),
        make_session_(make_session),
        binary_(binary),
        ws_(std::move(stream)),
        idle_timer_(worker.io),
        write_timer_(worker.io) {}

  // Answers the upgrade `req` (its token or admission already checked); the handshake deadline
  // that started at accept still runs.
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

  const StreamSessionFactory& make_session_;
  const bool binary_;
  websocket::stream<beast::tcp_stream> ws_;
  std::string target_;              // path and query: for the session, never for the log
  std::string path_;                // for the log
  HttpHeaders headers_;             // the upgrade's: for the session, never for the log
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
  headers_ = HeadersOf(req);
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
    session_ = make_session_(MakeIo());
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
  io.headers = std::move(headers_);  // made once
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
  if (ws_.got_binary() && !binary_) return Fail(WsError::kBinaryFrame, "binary frame");
  if (inbox_.size() > s_.config.max_ws_message_bytes) {
    return Fail(WsError::kMessageTooBig, "message too big");
  }
  if (ws_.is_message_done()) Deliver();
  if (state_ != State::kDone) Read();
}

// One complete message to the session (binary ones only on a route that takes them). An
// exception from OnText or OnBinary is a message the session refused: the stream ends as a bad
// message.
void WsConnection::Deliver() {
  last_message_ = Clock::now();
  const std::string_view data(static_cast<const char*>(inbox_.data().data()), inbox_.size());
  try {
    if (ws_.got_binary()) {
      session_->OnBinary(data);
    } else {
      session_->OnText(data);
    }
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

// ---- a route's answer -------------------------------------------------------------------------

// Reads the next request on a connection whose answer is complete (keep-alive), starting with
// what the peer pipelined into `buffer`. Defined with HttpConnection below.
void ReadNextRequest(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
                     beast::flat_buffer buffer, std::string peer);

class AnswerConnection;

// What a route's handler holds: one answer on one connection. It never keeps the connection
// alive (a handler may keep it as long as it likes): once the answer is complete, gone or
// aborted, every call is ignored. Used on the worker's thread only.
class RouteResponder final : public HttpResponder,
                             public std::enable_shared_from_this<RouteResponder> {
 public:
  // kWaiting: nothing answered yet; kStreaming: Begin was called; kComplete: Respond or End was
  // (what is queued may still be on its way); kGone: the connection ended before that (OnGone
  // runs); kAborted: the handler's Abort (OnGone does not).
  enum class State { kWaiting, kStreaming, kComplete, kGone, kAborted };

  RouteResponder(std::weak_ptr<AnswerConnection> connection, Scheduler& scheduler,
                 asio::io_context& io)
      : connection_(std::move(connection)), scheduler_(scheduler), io_(io) {}

  Scheduler& scheduler() override { return scheduler_; }
  void Respond(int status, HttpHeaders headers, std::string body) override;
  void Begin(int status, HttpHeaders headers) override;
  bool Write(std::string piece) override;
  void End() override;
  void Abort() override;
  void OnGone(std::function<void()> on_gone) override;
  bool gone() const override { return state_ == State::kGone || state_ == State::kAborted; }

  State state() const { return state_; }
  // From the connection: it closed, or it is done with this answer (complete and written).
  // Before the answer was complete, that makes it gone.
  void Detach();

 private:
  // The connection, when this answer is in `expected` state and the connection still has it.
  std::shared_ptr<AnswerConnection> Live(State expected) const;
  void PostOnGone();

  std::weak_ptr<AnswerConnection> connection_;  // expired or reset once detached
  Scheduler& scheduler_;
  asio::io_context& io_;
  std::function<void()> on_gone_;
  State state_ = State::kWaiting;
  bool on_gone_posted_ = false;
};

// A route's answer on one connection: the handler's call, then its answer written (one write at
// a time, from a bounded queue) until it is complete — then the connection reads its next
// request (as a new HttpConnection: keep-alive) or drains and closes — or the connection is gone
// first. While the handler works or streams, a read watches the socket, so a peer that leaves is
// noticed at once rather than at the next write; what it sends meanwhile is its next request,
// pipelined, kept in buffer_ for it. One timer bounds the handler's time to begin its answer and
// then each write (both the idle timeout). Everything runs on the worker's thread.
class AnswerConnection final : public Connection {
 public:
  AnswerConnection(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
                   beast::flat_buffer buffer, std::string peer)
      : Connection(shared, worker, std::move(slot), std::move(peer)),
        stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        timer_(worker.io) {}

  // Calls the route's handler with `req` (complete, body included).
  void Start(const HttpRoute& route, Request req);
  void Stop() override { Close("server shutdown"); }

  // The responder's calls, each in the state it checked.
  void Whole(int status, const HttpHeaders& headers, std::string body);
  bool Head(int status, const HttpHeaders& headers);  // false: refused, answered 500 instead
  bool Chunk(std::string piece);
  void Last();
  void Abort() { Close("aborted by handler"); }

 private:
  // kAnswering: the handler's answer is under way; kFinishing: it is written, the watching read
  // is being cancelled; kDraining: the last answer (no keep-alive); kDone: closed, or handed on.
  enum class State { kAnswering, kFinishing, kDraining, kDone };

  std::shared_ptr<AnswerConnection> self() {
    return std::static_pointer_cast<AnswerConnection>(shared_from_this());
  }
  std::chrono::milliseconds IdleTimeout() const { return Ms(s_.config.idle_timeout_ms); }
  std::string Describe() const { return peer_ + " " + method_ + " " + path_; }

  void HandlerFailed(RouteResponder& responder, const std::string& what);
  void InternalError(const std::string& problem);
  http::response<http::empty_body> MakeHead(int status, const HttpHeaders& headers) const;

  void Watch();
  void OnWatched(error_code ec, size_t bytes);
  void Pump();
  void OnWritten(error_code ec);
  void ArmTimer();
  void OnTimer(error_code ec);
  void Finish();
  void Continue();
  void Close(const std::string& reason);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // the peer's next requests, at most kMaxPipelinedBytes
  asio::steady_timer timer_;
  std::shared_ptr<RouteResponder> responder_;  // while the answer is this connection's business
  // While answering, the connection keeps itself: no operation may be pending (a streamed
  // answer between writes, the watching read stopped at its bound) and the handler's responder
  // does not own it. Released when the answer is written or the connection closes.
  std::shared_ptr<AnswerConnection> hold_;
  std::deque<std::string> outbox_;  // front: being written when writing_
  std::string method_;              // for the log
  std::string path_;                // for the log (never the query: it may carry a key)
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool chunked_ = true;    // HTTP/1.0 has no chunks: a streamed body ends with the connection
  bool began_ = false;     // the head is queued (or the whole answer)
  bool complete_ = false;  // all of the answer is queued
  bool watching_ = false;  // the watching read is pending
  bool writing_ = false;
  State state_ = State::kAnswering;
};

// ---- the responder

std::shared_ptr<AnswerConnection> RouteResponder::Live(State expected) const {
  return state_ == expected ? connection_.lock() : nullptr;
}

void RouteResponder::Respond(int status, HttpHeaders headers, std::string body) {
  const std::shared_ptr<AnswerConnection> connection = Live(State::kWaiting);
  if (connection == nullptr) return;
  state_ = State::kComplete;
  connection->Whole(status, headers, std::move(body));
}

void RouteResponder::Begin(int status, HttpHeaders headers) {
  const std::shared_ptr<AnswerConnection> connection = Live(State::kWaiting);
  if (connection == nullptr) return;
  state_ = State::kStreaming;
  if (!connection->Head(status, headers)) state_ = State::kComplete;
}

bool RouteResponder::Write(std::string piece) {
  const std::shared_ptr<AnswerConnection> connection = Live(State::kStreaming);
  return connection != nullptr && connection->Chunk(std::move(piece));
}

void RouteResponder::End() {
  const std::shared_ptr<AnswerConnection> connection = Live(State::kStreaming);
  if (connection == nullptr) return;
  state_ = State::kComplete;
  connection->Last();
}

void RouteResponder::Abort() {
  if (gone()) return;
  const std::shared_ptr<AnswerConnection> connection = connection_.lock();
  if (connection == nullptr) return;  // written and done with
  state_ = State::kAborted;
  connection->Abort();
}

void RouteResponder::OnGone(std::function<void()> on_gone) {
  if (on_gone_posted_) return;
  on_gone_ = std::move(on_gone);
  if (state_ == State::kGone) PostOnGone();  // the connection ended inside the handler's call
}

void RouteResponder::Detach() {
  connection_.reset();
  if (state_ != State::kWaiting && state_ != State::kStreaming) return;
  state_ = State::kGone;
  PostOnGone();
}

// Posted: the handler hears of it on a later turn, never inside one of its own calls.
void RouteResponder::PostOnGone() {
  if (!on_gone_ || on_gone_posted_) return;
  on_gone_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    const std::function<void()> on_gone = std::move(self->on_gone_);
    on_gone();
  });
}

// ---- the handler's call

void AnswerConnection::Start(const HttpRoute& route, Request req) {
  Register();
  hold_ = self();
  method_ = std::string(View(req.method_string()));
  path_ = std::string(PathOf(View(req.target())));
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  // A request read just before Shutdown stopped this worker's connections: this one was not
  // among them, and its handler would start work nothing ends.
  if (s_.stopping) return Close("server shutdown");
  // From here timer_ bounds the handler's start and each write; the watching read has no bound.
  stream_.expires_never();
  ArmTimer();
  Watch();
  responder_ = std::make_shared<RouteResponder>(self(), *worker_.scheduler, worker_.io);
  const std::shared_ptr<RouteResponder> responder = responder_;  // whatever the call does
  std::string failure;
  try {
    route.handler(ToHttpRequest(std::move(req), peer_), responder);
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  HandlerFailed(*responder, failure);
}

// A handler that threw: 500 if it had not answered yet; a stream it had begun is dropped (its
// OnGone runs, so whatever it started stops).
void AnswerConnection::HandlerFailed(RouteResponder& responder, const std::string& what) {
  s_.Log("handler failed for " + Describe() + ": " + what);
  if (responder.state() == RouteResponder::State::kWaiting) {
    responder.Respond(500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n");
  } else if (responder.state() == RouteResponder::State::kStreaming) {
    Close("handler failed");
  }
}

// An answer the handler got wrong (a status out of range, a bad header): 500 instead, logged.
void AnswerConnection::InternalError(const std::string& problem) {
  s_.Log("bad answer for " + Describe() + ": " + problem + "; answered 500");
  Whole(500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n");
}

http::response<http::empty_body> AnswerConnection::MakeHead(int status,
                                                            const HttpHeaders& headers) const {
  http::response<http::empty_body> head;
  head.version(version_);
  head.result(static_cast<unsigned>(status));
  SetHeaders(head.base(), headers);
  head.keep_alive(keep_alive_);
  return head;
}

// ---- the answer

void AnswerConnection::Whole(int status, const HttpHeaders& headers, std::string body) {
  if (std::string problem = WholeAnswerProblem(status, headers, body); !problem.empty()) {
    return InternalError(problem);
  }
  began_ = complete_ = true;
  http::response<http::empty_body> head = MakeHead(status, headers);
  if (MayHaveBody(status)) head.content_length(body.size());
  std::string message = HeadText(head.base());
  message += body;
  outbox_.push_back(std::move(message));
  Pump();
}

bool AnswerConnection::Head(int status, const HttpHeaders& headers) {
  std::string problem = HeadProblem(status, headers);
  if (problem.empty() && !MayHaveBody(status)) {
    problem = "a streamed answer with status " + std::to_string(status);
  }
  if (!problem.empty()) {
    InternalError(problem);
    return false;
  }
  began_ = true;
  chunked_ = version_ >= 11;
  if (!chunked_) keep_alive_ = false;
  http::response<http::empty_body> head = MakeHead(status, headers);
  head.chunked(chunked_);
  outbox_.push_back(HeadText(head.base()));
  Pump();
  return true;
}

// Bounded like a stream's messages: a peer that has not taken max_outbound_messages chunks is a
// slow reader, and the answer ends.
bool AnswerConnection::Chunk(std::string piece) {
  if (piece.empty()) return true;  // an empty chunk would end the body
  if (outbox_.size() >= s_.config.max_outbound_messages) {
    Close("slow reader");
    return false;
  }
  outbox_.push_back(chunked_ ? ChunkOf(piece) : std::move(piece));
  Pump();
  return true;
}

void AnswerConnection::Last() {
  complete_ = true;
  if (chunked_) outbox_.push_back("0\r\n\r\n");
  Pump();
}

// ---- watching, writing, the timer

// Stops at kMaxPipelinedBytes: a peer's close is then noticed by a write (or the answer ends).
void AnswerConnection::Watch() {
  if (buffer_.size() >= kMaxPipelinedBytes) return;
  watching_ = true;
  stream_.async_read_some(
      buffer_.prepare(std::min(kReadChunkBytes, kMaxPipelinedBytes - buffer_.size())),
      [self = self()](error_code ec, size_t bytes) { self->OnWatched(ec, bytes); });
}

void AnswerConnection::OnWatched(error_code ec, size_t bytes) {
  watching_ = false;
  buffer_.commit(bytes);  // kept whatever happens next: the next request's start
  if (state_ == State::kFinishing) return Continue();
  if (state_ != State::kAnswering) return;
  if (ec == asio::error::eof) return Close("peer closed");
  if (ec) return Close(ec.message());
  Watch();
}

// Starts the next write; once everything is written and the answer is complete, finishes.
void AnswerConnection::Pump() {
  if (writing_ || state_ != State::kAnswering) return;
  if (outbox_.empty()) {
    if (complete_) Finish();
    return;
  }
  writing_ = true;
  ArmTimer();
  asio::async_write(stream_, asio::buffer(outbox_.front()),
                    [self = self()](error_code ec, size_t) { self->OnWritten(ec); });
}

void AnswerConnection::OnWritten(error_code ec) {
  writing_ = false;
  timer_.cancel();
  if (state_ != State::kAnswering) return;
  if (ec) return Close("write failed: " + ec.message());
  outbox_.pop_front();
  Pump();
}

void AnswerConnection::ArmTimer() {
  timer_.expires_after(IdleTimeout());
  timer_.async_wait([self = self()](error_code ec) { self->OnTimer(ec); });
}

// Armed at the handler's call (it must begin in time) and for each write (the peer must take
// it in time); between writes of a stream nothing is bounded: an SSE stream may be quiet.
void AnswerConnection::OnTimer(error_code ec) {
  if (ec || state_ != State::kAnswering) return;
  if (timer_.expiry() > Clock::now()) return;  // armed again, for a later write
  if (writing_) return Close("slow reader");
  if (!began_) Close("handler timeout");
}

// ---- the end

// Everything written: the answer is complete, the responder done with. The watching read is
// cancelled first (what it read stays in buffer_); its end continues.
void AnswerConnection::Finish() {
  state_ = State::kFinishing;
  timer_.cancel();
  responder_->Detach();
  responder_.reset();
  if (!watching_) return Continue();
  error_code ignored;
  stream_.socket().cancel(ignored);
}

// The next request on a new HttpConnection (keep-alive), or a drain and close.
void AnswerConnection::Continue() {
  const std::shared_ptr<AnswerConnection> keep = std::move(hold_);  // until this returns
  if (keep_alive_) {
    state_ = State::kDone;
    return ReadNextRequest(s_, worker_, std::move(slot_), std::move(stream_), std::move(buffer_),
                           peer_);
  }
  state_ = State::kDraining;
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(Ms(s_.config.handshake_timeout_ms));
  Drain(shared_from_this(), stream_, buffer_);
}

// Closes the socket now (pending operations end with operation_aborted and find kDone). An
// answer not yet complete is gone: the handler's OnGone is posted (unless it aborted).
void AnswerConnection::Close(const std::string& reason) {
  if (state_ == State::kDone) return;
  const bool answering = state_ == State::kAnswering;
  state_ = State::kDone;
  timer_.cancel();
  stream_.close();
  // outbox_ stays: a write in flight still points into its front until it ends, aborted.
  if (answering) s_.Log("answer ended: " + Describe() + ": " + reason);
  if (responder_) responder_->Detach();
  responder_.reset();
  hold_.reset();  // every caller holds a reference of its own
}

// ---- the HTTP phase ---------------------------------------------------------------------------

// Requests on one connection, one at a time (keep-alive), until it closes, becomes a stream or
// hands a request to a route's handler (AnswerConnection, which hands the connection back to a
// new HttpConnection once the answer is written). Each request must be complete within the
// handshake timeout of the connection being ready for it (accepted, or its previous answer
// written); so must each built-in answer's write.
class HttpConnection final : public Connection {
 public:
  HttpConnection(Shared& shared, Worker& worker, ConnectionSlot slot, tcp::socket socket,
                 std::string peer)
      : Connection(shared, worker, std::move(slot), std::move(peer)), stream_(std::move(socket)) {}
  // After a route's answer: `buffer` holds what the peer pipelined meanwhile.
  HttpConnection(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
                 beast::flat_buffer buffer, std::string peer)
      : Connection(shared, worker, std::move(slot), std::move(peer)),
        stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        answered_one_(true) {}

  void Start() {
    Register();
    ReadRequest();
  }
  // Not after UpgradeToStream or AnswerByRoute moved the stream out: that handler's end destroys
  // this connection, and Stop runs on the same thread.
  void Stop() override { stream_.close(); }

 private:
  std::shared_ptr<HttpConnection> self() {
    return std::static_pointer_cast<HttpConnection>(shared_from_this());
  }
  std::chrono::milliseconds HandshakeTimeout() const { return Ms(s_.config.handshake_timeout_ms); }

  void ReadRequest();
  void OnHeader(error_code ec);
  void ReadBody();
  void OnRequest(error_code ec);
  void OnReadFailed(error_code ec);
  size_t BodyLimit() const;
  Response Route(const Request& req);
  Response IssueToken(const Request& req);
  Response Metrics() const;
  Response Health() const;
  void UpgradeToStream(Request req);
  void UpgradeToRoute(const StreamRoute& route, Request req);
  void AnswerByRoute(const HttpRoute& route, Request req);
  RedeemResult RedeemToken(const Request& req);
  void Respond(Response res, unsigned version, bool keep_alive);

  beast::tcp_stream stream_;
  // Bounded without a limit of its own: the parser consumes what it parsed and fails past the
  // header limit, and one read adds at most 64 KiB.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;          // being written
  bool answered_one_ = false;  // a keep-alive connection may wait quietly for its next request
};

// The head first: the body's limit depends on the route it names.
void HttpConnection::ReadRequest() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(s_.config.max_header_bytes));
  parser_->body_limit(s_.largest_body_limit);
  stream_.expires_after(HandshakeTimeout());
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = self()](error_code ec, size_t) { self->OnHeader(ec); });
}

// The route's body limit, now that the head is known. Beast checks a Content-Length against the
// limit only while it parses the head, so that check is made here; a chunked body is checked
// against the new limit as it comes (no body byte has been parsed yet).
void HttpConnection::OnHeader(error_code ec) {
  if (ec) return OnReadFailed(ec);
  const size_t limit = BodyLimit();
  const boost::optional<uint64_t> length = parser_->content_length();
  if (length && *length > limit) return OnReadFailed(http::error::body_limit);
  parser_->body_limit(limit);
  const auto& head = parser_->get();
  const auto expect = head.find(http::field::expect);
  if (parser_->is_done() || head.version() < 11 || expect == head.end() ||
      !EqualsIgnoringCase(View(expect->value()), "100-continue")) {
    return ReadBody();
  }
  // A client that waits to be told to send its body (curl does, for bodies over 1 KiB).
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = self()](error_code write_ec, size_t) {
                      if (!write_ec) self->ReadBody();
                    });
}

void HttpConnection::ReadBody() {
  http::async_read(stream_, buffer_, *parser_,
                   [self = self()](error_code ec, size_t) { self->OnRequest(ec); });
}

// An extra route's own limit for its handler; the server's for anything else.
size_t HttpConnection::BodyLimit() const {
  const auto& head = parser_->get();
  const HttpRoute* route = s_.FindRoute(PathOf(View(head.target())));
  return route != nullptr && View(head.method_string()) == route->method ? route->max_body_bytes
                                                                         : s_.config.max_body_bytes;
}

void HttpConnection::OnRequest(error_code ec) {
  if (ec) return OnReadFailed(ec);
  Request req = parser_->release();
  const std::string_view path = PathOf(View(req.target()));
  if (websocket::is_upgrade(req)) {
    if (path == s_.config.stream_path) return UpgradeToStream(std::move(req));
    if (const StreamRoute* route = s_.FindStream(path)) {
      return UpgradeToRoute(*route, std::move(req));
    }
  }
  s_.metrics.HttpRequest();
  const HttpRoute* route = s_.FindRoute(path);
  if (route != nullptr && View(req.method_string()) == route->method) {
    return AnswerByRoute(*route, std::move(req));
  }
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

// Every answer but a handler's. An extra route's path with another method is 405; a stream
// path without an upgrade is 426 (405 but for GET).
Response HttpConnection::Route(const Request& req) {
  const std::string_view path = PathOf(View(req.target()));
  const bool get = req.method() == http::verb::get;
  if (path == kTokenPath && s_.hooks.tokens != nullptr) {
    return req.method() == http::verb::post ? IssueToken(req) : MethodNotAllowed("POST");
  }
  if (path == kMetricsPath) return get ? Metrics() : MethodNotAllowed("GET");
  if (path == kHealthPath) return get ? Health() : MethodNotAllowed("GET");
  if (const HttpRoute* route = s_.FindRoute(path)) return MethodNotAllowed(route->method);
  if (path == s_.config.stream_path || s_.FindStream(path) != nullptr) {
    return get ? UpgradeRequired() : MethodNotAllowed("GET");
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
      std::make_shared<WsConnection>(s_, worker_, std::move(slot_), std::move(stream_), peer_,
                                     s_.hooks.make_session, /*binary=*/false);
  stream->Start(req);
}

// An extra stream: its own admission check (no token), then its own factory. A refusal is
// answered as the check says, and the connection closes.
void HttpConnection::UpgradeToRoute(const StreamRoute& route, Request req) {
  const std::string path(PathOf(View(req.target())));
  if (route.admit) {
    std::optional<HttpAnswer> refusal;
    try {
      refusal = route.admit(ToHttpRequest(req, peer_));
    } catch (const std::exception& e) {
      s_.Log("admission check failed for " + peer_ + " " + path + ": " + e.what());
      refusal =
          HttpAnswer{500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n"};
    }
    if (refusal) {
      if (std::string problem =
              WholeAnswerProblem(refusal->status, refusal->headers, refusal->body);
          !problem.empty()) {
        s_.Log("bad refusal for " + peer_ + " " + path + ": " + problem + "; answered 500");
        refusal =
            HttpAnswer{500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n"};
      }
      s_.Log("stream refused for " + peer_ + " " + path + ": " + std::to_string(refusal->status));
      return Respond(ResponseOf(*refusal), req.version(), false);
    }
  }
  const auto stream = std::make_shared<WsConnection>(
      s_, worker_, std::move(slot_), std::move(stream_), peer_, route.make_session, route.binary);
  stream->Start(req);
}

void HttpConnection::AnswerByRoute(const HttpRoute& route, Request req) {
  std::make_shared<AnswerConnection>(s_, worker_, std::move(slot_), std::move(stream_),
                                     std::move(buffer_), peer_)
      ->Start(route, std::move(req));
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
    if (!keep_alive) {  // the socket closes once the drain (bounded by the write's deadline) ends
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return Drain(self, self->stream_, self->buffer_);
    }
    self->answered_one_ = true;
    self->ReadRequest();
  });
}

void ReadNextRequest(Shared& shared, Worker& worker, ConnectionSlot slot, beast::tcp_stream stream,
                     beast::flat_buffer buffer, std::string peer) {
  std::make_shared<HttpConnection>(shared, worker, std::move(slot), std::move(stream),
                                   std::move(buffer), std::move(peer))
      ->Start();
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

namespace {

// What is wrong with the extra routes, or "" (the config is valid already).
std::string ValidateRoutes(const ServerConfig& c, const ServerHooks& hooks) {
  std::set<std::string_view> taken = {kTokenPath, kMetricsPath, kHealthPath, c.stream_path};
  const auto path_problem = [&](const std::string& kind, const std::string& path) -> std::string {
    if (path.empty() || path[0] != '/') return kind + " path \"" + path + "\" must start with '/'";
    const bool plain = std::none_of(path.begin(), path.end(), [](char ch) {
      return ch == '?' || ch == '#' || static_cast<unsigned char>(ch) <= ' ' || ch == '\x7f';
    });
    if (!plain) return kind + " path \"" + path + "\" must be a plain path (no '?', '#' or space)";
    if (path == kTokenPath || path == kMetricsPath || path == kHealthPath ||
        path == c.stream_path) {
      return kind + " path " + path + " is the server's own (/v1/token, /metrics, /healthz, " +
             "stream path)";
    }
    if (!taken.insert(path).second) return kind + " path " + path + " is used twice";
    return "";
  };
  for (const HttpRoute& route : hooks.routes) {
    if (std::string problem = path_problem("route", route.path); !problem.empty()) return problem;
    if (!IsToken(route.method)) {
      return "route " + route.path + " needs a method (\"GET\", \"POST\", ...)";
    }
    if (!route.handler) return "route " + route.path + " needs a handler";
  }
  for (const StreamRoute& stream : hooks.streams) {
    if (std::string problem = path_problem("stream route", stream.path); !problem.empty()) {
      return problem;
    }
    if (!stream.make_session) return "stream route " + stream.path + " needs make_session";
  }
  return "";
}

}  // namespace

std::string_view HeaderValue(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoringCase(key, name)) return value;
  }
  return {};
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  const size_t question = target.find('?');
  if (question == std::string::npos) return std::nullopt;
  std::string_view query = std::string_view(target).substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
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
  // Every write is a whole message or chunk that should leave now: without this, Nagle's
  // algorithm holds a small write behind the peer's delayed ACK for up to 40 ms (a streamed
  // answer's p99 added latency was 44 to 49 ms; bench/RESULTS.md).
  socket.set_option(tcp::no_delay(true), ec);
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
  if (std::string error = ValidateRoutes(config, hooks); !error.empty()) {
    throw std::invalid_argument(error);
  }
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
