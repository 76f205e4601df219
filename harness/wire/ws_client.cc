#include "harness/wire/ws_client.h"

#include "agent/providers/wire/url.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>

#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "agent/runtime/check.h"

namespace callsim::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kMaxHttpBodyBytes = 64 * 1024;
constexpr std::string_view kSchemeHint = " (expected ws:// or http://)";

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// The URL, header and Host rules are the agent's provider clients' (agent/providers/wire/url.h);
// this client adds only that it speaks plain ws:// and http://.
std::string HeaderProblem(const std::vector<Header>& headers) {
  return agent::wire::HeaderProblem(headers);
}

std::string HostHeader(const WireUrl& url) {
  agent::wire::Url u;
  u.scheme = url.scheme;
  u.host = url.host;
  u.port = url.port;
  return u.HostHeader();
}

std::string Milliseconds(int ms) { return std::to_string(ms) + " ms"; }

}  // namespace

bool ParseWireUrl(std::string_view url, WireUrl* out, std::string* error) {
  if (url.empty()) {
    *error = "empty URL";
    return false;
  }
  // The scheme first: this client names the schemes it takes.
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    *error = "URL has no scheme" + std::string(kSchemeHint);
    return false;
  }
  const std::string scheme = Lowercase(url.substr(0, sep));
  if (scheme == "wss" || scheme == "https") {
    *error = "TLS is not supported; use ws:// (or http://) to a local proxy";
    return false;
  }
  if (scheme != "ws" && scheme != "http") {
    *error = "unsupported scheme \"" + scheme + "\"" + std::string(kSchemeHint);
    return false;
  }
  agent::wire::Url parsed;
  if (!agent::wire::ParseUrl(url, &parsed, error)) return false;
  *out = WireUrl{parsed.scheme, parsed.host, parsed.port, parsed.target};
  return true;
}

std::string RedactUrl(std::string_view url) { return agent::wire::RedactUrl(url); }

// ---------------------------------------------------------------------------------------------
// WsClient. Every handler holds a shared_ptr to the client, so the client lives until its last
// operation has completed (or the io_context is destroyed with the operation still queued).
// One read is always pending while open; at most one write (a message or the close frame) is.

struct WsClient::Impl {
  enum class State { kIdle, kConnecting, kOpen, kClosed };

  Impl(WsClient& owner, asio::io_context& io, WsClientConfig config)
      : owner(owner),
        io(io),
        config(std::move(config)),
        resolver(io),
        ws(io),
        connect_timer(io),
        close_timer(io) {
    ws.read_message_max(this->config.max_message_bytes);
    ws.text(true);  // every message sent is text
    ws.set_option(websocket::stream_base::decorator(
        [&headers = this->config.headers](websocket::request_type& request) {
          for (const auto& [name, value] : headers) request.set(name, value);
        }));
  }

  std::shared_ptr<WsClient> Self() { return owner.shared_from_this(); }

  void Start(OpenFn open, TextFn text, ClosedFn closed);
  void ArmConnectDeadline();
  void AbortConnect(std::string reason);
  bool StepFailed(error_code ec, const char* step);
  void OnResolved(error_code ec, const tcp::resolver::results_type& results);
  void OnConnected(error_code ec);
  void OnUpgraded(error_code ec);
  void FailOpen(const std::string& reason);

  void ReadNext();
  void OnRead(error_code ec);
  std::string ReadErrorReason(error_code ec) const;
  bool Send(std::string text);
  void WriteNext();
  void OnWritten(error_code ec);
  void Close();
  void StartClose();
  void Finish(const std::string& reason);

  WsClient& owner;
  asio::io_context& io;
  const WsClientConfig config;
  tcp::resolver resolver;
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer connect_timer;  // resolve + connect + upgrade
  asio::steady_timer close_timer;    // Close() to the end of the close handshake
  websocket::response_type upgrade_response;
  beast::flat_buffer read_buffer;
  std::deque<std::string> outbound;  // the front is on the wire while `writing`
  State state = State::kIdle;
  std::string abort_reason;  // set when a connect in progress is stopped (timeout, Close())
  bool writing = false;
  bool close_requested = false;  // Close() was called: no more Send(), close after the queue
  bool close_started = false;    // the close frame is being written; the close op reads now
  uint64_t binary_ignored = 0;
  OpenFn on_open;
  TextFn on_text;
  ClosedFn on_closed;
};

void WsClient::Impl::Start(OpenFn open, TextFn text, ClosedFn closed) {
  CALLSIM_CHECK(state == State::kIdle);
  on_open = std::move(open);
  on_text = std::move(text);
  on_closed = std::move(closed);
  state = State::kConnecting;
  const std::string problem = HeaderProblem(config.headers);
  if (!problem.empty()) {  // on_open is never called from inside Connect()
    asio::post(io, [this, self = Self(), problem] { FailOpen(problem); });
    return;
  }
  ArmConnectDeadline();
  resolver.async_resolve(config.url.host, std::to_string(config.url.port),
                         [this, self = Self()](error_code ec, tcp::resolver::results_type r) {
                           OnResolved(ec, r);
                         });
}

void WsClient::Impl::ArmConnectDeadline() {
  connect_timer.expires_after(std::chrono::milliseconds(config.connect_timeout_ms));
  connect_timer.async_wait([this, self = Self()](error_code ec) {
    if (ec || state != State::kConnecting) return;
    AbortConnect("connect timed out after " + Milliseconds(config.connect_timeout_ms));
  });
}

// Stops the step in progress; its handler then reports `reason` through on_open.
void WsClient::Impl::AbortConnect(std::string reason) {
  if (abort_reason.empty()) abort_reason = std::move(reason);
  resolver.cancel();
  beast::get_lowest_layer(ws).close();
}

// True (and on_open told) when the connect was aborted or `step` failed.
bool WsClient::Impl::StepFailed(error_code ec, const char* step) {
  if (!abort_reason.empty()) {
    FailOpen(abort_reason);
  } else if (ec) {
    FailOpen(std::string(step) + ": " + ec.message());
  }
  return !abort_reason.empty() || ec;
}

void WsClient::Impl::OnResolved(error_code ec, const tcp::resolver::results_type& results) {
  if (StepFailed(ec, "resolve")) return;
  beast::get_lowest_layer(ws).async_connect(
      results, [this, self = Self()](error_code ec, const tcp::endpoint&) { OnConnected(ec); });
}

void WsClient::Impl::OnConnected(error_code ec) {
  if (StepFailed(ec, "connect")) return;
  // 20 ms media messages leave as they are written, not behind a delayed ACK (Nagle).
  error_code ignored;
  beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ignored);
  ws.async_handshake(upgrade_response, HostHeader(config.url), config.url.target,
                     [this, self = Self()](error_code ec) { OnUpgraded(ec); });
}

void WsClient::Impl::OnUpgraded(error_code ec) {
  if (ec == websocket::error::upgrade_declined && abort_reason.empty()) {
    FailOpen("upgrade declined: HTTP " + std::to_string(upgrade_response.result_int()));
    return;
  }
  if (StepFailed(ec, "upgrade")) return;
  connect_timer.cancel();
  state = State::kOpen;
  ReadNext();
  std::exchange(on_open, nullptr)("");
}

// A failed open: on_open gets the reason, the other callbacks are dropped unused.
void WsClient::Impl::FailOpen(const std::string& reason) {
  state = State::kClosed;
  connect_timer.cancel();
  beast::get_lowest_layer(ws).close();
  on_text = nullptr;
  on_closed = nullptr;
  std::exchange(on_open, nullptr)(reason);
}

void WsClient::Impl::ReadNext() {
  ws.async_read(read_buffer, [this, self = Self()](error_code ec, size_t) { OnRead(ec); });
}

void WsClient::Impl::OnRead(error_code ec) {
  if (state == State::kClosed) return;
  if (ec) {
    if (!close_started) Finish(ReadErrorReason(ec));  // else the close handler reports
    return;
  }
  if (ws.got_text()) {
    const auto data = read_buffer.data();
    on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
  } else {
    ++binary_ignored;
  }
  read_buffer.consume(read_buffer.size());
  if (state == State::kOpen) ReadNext();
}

std::string WsClient::Impl::ReadErrorReason(error_code ec) const {
  if (ec == websocket::error::message_too_big) return "message too big";
  if (ec != websocket::error::closed) return ec.message();
  const websocket::close_reason& why = ws.reason();
  return "closed by peer: " + (why.reason.empty() ? "code " + std::to_string(why.code)
                                                  : std::string(why.reason.data(), why.reason.size()));
}

bool WsClient::Impl::Send(std::string text) {
  if (state != State::kOpen || close_requested) return false;
  if (outbound.size() >= config.max_outbound_messages) return false;
  outbound.push_back(std::move(text));
  if (!writing) WriteNext();
  return true;
}

void WsClient::Impl::WriteNext() {
  writing = true;
  ws.async_write(asio::buffer(outbound.front()),
                 [this, self = Self()](error_code ec, size_t) { OnWritten(ec); });
}

void WsClient::Impl::OnWritten(error_code ec) {
  writing = false;
  if (state == State::kClosed) {
    outbound.clear();  // Finish() kept the message that was on the wire until now
    return;
  }
  if (ec) {
    Finish(ec.message());
    return;
  }
  outbound.pop_front();
  if (!outbound.empty()) {
    WriteNext();
  } else if (close_requested) {
    StartClose();
  }
}

// Connecting: the connect stops and on_open gets "closed before the connection opened". Open: the
// queued messages go first, then the close frame; the whole close is bounded by
// connect_timeout_ms (a peer that stops reading cannot hold it open). Otherwise nothing.
void WsClient::Impl::Close() {
  if (state == State::kConnecting) {
    AbortConnect("closed before the connection opened");
    return;
  }
  if (state != State::kOpen || close_requested) return;
  close_requested = true;
  close_timer.expires_after(std::chrono::milliseconds(config.connect_timeout_ms));
  close_timer.async_wait([this, self = Self()](error_code ec) {
    if (!ec) Finish("close timed out after " + Milliseconds(config.connect_timeout_ms));
  });
  if (!writing) StartClose();
}

void WsClient::Impl::StartClose() {
  close_started = true;
  ws.async_close(websocket::close_code::normal, [this, self = Self()](error_code ec) {
    Finish(ec ? "close: " + ec.message() : "closed");
  });
}

// The end of an open connection: on_closed once, the socket closed (pending operations end with
// an error and find the state kClosed), the unsent messages dropped.
void WsClient::Impl::Finish(const std::string& reason) {
  if (state == State::kClosed) return;
  state = State::kClosed;
  close_timer.cancel();
  outbound.erase(outbound.begin() + (writing ? 1 : 0), outbound.end());
  beast::get_lowest_layer(ws).close();
  on_text = nullptr;
  std::exchange(on_closed, nullptr)(reason);
}

std::shared_ptr<WsClient> WsClient::Create(boost::asio::io_context& io, WsClientConfig config) {
  CALLSIM_CHECK(config.max_message_bytes > 0 && config.max_outbound_messages > 0 &&
                config.connect_timeout_ms > 0);
  return std::shared_ptr<WsClient>(new WsClient(io, std::move(config)));
}

WsClient::WsClient(boost::asio::io_context& io, WsClientConfig config)
    : impl_(std::make_unique<Impl>(*this, io, std::move(config))) {}

WsClient::~WsClient() = default;

void WsClient::Connect(OpenFn on_open, TextFn on_text, ClosedFn on_closed) {
  impl_->Start(std::move(on_open), std::move(on_text), std::move(on_closed));
}

bool WsClient::Send(std::string text) { return impl_->Send(std::move(text)); }

void WsClient::Close() { impl_->Close(); }

size_t WsClient::queued() const { return impl_->outbound.size(); }

uint64_t WsClient::binary_ignored() const { return impl_->binary_ignored; }

// ---------------------------------------------------------------------------------------------
// HttpPost: the steps chain through handlers on a private io_context that runs for at most the
// timeout; whatever is still pending then is dropped with the io_context.

namespace {

class PostCall {
 public:
  PostCall(const WireUrl& url, http::request<http::string_body> request)
      : url_(url), request_(std::move(request)) {
    parser_.body_limit(kMaxHttpBodyBytes);
  }

  bool Run(int timeout_ms, HttpResponse* out, std::string* error) {
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [this](error_code ec, tcp::resolver::results_type r) {
                              OnResolved(ec, r);
                            });
    io_.run_for(std::chrono::milliseconds(timeout_ms));
    if (!done_) error_ = "timed out after " + Milliseconds(timeout_ms);
    if (!error_.empty()) {
      *error = error_;
      return false;
    }
    http::response<http::string_body>& response = parser_.get();
    out->status = response.result_int();
    out->headers.clear();
    for (const auto& field : response) {
      out->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out->body = std::move(response.body());
    return true;
  }

 private:
  // True (and the call done) when `step` failed.
  bool StepFailed(error_code ec, const char* step) {
    if (ec) {
      error_ = std::string(step) + ": " + ec.message();
      done_ = true;
    }
    return static_cast<bool>(ec);
  }

  void OnResolved(error_code ec, const tcp::resolver::results_type& results) {
    if (StepFailed(ec, "resolve")) return;
    stream_.async_connect(results,
                          [this](error_code ec, const tcp::endpoint&) { OnConnected(ec); });
  }

  void OnConnected(error_code ec) {
    if (StepFailed(ec, "connect")) return;
    http::async_write(stream_, request_, [this](error_code ec, size_t) { OnWritten(ec); });
  }

  // The header is read on its own: Boost 1.74's parser, reading eagerly, drops the body_limit
  // error for a Content-Length over the limit when the body arrives with the header.
  void OnWritten(error_code ec) {
    if (StepFailed(ec, "write")) return;
    http::async_read_header(stream_, buffer_, parser_,
                            [this](error_code ec, size_t) { OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (StepFailed(ec, "read")) return;
    http::async_read(stream_, buffer_, parser_, [this](error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (StepFailed(ec, "read")) return;
    done_ = true;
  }

  asio::io_context io_;  // first: the objects below use it and must go before it
  tcp::resolver resolver_{io_};
  beast::tcp_stream stream_{io_};
  const WireUrl& url_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  bool done_ = false;
  std::string error_;
};

http::request<http::string_body> PostRequest(const WireUrl& url, const std::vector<Header>& headers,
                                             const std::string& body) {
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, HostHeader(url));
  for (const auto& [name, value] : headers) request.set(name, value);
  if (request.find(http::field::content_type) == request.end()) {
    request.set(http::field::content_type, "application/json");
  }
  request.body() = body;
  request.prepare_payload();
  return request;
}

}  // namespace

bool HttpPost(const WireUrl& url, const std::vector<Header>& headers, const std::string& body,
              int timeout_ms, HttpResponse* out, std::string* error) {
  CALLSIM_CHECK(timeout_ms > 0);
  if (std::string problem = HeaderProblem(headers); !problem.empty()) {
    *error = std::move(problem);
    return false;
  }
  PostCall call(url, PostRequest(url, headers, body));
  return call.Run(timeout_ms, out, error);
}

}  // namespace callsim::harness
